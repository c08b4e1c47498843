// Store operations per second through the store actor on the Redis backend,
// for the commands the issue names: SET NX PX on unique keys (idempotency),
// INCRBY (counters) and XADD with an exact MAXLEN trim (history, audit).
//
// One measurement per run: `--batch 1` sends one op per request (kv_setnx,
// incr, xadd: one round trip through the actor and to Redis per op);
// `--batch B` sends write_atom requests of B ops each (one MULTI ... EXEC
// round trip per request). A scoped actor keeps `--inflight` requests
// outstanding, so the detached store actor never waits for the next message,
// and sends a new one for every reply until `--seconds` have passed. Prints
//
//   RESULT op=... batch=... inflight=... seconds=... requests=... ops=...
//          ops_per_s=... errors=...
//
// on one line, for bench/run_store, which compares it with redis-benchmark
// on the same server. Wall time: what a caller of the store sees.
//
// Usage: store_bench --url redis://127.0.0.1:PORT/0 --op set_nx|incr_by|xadd
//          [--batch 1] [--seconds 3] [--warmup-seconds 0.5] [--inflight 8]
//          [--prefix streamb-bench:] [--maxlen 10000]

#include "actors/store_actor.hpp"
#include "runtime/messages.hpp"
#include "runtime/store/redis_backend.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <memory>
#include <string>
#include <unistd.h>

using namespace streamb;
using steady = std::chrono::steady_clock;

namespace {

struct options {
  std::string url;
  std::string op;
  uint64_t batch = 1;
  double seconds = 3;
  double warmup_seconds = 0.5;
  size_t inflight = 8;
  std::string prefix = "streamb-bench:";
  uint64_t maxlen = 10'000;
};

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "store_bench: %s\nusage: store_bench --url redis://HOST:PORT/DB "
               "--op set_nx|incr_by|xadd [--batch N] [--seconds S] "
               "[--warmup-seconds S] [--inflight N] [--prefix P] "
               "[--maxlen N]\n",
               why);
  std::exit(2);
}

options parse(int argc, char** argv) {
  options opts;
  for (int i = 1; i < argc; ++i) {
    std::string name = argv[i];
    if (i + 1 >= argc)
      usage(("missing value for " + name).c_str());
    std::string value = argv[++i];
    try {
      if (name == "--url")
        opts.url = value;
      else if (name == "--op")
        opts.op = value;
      else if (name == "--batch")
        opts.batch = std::stoull(value);
      else if (name == "--seconds")
        opts.seconds = std::stod(value);
      else if (name == "--warmup-seconds")
        opts.warmup_seconds = std::stod(value);
      else if (name == "--inflight")
        opts.inflight = std::stoull(value);
      else if (name == "--prefix")
        opts.prefix = value;
      else if (name == "--maxlen")
        opts.maxlen = std::stoull(value);
      else
        usage(("unknown option " + name).c_str());
    } catch (const std::exception&) {
      usage(("not a number: " + name + " " + value).c_str());
    }
  }
  if (opts.url.empty())
    usage("--url is required");
  if (opts.op != "set_nx" && opts.op != "incr_by" && opts.op != "xadd")
    usage("--op must be set_nx, incr_by or xadd");
  if (opts.batch == 0 || opts.inflight == 0 || opts.seconds <= 0
      || opts.warmup_seconds < 0)
    usage("--batch and --inflight must be positive, --seconds too");
  return opts;
}

/// The op number `seq` of the workload: what redis-benchmark sends as
/// `SET key:__rand_int__ xxx NX PX 60000`, `INCRBY counter:__rand_int__ 1`
/// (-r 1000) and `XADD stream MAXLEN = 10000 * field xxx`.
class workload {
public:
  explicit workload(const options& opts) : opts_(opts) {
    // Unique per run, so that SET NX always sets, even without FLUSHALL.
    run_ = std::to_string(::getpid()) + ":";
  }

