#include "bridges/edge_metrics.hpp"

#include <algorithm>

namespace streamb {

const std::vector<int>& edge_metrics::statuses() {
  // Every status the node answers with; index 0 stands for any other.
  static const std::vector<int> xs{0,   101, 200, 201, 202, 204, 304, 400, 401,
                                   403, 404, 405, 408, 409, 410, 413, 415, 422,
                                   426, 429, 431, 500, 501, 502, 503, 504};
  return xs;
}

namespace {

std::size_t slot_of(int status) {
  auto& xs = edge_metrics::statuses();
  auto i = std::lower_bound(xs.begin() + 1, xs.end(), status);
  return i != xs.end() && *i == status
    ? static_cast<std::size_t>(i - xs.begin())
    : 0;
}

} // namespace

edge_metrics::edge_metrics()
  : rows_(route_table().size() + 1),
    counts_(new std::atomic<uint64_t>[rows_ * statuses().size()]) {
  for (std::size_t i = 0; i < rows_ * statuses().size(); ++i)
    counts_[i].store(0, std::memory_order_relaxed);
}

void edge_metrics::count(const route_spec* row, int status) noexcept {
  auto& table = route_table();
  auto r = row != nullptr ? static_cast<std::size_t>(row - table.data())
                          : table.size();
  if (r >= rows_)
    r = table.size();
  counts_[r * statuses().size() + slot_of(status)].fetch_add(
    1, std::memory_order_relaxed);
}

std::vector<edge_metrics::request_count> edge_metrics::requests() const {
  std::vector<request_count> out;
  auto& table = route_table();
  auto& xs = statuses();
  for (std::size_t r = 0; r < rows_; ++r)
    for (std::size_t s = 0; s < xs.size(); ++s)
      if (auto n = counts_[r * xs.size() + s].load(std::memory_order_relaxed))
        out.push_back(
          {r < table.size() ? table[r].pattern : "unmatched", xs[s], n});
  return out;
}

void edge_metrics::attach(std::function<http_server_stats()> stats) {
  std::lock_guard<std::mutex> guard{mtx_};
  stats_ = std::move(stats);
}

void edge_metrics::detach() {
  std::lock_guard<std::mutex> guard{mtx_};
  stats_ = nullptr;
}

std::optional<http_server_stats> edge_metrics::server() const {
  std::lock_guard<std::mutex> guard{mtx_};
  if (!stats_)
    return std::nullopt;
  return stats_();
}

} // namespace streamb
