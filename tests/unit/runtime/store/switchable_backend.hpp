#pragma once

// A memory backend that a test can switch off: while `down` is set every
// call fails with store_unavailable, as the Redis backend does while Redis is
// away. For tests of what components do when the store goes and comes back.

#include "runtime/core/error_code.hpp"
#include "runtime/store/memory_backend.hpp"

#include <atomic>
#include <utility>

namespace streamb::store::testing {

class switchable_backend final : public backend {
public:
  std::atomic<bool> down{false};
  memory_backend inner;

  // clang-format off
  caf::expected<caf::unit_t> ping() override { return pass([&] { return inner.ping(); }); }
  caf::expected<std::optional<std::string>> get(const std::string& k) override { return pass([&] { return inner.get(k); }); }
  caf::expected<caf::unit_t> set(const std::string& k, const std::string& v, int64_t t) override { return pass([&] { return inner.set(k, v, t); }); }
  caf::expected<bool> set_nx(const std::string& k, const std::string& v, int64_t t) override { return pass([&] { return inner.set_nx(k, v, t); }); }
  caf::expected<bool> del(const std::string& k) override { return pass([&] { return inner.del(k); }); }
  caf::expected<bool> expire(const std::string& k, int64_t t) override { return pass([&] { return inner.expire(k, t); }); }
  caf::expected<bool> expire_if(const std::string& k, const std::string& v, int64_t t) override { return pass([&] { return inner.expire_if(k, v, t); }); }
  caf::expected<int64_t> ttl_ms(const std::string& k) override { return pass([&] { return inner.ttl_ms(k); }); }
  caf::expected<int64_t> incr_by(const std::string& k, int64_t d, int64_t t) override { return pass([&] { return inner.incr_by(k, d, t); }); }
  caf::expected<uint64_t> hset(const std::string& k, const field_list& f) override { return pass([&] { return inner.hset(k, f); }); }
  caf::expected<std::optional<std::string>> hget(const std::string& k, const std::string& f) override { return pass([&] { return inner.hget(k, f); }); }
  caf::expected<field_list> hgetall(const std::string& k) override { return pass([&] { return inner.hgetall(k); }); }
  caf::expected<int64_t> hincr_by(const std::string& k, const std::string& f, int64_t d) override { return pass([&] { return inner.hincr_by(k, f, d); }); }
  caf::expected<bool> hdel(const std::string& k, const std::string& f) override { return pass([&] { return inner.hdel(k, f); }); }
  caf::expected<std::string> xadd(const std::string& s, const field_list& f, const stream_trim& t) override { return pass([&] { return inner.xadd(s, f, t); }); }
  caf::expected<uint64_t> xlen(const std::string& s) override { return pass([&] { return inner.xlen(s); }); }
  caf::expected<std::vector<stream_entry>> xrange(const std::string& s, const std::string& a, const std::string& b, uint64_t n) override { return pass([&] { return inner.xrange(s, a, b, n); }); }
  caf::expected<std::vector<stream_entry>> xrevrange(const std::string& s, const std::string& a, const std::string& b, uint64_t n) override { return pass([&] { return inner.xrevrange(s, a, b, n); }); }
  caf::expected<uint64_t> xtrim(const std::string& s, const stream_trim& t) override { return pass([&] { return inner.xtrim(s, t); }); }
  caf::expected<uint64_t> xdel(const std::string& s, const std::vector<std::string>& ids) override { return pass([&] { return inner.xdel(s, ids); }); }
  caf::expected<bool> xgroup_create(const std::string& s, const std::string& g, const std::string& i) override { return pass([&] { return inner.xgroup_create(s, g, i); }); }
  caf::expected<std::vector<stream_entry>> xreadgroup(const std::string& s, const std::string& g, const std::string& c, uint64_t n) override { return pass([&] { return inner.xreadgroup(s, g, c, n); }); }
  caf::expected<uint64_t> xack(const std::string& s, const std::string& g, const std::vector<std::string>& ids) override { return pass([&] { return inner.xack(s, g, ids); }); }
  caf::expected<uint64_t> xpending_count(const std::string& s, const std::string& g) override { return pass([&] { return inner.xpending_count(s, g); }); }
  caf::expected<std::vector<pending_entry>> xpending(const std::string& s, const std::string& g, uint64_t n) override { return pass([&] { return inner.xpending(s, g, n); }); }
  caf::expected<std::vector<stream_entry>> xautoclaim(const std::string& s, const std::string& g, const std::string& c, int64_t idle, uint64_t n) override { return pass([&] { return inner.xautoclaim(s, g, c, idle, n); }); }
  caf::expected<std::vector<write_result>> write(const std::vector<write_op>& ops) override { return pass([&] { return inner.write(ops); }); }
  caf::expected<std::vector<std::string>> keys(const std::string& p) override { return pass([&] { return inner.keys(p); }); }
  // clang-format on

private:
  template <class F>
  auto pass(F f) -> decltype(f()) {
    if (down)
      return caf::make_error(error_code::store_unavailable,
                             "switched off by the test");
    return f();
  }
};

} // namespace streamb::store::testing
