#include "runtime/advice/usage_history.hpp"

#include "runtime/budget/calendar.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace streamb::advice {

namespace {

int64_t floor_div(int64_t a, int64_t b) {
  auto q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

} // namespace

int64_t day_of(int64_t ms) {
  return floor_div(ms, ms_per_day);
}

std::string day_label(int64_t day) {
  auto d = budget::civil_from_days(day);
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%04d%02u%02u", d.year, d.month, d.day);
  return buf;
}

void day_counts::add(const day_counts& other) {
  calls += other.calls;
  keyed_calls += other.keyed_calls;
  rate_limited += other.rate_limited;
  batchable_calls += other.batchable_calls;
  batch_groups += other.batch_groups;
  spend_micros += other.spend_micros;
  for (int i = 0; i < minutes_per_day; ++i)
    minutes[i] += other.minutes[i];
}

bool day_counts::empty() const {
  return calls == 0 && spend_micros == 0;
}

std::vector<std::pair<std::string, int64_t>> to_fields(const day_counts& c) {
  std::vector<std::pair<std::string, int64_t>> out;
  auto add = [&](const char* name, int64_t value) {
    if (value != 0)
      out.emplace_back(name, value);
  };
  add("calls", static_cast<int64_t>(c.calls));
  add("keyed", static_cast<int64_t>(c.keyed_calls));
  add("rate_limited", static_cast<int64_t>(c.rate_limited));
  add("batchable", static_cast<int64_t>(c.batchable_calls));
  add("batch_groups", static_cast<int64_t>(c.batch_groups));
  add("spend_micros", c.spend_micros);
  for (int i = 0; i < minutes_per_day; ++i)
    if (c.minutes[i] != 0)
      out.emplace_back("m" + std::to_string(i), c.minutes[i]);
  return out;
}

day_counts
from_fields(const std::vector<std::pair<std::string, std::string>>& fields) {
  day_counts c;
  for (auto& [name, text] : fields) {
    int64_t v = 0;
    auto res = std::from_chars(text.data(), text.data() + text.size(), v);
    if (res.ec != std::errc{} || v < 0)
      continue; // not ours, or damaged: ignored rather than trusted
    auto u = static_cast<uint64_t>(v);
    if (name == "calls")
      c.calls = u;
    else if (name == "keyed")
      c.keyed_calls = u;
    else if (name == "rate_limited")
      c.rate_limited = u;
    else if (name == "batchable")
      c.batchable_calls = u;
    else if (name == "batch_groups")
      c.batch_groups = u;
    else if (name == "spend_micros")
      c.spend_micros = v;
    else if (name.size() > 1 && name[0] == 'm') {
      int minute = -1;
      auto r = std::from_chars(name.data() + 1, name.data() + name.size(),
                               minute);
      if (r.ec == std::errc{} && r.ptr == name.data() + name.size()
          && minute >= 0 && minute < minutes_per_day)
        c.minutes[minute] = static_cast<uint32_t>(
          std::min<uint64_t>(u, UINT32_MAX));
    }
  }
  return c;
}

uint64_t peak_sum(const std::vector<uint32_t>& minutes, std::size_t k) {
  if (minutes.empty() || k == 0)
    return 0;
  k = std::min(k, minutes.size());
  uint64_t sum = 0;
  for (std::size_t i = 0; i < k; ++i)
    sum += minutes[i];
  auto best = sum;
  for (std::size_t i = k; i < minutes.size(); ++i) {
    sum += minutes[i];
    sum -= minutes[i - k];
    best = std::max(best, sum);
  }
  return best;
}

usage_history::usage_history(uint32_t window_days,
                             std::vector<std::string> batchable,
                             int64_t batch_window_ms, int64_t now_ms)
  : window_days_(std::max<uint32_t>(window_days, 1)),
    prefixes_(std::move(batchable)), batch_window_ms_(batch_window_ms),
    since_ms_(now_ms) {
  // nop
}

bool usage_history::batchable(const std::string& endpoint) const {
  for (auto& p : prefixes_)
    if (endpoint.compare(0, p.size(), p) == 0)
      return true;
  return false;
}

void usage_history::set_batching(std::vector<std::string> batchable,
                                 int64_t batch_window_ms) {
  prefixes_ = std::move(batchable);
  batch_window_ms_ = batch_window_ms;
}

void usage_history::prune(int64_t now_ms) {
  // One day more than the window: the oldest day is partly inside it.
  auto oldest = day_of(now_ms) - window_days_;
  while (!days_.empty() && days_.begin()->first < oldest)
    days_.erase(days_.begin());
  if (last_call_ms_.size() > 10'000)
    last_call_ms_.clear(); // endpoints are client-chosen: bounded
}

std::vector<int64_t> usage_history::window_days(int64_t now_ms) const {
  std::vector<int64_t> out;
  auto today = day_of(now_ms);
  for (auto d = today - window_days_; d <= today; ++d)
    out.push_back(d);
  return out;
}

void usage_history::record(const call_sample& x, int64_t cost_micros,
                           int64_t now_ms) {
  auto t = x.timestamp_ms > 0 ? std::min(x.timestamp_ms, now_ms) : now_ms;
  auto d = day_of(t);
  if (d < day_of(now_ms) - window_days_)
    return;
  if (days_.size() > window_days_ + 1 || days_.count(d) == 0)
    prune(now_ms);
  auto& slot = days_[d];
  auto minute = static_cast<std::size_t>((t - d * ms_per_day) / 60'000);
  for (auto* c : {&slot.counts, &slot.unsaved}) {
    ++c->calls;
    c->spend_micros += cost_micros;
    ++c->minutes[minute];
    if (x.outcome == status_class::rate_limited)
      ++c->rate_limited;
    if (x.request_key != 0)
      ++c->keyed_calls;
  }
  if (x.request_key != 0) {
    slot.keys.add(x.request_key);
    slot.keys_changed = true;
  }
  if (!prefixes_.empty() && batchable(x.endpoint)) {
    ++slot.counts.batchable_calls;
    ++slot.unsaved.batchable_calls;
    auto [i, fresh] = last_call_ms_.try_emplace(x.endpoint, t);
    if (fresh || t - i->second > batch_window_ms_ || t < i->second) {
      ++slot.counts.batch_groups;
      ++slot.unsaved.batch_groups;
    }
    i->second = t;
  }
}

usage_profile usage_history::profile(const std::string& service,
                                     uint32_t window_s, int64_t now_ms) const {
  usage_profile p;
  p.service = service;
  p.window_s = static_cast<double>(window_days_) * 86400.0;
  auto today = day_of(now_ms);
  auto first_day = today - window_days_ + 1;
  // The window covers whole days back from the end of today's partial one.
  auto window_start = first_day * ms_per_day;
  auto start = std::max(window_start, since_ms_);
  p.span_s = std::max<double>(0, static_cast<double>(now_ms - start) / 1000.0);
  // A day counts as observed in full when it lies after the day
  // observation began, or observation began in its first hour.
  auto full_day = [&](int64_t d) {
    return d < today && d * ms_per_day + 3'600'000 > since_ms_;
  };
  hyperloglog keys;
  std::vector<uint32_t> minutes;
  auto end_minute = static_cast<std::size_t>((now_ms - today * ms_per_day)
                                             / 60'000)
    + 1;
  for (auto d = first_day; d <= today; ++d) {
    auto i = days_.find(d);
    auto n = d == today ? end_minute : std::size_t{minutes_per_day};
    if (i == days_.end()) {
      minutes.insert(minutes.end(), n, 0);
      if (full_day(d)) {
        p.daily_keyed.push_back(0);
        p.daily_batch_saved.push_back(0);
      }
      continue;
    }
    auto& c = i->second.counts;
    if (full_day(d)) {
      p.daily_keyed.push_back(c.keyed_calls);
      p.daily_batch_saved.push_back(c.batchable_calls > c.batch_groups
                                      ? c.batchable_calls - c.batch_groups
                                      : 0);
    }
    p.calls += c.calls;
    p.keyed_calls += c.keyed_calls;
    p.rate_limited += c.rate_limited;
    p.batchable_calls += c.batchable_calls;
    p.batch_groups += c.batch_groups;
    p.spend_micros += c.spend_micros;
    keys.merge(i->second.keys);
    minutes.insert(minutes.end(), c.minutes.begin(), c.minutes.begin() + n);
  }
  // The sketch cannot count more keys than calls carried one.
  p.distinct_keys = std::min(keys.estimate(),
                             static_cast<double>(p.keyed_calls));
  p.distinct_keys_error = hyperloglog::relative_error();
  p.peak_minute = peak_sum(minutes, 1);
  p.peak_hour = peak_sum(minutes, 60);
  p.peak_day = peak_sum(minutes, minutes_per_day);
  p.peak_window_s = window_s;
  // A window of w seconds lies within ceil(w / 60) + 1 consecutive minutes.
  auto k = static_cast<std::size_t>((window_s + 59) / 60) + 1;
  p.peak_window = peak_sum(minutes, k);
  return p;
}

uint64_t usage_history::batch_savings(int64_t now_ms) const {
  uint64_t out = 0;
  auto first_day = day_of(now_ms) - window_days_ + 1;
  for (auto i = days_.lower_bound(first_day); i != days_.end(); ++i) {
    auto& c = i->second.counts;
    if (c.batchable_calls > c.batch_groups)
      out += c.batchable_calls - c.batch_groups;
  }
  return out;
}

std::vector<unsaved_day> usage_history::take_unsaved() {
  std::vector<unsaved_day> out;
  for (auto& [d, slot] : days_) {
    if (slot.unsaved.empty() && !slot.keys_changed)
      continue;
    unsaved_day u;
    u.day = d;
    u.counts = slot.unsaved;
    u.keys_changed = slot.keys_changed;
    if (slot.keys_changed)
      u.keys = slot.keys.to_bytes();
    slot.unsaved = day_counts{};
    slot.keys_changed = false;
    out.push_back(std::move(u));
  }
  return out;
}

void usage_history::restore_unsaved(const std::vector<unsaved_day>& xs) {
  for (auto& u : xs) {
    auto i = days_.find(u.day);
    if (i == days_.end())
      continue; // out of the window by now
    i->second.unsaved.add(u.counts);
    i->second.keys_changed = i->second.keys_changed || u.keys_changed;
  }
}

void usage_history::merge_stored(int64_t d, const day_counts& counts,
                                 const std::string& keys) {
  auto& slot = days_[d];
  slot.counts.add(counts);
  for (int i = 0; i < minutes_per_day; ++i)
    if (counts.minutes[i] != 0) {
      observed_since(d * ms_per_day + int64_t{i} * 60'000);
      break;
    }
  if (!keys.empty())
    if (auto stored = hyperloglog::from_bytes(keys))
      slot.keys.merge(*stored);
}

void usage_history::observed_since(int64_t ms) {
  if (ms > 0)
    since_ms_ = std::min(since_ms_, ms);
}

} // namespace streamb::advice
