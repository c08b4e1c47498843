#include "bridges/json_body.hpp"

#include "bridges/http/http_message.hpp"
#include "bridges/json_response.hpp"
#include "runtime/core/json_strict.hpp"

namespace streamb {

std::optional<boost::json::object>
read_json_object(const http_request& req, http_response& res, bool empty_ok) {
  if (req.body.empty() && empty_ok)
    return boost::json::object{};
  json_problem problem;
  auto doc = parse_json_strict(req.body, problem);
  if (!doc || !doc->is_object()) {
    reply_error(res, 400, "malformed",
                doc ? "the body must be a JSON object" : problem.message,
                doc ? "$" : problem.path);
    return std::nullopt;
  }
  return std::move(doc->as_object());
}

} // namespace streamb
