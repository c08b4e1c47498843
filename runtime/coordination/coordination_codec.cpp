#include "runtime/coordination/coordination_codec.hpp"

#include "runtime/budget/priority.hpp"

#include <boost/json.hpp>

namespace streamb {

namespace json = boost::json;

namespace {

std::string string_of(const json::object& obj, const char* key) {
  if (auto v = obj.if_contains(key); v && v->is_string())
    return std::string{v->get_string()};
  return {};
}

int64_t int_of(const json::object& obj, const char* key) {
  if (auto v = obj.if_contains(key)) {
    if (v->is_int64())
      return v->get_int64();
    if (v->is_uint64())
      return static_cast<int64_t>(v->get_uint64());
  }
  return 0;
}

json::value payload_value(const std::string& text, json::storage_ptr sp = {}) {
  if (text.empty())
    return json::value(nullptr, sp);
  json::error_code ec;
  auto v = json::parse(text, ec, sp);
  if (ec)
    return json::value(json::string(text, sp));
  return v;
}

std::string payload_text(const json::value* v) {
  if (v == nullptr || v->is_null())
    return {};
  if (v->is_string())
    return std::string{v->get_string()};
  return json::serialize(*v);
}

std::optional<coordination_event> event_from_json(const json::object& obj) {
  coordination_event ev;
  ev.id = string_of(obj, "id");
  ev.type = string_of(obj, "type");
  auto p = budget::parse_priority(string_of(obj, "priority"));
  if (ev.id.empty() || ev.type.empty() || !p)
    return std::nullopt;
  ev.priority = *p;
  ev.source = string_of(obj, "source");
  ev.created_ms = int_of(obj, "createdAt");
  ev.target = string_of(obj, "target");
  ev.payload = payload_text(obj.if_contains("payload"));
  return ev;
}

} // namespace

json::object event_to_json(const coordination_event& ev, json::storage_ptr sp) {
  json::object obj(sp);
  obj.reserve(11); // and the four record_to_json adds
  obj.emplace("id", ev.id);
  obj.emplace("type", ev.type);
  obj.emplace("priority", budget::to_string(ev.priority));
  obj.emplace("source", ev.source);
  obj.emplace("createdAt", ev.created_ms);
  obj.emplace("target", ev.target);
  obj.emplace("payload", payload_value(ev.payload, sp));
  return obj;
}

std::string encode_open_event(const coordination_event& ev,
                              const std::vector<unit_target>& units) {
  json::array us;
  for (auto& u : units)
    us.push_back(u.agent.empty() ? json::object{{"role", u.role}}
                                 : json::object{{"agent", u.agent}});
  return json::serialize(
    json::object{{"event", event_to_json(ev)}, {"units", std::move(us)}});
}

std::optional<std::pair<coordination_event, std::vector<unit_target>>>
decode_open_event(const std::string& text) {
  json::error_code ec;
  auto v = json::parse(text, ec);
  if (ec || !v.is_object())
    return std::nullopt;
  auto& obj = v.get_object();
  auto ev_v = obj.if_contains("event");
  auto units_v = obj.if_contains("units");
  if (!ev_v || !ev_v->is_object() || !units_v || !units_v->is_array())
    return std::nullopt;
  auto ev = event_from_json(ev_v->get_object());
  if (!ev)
    return std::nullopt;
  std::vector<unit_target> units;
  for (auto& u : units_v->get_array()) {
    if (!u.is_object())
      return std::nullopt;
    unit_target t{string_of(u.get_object(), "role"),
                  string_of(u.get_object(), "agent")};
    if (t.role.empty() && t.agent.empty())
      return std::nullopt;
    units.push_back(std::move(t));
  }
  return std::make_pair(std::move(*ev), std::move(units));
}

json::object record_to_json(const event_record& x, json::storage_ptr sp) {
  auto obj = event_to_json(x.event, sp);
  obj["state"] = to_string(x.state);
  obj["detail"] = x.detail;
  obj["finishedAt"] = x.finished_ms;
  json::array ds(sp);
  for (auto& d : x.deliveries) {
    json::object o({{"agent", d.agent},
                    {"unit", d.unit},
                    {"attempt", d.attempt},
                    {"sentAt", d.sent_ms},
                    {"answeredAt", d.answered_ms},
                    {"status", to_string(d.status)},
                    {"response", payload_value(d.response, sp)}},
                   sp);
    if (d.answered_ms > 0)
      o["responseTimeMs"] = d.answered_ms - d.sent_ms;
    ds.push_back(std::move(o));
  }
  obj["deliveries"] = std::move(ds);
  return obj;
}

std::string record_to_text(const event_record& x) {
  unsigned char buffer[4096];
  json::monotonic_resource mr(buffer, sizeof(buffer));
  return json::serialize(record_to_json(x, &mr));
}

std::optional<event_record> decode_record(const std::string& text) {
  json::error_code ec;
  auto v = json::parse(text, ec);
  if (ec || !v.is_object())
    return std::nullopt;
  auto& obj = v.get_object();
  auto ev = event_from_json(obj);
  if (!ev)
    return std::nullopt;
  event_record x;
  x.event = std::move(*ev);
  auto state = parse_event_state(string_of(obj, "state"));
  if (!state)
    return std::nullopt;
  x.state = *state;
  x.detail = string_of(obj, "detail");
  x.finished_ms = int_of(obj, "finishedAt");
  if (auto ds = obj.if_contains("deliveries"); ds && ds->is_array()) {
    for (auto& d : ds->get_array()) {
      if (!d.is_object())
        continue;
      auto& o = d.get_object();
      event_delivery y;
      y.agent = string_of(o, "agent");
      y.unit = string_of(o, "unit");
      y.attempt = static_cast<uint32_t>(int_of(o, "attempt"));
      y.sent_ms = int_of(o, "sentAt");
      y.answered_ms = int_of(o, "answeredAt");
      auto status = parse_delivery_status(string_of(o, "status"));
      if (!status)
        return std::nullopt;
      y.status = *status;
      y.response = payload_text(o.if_contains("response"));
      x.deliveries.push_back(std::move(y));
    }
  }
  return x;
}

} // namespace streamb
