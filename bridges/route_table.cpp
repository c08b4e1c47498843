#include "bridges/route_table.hpp"

namespace streamb {

namespace {

using auth::role;

constexpr route_access open = route_access::open;
constexpr route_access signature = route_access::signature;
constexpr route_access needs = route_access::role;

#define P "/api/v1/stream-b-coordination"

} // namespace

const std::vector<route_spec>& route_table() {
  static const std::vector<route_spec> table{
    // probes
    {"GET", "/healthz", open, role::viewer, "liveness"},
    {"GET", "/readyz", open, role::viewer, "readiness"},
    // The dashboard's page, scripts and styles hold no data: the page asks
    // for a key before it reads anything.
    {"GET", "/", open, role::viewer, "the web dashboard"},
    {"GET", "/ui/{file}", open, role::viewer, "the dashboard's files"},
    // provider webhooks: the signature is the credential
    {"POST", "/webhooks/{service}", signature, role::viewer, "webhooks"},
    // viewer: reads
    {"GET", P "/health/comprehensive", needs, role::viewer, "health"},
    {"GET", P "/dashboard", needs, role::viewer, "the operator's view"},
    {"GET", P "/metrics/realtime", needs, role::viewer, "metrics"},
    {"GET", "/metrics", needs, role::viewer, "Prometheus metrics"},
    {"GET", P "/metrics/history", needs, role::viewer, "metric history"},
    {"GET", P "/cost/analysis", needs, role::viewer, "spend and forecasts"},
    {"GET", P "/optimization/recommendations", needs, role::viewer, "advisor"},
    {"GET", P "/webhooks/stats", needs, role::viewer, "webhook counters"},
    {"GET", P "/agents/status", needs, role::viewer, "agents"},
    {"GET", P "/coordination/events/{id}", needs, role::viewer, "an event"},
    {"GET", "/api/v1/coordination/events/{id}", needs, role::viewer,
     "an event"},
    {"GET", "/api/v1/webhooks/dead-letters", needs, role::viewer,
     "dead letters"},
    {"GET", "/api/v1/webhooks/events/{id...}", needs, role::viewer,
     "a webhook event"},
    {"GET", "/api/v1/audit", needs, role::viewer, "audit trail"},
    {"GET", "/api/v1/deliveries/{endpoint}/dead-letters", needs, role::viewer,
     "an HTTP delivery endpoint's dead letters"},
    {"GET", P "/stream", needs, role::viewer,
     "live events as server-sent events"},
    {"GET", P "/ws", needs, role::viewer, "live events over a WebSocket"},
    {"POST", P "/stream/ticket", needs, role::viewer,
     "a one-time ticket to open a live stream"},
    // agent: agents in any language (docs/agent-protocol.md)
    {"GET", "/api/v1/agents/ws", needs, role::agent,
     "an agent's WebSocket (register, events, answers)"},
    {"POST", "/api/v1/agents/ws/ticket", needs, role::agent,
     "a one-time ticket to open the agents' WebSocket from a browser"},
    // reporter: the clients' path
    {"POST", "/api/v1/calls", needs, role::reporter, "call samples"},
    {"POST", "/api/v1/admission/{service}", needs, role::reporter, "admission"},
    // operator: changes to how the node behaves
    {"POST", P "/coordination/send-event", needs, role::operator_,
     "send an event"},
    {"POST", P "/cost/optimize", needs, role::operator_,
     "the advisor's limit changes: a dry run unless apply is true"},
    {"POST", P "/cost/optimize/undo", needs, role::operator_,
     "undo one applied limit change"},
    {"GET", P "/cost/optimize/changes", needs, role::viewer,
     "limit changes made by cost/optimize"},
    {"POST", "/api/v1/budgets/{service}/override", needs, role::operator_,
     "throttle override"},
    {"POST", "/api/v1/webhooks/dead-letters/{id}/replay", needs,
     role::operator_, "replay a dead letter"},
    {"POST", "/api/v1/deliveries/{endpoint}/dead-letters/{id}/replay", needs,
     role::operator_, "deliver an endpoint's dead letter again"},
    // admin: credentials
    {"GET", "/api/v1/admin/keys", needs, role::admin, "list keys"},
    {"POST", "/api/v1/admin/keys", needs, role::admin, "create a key"},
    {"POST", "/api/v1/admin/keys/{id}/rotate", needs, role::admin,
     "rotate a key"},
    {"DELETE", "/api/v1/admin/keys/{id}", needs, role::admin, "revoke a key"},
    {"GET", "/api/v1/admin/webhooks/{service}/secrets", needs, role::admin,
     "list webhook secrets"},
    {"POST", "/api/v1/admin/webhooks/{service}/secrets", needs, role::admin,
     "add a webhook secret"},
    {"DELETE", "/api/v1/admin/webhooks/{service}/secrets/{id}", needs,
     role::admin, "retire a webhook secret"},
  };
  return table;
}

bool matches(std::string_view pattern, std::string_view path,
             std::vector<std::string>* captures) {
  if (captures)
    captures->assign(1, std::string{path});
  while (!pattern.empty()) {
    if (path.empty() || path.front() != '/' || pattern.front() != '/')
      return false;
    pattern.remove_prefix(1);
    path.remove_prefix(1);
    auto pend = pattern.find('/');
    auto seg = pattern.substr(0, pend);
    auto xend = path.find('/');
    auto x = path.substr(0, xend);
    bool rest = seg.size() > 5 && seg.substr(seg.size() - 4) == "...}";
    if (rest) {
      if (captures && !path.empty())
        captures->emplace_back(path);
      return !path.empty();
    }
    bool var = !seg.empty() && seg.front() == '{';
    if (var ? x.empty() : seg != x)
      return false;
    if (var && captures)
      captures->emplace_back(x);
    pattern.remove_prefix(seg.size());
    path.remove_prefix(x.size());
  }
  return path.empty();
}

const route_spec* find_route(std::string_view method, std::string_view path) {
  for (auto& r : route_table())
    if (method == r.method && matches(r.pattern, path))
      return &r;
  return nullptr;
}

std::string allowed_methods(std::string_view path) {
  std::string out;
  auto add = [&out](std::string_view m) {
    if (out.find(m) != std::string::npos)
      return;
    if (!out.empty())
      out += ", ";
    out += m;
  };
  for (auto& r : route_table())
    if (matches(r.pattern, path)) {
      add(r.method);
      if (std::string_view{r.method} == "GET")
        add("HEAD");
    }
  return out;
}

} // namespace streamb
