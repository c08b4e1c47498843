#pragma once

// Open alerts escalate while they stay open: an alert nobody fixed within
// 15 minutes gets a higher priority, so the webhook receiver can page
// someone instead of posting to a channel again.

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace streamb::advice {

enum class alert_priority : uint8_t { normal, high, critical };

const char* to_string(alert_priority x) noexcept;

struct escalation_settings {
  /// after_s[0]: open this long (seconds) -> high; after_s[1]: open this
  /// long in total -> critical. Empty never escalates; one entry stops at
  /// high; further entries are ignored. A second entry below the first
  /// counts as the first, i.e. critical follows high at once.
  std::vector<uint32_t> after_s{900, 3600};
};

class alert_escalation {
public:
  /// Most alerts tracked at once. Keys are configured services times
  /// metrics, far fewer than this, so reaching the cap means a bug (e.g.
  /// keys built from request data); refusing keeps memory bounded then.
  static constexpr std::size_t max_open = 1024;

  struct escalation {
    std::string key;
    alert_priority from;
    alert_priority to;
    int64_t open_for_ms; // at the tick that reported it
  };

  struct resolution {
    std::string key;
    alert_priority last;
    int64_t open_for_ms;
  };

  explicit alert_escalation(escalation_settings settings);

  /// Starts tracking `key` and returns its priority. Opening a key that is
  /// open already keeps its open time and priority (an alert raised again
  /// by another node, or re-sent, is the same incident). Returns nullopt,
  /// and tracks nothing, when `max_open` keys are open: the caller still
  /// sends the alert, it just does not escalate.
  std::optional<alert_priority>
  open(const std::string& key, int64_t now_ms,
       alert_priority initial = alert_priority::normal);

  /// Escalates the alerts open long enough. Each step is reported once;
  /// after a long gap every step passed since the last tick is reported,
  /// ordered by when it was due (a key's lower step first), then by key.
  std::vector<escalation> tick(int64_t now_ms);

  /// Stops tracking `key`; nullopt if it was not open.
  std::optional<resolution> close(const std::string& key, int64_t now_ms);

  std::optional<alert_priority> priority_of(const std::string& key) const;

  std::size_t open_count() const noexcept {
    return open_.size();
  }

  /// A config reload: open alerts keep their open time and priority (no
  /// step is taken back); the next tick applies the new steps.
  void reconfigure(escalation_settings settings);

private:
  struct entry {
    int64_t opened_ms;
    alert_priority priority;
  };

  /// Open time after which an alert at `p` moves up, if it ever does.
  std::optional<int64_t> due_after_ms(alert_priority p) const;

  escalation_settings settings_;
  // Ordered, so ticks report in a stable order.
  std::map<std::string, entry> open_;
};

} // namespace streamb::advice
