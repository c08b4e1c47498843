#include "runtime/coordination/agent_findings.hpp"

#include "runtime/core/utf8.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <algorithm>

namespace streamb {

namespace json = boost::json;

namespace {

constexpr std::size_t max_title = 200;
constexpr std::size_t max_detail = 2000;

std::string string_at(const json::object& obj, std::string_view key,
                      std::size_t max_len) {
  auto v = obj.if_contains(key);
  if (v == nullptr || !v->is_string())
    return {};
  auto& s = v->get_string();
  return std::string{utf8_prefix({s.data(), s.size()}, max_len)};
}

/// The seed's three coordination lists; anything else follows the type of
/// the event the agent answered.
std::string category_of(const std::string& said,
                        const std::string& event_type) {
  if (said == "database" || said == "performance" || said == "innovation")
    return said;
  if (event_type == "database_coordination")
    return "database";
  if (event_type == "innovation_insight")
    return "innovation";
  return "performance";
}

std::string service_of_event(const coordination_event& ev) {
  json::error_code ec;
  auto v = json::parse(ev.payload, ec);
  if (ec || !v.is_object())
    return {};
  return string_at(v.get_object(), "service", 128);
}

} // namespace

agent_findings findings_in_answer(std::string_view payload,
                                  const coordination_event& ev,
                                  const std::string& agent,
                                  const std::vector<std::string>& services,
                                  int64_t at_ms) {
  agent_findings out;
  // Every answer passes here, on the hub: most carry neither key, and a
  // search costs far less than a parse.
  if (payload.empty() || payload.front() != '{'
      || (payload.find("\"findings\"") == std::string_view::npos
          && payload.find("\"recommendations\"") == std::string_view::npos))
    return out;
  json::error_code ec;
  auto v = json::parse(payload, ec);
  if (ec || !v.is_object())
    return out;
  auto& obj = v.get_object();
  std::string event_service; // parsed once, when a finding needs it
  bool event_service_read = false;
  for (auto key : {"findings", "recommendations"}) {
    auto list = obj.if_contains(key);
    if (list == nullptr || !list->is_array())
      continue;
    for (auto& item : list->get_array()) {
      if (out.size() == max_findings_per_answer)
        return out;
      agent_finding f;
      if (item.is_string()) {
        auto& s = item.get_string();
        f.title = std::string{utf8_prefix({s.data(), s.size()}, max_title)};
      } else if (item.is_object()) {
        auto& x = item.get_object();
        f.title = string_at(x, "title", max_title);
        f.detail = string_at(x, "detail", max_detail);
        f.service = string_at(x, "service", 128);
        f.category = string_at(x, "category", 32);
      }
      if (f.title.empty())
        continue;
      if (f.service.empty()) {
        if (!event_service_read) {
          event_service = service_of_event(ev);
          event_service_read = true;
        }
        f.service = event_service;
      }
      if (!f.service.empty()
          && std::find(services.begin(), services.end(), f.service)
            == services.end())
        continue;
      f.category = category_of(f.category, ev.type);
      f.agent = agent;
      f.event_id = ev.id;
      f.event_type = ev.type;
      f.at_ms = at_ms;
      out.push_back(std::move(f));
    }
  }
  return out;
}

} // namespace streamb
