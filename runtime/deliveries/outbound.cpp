#include "runtime/deliveries/outbound.hpp"

#include "runtime/coordination/coordination_codec.hpp"
#include "runtime/core/wall_time.hpp"

#include <boost/json.hpp>

namespace streamb {

namespace json = boost::json;

namespace {

/// The provider's payload as JSON when it is JSON (Twilio's is a form).
json::value payload_value(const std::string& text) {
  json::error_code ec;
  auto v = json::parse(text, ec);
  if (ec)
    return json::value(text);
  return v;
}

} // namespace

outbound_message outbound_event(const coordination_event& ev) {
  outbound_message m;
  m.id = ev.id;
  m.kind = "event";
  m.type = ev.type;
  // Built in a buffer on the stack: one per event, at the rate of events.
  unsigned char buffer[4096];
  json::monotonic_resource mr(buffer, sizeof(buffer));
  json::object body(&mr);
  body.emplace("kind", "event");
  body.emplace("event", event_to_json(ev, &mr));
  m.body = json::serialize(body);
  return m;
}

outbound_message outbound_webhook(const webhook_event& wh) {
  outbound_message m;
  m.id = wh.id;
  m.kind = "webhook";
  m.type = wh.type;
  m.body = json::serialize(
    json::object{{"kind", "webhook"},
                 {"webhook",
                  {{"id", wh.id},
                   {"service", wh.service},
                   {"type", wh.type},
                   {"critical", wh.critical},
                   {"receivedAt", iso8601_utc(wh.received_ms)},
                   {"payload", payload_value(wh.payload)}}}});
  return m;
}

} // namespace streamb
