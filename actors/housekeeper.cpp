#include "actors/housekeeper.hpp"

#include "runtime/core/actor_wall_clock.hpp"
#include "runtime/core/crypto.hpp"
#include "runtime/core/error_text.hpp"
#include "runtime/core/log.hpp"

#include <caf/exit_reason.hpp>
#include <caf/send.hpp>
#include <caf/typed_response_promise.hpp>

#include <algorithm>
#include <memory>

namespace streamb {

namespace {

constexpr auto ask_timeout = std::chrono::seconds{5};

int64_t now_ms(housekeeper_pointer self) {
  return epoch_ms(self->clock());
}

/// Trims every retained stream; the sweep counts once all have answered.
void sweep(housekeeper_pointer self) {
  auto& st = self->state;
  auto now = now_ms(self);
  st.next_sweep_ms = now + st.settings.sweep_interval.count();
  if (st.settings.streams.empty())
    return;
  struct round {
    std::size_t missing = 0;
    uint64_t removed = 0;
    std::string error;
  };
  auto r = std::make_shared<round>();
  r->missing = st.settings.streams.size();
  auto finish = [self, r, now] {
    if (--r->missing > 0)
      return;
    auto& st = self->state;
    st.last_sweep_ms = now;
    st.last_removed = r->removed;
    st.last_error = r->error;
    ++st.sweeps;
    if (r->removed > 0)
      log_info("housekeeper",
               "retention sweep removed " + std::to_string(r->removed)
                 + " entries");
  };
  for (auto& s : st.settings.streams) {
    store::stream_trim trim;
    trim.min_id = std::to_string(std::max<int64_t>(now - s.max_age_ms, 0));
    self->request(st.store, ask_timeout, xtrim_atom_v, s.stream, trim)
      .then(
        [r, finish](uint64_t n) {
          r->removed += n;
          finish();
        },
        [r, finish, name = s.stream](caf::error& err) {
          r->error = "cannot trim " + name + ": " + error_text(err);
          log_warning("housekeeper", r->error);
          finish();
        });
  }
}

/// One try for the lease (or one renewal), then the jobs if it is ours.
void tick(housekeeper_pointer self) {
  auto& st = self->state;
  if (st.asking)
    return;
  st.asking = true;
  auto asked = now_ms(self);
  auto& key = st.settings.lease_key;
  auto& l = *st.lease;
  auto done = [self, asked](bool ok) {
    auto& st = self->state;
    st.asking = false;
    bool had = st.lease->held(asked);
    st.lease->answered(ok, asked);
    auto now = now_ms(self);
    bool has = st.lease->held(now);
    if (has && !had) {
      log_info("housekeeper",
               "node '" + st.settings.node + "' holds the housekeeping lease");
      // A new holder sweeps at once: the old one may have died before its
      // next round.
      st.next_sweep_ms = now;
    } else if (had && !ok) {
      log_warning("housekeeper",
                  "node '" + st.settings.node
                    + "' lost the housekeeping lease");
    }
    if (has && now >= st.next_sweep_ms)
      sweep(self);
  };
  auto failed = [self](caf::error& err) {
    auto& st = self->state;
    st.asking = false;
    // No answer (store unreachable, timeout): the key may still be ours, so
    // the next tick renews; held() stops the jobs near the last confirmed
    // expiry.
    st.last_error = "lease: " + error_text(err);
  };
  if (l.next() == cluster::lease::step::acquire)
    self
      ->request(st.store, ask_timeout, kv_setnx_atom_v, key, l.token(),
                l.ttl_ms())
      .then(done, failed);
  else
    self
      ->request(st.store, ask_timeout, kv_expif_atom_v, key, l.token(),
                l.ttl_ms())
      .then(done, failed);
}

std::string ago(int64_t now, int64_t then) {
  return std::to_string(std::max<int64_t>(now - then, 0) / 1000) + " s ago";
}

} // namespace

std::string lease_token(const std::string& node) {
  static const char* digits = "0123456789abcdef";
  std::string hex;
  for (unsigned char c : random_bytes(8)) {
    hex += digits[c >> 4];
    hex += digits[c & 15];
  }
  return node + " " + hex;
}

housekeeper_actor::behavior_type housekeeper(housekeeper_pointer self,
                                             housekeeper_settings settings,
                                             std::string token,
                                             store_actor store) {
  auto& st = self->state;
  st.lease.emplace(std::move(token), settings.lease_ttl_ms);
  st.settings = std::move(settings);
  st.store = std::move(store);
  // A clean stop gives the lease back, so another node need not wait out
  // its TTL (best effort: the store may be stopping too).
  self->set_exit_handler([self](caf::exit_msg& msg) {
    auto& st = self->state;
    if (st.lease->next() == cluster::lease::step::renew)
      caf::anon_send(st.store, kv_expif_atom_v, st.settings.lease_key,
                     st.lease->token(), int64_t{0});
    self->quit(msg.reason);
  });
  self->send(self, hk_tick_atom_v);
  return {
    [=](ping_atom) { return true; },
    [=](hk_tick_atom) {
      tick(self);
      self->delayed_send(self, self->state.settings.renew_interval,
                         hk_tick_atom_v);
    },
    [=](lease_atom) -> caf::result<bool, std::string> {
      auto& st = self->state;
      auto now = now_ms(self);
      if (st.lease->held(now)) {
        std::string line = "this node holds the lease (singleton jobs run "
                           "here); ";
        line += st.sweeps == 0
          ? std::string{"no retention sweep yet"}
          : "last retention sweep " + ago(now, st.last_sweep_ms) + " removed "
            + std::to_string(st.last_removed) + " entries";
        if (!st.last_error.empty())
          line += "; " + st.last_error;
        return {true, std::move(line)};
      }
      auto rp = self->make_response_promise<bool, std::string>();
      self->request(st.store, ask_timeout, kv_get_atom_v, st.settings.lease_key)
        .then(
          [rp](bool found, const std::string& value) mutable {
            auto holder = value.substr(0, value.find(' '));
            rp.deliver(false,
                       found ? "node " + holder + " holds the lease"
                             : std::string{"no node holds the lease"});
          },
          [rp](caf::error& err) mutable {
            rp.deliver(false, "lease holder unknown: " + error_text(err));
          });
      return rp;
    },
  };
}

} // namespace streamb
