#include "bridges/delivery_endpoint.hpp"

#include "actors/request_deadlines.hpp"
#include "bridges/endpoint_sender.hpp"
#include "runtime/coordination/coordination_codec.hpp"
#include "runtime/core/audit.hpp"
#include "runtime/core/error_code.hpp"
#include "runtime/core/error_text.hpp"
#include "runtime/core/log.hpp"
#include "runtime/core/wall_time.hpp"
#include "runtime/metrics/histogram.hpp"
#include "runtime/webhooks/webhook_queue.hpp"

#include <boost/json.hpp>
#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <caf/spawn_options.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <deque>
#include <memory>
#include <random>
#include <unordered_map>
#include <unordered_set>

namespace streamb {

namespace json = boost::json;

namespace {

constexpr auto store_timeout = std::chrono::seconds{5};
constexpr uint64_t dead_letters_kept = 10000;
constexpr uint32_t submit_ahead = 8;

std::string queue_key(const delivery_endpoint_settings& s) {
  return "deliveries:" + s.node + ":" + s.endpoint.name + ":queue";
}

std::string dead_key(const delivery_endpoint_settings& s) {
  return "deliveries:" + s.node + ":" + s.endpoint.name + ":dead";
}

/// `body`: the message's own, or the one an accepted message keeps apart.
store::field_list to_fields(const outbound_message& m,
                            const std::string& body) {
  return {{"id", m.id},
          {"kind", m.kind},
          {"type", m.type},
          {"body", body},
          {"queued_ms", std::to_string(m.queued_ms)}};
}

store::field_list to_fields(const outbound_message& m) {
  return to_fields(m, m.body);
}

std::optional<outbound_message> from_entry(const store::stream_entry& e) {
  outbound_message m;
  m.entry_id = e.id;
  for (auto& [k, v] : e.fields) {
    if (k == "id")
      m.id = v;
    else if (k == "kind")
      m.kind = v;
    else if (k == "type")
      m.type = v;
    else if (k == "body")
      m.body = v;
    else if (k == "queued_ms")
      m.queued_ms = std::strtoll(v.c_str(), nullptr, 10);
  }
  if (m.id.empty() || m.body.empty())
    return std::nullopt;
  return m;
}

struct endpoint_state {
  static inline const char* name = "delivery_endpoint";

