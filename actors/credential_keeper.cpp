#include "actors/credential_keeper.hpp"
#include "runtime/core/actor_wall_clock.hpp"
#include "runtime/core/error_text.hpp"

#include "runtime/auth/key_admin.hpp"
#include "runtime/core/audit.hpp"
#include "runtime/core/log.hpp"
#include "runtime/core/wall_time.hpp"

#include <caf/typed_response_promise.hpp>

#include <chrono>

namespace streamb {

namespace {

using namespace auth;

constexpr auto store_timeout = std::chrono::seconds{5};

using state_type = credential_keeper_state;

audit_record audit_of(credential_keeper_pointer self, std::string who,
                      std::string action, std::string subject,
                      std::string outcome, std::string detail) {
  auto& st = self->state;
  audit_record x;
  x.at_ms = epoch_ms(self->clock());
  x.node = st.settings.node;
  x.who = std::move(who);
  x.action = std::move(action);
  x.subject = std::move(subject);
  x.outcome = std::move(outcome);
  x.detail = std::move(detail);
  return x;
}

/// Builds and publishes the credential set of the current config and
/// records. Secrets that do not open (no or another STREAMB_SECRET_KEY) are
/// left out and logged once.
void publish(credential_keeper_pointer self) {
  auto& st = self->state;
  std::map<std::string, std::vector<std::string>> opened;
  for (auto& x : st.secrets) {
    if (x.retired_ms != 0)
      continue;
    std::optional<std::string> plain;
    if (st.box)
      plain = st.box->open(x.sealed, secret_aad(x));
    if (plain) {
      opened[x.service].push_back(std::move(*plain));
    } else if (st.unopened.insert(x.id).second) {
      log_warning("credentials",
                  "managed webhook secret " + x.id + " of " + x.service
                    + " is not used: "
                    + (st.box ? std::string{"it does not open with this "
                                            "node's STREAMB_SECRET_KEY"}
                              : st.box_error));
    }
  }
  st.registry->publish(std::make_shared<const credential_set>(
    *st.cfg, st.keys, std::move(opened), st.fresh_until, st.loaded));
}

void mark_fresh(credential_keeper_pointer self) {
  auto& st = self->state;
  st.fresh_until->store(epoch_ms(self->clock()) + st.settings.stale_after_ms);
}

/// Reads the keys, the revocations and the secrets (one batch of reads
/// would need a read op per hash; three requests keep the store interface as
/// it is) and publishes them; `done` gets the error if the store failed.
template <class Done>
void load(credential_keeper_pointer self, std::string version, Done done) {
  auto store = self->state.store;
  auto on_error = [=](caf::error& err) mutable { done(err); };
  self->request(store, store_timeout, hgetall_atom_v, std::string{keys_hash})
    .then(
      [=](store::field_list& key_fields) mutable {
        self
          ->request(store, store_timeout, hgetall_atom_v,
                    std::string{revoked_hash})
          .then(
            [=](store::field_list& revoked) mutable {
              self
                ->request(store, store_timeout, hgetall_atom_v,
                          std::string{secrets_hash})
                .then(
                  [=](store::field_list& secret_fields) mutable {
                    auto& st = self->state;
                    std::size_t bad = 0;
                    st.keys = decode_keys(key_fields, &bad);
                    apply_revocations(st.keys, revoked);
                    st.secrets = decode_secrets(secret_fields, &bad);
                    if (bad > 0)
                      log_warning("credentials",
                                  std::to_string(bad)
                                    + " unreadable credential records "
                                      "ignored");
                    st.version = std::move(version);
                    st.loaded = true;
                    // Fresh only once what the version announced is read.
                    mark_fresh(self);
                    publish(self);
                    done(caf::error{});
                  },
                  on_error);
            },
            on_error);
      },
      on_error);
}

void arm_poll(credential_keeper_pointer self) {
  self->delayed_send(self,
                     std::chrono::milliseconds{self->state.settings.poll_ms},
                     auth_poll_atom_v);
}

/// Writes `ops` (a record's change plus its audit record); once the store
/// took them, `apply` puts the record into this node's state, which is
/// published at once, and the caller gets `value`. Other nodes apply it at
/// their next poll.
template <class T, class Apply>
caf::result<T> write_then_reply(credential_keeper_pointer self, write_ops ops,
                                T value, Apply apply) {
  auto promise = self->make_response_promise<T>();
  self->request(self->state.store, store_timeout, write_atom_v, std::move(ops))
    .then(
      [=](write_results& rs) mutable {
        for (auto& r : rs)
          if (r.error) {
            promise.deliver(r.error);
            return;
          }
        apply(self->state);
        publish(self);
        promise.deliver(value);
      },
      [=](caf::error& err) mutable { promise.deliver(err); });
  return promise;
}

/// Replaces the record with `x`'s id in `xs`, or appends `x`.
template <class Record>
void upsert(std::vector<Record>& xs, const Record& x) {
  for (auto& y : xs)
    if (y.id == x.id) {
      y = x;
      return;
    }
  xs.push_back(x);
}

void flush(credential_keeper_pointer self,
           caf::typed_response_promise<bool>* rp) {
  auto& st = self->state;
  auto activity = st.registry->take_activity();
  write_ops ops;
  if (!activity.last_used.empty()) {
    store::field_list fields;
    for (auto& [id, at] : activity.last_used) {
      fields.emplace_back(id, std::to_string(at));
      st.last_used[id] = std::max(st.last_used[id], at);
    }
    ops.push_back(
      store::write_op::make_hset(last_used_hash, std::move(fields)));
  }
  // One record per (key, reason) and interval: a flood of bad keys makes
  // at most max_refusal_kinds records.
  for (auto& [kind, n] : activity.refused) {
    auto x = audit_of(self, "key " + kind.first, "auth.refused", kind.first,
                      kind.second,
                      std::to_string(n.count) + " request(s) refused in "
                        + std::to_string(st.settings.flush_ms / 1000)
                        + " s, first from " + n.first_remote);
    ops.push_back(audit_write(x, st.settings.audit_retention_ms));
  }
  if (ops.empty()) {
    if (rp)
      rp->deliver(true);
    return;
  }
  auto promise = rp ? std::optional<caf::typed_response_promise<bool>>{*rp}
                    : std::nullopt;
  self->request(st.store, store_timeout, write_atom_v, std::move(ops))
    .then(
      [=](write_results&) mutable {
        if (promise)
          promise->deliver(true);
      },
      [=](caf::error& err) mutable {
        log_warning("credentials",
                    "key activity not stored: " + error_text(err));
        if (promise)
          promise->deliver(false);
      });
}

} // namespace

std::shared_ptr<credential_registry>
make_credential_registry(const config& cfg) {
  return std::make_shared<credential_registry>(
    std::make_shared<const credential_set>(
      cfg, std::vector<key_record>{},
      std::map<std::string, std::vector<std::string>>{}, nullptr, false));
}

credential_keeper_actor::behavior_type
credential_keeper(credential_keeper_pointer self, config_ptr cfg,
                  credential_keeper_settings settings, store_actor store,
                  std::shared_ptr<credential_registry> registry) {
  auto& st = self->state;
  st.cfg = std::move(cfg);
  st.settings = settings;
  st.store = std::move(store);
  st.registry = std::move(registry);
  // Fresh for the first interval: the first load follows at once.
  st.fresh_until = std::make_shared<std::atomic<int64_t>>(
    epoch_ms(self->clock()) + settings.stale_after_ms);
  st.box = secret_box::from_environment(st.box_error);
  if (!st.box)
    log_info("credentials", st.box_error);
  publish(self);
  self->send(self, auth_poll_atom_v);
  self->delayed_send(self, std::chrono::milliseconds{settings.flush_ms},
                     auth_flush_atom_v);
  auto now = [self] { return epoch_ms(self->clock()); };
  auto retention = settings.audit_retention_ms;
  return {
    [=](key_new_atom, const key_request& req) -> caf::result<key_created> {
      auto& st = self->state;
      auto made = create_key(st.keys, req.name, req.r, req.expires_in_s,
                             req.who, now());
      if (!made)
        return made.error();
      auto ops = write_key(made->record);
      ops.push_back(audit_write(
        audit_of(self, req.who, "key.create", made->record.id, "ok",
                 "key '" + req.name + "' role " + std::string{to_string(req.r)}
                   + (req.expires_in_s > 0 ? ", expires in "
                          + std::to_string(req.expires_in_s) + " s"
                                           : std::string{})),
        retention));
      auto record = made->record;
      return write_then_reply(
        self, std::move(ops), key_created{made->record, made->key},
        [record](state_type& st) { upsert(st.keys, record); });
    },
    [=](key_list_atom) -> caf::result<std::vector<key_view>> {
      auto promise = self->make_response_promise<std::vector<key_view>>();
      self
        ->request(self->state.store, store_timeout, hgetall_atom_v,
                  std::string{last_used_hash})
        .then(
          [=](store::field_list& fields) mutable {
            auto& st = self->state;
            auto used = st.registry->peek_last_used();
            std::vector<key_view> out;
            for (auto& t : st.cfg->auth.tokens) {
              key_view v;
              v.record.id = "config:" + t.name;
              v.record.name = t.name;
              v.record.r = parse_role(t.role).value_or(role::viewer);
              v.from_config = true;
              out.push_back(std::move(v));
            }
            for (auto& k : st.keys) {
              key_view v;
              v.record = k;
              v.record.hash.clear();
              v.record.previous_hash.clear();
              out.push_back(std::move(v));
            }
            for (auto& v : out) {
              int64_t at = 0;
              for (auto& [id, text] : fields)
                if (id == v.record.id)
                  at = std::atoll(text.c_str());
              if (auto i = used.find(v.record.id); i != used.end())
                at = std::max(at, i->second);
              if (auto i = st.last_used.find(v.record.id);
                  i != st.last_used.end())
                at = std::max(at, i->second);
              v.last_used_ms = at;
            }
            promise.deliver(std::move(out));
          },
          [=](caf::error& err) mutable { promise.deliver(err); });
      return promise;
    },
    [=](key_rotate_atom, const std::string& id, int64_t overlap_s,
        const std::string& who) -> caf::result<key_created> {
      auto& st = self->state;
      auto made = rotate_key(st.keys, id, overlap_s, now());
      if (!made)
        return made.error();
      auto ops = write_key(made->record);
      ops.push_back(
        audit_write(audit_of(self, who, "key.rotate", id, "ok",
                             "key '" + made->record.name + "', old key valid "
                               + std::to_string(overlap_s) + " s more"),
                    retention));
      auto record = made->record;
      return write_then_reply(
        self, std::move(ops), key_created{made->record, made->key},
        [record](state_type& st) { upsert(st.keys, record); });
    },
    [=](key_revoke_atom, const std::string& id,
        const std::string& who) -> caf::result<key_record> {
      auto& st = self->state;
      auto revoked = revoke_key(st.keys, id, now());
      if (!revoked)
        return revoked.error();
      auto ops = write_key(*revoked);
      ops.push_back(
        audit_write(audit_of(self, who, "key.revoke", id, "ok",
                             "key '" + revoked->name + "' role "
                               + std::string{to_string(revoked->r)}),
                    retention));
      auto record = *revoked;
      return write_then_reply(self, std::move(ops), record,
                              [record](state_type& st) {
                                upsert(st.keys, record);
                              });
    },
    [=](secret_add_atom, const std::string& service, const std::string& secret,
        const std::string& who) -> caf::result<secret_record> {
      auto& st = self->state;
      auto svc = st.cfg->find_service(service);
      if (svc == nullptr)
        return caf::make_error(error_code::unknown_service,
                               "no service '" + service + "' in the config");
      if (!svc->webhook)
        return caf::make_error(error_code::not_found,
                               "webhooks are not configured for service '"
                                 + service + "'");
      if (!st.box)
        return caf::make_error(error_code::unavailable, st.box_error);
      auto made = add_secret(st.secrets, *st.box, service, secret, who, now());
      if (!made)
        return made.error();
      auto ops = write_secret(*made);
      ops.push_back(
        audit_write(audit_of(self, who, "webhook_secret.add", made->id, "ok",
                             "managed webhook secret for " + service),
                    retention));
      auto record = *made;
      auto shown = record;
      shown.sealed.clear();
      return write_then_reply(self, std::move(ops), shown,
                              [record](state_type& st) {
                                upsert(st.secrets, record);
                              });
    },
    [=](secrets_atom,
        const std::string& service) -> caf::result<std::vector<secret_record>> {
      auto& st = self->state;
      if (st.cfg->find_service(service) == nullptr)
        return caf::make_error(error_code::unknown_service,
                               "no service '" + service + "' in the config");
      std::vector<secret_record> out;
      for (auto x : st.secrets)
        if (x.service == service) {
          x.sealed.clear();
          out.push_back(std::move(x));
        }
      return out;
    },
    [=](retire_atom, const std::string& service, const std::string& id,
        const std::string& who) -> caf::result<secret_record> {
      auto& st = self->state;
      auto retired = retire_secret(st.secrets, service, id, now());
      if (!retired)
        return retired.error();
      auto ops = write_secret(*retired);
      ops.push_back(
        audit_write(audit_of(self, who, "webhook_secret.retire", id, "ok",
                             "managed webhook secret for " + service),
                    retention));
      auto record = *retired;
      auto shown = record;
      shown.sealed.clear();
      return write_then_reply(self, std::move(ops), shown,
                              [record](state_type& st) {
                                upsert(st.secrets, record);
                              });
    },
    [=](reload_atom, config_ptr next, const std::string& who) -> bool {
      auto& st = self->state;
      st.cfg = std::move(next);
      publish(self);
      log_info("credentials", "credentials reloaded by " + who);
      return true;
    },
    [=](auth_poll_atom) {
      auto& st = self->state;
      if (st.polling) {
        arm_poll(self);
        return;
      }
      st.polling = true;
      self
        ->request(st.store, store_timeout, kv_get_atom_v,
                  std::string{version_key})
        .then(
          [=](bool found, const std::string& value) {
            auto& st = self->state;
            // A store where no credential was ever managed has no counter.
            auto version = found ? value : std::string{"0"};
            if (version == st.version) {
              mark_fresh(self);
              st.polling = false;
              arm_poll(self);
              return;
            }
            load(self, version, [=](const caf::error& err) {
              if (err)
                log_warning("credentials",
                            "credentials not loaded: " + error_text(err));
              self->state.polling = false;
              arm_poll(self);
            });
          },
          [=](caf::error&) {
            // Counted by staleness: managed keys stop working after
            // stale_after_ms without an answer.
            self->state.polling = false;
            arm_poll(self);
          });
    },
    [=](auth_flush_atom) {
      flush(self, nullptr);
      self->delayed_send(
        self, std::chrono::milliseconds{self->state.settings.flush_ms},
        auth_flush_atom_v);
    },
    [=](flush_atom) -> caf::result<bool> {
      auto promise = self->make_response_promise<bool>();
      flush(self, &promise);
      return promise;
    },
    [=](ping_atom) { return true; },
  };
}

} // namespace streamb
