#include "runtime/webhooks/webhook_queue.hpp"

#include <charconv>
#include <cmath>
#include <string_view>

namespace streamb {

namespace {

template <class T>
bool parse_integer(const std::string& str, T& out) {
  auto last = str.data() + str.size();
  auto [ptr, ec] = std::from_chars(str.data(), last, out);
  return !str.empty() && ec == std::errc{} && ptr == last;
}

} // namespace

store::field_list to_fields(const webhook_event& x) {
  return {{"id", x.id},
          {"service", x.service},
          {"type", x.type},
          {"critical", x.critical ? "1" : "0"},
          {"received_ms", std::to_string(x.received_ms)},
          {"attempts", std::to_string(x.attempts)},
          {"payload", x.payload}};
}

caf::expected<webhook_event> webhook_from_entry(const store::stream_entry& e) {
  return webhook_from_entry(store::stream_entry{e});
}

caf::expected<webhook_event> webhook_from_entry(store::stream_entry&& e) {
  webhook_event result;
  result.entry_id = e.id;
  bool has_id = false;
  bool numbers_ok = true;
  for (auto& [name, value] : e.fields) {
    if (name == "id") {
      has_id = !value.empty();
      result.id = std::move(value);
    } else if (name == "service") {
      result.service = std::move(value);
    } else if (name == "type") {
      result.type = std::move(value);
    } else if (name == "critical") {
      result.critical = value == "1";
    } else if (name == "received_ms") {
      numbers_ok &= parse_integer(value, result.received_ms);
    } else if (name == "attempts") {
      numbers_ok &= parse_integer(value, result.attempts);
    } else if (name == "payload") {
      result.payload = std::move(value);
    }
  }
  if (!has_id || result.service.empty() || !numbers_ok)
    return caf::make_error(error_code::store_error,
                           "webhook entry " + e.id + " is not a webhook event");
  return result;
}

caf::error one_by_one() {
  return caf::make_error(error_code::unsupported,
                         "not tried in a batch: deliver it on its own");
}

int64_t retry_delay_ms(const std::vector<uint32_t>& delays_s, uint32_t retry,
                       double unit) {
  if (retry == 0 || retry > delays_s.size())
    return 0;
  auto base_ms = int64_t{delays_s[retry - 1]} * 1000;
  // Full jitter (AWS architecture blog): uniform over the whole interval, so
  // that providers' retry storms and our own do not line up. Never 0.
  auto ms = static_cast<int64_t>(std::ceil((1.0 - unit) * base_ms));
  return std::max<int64_t>(ms, 1);
}

namespace {

constexpr std::string_view pending_prefix = "pending:";

} // namespace

std::string pending_token(const std::string& node, uint64_t n) {
  std::string out{pending_prefix};
  out += node;
  out += ':';
  out += std::to_string(n);
  return out;
}

accept_outcome dedup_outcome(const std::string& own_token,
                             const std::string& found) {
  if (found == own_token)
    return accept_outcome::stored;
  if (found.compare(0, pending_prefix.size(), pending_prefix) == 0)
    return accept_outcome::in_progress;
  return accept_outcome::duplicate;
}

} // namespace streamb
