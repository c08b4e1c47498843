#include "actors/store_actor.hpp"

namespace streamb {

namespace {

template <class T>
caf::result<T> lift(caf::expected<T>&& x) {
  if (x)
    return std::move(*x);
  return std::move(x.error());
}

} // namespace

store_actor::behavior_type
store_service(store_pointer self, std::shared_ptr<store::backend> backend) {
  self->state.backend = std::move(backend);
  auto db = [self]() -> store::backend& { return *self->state.backend; };
  return {
    [=](ping_atom) -> caf::result<bool> {
      auto r = db().ping();
      if (!r)
        return std::move(r.error());
      return true;
    },
    [=](kv_get_atom, const std::string& key) -> caf::result<bool, std::string> {
      auto r = db().get(key);
      if (!r)
        return std::move(r.error());
      if (!*r)
        return {false, std::string{}};
      return {true, std::move(**r)};
    },
    [=](kv_set_atom, const std::string& key, const std::string& value,
        int64_t ttl_ms) -> caf::result<bool> {
      auto r = db().set(key, value, ttl_ms);
      if (!r)
        return std::move(r.error());
      return true;
    },
    [=](kv_setnx_atom, const std::string& key, const std::string& value,
        int64_t ttl_ms) { return lift(db().set_nx(key, value, ttl_ms)); },
    [=](kv_expif_atom, const std::string& key, const std::string& value,
        int64_t ttl_ms) { return lift(db().expire_if(key, value, ttl_ms)); },
    [=](incr_atom, const std::string& key, int64_t delta, int64_t ttl_ms) {
      return lift(db().incr_by(key, delta, ttl_ms));
    },
    [=](xadd_atom, const std::string& stream, const store::field_list& fields,
        const store::stream_trim& trim) {
      return lift(db().xadd(stream, fields, trim));
    },
    [=](xrange_atom, const std::string& stream, const std::string& start,
        const std::string& end, uint64_t count) {
      return lift(db().xrange(stream, start, end, count));
    },
    [=](xrevrange_atom, const std::string& stream, const std::string& end,
        const std::string& start, uint64_t count) {
      return lift(db().xrevrange(stream, end, start, count));
    },
    [=](hgetall_atom, const std::string& key) {
      return lift(db().hgetall(key));
    },
    [=](xgroup_atom, const std::string& stream, const std::string& group,
        const std::string& start_id) {
      return lift(db().xgroup_create(stream, group, start_id));
    },
    [=](xreadgroup_atom, const std::string& stream, const std::string& group,
        const std::string& consumer, uint64_t count) {
      return lift(db().xreadgroup(stream, group, consumer, count));
    },
    [=](xpending_atom, const std::string& stream, const std::string& group,
        uint64_t count) { return lift(db().xpending(stream, group, count)); },
    [=](xack_atom, const std::string& stream, const std::string& group,
        const std::vector<std::string>& ids) {
      return lift(db().xack(stream, group, ids));
    },
    [=](xautoclaim_atom, const std::string& stream, const std::string& group,
        const std::string& consumer, int64_t min_idle_ms, uint64_t count) {
      return lift(db().xautoclaim(stream, group, consumer, min_idle_ms, count));
    },
    [=](xtrim_atom, const std::string& stream, const store::stream_trim& trim) {
      return lift(db().xtrim(stream, trim));
    },
    [=](write_atom, const write_ops& ops) { return lift(db().write(ops)); },
  };
}

} // namespace streamb
