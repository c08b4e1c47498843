#include "runtime/advice/usage_store.hpp"

#include "runtime/core/hex.hpp"

namespace streamb::advice {

std::string usage_key(const std::string& service, int64_t day) {
  return "advisor:usage:" + service + ":" + day_label(day);
}

std::string keys_key(const std::string& service, int64_t day) {
  return "advisor:keys:" + service + ":" + day_label(day);
}

write_ops usage_writes(const std::string& service,
                       const std::vector<unsaved_day>& days,
                       uint32_t window_days) {
  // A day is read back while it is inside the window, and one day more.
  auto ttl_ms = (int64_t{window_days} + 2) * ms_per_day;
  write_ops ops;
  for (auto& d : days) {
    auto key = usage_key(service, d.day);
    for (auto& [field, value] : to_fields(d.counts))
      ops.push_back(store::write_op::make_hincr_by(key, field, value));
    ops.push_back(store::write_op::make_expire(key, ttl_ms));
    if (d.keys_changed)
      ops.push_back(store::write_op::make_set(keys_key(service, d.day),
                                              to_hex(d.keys), ttl_ms));
  }
  return ops;
}

} // namespace streamb::advice
