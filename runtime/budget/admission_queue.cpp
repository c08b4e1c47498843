#include "runtime/budget/admission_queue.hpp"

#include <algorithm>
#include <iterator>

namespace streamb::budget {

uint64_t admission_queue::push(priority p, uint64_t units, int64_t deadline_ms,
                               int64_t now_ms) {
  auto id = next_id_++;
  lines_[static_cast<size_t>(p)].push_back(
    waiting_request{id, p, units, now_ms, deadline_ms});
  return id;
}

const waiting_request* admission_queue::peek() const {
  for (const auto& line : lines_)
    if (!line.empty())
      return &line.front();
  return nullptr;
}

std::vector<waiting_request> admission_queue::expire(int64_t now_ms) {
  std::vector<waiting_request> out;
  for (auto& line : lines_) {
    auto due = [now_ms](const waiting_request& r) {
      return r.deadline_ms <= now_ms;
    };
    std::copy_if(line.begin(), line.end(), std::back_inserter(out), due);
    line.erase(std::remove_if(line.begin(), line.end(), due), line.end());
  }
  return out;
}

bool admission_queue::remove(uint64_t id) {
  for (auto& line : lines_) {
    auto i = std::find_if(line.begin(), line.end(),
                          [id](const waiting_request& r) {
                            return r.id == id;
                          });
    if (i != line.end()) {
      line.erase(i);
      return true;
    }
  }
  return false;
}

std::optional<int64_t> admission_queue::next_deadline_ms() const {
  std::optional<int64_t> out;
  for (const auto& line : lines_)
    for (const auto& r : line)
      if (!out || r.deadline_ms < *out)
        out = r.deadline_ms;
  return out;
}

uint64_t admission_queue::units_ahead(const waiting_request& r) const {
  uint64_t n = 0;
  for (const auto& line : lines_)
    for (const auto& x : line)
      if (x.prio < r.prio || (x.prio == r.prio && x.id < r.id))
        n += x.units;
  return n;
}

size_t admission_queue::size() const {
  size_t n = 0;
  for (const auto& line : lines_)
    n += line.size();
  return n;
}

} // namespace streamb::budget
