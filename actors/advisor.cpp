#include "actors/advisor.hpp"
#include "runtime/core/actor_wall_clock.hpp"
#include "runtime/core/error_text.hpp"

#include "runtime/advice/limit_change_json.hpp"
#include "runtime/core/audit.hpp"
#include "runtime/core/log.hpp"
#include "runtime/core/wall_time.hpp"

#include <boost/json/serialize.hpp>

#include <caf/typed_response_promise.hpp>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <memory>

namespace streamb {

namespace {

constexpr auto ask_timeout = std::chrono::seconds{5};
const std::string changes_key = "advisor:changes";

using done_fn = std::function<void(caf::expected<recommendations>)>;

/// The answers collected for one round of advice.
struct gathering {
  std::vector<advisor_inputs> inputs;
  std::size_t missing = 0;
  caf::error failure;
  advisor_thresholds thresholds;
  done_fn done;

  void done_one() {
    if (--missing > 0)
      return;
    if (failure) {
      done(failure);
      return;
    }
    recommendations all;
    for (auto& in : inputs) {
      auto xs = recommend(in, thresholds);
      all.insert(all.end(), xs.begin(), xs.end());
    }
    done(std::move(all));
  }
};

void gather(advisor_pointer self, done_fn done) {
  auto& st = self->state;
  if (st.services.empty()) {
    done(recommendations{});
    return;
  }
  auto g = std::make_shared<gathering>();
  g->done = std::move(done);
  g->thresholds.headroom = st.settings.advice.headroom;
  g->inputs.resize(st.services.size());
  g->missing = 2 * st.services.size();
  auto days_left = static_cast<double>(
                     ms_until_next_utc_month(epoch_ms(self->clock())))
    / (24.0 * 3600 * 1000);
  for (std::size_t i = 0; i < st.services.size(); ++i) {
    g->inputs[i].days_left = days_left;
    self->request(st.monitors[i], ask_timeout, profile_atom_v)
      .then(
        [g, i](usage_profile& p) {
          g->inputs[i].usage = std::move(p);
          g->done_one();
        },
        [g](caf::error& err) {
          g->failure = err;
          g->done_one();
        });
    self->request(st.budgets[i], ask_timeout, budget_atom_v)
      .then(
        [g, i](budget_status& b) {
          auto& in = g->inputs[i];
          in.sustained_limit = b.sustained_limit;
          in.sustained_window_s = b.sustained_window_s;
          in.daily_limit = b.daily_limit;
          in.reserved_share = b.reserved_share;
          in.budget = std::move(b);
          g->done_one();
        },
        [g](caf::error& err) {
          g->failure = err;
          g->done_one();
        });
  }
}

const budget_controller_actor* budget_of(advisor_pointer self,
                                         const std::string& service) {
  auto& st = self->state;
  for (std::size_t i = 0; i < st.services.size(); ++i)
    if (st.services[i] == service)
      return &st.budgets[i];
  return nullptr;
}

std::string fixed2(double x) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.2f", x);
  return buf;
}

/// The change a set_limit recommendation calls for, judged for applying.
limit_change plan(const recommendation& r, double min_confidence) {
  limit_change c;
  c.service = r.service;
  c.limit = r.limit;
  c.before = r.limit_before;
  c.after = r.limit_value;
  c.confidence = r.confidence;
  c.recommendation_id = r.id;
  c.rationale = r.rationale;
  c.evidence = r.evidence;
  c.evidence.emplace_back("floor", static_cast<double>(r.limit_floor));
  c.status = advice::change_status::planned;
  if (r.limit_value < r.limit_floor) {
    c.status = advice::change_status::skipped;
    c.reason = "below the observed demand floor";
  } else if (r.confidence < min_confidence) {
    c.status = advice::change_status::skipped;
    c.reason = "confidence " + fixed2(r.confidence) + " below "
      + fixed2(min_confidence)
      + " (the observation window is not covered yet, or too few calls)";
  }
  return c;
}

void write_audit(advisor_pointer self, const std::string& who,
                 const std::string& action, const limit_change& c) {
  auto& st = self->state;
  if (!st.store)
    return;
  audit_record x;
  x.at_ms = epoch_ms(self->clock());
  x.node = st.settings.node;
  x.who = who;
  x.action = action;
  x.subject = c.service;
  x.outcome = "ok";
  x.detail = boost::json::serialize(advice::to_json(c));
  // The whole (bounded) list replaces the stored one: the hash never holds
  // more than max_changes.
  store::field_list all;
  for (auto& y : st.changes)
    all.emplace_back(y.id, boost::json::serialize(advice::to_json(y)));
  write_ops ops{audit_write(x, st.settings.audit_retention_ms),
                store::write_op::make_del(changes_key),
                store::write_op::make_hset(changes_key, std::move(all))};
  self->request(st.store, ask_timeout, write_atom_v, std::move(ops))
    .then([](write_results&) {},
          [c](caf::error& err) {
            log_warning("advisor",
                        "cannot store change " + c.id + ": " + error_text(err));
          });
}

void remember(advisor_pointer self, const limit_change& c) {
  auto& st = self->state;
  for (auto& x : st.changes)
    if (x.id == c.id) {
      x = c;
      return;
    }
  st.changes.push_front(c);
  while (st.changes.size() > advisor_state::max_changes)
    st.changes.pop_back();
}

limit_change* find_change(advisor_pointer self, const std::string& id) {
  for (auto& x : self->state.changes)
    if (x.id == id)
      return &x;
  return nullptr;
}

/// Applies the planned changes one by one; answers once all are done.
void apply_all(advisor_pointer self, std::shared_ptr<limit_changes> cs,
               std::size_t i, std::string who,
               caf::typed_response_promise<limit_changes> rp) {
  while (i < cs->size() && (*cs)[i].status != advice::change_status::planned)
    ++i;
  if (i == cs->size()) {
    rp.deliver(std::move(*cs));
    return;
  }
  auto& c = (*cs)[i];
  auto budget = budget_of(self, c.service);
  if (budget == nullptr) {
    c.status = advice::change_status::failed;
    c.reason = "no budget controller for " + c.service;
    apply_all(self, cs, i + 1, std::move(who), rp);
    return;
  }
  self
    ->request(*budget, ask_timeout, set_limit_atom_v, c.limit, c.after,
              "advisor:" + who)
    .then(
      [self, cs, i, who, rp](budget_status&) {
        auto& c = (*cs)[i];
        auto& st = self->state;
        c.status = advice::change_status::applied;
        c.at_ms = epoch_ms(self->clock());
        c.who = who;
        c.id = "chg-" + std::to_string(c.at_ms) + "-"
          + std::to_string(++st.next_change);
        remember(self, c);
        write_audit(self, who, "advisor.apply", c);
        log_info("advisor",
                 "applied " + c.id + ": " + c.service + " limits."
                   + to_string(c.limit) + ".limit " + std::to_string(c.before)
                   + " -> " + std::to_string(c.after));
        apply_all(self, cs, i + 1, who, rp);
      },
      [self, cs, i, who, rp](caf::error& err) {
        auto& c = (*cs)[i];
        c.status = advice::change_status::failed;
        c.reason = error_text(err);
        apply_all(self, cs, i + 1, who, rp);
      });
}

void load_changes(advisor_pointer self) {
  auto& st = self->state;
  if (!st.store)
    return;
  self->request(st.store, ask_timeout, hgetall_atom_v, changes_key)
    .then(
      [self](store::field_list& fields) {
        std::vector<limit_change> loaded;
        for (auto& [id, text] : fields)
          if (auto c = advice::limit_change_from_json(text))
            loaded.push_back(std::move(*c));
        std::sort(loaded.begin(), loaded.end(),
                  [](auto& a, auto& b) { return a.at_ms < b.at_ms; });
        for (auto& c : loaded)
          if (find_change(self, c.id) == nullptr)
            remember(self, c);
      },
      [](caf::error& err) {
        log_warning("advisor",
                    "cannot read earlier limit changes (undo of changes made "
                    "before this start is unavailable): "
                      + error_text(err));
      });
}

} // namespace