  delivery_endpoint_settings settings;
  endpoint_url url;
  store_actor store;
  std::unique_ptr<endpoint_sender> sender;
  struct held_message {
    /// Its body is in `body`, shared with the sender while a try is out.
    outbound_message m;
    std::shared_ptr<const std::string> body;
    /// When its current try went out.
    std::chrono::steady_clock::time_point sent_at{};
  };
  /// Every message held, by a handle of this actor's (a counter): cheaper
  /// to hash and pass around than the queue entry id.
  std::unordered_map<uint64_t, held_message> held;
  uint64_t next_handle = 0;
  /// Handles ready to go (a retry that came due, or new).
  std::deque<uint64_t> ready;
  endpoint_stats stats;
  histogram latency_us;
  /// Taken this mailbox round, to store in one batch: the message and
  /// the promise that answers once it is stored.
  std::vector<std::pair<outbound_message, caf::typed_response_promise<bool>>>
    to_store;
  /// Settled this round: dead letters to add (and their entries to
  /// delete), and the entries delivered, deleted in one XDEL.
  write_ops settled;
  std::vector<std::string> delivered_ids;
  bool flush_pending = false;
  /// Messages in a store batch not yet answered (count toward max_queued).
  std::size_t storing = 0;
  bool recover_scheduled = false;
  /// Store batches' timeouts, kept here: CAF's would wake its clock thread
  /// twice per batch. Checked by a tick that runs while any is out.
  request_deadlines deadlines;
  bool tick_scheduled = false;
  /// Handed to the sender, not yet answered.
  uint32_t submitted = 0;
  std::minstd_rand rng{std::random_device{}()};
};

using endpoint_pointer = delivery_endpoint_actor::stateful_pointer<
  endpoint_state>;

/// One store batch per mailbox round: the flush message queues behind
/// everything already in the mailbox.
void schedule_flush(endpoint_pointer self) {
  if (std::exchange(self->state.flush_pending, true))
    return;
  self->send(self, flush_atom_v);
}

void dispatch(endpoint_pointer self) {
  auto& st = self->state;
  // The sender's connections (max_in_flight of them) take the next request
  // as soon as one is answered, and the sender rings for outcomes only when
  // its queue runs short: handing it 8 per connection lets each ring carry
  // dozens of outcomes (4: 0.93 of the deliveries per second), and the
  // endpoint still sees at most max_in_flight at once.
  while (st.submitted < st.settings.endpoint.max_in_flight * submit_ahead
         && !st.ready.empty()) {
    auto handle = st.ready.front();
    st.ready.pop_front();
    auto i = st.held.find(handle);
    if (i == st.held.end())
      continue;
    auto& h = i->second;
    ++h.m.attempts;
    // Signed by the sender thread just before it sends: a request that
    // waited behind a slow endpoint still carries a fresh timestamp.
    outbound_request req{handle, h.m.id, h.body};
    h.sent_at = std::chrono::steady_clock::now();
    ++st.submitted;
    st.sender->submit(std::move(req));
  }
}

void accept(endpoint_pointer self, outbound_message m) {
  auto& st = self->state;
  ++st.stats.accepted;
  auto handle = st.next_handle++;
  auto body = std::make_shared<const std::string>(std::move(m.body));
  st.held.emplace(
    handle, endpoint_state::held_message{std::move(m), std::move(body), {}});
  st.ready.push_back(handle);
  dispatch(self);
}

void on_sent(endpoint_pointer self, uint64_t handle, int status,
             const std::string& why) {
  auto& st = self->state;
  if (st.submitted > 0)
    --st.submitted;
  auto i = st.held.find(handle);
  if (i == st.held.end())
    return dispatch(self);
  auto& m = i->second.m;
  auto started = i->second.sent_at;
  st.stats.last_status = status;
  if (status >= 200 && status <= 299) {
    ++st.stats.delivered;
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                std::chrono::steady_clock::now() - started)
                .count();
    st.latency_us.record(static_cast<uint64_t>(std::max<int64_t>(us, 0)));
    st.delivered_ids.push_back(std::move(m.entry_id));
    schedule_flush(self);
    st.held.erase(i);
    return dispatch(self);
  }
  ++st.stats.failed_attempts;
  st.stats.last_error = why;
  auto& delays = st.settings.endpoint.retry_delays_s;
  if (m.attempts > delays.size()) {
    ++st.stats.dead_lettered;
    log_warning("delivery_endpoint",
                st.settings.endpoint.name + ": dead letter " + m.id + " after "
                  + std::to_string(m.attempts) + " tries: " + why);
    auto fields = to_fields(m, *i->second.body);
    fields.emplace_back("attempts", std::to_string(m.attempts));
    fields.emplace_back("last_error", why);
    fields.emplace_back("dead_at", iso8601_utc(epoch_ms_now()));
    st.settled.push_back(store::write_op::make_xadd(
      dead_key(st.settings), std::move(fields), {dead_letters_kept, {}}));
    st.settled.push_back(
      store::write_op::make_xdel(queue_key(st.settings), {m.entry_id}));
    schedule_flush(self);
    st.held.erase(i);
    return dispatch(self);
  }
  ++st.stats.retried;
  std::uniform_real_distribution<double> unit{0.0, 1.0};
  auto delay = retry_delay_ms(delays, m.attempts, unit(st.rng));
  self->delayed_send(self, std::chrono::milliseconds{delay}, wh_retry_atom_v,
                     handle);
  dispatch(self);
}

void recover_later(endpoint_pointer self, std::chrono::seconds delay);

/// Stores what this round took (one XADD each, one batch) and writes what
/// it settled. A message is the endpoint's once its XADD is in: then its
/// promise says true, and it goes out.
void flush(endpoint_pointer self) {
  auto& st = self->state;
  st.flush_pending = false;
  auto taken = std::exchange(st.to_store, {});
  auto ops = std::exchange(st.settled, {});
  if (!st.delivered_ids.empty())
    ops.push_back(store::write_op::make_xdel(
      queue_key(st.settings), std::exchange(st.delivered_ids, {})));
  auto first_new = ops.size();
  for (auto& [m, rp] : taken)
    ops.push_back(
      store::write_op::make_xadd(queue_key(st.settings), to_fields(m)));
  if (ops.empty())
    return;
  st.storing += taken.size();
  if (!std::exchange(st.tick_scheduled, true))
    self->delayed_send(self, std::chrono::seconds{1}, ep_tick_atom_v);
  // Shared by both continuations (a copy each cost two copies of every
  // body per batch).
  auto batch = std::make_shared<decltype(taken)>(std::move(taken));
  request_watched(self, st.deadlines, store_timeout, st.store, write_atom_v,
                  std::move(ops))
    .then(
      [self, batch, first_new](write_results& rs) {
        self->state.storing -= batch->size();
        for (std::size_t i = 0; i < batch->size(); ++i) {
          auto& [m, rp] = (*batch)[i];
          auto k = first_new + i;
          if (k < rs.size() && !rs[k].error) {
            m.entry_id = rs[k].text;
            accept(self, std::move(m));
            rp.deliver(true);
          } else {
            ++self->state.stats.refused;
            rp.deliver(false);
          }
        }
      },
      [self, batch](caf::error& err) {
        self->state.storing -= batch->size();
        // Settled entries not deleted are sent again after a restart (at
        // least once); new ones are refused: their sender offers them
        // again (webhooks) or counts them (events).
        log_warning("delivery_endpoint",
                    self->state.settings.endpoint.name
                      + ": store batch failed: " + error_text(err));
        self->state.stats.last_error = "store: " + error_text(err);
        // The store may have applied the batch all the same.
        recover_later(self, std::chrono::seconds{5});
        for (auto& [m, rp] : *batch) {
          ++self->state.stats.refused;
          rp.deliver(false);
        }
      });
}

/// Reads the stored queue again later: it may hold entries this actor
/// does not (more than max_queued after a restart, or an XADD the store
/// applied after its answer timed out).
void recover_later(endpoint_pointer self, std::chrono::seconds delay) {
  if (std::exchange(self->state.recover_scheduled, true))
    return;
  self->delayed_send(self, delay, recover_atom_v);
}

void recover(endpoint_pointer self) {
  auto& st = self->state;
  st.recover_scheduled = false;
  self
    ->request(st.store, store_timeout, xrange_atom_v, queue_key(st.settings),
              std::string{"-"}, std::string{"+"},
              uint64_t{st.settings.endpoint.max_queued})
    .then(
      [self](stream_entries& xs) {
        auto& st = self->state;
        std::size_t n = 0;
        bool full = false;
        // Rare (a start, a lost store answer, a full queue): the entries
        // held are looked up here rather than indexed on every message.
        std::unordered_set<std::string> held_entries;
        for (auto& [handle, h] : st.held)
          held_entries.insert(h.m.entry_id);
        for (auto& e : xs) {
          if (st.held.size() >= st.settings.endpoint.max_queued) {
            full = true;
            break;
          }
          if (auto m = from_entry(e);
              m && held_entries.count(m->entry_id) == 0) {
            accept(self, std::move(*m));
            ++n;
          }
        }
        if (n > 0)
          log_info("delivery_endpoint",
                   st.settings.endpoint.name + ": " + std::to_string(n)
                     + " stored deliveries taken up (left by a previous run "
                       "or by a store write whose answer was lost)");
        // A full read may have left more behind: look again once sent.
        if (full || xs.size() >= st.settings.endpoint.max_queued)
          recover_later(self, std::chrono::seconds{2});
      },
      [self](caf::error& err) {
        log_warning("delivery_endpoint",
                    self->state.settings.endpoint.name
                      + ": cannot read back the queue (retrying in 5 s): "
                      + error_text(err));
        recover_later(self, std::chrono::seconds{5});
      });
}

delivery_endpoint_actor::behavior_type
delivery_endpoint(endpoint_pointer self, delivery_endpoint_settings settings,
                  store_actor store) {
  auto& st = self->state;
  st.settings = std::move(settings);
  st.store = std::move(store);
  std::string why;
  // The config was checked at start (read_endpoint).
  st.url = *parse_endpoint_url(st.settings.endpoint.url, why);
  st.stats.name = st.settings.endpoint.name;
  st.stats.url = st.url.display();
  auto me = caf::actor_cast<delivery_endpoint_actor>(self);
  st.sender = std::make_unique<endpoint_sender>(
    st.url, std::chrono::seconds{st.settings.endpoint.timeout_s},
    st.settings.endpoint.max_in_flight, st.settings.endpoint.ca_file,
    st.settings.endpoint.secret,
    [weak = caf::actor_cast<caf::weak_actor_ptr>(me)] {
      if (auto strong = weak.lock())
        caf::anon_send(caf::actor_cast<delivery_endpoint_actor>(strong),
                       respond_atom_v);
    });
  self->send(self, recover_atom_v);
  return {
    [self](deliver_atom, outbound_message& m) -> caf::result<bool> {
      auto& st = self->state;
      if (st.held.size() + st.to_store.size() + st.storing
          >= st.settings.endpoint.max_queued) {
        ++st.stats.refused;
        return false;
      }
      m.queued_ms = epoch_ms_now();
      m.attempts = 0;
      auto rp = self->make_response_promise<bool>();
      st.to_store.emplace_back(std::move(m), rp);
      schedule_flush(self);
      return rp;
    },
    [self](flush_atom) { flush(self); },
    [self](ep_tick_atom) {
      auto& st = self->state;
      st.deadlines.expire(self);
      st.tick_scheduled = st.deadlines.open() > 0;
      if (st.tick_scheduled)
        self->delayed_send(self, std::chrono::seconds{1}, ep_tick_atom_v);
    },
    [self](respond_atom) {
      for (auto& x : self->state.sender->take_outcomes())
        on_sent(self, x.handle, x.status, x.why);
    },
    [self](wh_retry_atom, uint64_t handle) {
      if (self->state.held.count(handle) > 0) {
        self->state.ready.push_back(handle);
        dispatch(self);
      }
    },
    [self](recover_atom) { recover(self); },
    [self](wh_stats_atom) {
      auto& st = self->state;
      auto x = st.stats;
      x.queued = st.held.size();
      x.in_flight = std::min(st.submitted, st.settings.endpoint.max_in_flight);
      x.p50_ms = st.latency_us.quantile(0.5) / 1000.0;
      x.p95_ms = st.latency_us.quantile(0.95) / 1000.0;
      return x;
    },
    [self](wh_dead_atom) -> caf::result<stream_entries> {
      auto& st = self->state;
      return self->delegate(st.store, xrange_atom_v, dead_key(st.settings),
                            std::string{"-"}, std::string{"+"}, uint64_t{1000});
    },
    [self](wh_replay_atom, const std::string& dead_id,
           const std::string& who) -> caf::result<std::string> {
      auto& st = self->state;
      auto rp = self->make_response_promise<std::string>();
      self
        ->request(st.store, store_timeout, xrange_atom_v, dead_key(st.settings),
                  dead_id, dead_id, uint64_t{1})
        .then(
          [self, rp, dead_id, who](stream_entries& xs) mutable {
            auto m = xs.empty() ? std::nullopt : from_entry(xs.front());
            if (!m) {
              rp.deliver(caf::make_error(error_code::not_found,
                                         "no dead letter '" + dead_id + "'"));
              return;
            }
            auto& st = self->state;
            log_info("delivery_endpoint",
                     st.settings.endpoint.name + ": " + who + " replays "
                       + m->id);
            m->attempts = 0;
            m->queued_ms = epoch_ms_now();
            audit_record a;
            a.at_ms = epoch_ms_now();
            a.node = st.settings.node;
            a.who = who;
            a.action = "delivery.replay";
            a.subject = st.settings.endpoint.name + " " + m->id;
            a.outcome = "ok";
            a.detail = "dead letter " + dead_id;
            write_ops ops{
              store::write_op::make_xadd(queue_key(st.settings), to_fields(*m)),
              store::write_op::make_xdel(dead_key(st.settings), {dead_id}),
              audit_write(a, st.settings.audit_retention_ms)};
            self->request(st.store, store_timeout, write_atom_v, std::move(ops))
              .then(
                [self, rp, m = std::move(*m)](write_results& rs) mutable {
                  if (!rs.empty() && !rs.front().error) {
                    auto id = m.id;
                    m.entry_id = rs.front().text;
                    accept(self, std::move(m));
                    rp.deliver(std::move(id));
                  } else {
                    rp.deliver(caf::make_error(error_code::store_error,
                                               "the replay was not stored"));
                  }
                },
                [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
          },
          [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
      return rp;
    },
  };
}

} // namespace

delivery_endpoint_actor spawn_delivery_endpoint(caf::actor_system& sys,
                                                delivery_endpoint_settings s,
                                                store_actor store) {
  // Scheduled like any actor: at its end the sender cuts what is in flight
  // and joins its io thread at once.
  return sys.spawn(delivery_endpoint, std::move(s), std::move(store));
}

} // namespace streamb
