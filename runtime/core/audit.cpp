#include "runtime/core/audit.hpp"

#include <algorithm>
#include <charconv>

namespace streamb {

store::write_op audit_write(const audit_record& x, int64_t retention_ms) {
  store::stream_trim trim;
  trim.min_id = std::to_string(std::max<int64_t>(x.at_ms - retention_ms, 0));
  return store::write_op::make_xadd(audit_stream,
                                    {{"at_ms", std::to_string(x.at_ms)},
                                     {"node", x.node},
                                     {"who", x.who},
                                     {"action", x.action},
                                     {"subject", x.subject},
                                     {"outcome", x.outcome},
                                     {"detail", x.detail}},
                                    std::move(trim));
}

audit_record audit_from_entry(const store::stream_entry& entry) {
  audit_record result;
  result.id = entry.id;
  for (auto& [name, value] : entry.fields) {
    if (name == "at_ms") {
      std::from_chars(value.data(), value.data() + value.size(), result.at_ms);
    } else if (name == "node") {
      result.node = value;
    } else if (name == "who") {
      result.who = value;
    } else if (name == "action") {
      result.action = value;
    } else if (name == "subject") {
      result.subject = value;
    } else if (name == "outcome") {
      result.outcome = value;
    } else if (name == "detail") {
      result.detail = value;
    }
  }
  return result;
}

} // namespace streamb
