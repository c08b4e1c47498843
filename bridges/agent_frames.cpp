#include "bridges/agent_frames.hpp"

#include "runtime/coordination/coordination_codec.hpp"
#include "runtime/core/json_strict.hpp"
#include "runtime/core/utf8.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

namespace streamb {

namespace json = boost::json;

namespace {

/// More answers than this in one frame is not a batch but a flood.
constexpr std::size_t max_answers_per_frame = 1000;
constexpr std::size_t max_subscriptions = 64;

frame_error invalid(std::string op, std::string message) {
  return {"invalid_frame", std::move(message), std::move(op)};
}

/// `obj[key]` as a string: nullopt when absent (and not `required`) or of
/// another type, in which case `err` says why.
bool read_string(const json::object& obj, const char* key, bool required,
                 std::string& out, std::optional<frame_error>& err,
                 const std::string& op) {
  auto v = obj.if_contains(key);
  if (v == nullptr) {
    if (required)
      err = invalid(op, std::string{"'"} + key + "' is required");
    return !required;
  }
  if (!v->is_string()) {
    err = invalid(op, std::string{"'"} + key + "' must be a string");
    return false;
  }
  out.assign(v->get_string().data(), v->get_string().size());
  return true;
}

std::optional<frame_error> read_register(const json::object& obj,
                                         agent_registration& reg) {
  std::optional<frame_error> err;
  const std::string op = "register";
  if (!read_string(obj, "name", true, reg.name, err, op)
      || !read_string(obj, "role", true, reg.role, err, op)
      || !read_string(obj, "token", false, reg.token, err, op))
    return err;
  auto subs = obj.if_contains("subscriptions");
  if (subs == nullptr || !subs->is_array())
    return invalid(op, "'subscriptions' must be an array of event types");
  if (subs->get_array().size() > max_subscriptions)
    return invalid(op, "at most 64 subscriptions");
  for (auto& s : subs->get_array()) {
    if (!s.is_string())
      return invalid(op, "'subscriptions' must be an array of event types");
    reg.subscriptions.emplace_back(s.get_string());
  }
  return std::nullopt;
}

std::optional<frame_error> read_answer(const json::object& obj,
                                       event_response& r) {
  std::optional<frame_error> err;
  const std::string op = "answer";
  std::string status;
  if (!read_string(obj, "eventId", true, r.event_id, err, op)
      || !read_string(obj, "status", true, status, err, op))
    return err;
  if (status == "ok")
    r.status = answer_status::ok;
  else if (status == "failed")
    r.status = answer_status::failed;
  else
    return invalid(op, "'status' must be \"ok\" or \"failed\"");
  auto d = obj.if_contains("delivery");
  if (d == nullptr || !(d->is_uint64() || d->is_int64()))
    return invalid(op, "'delivery' (the event frame's delivery) is required");
  if (d->is_int64() && d->get_int64() < 0)
    return invalid(op, "'delivery' must not be negative");
  r.delivery = d->is_uint64() ? d->get_uint64()
                              : static_cast<uint64_t>(d->get_int64());
  if (auto result = obj.if_contains("result"); result && !result->is_null())
    r.payload = json::serialize(*result);
  return std::nullopt;
}

std::optional<frame_error> read_answers(const json::object& obj,
                                        std::vector<event_response>& out) {
  auto many = obj.if_contains("answers");
  if (many == nullptr) {
    out.emplace_back();
    return read_answer(obj, out.back());
  }
  if (!many->is_array() || many->get_array().empty())
    return invalid("answer", "'answers' must be a non-empty array");
  if (many->get_array().size() > max_answers_per_frame)
    return invalid("answer", "at most 1000 answers in one frame");
  out.reserve(many->get_array().size());
  for (auto& a : many->get_array()) {
    if (!a.is_object())
      return invalid("answer", "each of 'answers' must be an object");
    out.emplace_back();
    if (auto e = read_answer(a.get_object(), out.back()))
      return e;
  }
  return std::nullopt;
}

json::object frame(const char* op) {
  return {{"v", agent_protocol_version}, {"op", op}};
}

} // namespace

std::optional<frame_error> parse_agent_frame(const std::string& text,
                                             agent_frame& out) {
  json_problem problem;
  auto doc = parse_json_strict(text, problem);
  if (!doc)
    return frame_error{"malformed", problem.message + " at " + problem.path,
                       ""};
  if (!doc->is_object())
    return frame_error{"malformed", "a frame is a JSON object", ""};
  auto& obj = doc->get_object();
  std::string op;
  if (auto o = obj.if_contains("op"); o && o->is_string())
    op.assign(o->get_string().data(), o->get_string().size());
  auto v = obj.if_contains("v");
  if (v == nullptr || !v->is_int64()
      || v->get_int64() != agent_protocol_version)
    return frame_error{"unsupported_version",
                       "this node speaks version 1 of the agent protocol: "
                       "send \"v\":1",
                       std::string{utf8_prefix(op, 32)}};
  if (op == "register") {
    out.op = agent_op::register_;
    return read_register(obj, out.registration);
  }
  if (op == "heartbeat") {
    out.op = agent_op::heartbeat;
    return std::nullopt;
  }
  if (op == "answer") {
    out.op = agent_op::answer;
    return read_answers(obj, out.answers);
  }
  if (op == "report") {
    out.op = agent_op::report;
    auto s = obj.if_contains("samples");
    if (s == nullptr || !s->is_array())
      return invalid(op, "'samples' must be an array of call samples");
    out.samples = json::serialize(*s);
    return std::nullopt;
  }
  if (op == "leave") {
    out.op = agent_op::leave;
    return std::nullopt;
  }
  return frame_error{"unknown_op",
                     "'op' must be one of register, heartbeat, answer, "
                     "report, leave",
                     ""};
}

std::string welcome_frame(const agent_welcome& w) {
  auto obj = frame("welcome");
  obj["agentId"] = w.agent_id;
  obj["session"] = w.session;
  obj["heartbeatIntervalMs"] = w.heartbeat_interval_ms;
  obj["node"] = w.node;
  return json::serialize(obj);
}

std::string event_frame(const coordination_event& ev, int64_t deadline_ms) {
  auto obj = frame("event");
  for (auto& kv : event_to_json(ev))
    obj.insert(kv);
  obj["attempt"] = ev.attempt;
  obj["delivery"] = ev.delivery;
  obj["deadline"] = deadline_ms;
  return json::serialize(obj);
}

std::string error_frame(const frame_error& e) {
  auto obj = frame("error");
  obj["code"] = e.code;
  obj["message"] = e.message;
  if (!e.op.empty())
    obj["frame"] = e.op;
  return json::serialize(obj);
}

std::string leave_frame(std::string_view reason) {
  auto obj = frame("leave");
  obj["reason"] = reason;
  return json::serialize(obj);
}

} // namespace streamb
