#pragma once

// What GET /metrics says about the HTTP edge: requests answered by route
// (the route table's row, so the labels stay bounded whatever paths clients
// send) and status, and the server's connection counters.

#include "bridges/http/http_server.hpp"
#include "bridges/route_table.hpp"

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

namespace streamb {

class edge_metrics {
public:
  edge_metrics();

  /// One answered request; `row` null: no route matched.
  void count(const route_spec* row, int status) noexcept;

  struct request_count {
    const char* route; // the pattern, or "unmatched"
    int status;        // 0: a status outside the list
    uint64_t n;
  };

  /// The counts that are not zero.
  std::vector<request_count> requests() const;

  /// The server's counters while one runs.
  void attach(std::function<http_server_stats()> stats);
  void detach();
  std::optional<http_server_stats> server() const;

  /// The statuses counted one by one; others are counted as 0.
  static const std::vector<int>& statuses();

private:
  std::size_t rows_;
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;
  mutable std::mutex mtx_;
  std::function<http_server_stats()> stats_;
};

} // namespace streamb