advisor_actor::behavior_type
advisor(advisor_pointer self, std::vector<std::string> services,
        std::vector<service_monitor_actor> monitors,
        std::vector<budget_controller_actor> budgets, advisor_settings settings,
        store_actor store) {
  auto& st = self->state;
  st.services = std::move(services);
  st.monitors = std::move(monitors);
  st.budgets = std::move(budgets);
  st.settings = std::move(settings);
  st.store = std::move(store);
  load_changes(self);
  return {
    [=](advise_atom) -> caf::result<recommendations> {
      auto rp = self->make_response_promise<recommendations>();
      gather(self, [self, rp](caf::expected<recommendations> xs) mutable {
        if (!xs) {
          rp.deliver(xs.error());
          return;
        }
        auto found = self->state.findings.list(epoch_ms(self->clock()));
        xs->insert(xs->end(), std::make_move_iterator(found.begin()),
                   std::make_move_iterator(found.end()));
        rp.deliver(std::move(*xs));
      });
      return rp;
    },
    [=](finding_atom, agent_findings& xs) {
      for (auto& x : xs)
        self->state.findings.add(std::move(x));
    },
    [=](optimize_atom,
        const optimize_request& req) -> caf::result<limit_changes> {
      auto rp = self->make_response_promise<limit_changes>();
      // A caller may ask for more confidence, never for less.
      auto min_conf = std::max(req.min_confidence,
                               self->state.settings.advice.min_confidence);
      gather(self,
             [self, rp, req,
              min_conf](caf::expected<recommendations> xs) mutable {
               if (!xs) {
                 rp.deliver(xs.error());
                 return;
               }
               auto cs = std::make_shared<limit_changes>();
               for (auto& r : *xs)
                 if (r.action_type == advice::action_type::set_limit
                     && (req.ids.empty()
                         || std::find(req.ids.begin(), req.ids.end(), r.id)
                           != req.ids.end()))
                   cs->push_back(plan(r, min_conf));
               if (!req.apply) {
                 rp.deliver(std::move(*cs));
                 return;
               }
               apply_all(self, cs, 0, req.who, rp);
             });
      return rp;
    },
    [=](undo_atom, const std::string& id,
        const std::string& who) -> caf::result<limit_change> {
      auto c = find_change(self, id);
      if (c == nullptr)
        return caf::make_error(error_code::not_found, "no limit change " + id);
      if (c->status != advice::change_status::applied)
        return caf::make_error(error_code::conflict,
                               "change " + id + " is " + to_string(c->status));
      auto budget = budget_of(self, c->service);
      if (budget == nullptr)
        return caf::make_error(error_code::unknown_service,
                               "no service " + c->service);
      auto rp = self->make_response_promise<limit_change>();
      auto change = *c;
      // Undo only what is still in place: a limit changed since (by a
      // reload or another change) is the operator's newer decision.
      self->request(*budget, ask_timeout, budget_atom_v)
        .then(
          [self, rp, change, who, budget = *budget](budget_status& s) mutable {
            auto now = change.limit == budget::limit_tier::sustained
              ? s.sustained_limit
              : s.daily_limit;
            if (now != change.after) {
              rp.deliver(caf::make_error(
                error_code::conflict,
                std::string{"limits."} + to_string(change.limit) + ".limit of "
                  + change.service + " is " + std::to_string(now) + " now, not "
                  + std::to_string(change.after)
                  + " as the change left it: not undone"));
              return;
            }
            self
              ->request(budget, ask_timeout, set_limit_atom_v, change.limit,
                        change.before, "advisor-undo:" + who)
              .then(
                [self, rp, change, who](budget_status&) mutable {
                  change.status = advice::change_status::undone;
                  change.reason = "undone by " + who;
                  remember(self, change);
                  write_audit(self, who, "advisor.undo", change);
                  log_info("advisor", "undid " + change.id);
                  rp.deliver(change);
                },
                [rp](caf::error& err) mutable { rp.deliver(err); });
          },
          [rp](caf::error& err) mutable { rp.deliver(err); });
      return rp;
    },
    [=](changes_atom) {
      auto& st = self->state;
      return limit_changes(st.changes.begin(), st.changes.end());
    },
  };
}

} // namespace streamb
