#include "actors/webhook_processor.hpp"
#include "runtime/core/actor_wall_clock.hpp"
#include "runtime/core/error_text.hpp"

#include "runtime/core/audit.hpp"
#include "runtime/core/log.hpp"
#include "runtime/core/wall_time.hpp"
#include "runtime/webhooks/event_history.hpp"
#include "runtime/webhooks/webhook_queue.hpp"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <cstdio>
#include <set>

namespace streamb {

namespace keys = webhook_keys;

namespace {

constexpr auto store_timeout = std::chrono::seconds{5};
/// Entries read or claimed per store round trip.
constexpr uint64_t read_batch = 100;

webhook_counters& counters_of(webhook_processor_pointer self,
                              const std::string& service) {
  return self->state.counters[service];
}

int64_t queue_retention_ms(webhook_processor_pointer self) {
  return int64_t{self->state.settings.delivery.queue_retention_h} * 3600 * 1000;
}

store::stream_trim queue_trim(webhook_processor_pointer self) {
  store::stream_trim trim;
  trim.min_id = std::to_string(
    std::max<int64_t>(epoch_ms(self->clock()) - queue_retention_ms(self), 0));
  return trim;
}

void dispatch(webhook_processor_pointer self);
void poll(webhook_processor_pointer self);

/// Queues `ops` for the next outcome batch; on failure they are kept for
/// the next poll, because they record an outcome (an ack, a dead letter)
/// that must not get lost.
void write_durably(webhook_processor_pointer self, write_ops ops) {
  auto& st = self->state;
  for (auto& op : ops)
    st.outcome_writer->push(std::move(op));
  st.outcome_writer->flush(self, st.store, store_timeout);
}

store_batcher<store::write_op>
make_outcome_writer(webhook_processor_pointer self) {
  store_batcher<store::write_op>::handlers h;
  h.make_ops = [](const write_ops& ops) { return ops; };
  h.stored = [self](write_ops&, write_results& rs) {
    for (auto& r : rs)
      if (r.error) {
        // A run-time error (a key of the wrong type) fails again on retry.
        log_error("webhook_processor",
                  "an outcome write failed: " + caf::to_string(r.error));
        break;
      }
    if (self->state.outcome_writer->failing())
      log_info("webhook_processor", "outcome writes stored again");
    return true;
  };
  h.refused = [](write_ops&, const caf::error& err, bool first) {
    if (first)
      log_warning("webhook_processor",
                  "outcome writes kept until the store is back: "
                    + error_text(err));
  };
  // Each event's outcome is a few ops: a million is hours of deliveries.
  return {"webhook_processor", on_refusal::keep, 1'000'000, std::move(h)};
}

// -- classifying and rejecting ------------------------------------------------

/// Whether `ev`'s type is one of its service's critical types. An event
/// whose provider names no type is never critical.
bool is_critical(const webhook_processor_settings& settings,
                 const webhook_event& ev) {
  if (ev.type.empty())
    return false;
  auto i = settings.critical_types.find(ev.service);
  if (i == settings.critical_types.end())
    return false;
  auto& types = i->second;
  return std::find(types.begin(), types.end(), ev.type) != types.end();
}

store_batcher<store::write_op> make_audit_writer() {
  store_batcher<store::write_op>::handlers h;
  h.make_ops = [](const write_ops& ops) { return ops; };
  h.stored = [](write_ops&, write_results& rs) {
    for (auto& r : rs)
      if (r.error) {
        log_error("webhook_processor",
                  "a rejection's audit record failed: "
                    + caf::to_string(r.error));
        break;
      }
    return true;
  };
  h.refused = [](write_ops& ops, const caf::error& err, bool first) {
    if (first)
      log_warning("webhook_processor",
                  std::to_string(ops.size())
                    + " audit records of rejections not stored ("
                    + error_text(err) + "); their log lines are the record");
  };
  // Bounded: rejections are what an attacker can produce at will.
  return {"webhook_processor", on_refusal::drop, 10'000, std::move(h)};
}

/// Counts, logs and audits a rejected request. The provider has had its
/// answer already; a store that is down loses the audit record, which the
/// log line keeps.
void reject(webhook_processor_pointer self, const std::string& service,
            webhook_rejection reason, const std::string& detail,
            const std::string& remote) {
  auto& st = self->state;
  auto& c = counters_of(self, service);
  ++c.received;
  ++c.rejected[reason];
  log_warning("webhook",
              "rejected service=" + service + " reason=" + to_string(reason)
                + " from=" + remote + ": " + detail);
  audit_record x;
  x.at_ms = epoch_ms(self->clock());
  x.node = st.settings.node;
  x.who = "provider:" + service + "@" + remote;
  x.action = "webhook.reject";
  x.subject = service;
  x.outcome = to_string(reason);
  x.detail = detail;
  st.audit_writer->push(audit_write(x, st.settings.audit_retention_ms));
  st.audit_writer->flush(self, st.store, store_timeout);
}

/// The audit record of a replay, written in the batch that queues the event
/// again: the trail has it exactly when the replay happened.
store::write_op replay_audit(webhook_processor_pointer self,
                             const std::string& dead_id,
                             const std::string& event_id,
                             const std::string& who) {
  auto& st = self->state;
  audit_record x;
  x.at_ms = epoch_ms(self->clock());
  x.node = st.settings.node;
  x.who = who;
  x.action = "webhook.replay";
  x.subject = event_id;
  x.outcome = "ok";
  x.detail = "dead letter " + dead_id;
  return audit_write(x, st.settings.audit_retention_ms);
}

// -- accepting ----------------------------------------------------------------

void flush_accepts(webhook_processor_pointer self) {
  auto& st = self->state;
  st.acceptor->flush(self, st.store, store_timeout);
}

using accept_batch = std::vector<webhook_processor_state::waiting_accept>;

void fail_accepts(webhook_processor_pointer self, accept_batch& batch,
                  const caf::error& err) {
  for (auto& w : batch) {
    counters_of(self, w.events.front().service)
      .rejected[webhook_rejection::store_unavailable]
      += 1;
    w.answer(err);
  }
}

void finish_accepts(webhook_processor_pointer self) {
  auto& st = self->state;
  st.acceptor->finished(self, st.store, store_timeout);
}

/// Second round trip: store the new events, mark them stored.
void store_new(webhook_processor_pointer self, accept_batch batch,
               std::vector<accept_outcomes> outcomes) {
  auto& st = self->state;
  write_ops ops;
  auto trim = queue_trim(self);
  auto retention = queue_retention_ms(self);
  auto now = epoch_ms(self->clock());
  for (std::size_t i = 0; i < batch.size(); ++i) {
    for (std::size_t j = 0; j < batch[i].events.size(); ++j) {
      if (outcomes[i][j] != accept_outcome::stored)
        continue;
      auto& ev = batch[i].events[j];
      auto ttl = st.settings.dedup_ttl_ms.count(ev.service) > 0
        ? st.settings.dedup_ttl_ms.at(ev.service)
        : int64_t{7} * 24 * 3600 * 1000;
      ops.push_back(store::write_op::make_xadd(keys::queue(ev.critical),
                                               to_fields(ev), trim));
      ops.push_back(
        store::write_op::make_set(keys::dedup(ev.id), "stored", ttl));
      ops.push_back(store::write_op::make_hset(
        keys::event(ev.id), event_history::queued(ev, st.settings.node)));
      ops.push_back(store::write_op::make_expire(
        keys::event(ev.id), retention + now - ev.received_ms));
    }
  }
  auto answer = [self](accept_batch& b, std::vector<accept_outcomes>& outs) {
    for (std::size_t i = 0; i < b.size(); ++i) {
      auto& c = counters_of(self, b[i].events.front().service);
      for (std::size_t j = 0; j < outs[i].size(); ++j) {
        if (outs[i][j] == accept_outcome::duplicate)
          ++c.duplicates;
        else if (outs[i][j] == accept_outcome::stored
                 && b[i].events[j].critical)
          ++c.critical;
      }
      b[i].answer(std::move(outs[i]));
    }
  };
  if (ops.empty()) {
    answer(batch, outcomes);
    finish_accepts(self);
    return;
  }
  // One batch for both continuations, not a copy in each (the events
  // carry their payloads: perf, ~4 % of the workers' time in copies).
  auto shared = std::make_shared<accept_batch>(std::move(batch));
  request_watched(self, self->state.store_deadlines, store_timeout, st.store,
                  write_atom_v, std::move(ops))
    .then(
      [self, shared, outcomes, answer](write_results& rs) mutable {
        for (auto& r : rs)
          if (r.error) {
            fail_accepts(self, *shared, r.error);
            return finish_accepts(self);
          }
        answer(*shared, outcomes);
        finish_accepts(self);
        poll(self);
      },
      [self, shared](caf::error& err) mutable {
        fail_accepts(self, *shared, err);
        finish_accepts(self);
      });
}

/// First round trip: claim every event's dedup key (SET NX) and read it back
/// (GET): our own token means new, another token means another request is
/// storing it now, anything else means stored before. The tokens are made
/// with the ops and kept beside the batch, in its order.
store_batcher<webhook_processor_state::waiting_accept>
make_acceptor(webhook_processor_pointer self) {
  auto tokens = std::make_shared<std::vector<std::vector<std::string>>>();
  store_batcher<webhook_processor_state::waiting_accept>::handlers h;
  h.make_ops = [self, tokens](const accept_batch& batch) {
    auto& st = self->state;
    write_ops ops;
    tokens->assign(batch.size(), {});
    for (std::size_t i = 0; i < batch.size(); ++i) {
      for (auto& ev : batch[i].events) {
        auto token = pending_token(st.settings.node, ++st.tokens);
        ops.push_back(store::write_op::make_set_nx(keys::dedup(ev.id), token,
                                                   keys::pending_ttl_ms));
        ops.push_back(store::write_op::make_get(keys::dedup(ev.id)));
        (*tokens)[i].push_back(std::move(token));
      }
    }
    return ops;
  };
  h.stored = [self, tokens](accept_batch& batch, write_results& rs) {
    std::vector<accept_outcomes> outcomes(batch.size());
    std::size_t k = 0;
    for (std::size_t i = 0; i < batch.size(); ++i) {
      for (std::size_t j = 0; j < batch[i].events.size(); ++j, k += 2) {
        auto& err = rs[k].error ? rs[k].error : rs[k + 1].error;
        if (err) {
          fail_accepts(self, batch, err);
          return true;
        }
        outcomes[i].push_back(dedup_outcome((*tokens)[i][j], rs[k + 1].text));
      }
    }
    store_new(self, std::move(batch), std::move(outcomes));
    return false; // store_new ends the batch
  };
  h.refused = [self](accept_batch& batch, const caf::error& err, bool) {
    fail_accepts(self, batch, err);
    flush_accepts(self);
  };
  return {"webhook_processor", on_refusal::drop, SIZE_MAX, std::move(h)};
}

// -- delivering ---------------------------------------------------------------

/// Acknowledges a finished event and deletes its queue entry: nothing reads
/// an acknowledged entry again (recovery reads the pending list, the
/// history lives in its own hash, a dead letter in its own stream), and
/// kept until `queue_retention_h` it held the payload for nothing (48 h of
/// 1 KB webhooks at 100/s: ~20 GB).
void ack_ops(write_ops& ops, const webhook_event& ev) {
  ops.push_back(store::write_op::make_xack(keys::queue(ev.critical),
                                           keys::group, {ev.entry_id}));
  ops.push_back(
    store::write_op::make_xdel(keys::queue(ev.critical), {ev.entry_id}));
}

void on_delivered(webhook_processor_pointer self, const webhook_event& ev) {
  auto& st = self->state;
  st.awaiting.erase(ev.id);
  auto& c = counters_of(self, ev.service);
  ++c.delivered;
  auto now = epoch_ms(self->clock());
  c.delivery_us.record(
    static_cast<uint64_t>(std::max<int64_t>(now - ev.received_ms, 0)) * 1000);
  write_ops ops;
  ack_ops(ops, ev);
  ops.push_back(store::write_op::make_hset(
    keys::event(ev.id), event_history::delivered(ev.attempts, now)));
  st.deliveries.release(ev);
  write_durably(self, std::move(ops));
}

void dead_letter(webhook_processor_pointer self, const webhook_event& ev,
                 const std::string& why) {
  auto& st = self->state;
  auto& c = counters_of(self, ev.service);
  auto now = epoch_ms(self->clock());
  st.awaiting.erase(ev.id);
  ++c.dead_lettered;
  log_warning("webhook_processor",
              "dead letter " + ev.id + " after " + std::to_string(ev.attempts)
                + " attempts: " + why);
  auto fields = to_fields(ev);
  fields.emplace_back("last_error", why);
  fields.emplace_back("dead_at", iso8601_utc(now));
  write_ops ops;
  ops.push_back(store::write_op::make_xadd(keys::dead, std::move(fields)));
  ack_ops(ops, ev);
  ops.push_back(store::write_op::make_hset(
    keys::event(ev.id), event_history::dead_lettered(ev.attempts, why, now)));
  st.deliveries.release(ev);
  write_durably(self, std::move(ops));
}

void on_failed(webhook_processor_pointer self, webhook_event ev,
               const std::string& why) {
  auto& st = self->state;
  auto& c = counters_of(self, ev.service);
  auto now = epoch_ms(self->clock());
  auto& delays = st.settings.delivery.retry_delays_s;
  st.awaiting.erase(ev.id);
  if (ev.attempts > delays.size())
    return dead_letter(self, ev, why);
  ++c.retried;
  std::uniform_real_distribution<double> unit{0.0, 1.0};
  auto delay = retry_delay_ms(delays, ev.attempts, unit(st.rng));
  write_ops ops;
  ops.push_back(store::write_op::make_hset(
    keys::event(ev.id),
    event_history::retrying(ev.attempts, why, now, now + delay)));
  // The history is for the operator; the retry itself lives in memory and,
  // after a crash, in the queue's pending list.
  request_watched(self, self->state.store_deadlines, store_timeout, st.store,
                  write_atom_v, std::move(ops))
    .then([](write_results&) {},
          [](caf::error& err) {
            log_warning("webhook_processor",
                        "retry note not stored (the retry still happens): "
                          + error_text(err));
          });
  self->delayed_send(self, std::chrono::milliseconds{delay}, wh_retry_atom_v,
                     std::move(ev));
}

/// Nothing takes the event now (no agent, endpoint or log subscriber): it
/// waits, without using up its retries, until a consumer takes it or its
/// retention ends. One waiting event per service (the probe) is offered
/// again every `await_interval`; the others are parked until the probe is
/// taken, then all go at once.
void await_consumer(webhook_processor_pointer self, webhook_event ev,
                    const std::string& why) {
  auto& st = self->state;
  auto now = epoch_ms(self->clock());
  if (now - ev.received_ms > queue_retention_ms(self)) {
    dead_letter(self, ev,
                "no consumer within webhooks.queue_retention_h: " + why);
    // The probe is gone: the next parked event (if any) takes its place.
    if (auto p = st.probe.find(ev.service);
        p != st.probe.end() && p->second == ev.id) {
      st.probe.erase(p);
      auto i = st.parked.find(ev.service);
      if (i != st.parked.end() && !i->second.empty()) {
        auto next = std::move(i->second.front());
        i->second.pop_front();
        st.probe[next.service] = next.id;
        self->send(self, wh_retry_atom_v, std::move(next));
      }
    }
    return;
  }
  if (st.awaiting.emplace(ev.id, ev.service).second && st.awaiting.size() == 1)
    log_warning("webhook_processor",
                "webhooks wait for a consumer: " + why
                  + " (connect an agent subscribed to \"webhook\", add a "
                    "deliveries endpoint, or set webhooks.log_deliveries)");
  --ev.attempts; // an offer nobody could take is no try
  auto& probe = st.probe[ev.service];
  if (!probe.empty() && probe != ev.id) {
    st.parked[ev.service].push_back(std::move(ev));
    return;
  }
  probe = ev.id;
  self->delayed_send(self, st.settings.await_interval, wh_retry_atom_v,
                     std::move(ev));
}

/// The probe of `ev`'s service is back: past their retention, parked
/// events become dead letters (oldest first, as they were parked).
void expire_parked(webhook_processor_pointer self, const std::string& service) {
  auto& st = self->state;
  auto i = st.parked.find(service);
  if (i == st.parked.end())
    return;
  auto now = epoch_ms(self->clock());
  auto& q = i->second;
  while (!q.empty() && now - q.front().received_ms > queue_retention_ms(self)) {
    auto ev = std::move(q.front());
    q.pop_front();
    dead_letter(self, ev,
                "no consumer within webhooks.queue_retention_h (waiting)");
  }
}

/// `ev` found a consumer (or a failure that is not the lack of one): if it
/// was its service's probe, the parked events of that service go now.
void probe_settled(webhook_processor_pointer self, const webhook_event& ev) {
  auto& st = self->state;
  auto p = st.probe.find(ev.service);
  if (p == st.probe.end() || p->second != ev.id)
    return;
  st.probe.erase(p);
  auto i = st.parked.find(ev.service);
  if (i == st.parked.end())
    return;
  auto q = std::move(i->second);
  st.parked.erase(i);
  for (auto& x : q)
    self->send(self, wh_retry_atom_v, std::move(x));
}

/// What one delivery came to: handled, refused, nothing takes it now
/// (wait), or another failure (retry).
void settle(webhook_processor_pointer self, webhook_event ev,
            const caf::error& verdict) {
  self->state.deliveries.finished();
  if (!verdict) {
    probe_settled(self, ev);
    on_delivered(self, ev);
  } else if (verdict == error_code::no_consumer) {
    await_consumer(self, std::move(ev), error_text(verdict));
  } else {
    probe_settled(self, ev);
    on_failed(self, std::move(ev), error_text(verdict));
  }
}

/// Hands one event (counted in flight, its attempt counted) to the
/// subscriber on its own.
void deliver_one(webhook_processor_pointer self, webhook_event ev) {
  auto& st = self->state;
  // One copy for the message; both continuations share the event (each
  // copy is the whole payload).
  auto held = std::make_shared<webhook_event>(std::move(ev));
  request_watched(self, self->state.store_deadlines,
                  std::chrono::seconds{st.settings.delivery.delivery_timeout_s},
                  st.subscriber, deliver_atom_v, *held)
    .then(
      [self, held](bool handled) {
        settle(self, std::move(*held),
               handled ? caf::error{}
                       : caf::make_error(error_code::unavailable,
                                         "the subscriber refused it"));
        dispatch(self);
      },
      [self, held](caf::error& err) {
        settle(self, std::move(*held), err);
        dispatch(self);
      });
}

/// Hands events (counted in flight by `dispatch`) to the subscriber in one
/// request: one message each way per batch, not per event. Those the
/// subscriber did not try in the batch go on their own.
void deliver(webhook_processor_pointer self, webhook_events evs) {
  auto& st = self->state;
  for (auto& ev : evs)
    ++ev.attempts;
  auto held = std::make_shared<webhook_events>(std::move(evs));
  request_watched(self, self->state.store_deadlines,
                  std::chrono::seconds{st.settings.delivery.delivery_timeout_s},
                  st.subscriber, deliver_atom_v, *held)
    .then(
      [self, held](delivery_verdicts& verdicts) {
        auto& evs = *held;
        for (std::size_t i = 0; i < evs.size(); ++i) {
          if (i >= verdicts.size())
            settle(self, std::move(evs[i]),
                   caf::make_error(
                     error_code::invalid_argument,
                     "the subscriber answered "
                       + std::to_string(verdicts.size()) + " verdicts for "
                       + std::to_string(evs.size()) + " webhooks"));
          else if (verdicts[i] == error_code::unsupported)
            deliver_one(self, std::move(evs[i]));
          else
            settle(self, std::move(evs[i]), verdicts[i]);
        }
        dispatch(self);
      },
      [self, held](caf::error& err) {
        for (auto& ev : *held)
          settle(self, std::move(ev), err);
        dispatch(self);
      });
}

/// Delivers an event that may have been delivered before (a retry, or an
/// entry recovered after a crash) only if its history does not say so.
void deliver_checked(webhook_processor_pointer self, webhook_event ev) {
  auto& st = self->state;
  request_watched(self, self->state.store_deadlines, store_timeout, st.store,
                  hgetall_atom_v, keys::event(ev.id))
    .then(
      [self, ev](store::field_list& history) mutable {
        if (!event_history::finished(history)) {
          ++ev.attempts;
          return deliver_one(self, std::move(ev));
        }
        auto& st = self->state;
        st.deliveries.finished();
        probe_settled(self, ev);
        st.awaiting.erase(ev.id);
        st.deliveries.release(ev);
        write_ops ops;
        ack_ops(ops, ev);
        write_durably(self, std::move(ops));
        dispatch(self);
      },
      [self, ev](caf::error& err) mutable {
        // Without the history we cannot tell: try again later.
        self->state.deliveries.finished();
        log_warning("webhook_processor",
                    "cannot check " + ev.id + ": " + error_text(err));
        self->delayed_send(self, std::chrono::seconds{1}, wh_retry_atom_v,
                           std::move(ev));
      });
}

void dispatch(webhook_processor_pointer self) {
  auto& st = self->state;
  webhook_events fresh;
  while (auto ev = st.deliveries.next()) {
    if (ev->attempts > 0)
      deliver_checked(self, std::move(*ev));
    else
      fresh.push_back(std::move(*ev));
  }
  if (!fresh.empty())
    deliver(self, std::move(fresh));
}

/// Takes queue entries into memory; `maybe_seen` marks entries that may have
/// been delivered before (recovered or claimed): they are checked first.
void take(webhook_processor_pointer self, stream_entries& entries,
          bool maybe_seen) {
  auto& st = self->state;
  for (auto& e : entries) {
    auto ev = webhook_from_entry(std::move(e));
    if (!ev) {
      log_error("webhook_processor", error_text(ev.error()));
      continue;
    }
    st.deliveries.take(std::move(*ev), maybe_seen);
  }
}

void ensure_groups(webhook_processor_pointer self);

// A poll is three steps, each one store round trip: read the critical
// queue, read the normal queue, and (every claim_idle_s / 2) claim what
// other consumers left idle. One poll at a time.

void poll_failed(webhook_processor_pointer self, const caf::error& err) {
  self->state.polling = false;
  // The group vanished with a Redis that restarted empty: make it again.
  if (err == caf::make_error(error_code::not_found))
    self->state.groups_ready = false;
}

void claim_idle(webhook_processor_pointer self) {
  auto& st = self->state;
  auto now = epoch_ms(self->clock());
  auto claim_ms = int64_t{st.settings.delivery.claim_idle_s} * 1000;
  if (now - st.last_claim_ms < claim_ms / 2)
    return;
  st.last_claim_ms = now;
  for (bool critical : {true, false})
    request_watched(self, self->state.store_deadlines, store_timeout, st.store,
                    xautoclaim_atom_v, keys::queue(critical),
                    std::string{keys::group}, st.settings.node, claim_ms,
                    read_batch)
      .then(
        [self](stream_entries& claimed) {
          if (!claimed.empty())
            log_info("webhook_processor",
                     "claimed " + std::to_string(claimed.size())
                       + " webhooks another consumer left");
          take(self, claimed, true);
          dispatch(self);
        },
        [](caf::error& err) {
          // Tried again at the next claim interval.
          log_warning("webhook_processor",
                      "claiming abandoned webhooks failed: " + error_text(err));
        });
}

/// Reads the normal queue; `more` says the critical read filled its batch.
void read_normal(webhook_processor_pointer self, bool more) {
  auto& st = self->state;
  request_watched(self, self->state.store_deadlines, store_timeout, st.store,
                  xreadgroup_atom_v, std::string{keys::normal_queue},
                  std::string{keys::group}, st.settings.node, read_batch)
    .then(
      [self, more](stream_entries& normal) {
        auto& st = self->state;
        take(self, normal, false);
        dispatch(self);
        st.polling = false;
        if (more || st.poll_again || normal.size() == read_batch)
          return poll(self);
        claim_idle(self);
      },
      [self](caf::error& err) { poll_failed(self, err); });
}

/// Reads new entries (critical first), then claims what other consumers left
/// idle too long.
void poll(webhook_processor_pointer self) {
  auto& st = self->state;
  if (!st.groups_ready) {
    ensure_groups(self);
    return;
  }
  // Outcomes the store refused before go out again.
  st.outcome_writer->flush(self, st.store, store_timeout);
  if (st.polling) {
    st.poll_again = true;
    return;
  }
  if (st.deliveries.held() >= st.settings.max_buffered)
    return;
  st.polling = true;
  st.poll_again = false;
  request_watched(self, self->state.store_deadlines, store_timeout, st.store,
                  xreadgroup_atom_v, std::string{keys::critical_queue},
                  std::string{keys::group}, st.settings.node, read_batch)
    .then(
      [self](stream_entries& critical) {
        take(self, critical, false);
        dispatch(self);
        read_normal(self, critical.size() == read_batch);
      },
      [self](caf::error& err) { poll_failed(self, err); });
}

// Start-up is three steps too: create both consumer groups (idempotent),
// then take back this node's own entries that a crash left pending: they
// were stored and answered 2xx.

void groups_failed(webhook_processor_pointer self, const caf::error& err) {
  self->state.polling = false;
  log_warning("webhook_processor",
              "webhook queues not ready: " + error_text(err));
}

/// Reads back one pending entry of this node.
void read_back(webhook_processor_pointer self, const std::string& stream,
               const std::string& id) {
  request_watched(self, self->state.store_deadlines, store_timeout,
                  self->state.store, xrange_atom_v, stream, id, id, uint64_t{1})
    .then(
      [self](stream_entries& entries) {
        take(self, entries, true);
        dispatch(self);
      },
      [](caf::error& err) {
        // The claim of idle entries picks it up later.
        log_warning("webhook_processor",
                    "reading back a pending webhook "
                    "failed: "
                      + error_text(err));
      });
}

void recover_pending(webhook_processor_pointer self, std::string stream) {
  request_watched(self, self->state.store_deadlines, store_timeout,
                  self->state.store, xpending_atom_v, stream,
                  std::string{keys::group}, uint64_t{0})
    .then(
      [self, stream](pending_entries& pending) {
        for (auto& p : pending)
          if (p.consumer == self->state.settings.node)
            read_back(self, stream, p.id);
      },
      [](caf::error& err) {
        log_warning("webhook_processor",
                    "listing pending webhooks failed (the claim of idle "
                    "entries picks them up): "
                      + error_text(err));
      });
}

/// Creates the group of one queue, the critical one first.
void create_group(webhook_processor_pointer self, bool critical) {
  request_watched(self, self->state.store_deadlines, store_timeout,
                  self->state.store, xgroup_atom_v,
                  std::string{keys::queue(critical)}, std::string{keys::group},
                  std::string{"0"})
    .then(
      [self, critical](bool) {
        if (critical)
          return create_group(self, false);
        for (bool c : {true, false})
          recover_pending(self, keys::queue(c));
        auto& st = self->state;
        st.groups_ready = true;
        st.polling = false;
        poll(self);
      },
      [self](caf::error& err) { groups_failed(self, err); });
}

void ensure_groups(webhook_processor_pointer self) {
  auto& st = self->state;
  if (st.polling)
    return;
  st.polling = true;
  create_group(self, true);
}

// -- dead letters and replay -----------------------------------------------

using dead_promise = caf::typed_response_promise<stream_entries>;

/// Second step of listing: leaves out the dead letters replayed already.
void drop_replayed(webhook_processor_pointer self, dead_promise promise,
                   const std::string& service, stream_entries dead) {
  request_watched(self, self->state.store_deadlines, store_timeout,
                  self->state.store, hgetall_atom_v,
                  std::string{keys::replayed})
    .then(
      [promise, service, dead](store::field_list& replayed) mutable {
        std::set<std::string> done;
        for (auto& kv : replayed)
          done.insert(kv.first);
        stream_entries result;
        for (auto& e : dead)
          if ((service.empty()
               || store::find_field(e.fields, "service") == service)
              && done.count(e.id) == 0)
            result.push_back(std::move(e));
        promise.deliver(std::move(result));
      },
      [promise](caf::error& err) mutable { promise.deliver(err); });
}

/// The dead letters of `service` (all services when empty) not yet
/// replayed, oldest first.
void list_dead(webhook_processor_pointer self, dead_promise promise,
               const std::string& service) {
  request_watched(self, self->state.store_deadlines, store_timeout,
                  self->state.store, xrange_atom_v, std::string{keys::dead},
                  std::string{"-"}, std::string{"+"}, uint64_t{0})
    .then(
      [self, promise, service](stream_entries& dead) mutable {
        drop_replayed(self, promise, service, std::move(dead));
      },
      [promise](caf::error& err) mutable { promise.deliver(err); });
}

/// A replay in progress: who asked for which dead letter, and the answer.
struct replay_request {
  caf::typed_response_promise<std::string> promise;
  std::string dead_id;
  std::string who;
};

/// Last step: the new queue entry, the mapping dead letter -> event, the
/// event's history and the audit record, in one batch.
void replay_enqueue(webhook_processor_pointer self, replay_request r,
                    webhook_event ev) {
  write_ops ops;
  ops.push_back(store::write_op::make_xadd(keys::queue(ev.critical),
                                           to_fields(ev), queue_trim(self)));
  ops.push_back(store::write_op::make_hset(std::string{keys::replayed},
                                           {{r.dead_id, ev.id}}));
  ops.push_back(
    store::write_op::make_hset(keys::event(ev.id), event_history::replayed()));
  ops.push_back(replay_audit(self, r.dead_id, ev.id, r.who));
  self->request(self->state.store, store_timeout, write_atom_v, std::move(ops))
    .then(
      [self, r, id = ev.id](write_results& rs) mutable {
        for (auto& x : rs)
          if (x.error) {
            r.promise.deliver(x.error);
            return;
          }
        poll(self);
        r.promise.deliver(id);
      },
      [r](caf::error& err) mutable { r.promise.deliver(err); });
}

/// Second step: the claim on the dead letter (SET NX), so that it is
/// replayed once however many operators ask.
void replay_claim(webhook_processor_pointer self, replay_request r,
                  webhook_event ev) {
  write_ops claim{store::write_op::make_set_nx(
    std::string{keys::replayed} + ":" + r.dead_id, ev.id)};
  request_watched(self, self->state.store_deadlines, store_timeout,
                  self->state.store, write_atom_v, std::move(claim))
    .then(
      [self, r, ev](write_results& rs) mutable {
        if (rs.size() != 1) {
          r.promise.deliver(caf::make_error(error_code::store_error,
                                            "the store answered "
                                              + std::to_string(rs.size())
                                              + " results to one claim"));
          return;
        }
        if (rs.front().error) {
          r.promise.deliver(rs.front().error);
          return;
        }
        if (rs.front().integer == 0) {
          r.promise.deliver(caf::make_error(error_code::conflict,
                                            "dead letter " + r.dead_id
                                              + " was replayed already"));
          return;
        }
        replay_enqueue(self, std::move(r), std::move(ev));
      },
      [r](caf::error& err) mutable { r.promise.deliver(err); });
}

/// First step: the dead letter itself.
void replay_find(webhook_processor_pointer self, replay_request r) {
  request_watched(self, self->state.store_deadlines, store_timeout,
                  self->state.store, xrange_atom_v, std::string{keys::dead},
                  r.dead_id, r.dead_id, uint64_t{1})
    .then(
      [self, r](stream_entries& found) mutable {
        if (found.empty() || found.front().id != r.dead_id) {
          r.promise.deliver(caf::make_error(error_code::not_found,
                                            "no dead letter " + r.dead_id));
          return;
        }
        auto ev = webhook_from_entry(found.front());
        if (!ev) {
          r.promise.deliver(ev.error());
          return;
        }
        ev->attempts = 0;
        replay_claim(self, std::move(r), std::move(*ev));
      },
      [r](caf::error& err) mutable { r.promise.deliver(err); });
}

/// Counts a request's events and queues them for the next claim batch.
void queue_accept(webhook_processor_pointer self,
                  webhook_processor_state::waiting_accept w) {
  auto& c = counters_of(self, w.events.front().service);
  ++c.received;
  ++c.verified;
  for (auto& ev : w.events)
    ev.critical = is_critical(self->state.settings, ev);
  self->state.acceptor->push(std::move(w));
  flush_accepts(self);
}

// -- operator views -----------------------------------------------------------

webhook_stats_list make_stats(webhook_processor_pointer self) {
  webhook_stats_list result;
  auto pending = self->state.deliveries.waiting_by_service();
  std::map<std::string, uint64_t> awaiting;
  for (auto& [id, service] : self->state.awaiting)
    ++awaiting[service];
  for (auto& [service, c] : self->state.counters) {
    webhook_stats x;
    x.service = service;
    x.counts = c;
    // Waiting for a consumer is pending too (held, not in the ready queue).
    x.awaiting_consumer = awaiting[service];
    x.pending = pending[service] + x.awaiting_consumer;
    if (c.delivery_us.count() > 0) {
      x.delivery_p50_ms = c.delivery_us.quantile(0.50) / 1000.0;
      x.delivery_p99_ms = c.delivery_us.quantile(0.99) / 1000.0;
    }
    result.push_back(std::move(x));
  }
  return result;
}

} // namespace

webhook_processor_actor::behavior_type
webhook_processor(webhook_processor_pointer self,
                  webhook_processor_settings settings, store_actor store,
                  webhook_subscriber_actor subscriber) {
  auto& st = self->state;
  st.settings = std::move(settings);
  st.store = std::move(store);
  st.deliveries = delivery_queue{st.settings.delivery.max_in_flight};
  st.acceptor.emplace(make_acceptor(self));
  st.outcome_writer.emplace(make_outcome_writer(self));
  st.audit_writer.emplace(make_audit_writer());
  st.acceptor->watch_with(st.store_deadlines);
  st.outcome_writer->watch_with(st.store_deadlines);
  st.audit_writer->watch_with(st.store_deadlines);
  st.subscriber = std::move(subscriber);
  self->send(self, wh_poll_atom_v);
  return {
    [=](wh_accept_atom,
        webhook_events& events) -> caf::result<accept_outcomes> {
      if (events.empty())
        return accept_outcomes{};
      auto promise = self->make_response_promise<accept_outcomes>();
      queue_accept(self, {std::move(events), promise, {}});
      return promise;
    },
    [=](wh_accept_atom, webhook_events& events, accept_reply& reply) {
      if (events.empty())
        return reply.deliver(accept_outcomes{});
      queue_accept(self, {std::move(events), {}, std::move(reply)});
    },
    [=](wh_reject_atom, const std::string& service, webhook_rejection reason,
        const std::string& detail, const std::string& remote) {
      reject(self, service, reason, detail, remote);
    },
    [=](wh_poll_atom) {
      self->state.store_deadlines.expire(self);
      poll(self);
      self->delayed_send(self, self->state.settings.poll_interval,
                         wh_poll_atom_v);
    },
    [=](wh_retry_atom, webhook_event& ev) {
      if (auto p = self->state.probe.find(ev.service);
          p != self->state.probe.end() && p->second == ev.id)
        expire_parked(self, ev.service);
      self->state.deliveries.requeue(std::move(ev));
      dispatch(self);
    },
    [=](wh_stats_atom) { return make_stats(self); },
    [=](wh_dead_atom,
        const std::string& service) -> caf::result<stream_entries> {
      auto promise = self->make_response_promise<stream_entries>();
      list_dead(self, promise, service);
      return promise;
    },
    [=](wh_replay_atom, const std::string& dead_id,
        const std::string& who) -> caf::result<std::string> {
      auto promise = self->make_response_promise<std::string>();
      replay_find(self, {promise, dead_id, who});
      return promise;
    },
    [=](ping_atom) { return true; },
  };
}

namespace {

/// One JSON line per delivery on stdout, for operators and tests to follow;
/// ids and types only, never the payload.
void print_delivery(const webhook_event& ev, const std::string& node) {
  boost::json::object line{{"webhook", ev.id},       {"service", ev.service},
                           {"type", ev.type},        {"critical", ev.critical},
                           {"attempt", ev.attempts}, {"node", node}};
  auto text = boost::json::serialize(line) + "\n";
  std::fwrite(text.data(), 1, text.size(), stdout);
}

} // namespace

webhook_subscriber_actor::behavior_type
log_subscriber(webhook_subscriber_actor::pointer self, std::string node) {
  // One flush per burst, not per line: a flush is a write(2), and under
  // load most of them would wake a reader for a single line.
  auto flush_if_idle = [self] {
    if (self->mailbox().empty())
      std::fflush(stdout);
  };
  return {
    [node, flush_if_idle](deliver_atom, const webhook_event& ev) {
      print_delivery(ev, node);
      flush_if_idle();
      return true;
    },
    [node, flush_if_idle](deliver_atom, const webhook_events& evs) {
      for (auto& ev : evs)
        print_delivery(ev, node);
      flush_if_idle();
      return delivery_verdicts(evs.size());
    },
  };
}

} // namespace streamb
