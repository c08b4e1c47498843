#include "runtime/metrics/metric_rollup.hpp"

#include "runtime/core/error_code.hpp"

#include <charconv>
#include <cstdio>
#include <ctime>
#include <map>
#include <string_view>

namespace streamb {

namespace {

constexpr int64_t usage_ttl_ms = 62LL * 24 * 3600 * 1000;

double us_to_ms(double us) {
  return us / 1000.0;
}

template <class T>
bool parse_number(std::string_view str, T& out) {
  auto last = str.data() + str.size();
  auto [ptr, ec] = std::from_chars(str.data(), last, out);
  return !str.empty() && ec == std::errc{} && ptr == last;
}

bool parse_double(const std::string& str, double& out) {
  if (str.empty())
    return false;
  char* end = nullptr;
  out = std::strtod(str.c_str(), &end);
  return end == str.c_str() + str.size();
}

std::string format_ms(double x) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.3f", x);
  return buf;
}

} // namespace

metric_rollup rollup_accumulator::take(const std::string& service,
                                       const std::string& node,
                                       int64_t start_ms, int64_t end_ms) {
  metric_rollup result;
  result.service = service;
  result.node = node;
  result.start_ms = start_ms;
  result.end_ms = end_ms;
  result.stats = stats_;
  if (latency_us_.count() > 0) {
    result.average_ms = us_to_ms(latency_us_.mean());
    result.p50_ms = us_to_ms(latency_us_.quantile(0.50));
    result.p95_ms = us_to_ms(latency_us_.quantile(0.95));
    result.p99_ms = us_to_ms(latency_us_.quantile(0.99));
    result.max_ms = us_to_ms(static_cast<double>(latency_us_.max()));
  }
  stats_ = call_stats{};
  latency_us_.reset();
  return result;
}

std::string history_stream(const std::string& service) {
  return "metrics:history:" + service;
}

std::string usage_key(const std::string& service, const std::string& month) {
  return "usage:" + service + ":" + month;
}

std::string utc_month(int64_t epoch_ms) {
  auto secs = static_cast<std::time_t>(epoch_ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%04d-%02d", tm.tm_year + 1900,
                tm.tm_mon + 1);
  return buf;
}

store::field_list to_fields(const metric_rollup& x) {
  store::field_list result{
    {"service", x.service},
    {"node", x.node},
    {"start_ms", std::to_string(x.start_ms)},
    {"end_ms", std::to_string(x.end_ms)},
    {"calls", std::to_string(x.stats.calls)},
  };
  for (std::size_t i = 0; i < status_class_count; ++i)
    result.emplace_back(to_string(static_cast<status_class>(i)),
                        std::to_string(x.stats.by_outcome[i]));
  result.emplace_back("cache_hits", std::to_string(x.stats.cache_hits));
  result.emplace_back("spend_micros", std::to_string(x.stats.cost_micros));
  result.emplace_back("avg_ms", format_ms(x.average_ms));
  result.emplace_back("p50_ms", format_ms(x.p50_ms));
  result.emplace_back("p95_ms", format_ms(x.p95_ms));
  result.emplace_back("p99_ms", format_ms(x.p99_ms));
  result.emplace_back("max_ms", format_ms(x.max_ms));
  return result;
}

caf::expected<metric_rollup> rollup_from_fields(const store::field_list& xs) {
  std::map<std::string_view, const std::string*> by_name;
  for (auto& [name, value] : xs)
    by_name[name] = &value;
  metric_rollup result;
  std::string missing;
  auto text = [&](const char* name) -> const std::string* {
    auto i = by_name.find(name);
    if (i == by_name.end()) {
      missing = name;
      return nullptr;
    }
    return i->second;
  };
  auto integer = [&](const char* name, auto& out) {
    auto* str = text(name);
    if (str != nullptr && !parse_number(*str, out))
      missing = name;
  };
  auto real = [&](const char* name, double& out) {
    auto* str = text(name);
    if (str != nullptr && !parse_double(*str, out))
      missing = name;
  };
  if (auto* s = text("service"))
    result.service = *s;
  if (auto* s = text("node"))
    result.node = *s;
  integer("start_ms", result.start_ms);
  integer("end_ms", result.end_ms);
  integer("calls", result.stats.calls);
  for (std::size_t i = 0; i < status_class_count; ++i)
    integer(to_string(static_cast<status_class>(i)),
            result.stats.by_outcome[i]);
  integer("cache_hits", result.stats.cache_hits);
  integer("spend_micros", result.stats.cost_micros);
  real("avg_ms", result.average_ms);
  real("p50_ms", result.p50_ms);
  real("p95_ms", result.p95_ms);
  real("p99_ms", result.p99_ms);
  real("max_ms", result.max_ms);
  if (!missing.empty())
    return caf::make_error(error_code::store_error,
                           "history entry without a valid " + missing);
  return result;
}

std::vector<store::write_op>
rollup_writes(const metric_rollup& x, int64_t retention_ms, int64_t now_ms) {
  store::stream_trim trim;
  trim.min_id = std::to_string(std::max<int64_t>(now_ms - retention_ms, 0));
  auto usage = usage_key(x.service, utc_month(x.start_ms));
  return {
    store::write_op::make_xadd(history_stream(x.service), to_fields(x), trim),
    store::write_op::make_hincr_by(usage, "calls",
                                   static_cast<int64_t>(x.stats.calls)),
    store::write_op::make_hincr_by(usage, "errors",
                                   static_cast<int64_t>(x.stats.errors())),
    store::write_op::make_hincr_by(usage, "spend_micros", x.stats.cost_micros),
    store::write_op::make_expire(usage, usage_ttl_ms),
  };
}

} // namespace streamb