  store::write_op op(uint64_t seq) const {
    using store::write_op;
    if (opts_.op == "set_nx")
      return write_op::make_set_nx(set_key(seq), "xxx", 60'000);
    if (opts_.op == "incr_by")
      return write_op::make_incr_by(counter_key(seq), 1);
    return write_op::make_xadd("stream", {{"field", "xxx"}},
                               {opts_.maxlen, ""});
  }

  std::string set_key(uint64_t seq) const {
    return "key:" + run_ + std::to_string(seq);
  }

  std::string counter_key(uint64_t seq) const {
    return "counter:" + std::to_string(seq % 1000);
  }

private:
  const options& opts_;
  std::string run_;
};

struct outcome {
  uint64_t requests = 0;
  uint64_t ops = 0;
  uint64_t errors = 0;
  std::string first_error;
  double seconds = 0;
};

/// Keeps `inflight` requests from `send()` outstanding until `seconds` have
/// passed, then waits for the rest. Replies come back in order (the store
/// actor works through its mailbox one message at a time), so the oldest
/// handle is always the next to answer. `on_reply` checks a reply and counts
/// a wrong one in `bad`.
template <class Send, class OnReply>
outcome drive(double seconds, size_t inflight, uint64_t ops_per_request,
              const uint64_t& bad, Send send, OnReply on_reply) {
  using handle = decltype(send());
  outcome result;
  std::deque<handle> pending;
  auto bad_before = bad;
  auto start = steady::now();
  auto deadline = start
    + std::chrono::duration_cast<steady::duration>(
                    std::chrono::duration<double>{seconds});
  for (size_t i = 0; i < inflight; ++i)
    pending.push_back(send());
  while (!pending.empty()) {
    pending.front().receive(on_reply, [&](caf::error& err) {
      ++result.errors;
      if (result.first_error.empty())
        result.first_error = caf::to_string(err);
    });
    pending.pop_front();
    ++result.requests;
    result.ops += ops_per_request;
    if (steady::now() < deadline)
      pending.push_back(send());
  }
  result.seconds = std::chrono::duration<double>(steady::now() - start).count();
  result.errors += bad - bad_before;
  if (bad > bad_before && result.first_error.empty())
    result.first_error = "a reply other than expected (set_nx not set, "
                         "empty ID, an op's error, wrong count)";
  return result;
}

outcome measure(caf::scoped_actor& self, const store_actor& store,
                const options& opts, const workload& work, double seconds,
                uint64_t& seq) {
  // seq runs on across warm-up and measurement: SET NX keys stay unique.
  uint64_t bad = 0;
  if (opts.batch > 1) {
    return drive(
      seconds, opts.inflight, opts.batch, bad,
      [&] {
        write_ops ops;
        ops.reserve(opts.batch);
        for (uint64_t i = 0; i < opts.batch; ++i)
          ops.push_back(work.op(seq++));
        return self->request(store, caf::infinite, write_atom_v,
                             std::move(ops));
      },
      [&](write_results& results) {
        bool ok = results.size() == opts.batch;
        for (auto& r : results)
          if (r.error || (opts.op == "set_nx" && r.integer != 1)
              || (opts.op == "xadd" && r.text.empty()))
            ok = false;
        if (!ok)
          ++bad;
      });
  }
  if (opts.op == "set_nx")
    return drive(
      seconds, opts.inflight, 1, bad,
      [&] {
        return self->request(store, caf::infinite, kv_setnx_atom_v,
                             work.set_key(seq++), std::string{"xxx"},
                             int64_t{60'000});
      },
      [&](bool set) { bad += set ? 0 : 1; });
  if (opts.op == "incr_by")
    return drive(
      seconds, opts.inflight, 1, bad,
      [&] {
        return self->request(store, caf::infinite, incr_atom_v,
                             work.counter_key(seq++), int64_t{1}, int64_t{0});
      },
      [&](int64_t value) { bad += value > 0 ? 0 : 1; });
  return drive(
    seconds, opts.inflight, 1, bad,
    [&] {
      ++seq;
      return self->request(store, caf::infinite, xadd_atom_v,
                           std::string{"stream"},
                           store::field_list{{"field", "xxx"}},
                           store::stream_trim{opts.maxlen, ""});
    },
    [&](std::string& id) { bad += id.empty() ? 1 : 0; });
}

} // namespace

int main(int argc, char** argv) {
  auto opts = parse(argc, argv);
  auto redis = store::parse_redis_url(opts.url);
  if (!redis) {
    std::fprintf(stderr, "store_bench: %s\n",
                 caf::to_string(redis.error()).c_str());
    return 2;
  }
  redis->prefix = opts.prefix;
  caf::actor_system_config cfg;
  cfg.set("logger.verbosity", caf::atom("quiet"));
  register_message_types(cfg);
  caf::actor_system sys{cfg};
  auto backend = std::make_shared<store::redis_backend>(*redis);
  if (auto pong = backend->ping(); !pong) {
    std::fprintf(stderr, "store_bench: no Redis at %s: %s\n", opts.url.c_str(),
                 caf::to_string(pong.error()).c_str());
    return 1;
  }
  // Detached, as the node spawns it: hiredis blocks.
  auto store = sys.spawn<caf::detached>(store_service, backend);
  outcome result;
  {
    caf::scoped_actor self{sys};
    workload work{opts};
    uint64_t seq = 0;
    if (opts.warmup_seconds > 0)
      measure(self, store, opts, work, opts.warmup_seconds, seq);
    result = measure(self, store, opts, work, opts.seconds, seq);
    self->send_exit(store, caf::exit_reason::user_shutdown);
  }
  std::printf("RESULT op=%s batch=%llu inflight=%zu seconds=%.3f "
              "requests=%llu ops=%llu ops_per_s=%.0f errors=%llu\n",
              opts.op.c_str(), static_cast<unsigned long long>(opts.batch),
              opts.inflight, result.seconds,
              static_cast<unsigned long long>(result.requests),
              static_cast<unsigned long long>(result.ops),
              static_cast<double>(result.ops) / result.seconds,
              static_cast<unsigned long long>(result.errors));
  if (result.errors > 0) {
    std::fprintf(stderr, "store_bench: %llu requests failed; first: %s\n",
                 static_cast<unsigned long long>(result.errors),
                 result.first_error.c_str());
    return 1;
  }
  return 0;
}
