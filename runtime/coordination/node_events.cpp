#include "runtime/coordination/node_events.hpp"

#include "runtime/metrics/alert_json.hpp"

#include <boost/json.hpp>

#include <algorithm>

namespace streamb {

namespace json = boost::json;

namespace {

std::string webhook_payload(const webhook_event& wh) {
  json::error_code ec;
  auto body = json::parse(wh.payload, ec);
  json::object obj{{"webhook", wh.id},
                   {"service", wh.service},
                   {"type", wh.type},
                   {"critical", wh.critical},
                   {"receivedAt", wh.received_ms},
                   {"attempt", wh.attempts}};
  obj["body"] = ec ? json::value(wh.payload) : std::move(body);
  return json::serialize(obj);
}

} // namespace

coordination_event webhook_as_event(const webhook_event& wh, int64_t now_ms) {
  coordination_event ev;
  ev.id = "webhook:" + wh.id;
  ev.type = webhook_event_type;
  ev.priority = wh.critical ? budget::priority::critical
                            : budget::priority::normal;
  ev.source = "webhook:" + wh.service;
  ev.created_ms = now_ms;
  ev.payload = webhook_payload(wh);
  return ev;
}

coordination_event alert_as_event(const service_alert& x) {
  coordination_event ev;
  ev.type = "performance_optimization";
  ev.priority = x.priority;
  ev.source = "monitor:" + x.service;
  ev.payload = json::serialize(alert_to_json(x));
  return ev;
}

} // namespace streamb
