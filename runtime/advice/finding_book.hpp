#pragma once

// The agents' findings the advisor keeps: the newest per service and
// title (an agent that says the same thing again refreshes it), at most
// `per_service` per service and none older than `max_age_ms`.

#include "runtime/messages.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <utility>

namespace streamb::advice {

class finding_book {
public:
  finding_book(std::size_t per_service, int64_t max_age_ms)
    : per_service_(per_service), max_age_ms_(max_age_ms) {
    // nop
  }

  void add(agent_finding x);

  /// What is kept at `now_ms`, as recommendations of kind agent_finding
  /// (id "<service>:agent:<n>"), newest first.
  recommendations list(int64_t now_ms);

  std::size_t size() const noexcept {
    return by_key_.size();
  }

private:
  void drop_expired(int64_t now_ms);

  std::size_t per_service_;
  int64_t max_age_ms_;
  uint64_t next_ = 0;
  /// (service, title) -> the finding and its sequence number (for ids and
  /// the order of arrival).
  std::map<std::pair<std::string, std::string>,
           std::pair<agent_finding, uint64_t>>
    by_key_;
};

} // namespace streamb::advice
