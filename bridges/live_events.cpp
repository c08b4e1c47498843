#include "bridges/live_events.hpp"

#include "bridges/http_context.hpp"
#include "bridges/json_text.hpp"
#include "bridges/status_json.hpp"
#include "runtime/budget/priority.hpp"
#include "runtime/core/wall_time.hpp"

#include <boost/json/parse.hpp>

#include <caf/typed_event_based_actor.hpp>

namespace streamb {

namespace json = boost::json;

namespace {

/// "monitor:stripe" -> "stripe"; the payload's service otherwise.
std::string service_of(const coordination_event& ev,
                       const json::value& payload) {
  for (auto prefix : {"monitor:", "budget:"}) {
    std::string_view p{prefix};
    if (ev.source.compare(0, p.size(), p) == 0)
      return ev.source.substr(p.size());
  }
  if (auto obj = payload.if_object())
    if (auto s = obj->if_contains("service"); s && s->is_string())
      return std::string{s->get_string()};
  return {};
}

json::value parsed(const std::string& text) {
  json::error_code ec;
  auto v = json::parse(text, ec);
  return ec ? json::value(text) : v;
}

} // namespace

std::string topic_of(const coordination_event& ev, const json::value& payload) {
  if (ev.source.rfind("monitor:", 0) == 0)
    return "alert";
  if (ev.type == "cost_alert") {
    auto obj = payload.if_object();
    auto what = obj ? obj->if_contains("event") : nullptr;
    return what && *what == "mode_changed" ? "budget" : "cost_alert";
  }
  if (ev.type == "frontend_update")
    return "frontend_update";
  return "coordination";
}

hub_observer_actor::behavior_type live_events(hub_observer_actor::pointer self,
                                              http_context_ptr ctx) {
  return {
    [ctx](publish_atom, const coordination_event& ev) {
      if (ev.type == "webhook")
        return; // the webhook route publishes those as they are verified
      if (!ctx->streams->has_subscribers())
        return; // nobody to tell: skip the parsing
      auto payload = parsed(ev.payload);
      auto topic = topic_of(ev, payload);
      auto service = service_of(ev, payload);
      json::object doc{{"topic", topic},
                       {"id", ev.id},
                       {"type", ev.type},
                       {"service", service},
                       {"priority", budget::to_string(ev.priority)},
                       {"source", ev.source},
                       {"createdAt", time_or_null(ev.created_ms)},
                       {"payload", std::move(payload)}};
      ctx->streams->publish(std::move(topic), std::move(service),
                            to_json_text(doc));
    },
    [ctx](agents_atom, const agent_status& a) {
      if (!ctx->streams->has_subscribers())
        return;
      auto doc = to_json(a, epoch_ms_now());
      doc["topic"] = "agent";
      ctx->streams->publish("agent", "", to_json_text(doc));
    },
    [self, ctx](finding_atom, agent_findings& xs) {
      for (auto& f : xs) {
        json::object doc{{"topic", "finding"},
                         {"service", f.service},
                         {"category", f.category},
                         {"title", f.title},
                         {"detail", f.detail},
                         {"agent", f.agent},
                         {"eventId", f.event_id},
                         {"eventType", f.event_type},
                         {"foundAt", time_or_null(f.at_ms)}};
        ctx->streams->publish("finding", f.service, to_json_text(doc));
      }
      if (ctx->advisor)
        self->send(ctx->advisor, finding_atom_v, std::move(xs));
    },
  };
}

} // namespace streamb
