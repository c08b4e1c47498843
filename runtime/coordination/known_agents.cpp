#include "runtime/coordination/known_agents.hpp"

#include <boost/json.hpp>

namespace streamb {

namespace json = boost::json;

std::string encode_known_agent(const known_agent& x) {
  json::array subs;
  for (auto& s : x.subscriptions)
    subs.emplace_back(s);
  return json::serialize(json::object{{"role", x.role},
                                      {"subscriptions", std::move(subs)},
                                      {"registeredAt", x.registered_ms}});
}

std::optional<known_agent> decode_known_agent(const std::string& text) {
  json::error_code ec;
  auto v = json::parse(text, ec);
  if (ec || !v.is_object())
    return std::nullopt;
  auto& obj = v.get_object();
  known_agent x;
  if (auto r = obj.if_contains("role"); r && r->is_string())
    x.role = std::string{r->get_string()};
  if (auto xs = obj.if_contains("subscriptions"); xs && xs->is_array())
    for (auto& s : xs->get_array())
      if (s.is_string())
        x.subscriptions.emplace_back(s.get_string());
  if (auto t = obj.if_contains("registeredAt"); t && t->is_int64())
    x.registered_ms = t->get_int64();
  return x;
}

} // namespace streamb
