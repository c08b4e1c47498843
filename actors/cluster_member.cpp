#include "actors/cluster_member.hpp"

#include "actors/actor_port.hpp"

#include "runtime/core/error_text.hpp"
#include "runtime/core/log.hpp"
#include "runtime/core/wall_time.hpp"

#include <caf/actor_system.hpp>
#include <caf/io/middleman.hpp>
#include <caf/send.hpp>

#include <chrono>
#include <map>
#include <optional>
#include <set>

namespace streamb {

namespace {

using std::chrono::milliseconds;

// -- the link to one peer (detached: connecting blocks) ----------------------

struct link_state {
  cluster_node_config peer;
  std::string self;
  std::string secret;
  caf::actor member;
  milliseconds heartbeat{500};
  bool tls = false;
  /// One connection per pair of nodes: the node whose name sorts first
  /// connects and hands over its own gateway; the other waits for it. (Two
  /// TLS connections between the same two nodes made CAF 0.17 drop one
  /// and the peer flapped up and down every second.)
  bool connects = true;
  caf::strong_actor_ptr own_gateway;
  coordination_gateway_actor gateway;
  bool asking = false;
};

void report(const link_state& st, bool alive, cluster_directory dir,
            std::string why) {
  caf::anon_send(st.member, peer_atom_v, st.peer.name, alive, std::move(dir),
                 std::move(why));
}

caf::behavior peer_link(caf::event_based_actor* self,
                        std::shared_ptr<link_state> st) {
  self->set_down_handler([self, st](caf::down_msg& dm) {
    if (st->gateway && dm.source == st->gateway.address()) {
      st->gateway = nullptr;
      report(*st, false, {}, "connection lost");
    }
  });
  self->set_exit_handler([self](caf::exit_msg& x) { self->quit(x.reason); });
  self->send(self, cl_tick_atom_v);
  return {
    // The peer connected to this node and gave its gateway.
    [self, st](peer_atom, caf::strong_actor_ptr& gateway) {
      if (st->connects || st->gateway || !gateway)
        return;
      st->gateway = caf::actor_cast<coordination_gateway_actor>(gateway);
      self->monitor(st->gateway);
    },
    [self, st](cl_tick_atom) {
      self->delayed_send(self, st->heartbeat, cl_tick_atom_v);
      if (st->asking)
        return; // the last heartbeat is still out: its timeout reports
      if (!st->gateway && !st->connects) {
        report(*st, false, {}, "waiting for it to connect");
        return;
      }
      if (!st->gateway) {
        auto gw = connect_gateway(self->system(), st->peer.host,
                                  st->peer.actor_port, st->tls);
        if (!gw) {
          report(*st, false, {}, error_text(gw.error()));
          return;
        }
        st->gateway = std::move(*gw);
        self->monitor(st->gateway);
      }
      st->asking = true;
      auto timeout = std::max(st->heartbeat * 2, milliseconds{1000});
      self
        ->request(st->gateway, timeout, cluster_atom_v, st->self, st->secret,
                  st->own_gateway)
        .then(
          [st](cluster_directory& dir) {
            st->asking = false;
            report(*st, true, std::move(dir), {});
          },
          [st](caf::error& err) {
            st->asking = false;
            report(*st, false, {}, error_text(err));
          });
    },
  };
}

// -- the member
// ----------------------------------------------------------------

struct member_state {
  cluster_member_settings cfg;
  std::vector<cluster::peer_view> peers;
  std::map<std::string, cluster_directory> directories;
  std::vector<std::optional<local_service>> local;
  std::vector<caf::strong_actor_ptr> monitor_targets;
  /// By peer name.
  std::map<std::string, caf::actor> links;
  /// Peers seen up at least once, and those whose events were handed to the
  /// hub to take over during their current outage.
  std::set<std::string> seen;
  std::set<std::string> adopted;
};

std::string join(const std::vector<std::string>& xs) {
  std::string out;
  for (auto& x : xs)
    out += (out.empty() ? "" : ", ") + x;
  return out;
}

/// `dir`'s actors for `service`, if it lists the service.
std::optional<std::pair<caf::strong_actor_ptr, caf::strong_actor_ptr>>
actors_in(const cluster_directory& dir, const std::string& service) {
  for (std::size_t i = 0; i < dir.services.size(); ++i)
    if (dir.services[i] == service && i < dir.monitors.size()
        && i < dir.budgets.size() && dir.monitors[i] && dir.budgets[i])
      return std::make_pair(dir.monitors[i], dir.budgets[i]);
  return std::nullopt;
}

void stop_local(caf::event_based_actor* self, local_service x) {
  // Its current roll-up period first; then both go.
  self->request(x.monitor, std::chrono::seconds{5}, flush_atom_v)
    .then(
      [x](bool) {
        caf::anon_send_exit(x.monitor, caf::exit_reason::user_shutdown);
      },
      [x](caf::error&) {
        caf::anon_send_exit(x.monitor, caf::exit_reason::user_shutdown);
      });
  caf::anon_send_exit(x.budget, caf::exit_reason::user_shutdown);
}

void recompute(caf::event_based_actor* self, member_state& st) {
  auto& cfg = st.cfg;
  auto now = epoch_ms_now();
  // A peer that was up and is down for its failover delay: its open events
  // go to a survivor (the hubs race for a lease; once per outage here).
  for (auto& p : st.peers) {
    if (p.alive) {
      st.adopted.erase(p.name);
      continue;
    }
    if (cfg.hub && st.seen.count(p.name) > 0 && st.adopted.count(p.name) == 0
        && now - p.down_since_ms >= cfg.cluster.failover_ms) {
      st.adopted.insert(p.name);
      caf::anon_send(cfg.hub, adopt_atom_v, p.name);
    }
  }
  cluster_directory mine;
  mine.node = cfg.self;
  for (std::size_t i = 0; i < cfg.services.size(); ++i) {
    auto& name = cfg.services[i];
    static const std::vector<std::string> nowhere;
    auto placed = cfg.cluster.placement.find(name);
    auto& placement = placed == cfg.cluster.placement.end() ? nowhere
                                                            : placed->second;
    auto choice = cluster::choose_owner(name, placement, cfg.self,
                                        st.local[i].has_value(), st.peers, now,
                                        cfg.cluster.failover_ms,
                                        cfg.cluster.failback);
    if (choice.here && !st.local[i]) {
      st.local[i] = cfg.start_service(i);
      log_info("cluster",
               "node '" + cfg.self + "' runs service '" + name + "' (placement "
                 + join(placement) + ")");
    } else if (!choice.here && st.local[i]) {
      log_info("cluster",
               "node '" + cfg.self + "' hands service '" + name + "' to '"
                 + choice.owner + "'");
      stop_local(self, *st.local[i]);
      st.local[i].reset();
    }
    router_target monitor_to;
    router_target budget_to;
    if (st.local[i]) {
      monitor_to = {
        caf::actor_cast<caf::strong_actor_ptr>(st.local[i]->monitor), true,
        cfg.self};
      budget_to = {caf::actor_cast<caf::strong_actor_ptr>(st.local[i]->budget),
                   true, cfg.self};
      mine.services.push_back(name);
      mine.monitors.push_back(monitor_to.target);
      mine.budgets.push_back(budget_to.target);
    } else if (auto d = st.directories.find(choice.owner);
               !choice.owner.empty() && d != st.directories.end()) {
      if (auto xs = actors_in(d->second, name)) {
        monitor_to = {xs->first, false, choice.owner};
        budget_to = {xs->second, false, choice.owner};
      }
    }
    if (!monitor_to.target) {
      auto why = choice.owner.empty()
        ? "every node of its placement (" + join(placement)
          + ") is down or within its failover delay"
        : "its owner '" + choice.owner + "' has not taken it yet";
      monitor_to.why = why;
      budget_to.why = why;
    }
    cluster::service_owner seen{name, choice.owner,
                                monitor_to.target != nullptr, choice.here};
    cfg.state->set_owner(i, std::move(seen));
    if (monitor_to.target != st.monitor_targets[i] || (!monitor_to.target)) {
      st.monitor_targets[i] = monitor_to.target;
      retarget(cfg.monitor_routers[i], std::move(monitor_to));
      retarget(cfg.budget_routers[i], std::move(budget_to));
    }
  }
  cfg.state->set_directory(std::move(mine));
  cfg.state->set_peers(st.peers);
  std::vector<cluster_directory> live;
  for (auto& d : st.directories)
    live.push_back(d.second);
  cfg.state->set_peer_hubs(std::move(live));
}

} // namespace

caf::behavior cluster_member(caf::event_based_actor* self,
                             cluster_member_settings settings) {
  auto st = std::make_shared<member_state>();
  st->cfg = std::move(settings);
  auto started = epoch_ms_now();
  for (auto& n : st->cfg.cluster.nodes) {
    if (n.name == st->cfg.self)
      continue;
    cluster::peer_view p;
    p.name = n.name;
    p.down_since_ms = started; // never seen: as if it went down now
    st->peers.push_back(p);
    auto link = std::make_shared<link_state>();
    link->peer = n;
    link->self = st->cfg.self;
    link->secret = st->cfg.cluster.secret;
    link->member = caf::actor_cast<caf::actor>(self);
    link->heartbeat = milliseconds{st->cfg.cluster.heartbeat_ms};
    link->tls = st->cfg.actor_tls;
    link->connects = st->cfg.self < n.name;
    link->own_gateway = st->cfg.own_gateway;
    st->links.emplace(
      n.name, self->system().spawn<caf::detached>(peer_link, std::move(link)));
  }
  st->local.resize(st->cfg.services.size());
  st->monitor_targets.resize(st->cfg.services.size());
  self->set_exit_handler([self, st](caf::exit_msg& x) {
    for (auto& l : st->links)
      caf::anon_send_exit(l.second, caf::exit_reason::user_shutdown);
    for (auto& l : st->local)
      if (l) {
        caf::anon_send_exit(l->monitor, caf::exit_reason::user_shutdown);
        caf::anon_send_exit(l->budget, caf::exit_reason::user_shutdown);
      }
    self->quit(x.reason);
  });
  self->send(self, cl_tick_atom_v);
  return {
    [self, st](cl_tick_atom) {
      self->delayed_send(self, milliseconds{st->cfg.cluster.heartbeat_ms},
                         cl_tick_atom_v);
      recompute(self, *st);
    },
    // From the gateway (the peer presented the secret): its gateway, for
    // the link that waits for it.
    [st](peer_atom, const std::string& name, caf::strong_actor_ptr& gw) {
      if (auto i = st->links.find(name); i != st->links.end())
        caf::anon_send(i->second, peer_atom_v, std::move(gw));
    },
    [self, st](peer_atom, const std::string& name, bool alive,
               cluster_directory& dir, const std::string& why) {
      for (auto& p : st->peers) {
        if (p.name != name)
          continue;
        if (alive && !p.alive)
          log_info("cluster", "peer '" + name + "' is up");
        else if (!alive && p.alive)
          log_warning("cluster", "peer '" + name + "' is down: " + why);
        if (!alive && p.alive)
          p.down_since_ms = epoch_ms_now();
        p.alive = alive;
        if (alive)
          st->seen.insert(name);
        p.owns = alive ? dir.services : std::vector<std::string>{};
        if (alive)
          st->directories[name] = std::move(dir);
        else
          st->directories.erase(name);
        p.last_error = why;
      }
      recompute(self, *st);
    },
  };
}

} // namespace streamb
