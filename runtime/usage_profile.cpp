#include "runtime/usage_profile.hpp"

namespace streamb {

bool usage_counters::batchable(const std::string& endpoint) const {
  for (auto& p : prefixes_)
    if (endpoint.compare(0, p.size(), p) == 0)
      return true;
  return false;
}

void usage_counters::record(const call_sample& x, int64_t cost_micros) {
  ++counts_.calls;
  counts_.spend_micros += cost_micros;
  if (x.outcome == status_class::rate_limited)
    ++counts_.rate_limited;
  if (x.request_key != 0) {
    ++counts_.keyed_calls;
    if (keys_.size() < max_keys)
      keys_.insert(x.request_key);
  }
  if (!prefixes_.empty() && batchable(x.endpoint)) {
    ++counts_.batchable_calls;
    // By the call's own time: a client reports many calls in one batch.
    auto t = x.timestamp_ms;
    auto [i, fresh] = last_call_ms_.try_emplace(x.endpoint, t);
    if (fresh || t - i->second > window_ms_ || t < i->second)
      ++counts_.batch_groups;
    i->second = t;
  }
}

usage_profile usage_counters::profile(const std::string& service,
                                      int64_t now_ms) const {
  auto result = counts_;
  result.service = service;
  result.span_s = static_cast<double>(now_ms - since_ms_) / 1000.0;
  result.distinct_keys = keys_.size();
  return result;
}

void usage_counters::reset(int64_t now_ms) {
  counts_ = usage_profile{};
  keys_.clear();
  last_call_ms_.clear();
  since_ms_ = now_ms;
}

} // namespace streamb
