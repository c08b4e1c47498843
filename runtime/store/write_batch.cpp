#include "runtime/store/write_batch.hpp"

#include "runtime/core/error_code.hpp"

#include <charconv>
#include <limits>
#include <string_view>

namespace streamb::store {

namespace {

caf::error invalid(std::string what) {
  return caf::make_error(error_code::invalid_argument, std::move(what));
}

bool is_u64(std::string_view str) {
  uint64_t value = 0;
  auto last = str.data() + str.size();
  auto [ptr, ec] = std::from_chars(str.data(), last, value);
  return !str.empty() && ec == std::errc{} && ptr == last;
}

template <class T>
write_result pack(caf::expected<T>&& x) {
  write_result result;
  if (!x) {
    result.error = std::move(x.error());
    return result;
  }
  if constexpr (std::is_same_v<T, bool>)
    result.integer = *x ? 1 : 0;
  else if constexpr (std::is_same_v<T, std::string>)
    result.text = std::move(*x);
  else if constexpr (std::is_same_v<T, caf::unit_t>)
    result.integer = 1;
  else
    result.integer = static_cast<int64_t>(*x);
  return result;
}

} // namespace

caf::error check_ttl(int64_t ttl_ms, int64_t now_ms) {
  if (ttl_ms < 0)
    return invalid("negative TTL: " + std::to_string(ttl_ms));
  if (ttl_ms
      > std::numeric_limits<int64_t>::max() - std::max<int64_t>(now_ms, 0))
    return invalid("TTL overflows: " + std::to_string(ttl_ms));
  return {};
}

bool is_stream_id(std::string_view str) {
  auto dash = str.find('-');
  if (dash == std::string_view::npos)
    return is_u64(str);
  return is_u64(str.substr(0, dash)) && is_u64(str.substr(dash + 1));
}

caf::error check_write_op(const write_op& op, int64_t now_ms) {
  using kind = write_op::kind;
  switch (op.what) {
    case kind::set:
    case kind::set_nx:
    case kind::incr_by: return check_ttl(op.ttl_ms, now_ms);
    case kind::expire:
      return op.ttl_ms <= 0 ? caf::error{} : check_ttl(op.ttl_ms, now_ms);
    case kind::xadd:
      if (op.fields.empty())
        return invalid("a stream entry needs at least one field: " + op.key);
      if (op.trim.max_len > 0 && !op.trim.min_id.empty())
        return invalid("MAXLEN and MINID cannot be combined");
      if (!op.trim.min_id.empty() && !is_stream_id(op.trim.min_id))
        return invalid("invalid stream ID: " + op.trim.min_id);
      return {};
    case kind::xack:
    case kind::xdel:
      for (auto& [id, unused] : op.fields)
        if (!is_stream_id(id))
          return invalid("invalid stream ID: " + id);
      return {};
    case kind::del:
    case kind::hset:
    case kind::hincr_by:
    case kind::get: return {};
  }
  return invalid("unknown write op");
}

write_result apply_write_op(backend& db, const write_op& op) {
  using kind = write_op::kind;
  switch (op.what) {
    case kind::set: return pack(db.set(op.key, op.value, op.ttl_ms));
    case kind::set_nx: return pack(db.set_nx(op.key, op.value, op.ttl_ms));
    case kind::del: return pack(db.del(op.key));
    case kind::expire: return pack(db.expire(op.key, op.ttl_ms));
    case kind::incr_by: return pack(db.incr_by(op.key, op.number, op.ttl_ms));
    case kind::hset: return pack(db.hset(op.key, op.fields));
    case kind::hincr_by: return pack(db.hincr_by(op.key, op.value, op.number));
    case kind::xadd: return pack(db.xadd(op.key, op.fields, op.trim));
    case kind::get: {
      auto value = db.get(op.key);
      write_result result;
      if (!value) {
        result.error = std::move(value.error());
      } else if (*value) {
        result.integer = 1;
        result.text = std::move(**value);
      }
      return result;
    }
    case kind::xack: {
      std::vector<std::string> ids;
      for (auto& [id, unused] : op.fields)
        ids.push_back(id);
      // Inside a batch Redis answers 0 for a missing group (MULTI cannot
      // check it first as the single call does): the same here.
      auto acked = db.xack(op.key, op.value, ids);
      if (!acked && acked.error() == caf::make_error(error_code::not_found))
        return write_result{};
      return pack(std::move(acked));
    }
    case kind::xdel: {
      std::vector<std::string> ids;
      for (auto& [id, unused] : op.fields)
        ids.push_back(id);
      return pack(db.xdel(op.key, ids));
    }
  }
  write_result result;
  result.error = invalid("unknown write op");
  return result;
}

} // namespace streamb::store
