#include "bridges/json_response.hpp"

#include "bridges/http/http_message.hpp"
#include "bridges/json_text.hpp"
#include "runtime/core/error_code.hpp"
#include "runtime/core/error_text.hpp"
#include "runtime/core/utf8.hpp"

#include <caf/error.hpp>
#include <caf/message.hpp>
#include <caf/sec.hpp>

namespace streamb {

void reply_json(http_response& res, int status,
                const boost::json::value& body) {
  res.status = status;
  res.set_content(to_json_text(body), "application/json");
}

void reply_error(http_response& res, int status, std::string_view code,
                 std::string_view message, std::string_view path) {
  boost::json::object err;
  // Messages and paths may quote the client (a path it sent, a field it
  // named): keep the document valid UTF-8 whatever it sent.
  err["code"] = code;
  err["message"] = valid_utf8(message) ? std::string{message}
                                       : sanitize_utf8(message);
  err["path"] = valid_utf8(path) ? std::string{path} : sanitize_utf8(path);
  reply_json(res, status, boost::json::object{{"error", std::move(err)}});
}

void reply_error(http_response& res, const caf::error& err) {
  // A context of one string is the message itself, not a tuple of it.
  auto& ctx = err.context();
  auto message = ctx.empty()            ? std::string{}
    : ctx.match_elements<std::string>() ? ctx.get_as<std::string>(0)
                                        : caf::to_string(ctx);
  if (err.category() == caf::atom("streamb")) {
    auto code = static_cast<error_code>(err.code());
    int status = 500;
    switch (code) {
      case error_code::invalid_argument: status = 400; break;
      case error_code::unknown_service: status = 404; break;
      case error_code::not_found: status = 404; break;
      case error_code::store_unavailable: status = 503; break;
      case error_code::unavailable: status = 503; break;
      case error_code::timeout: status = 504; break;
      case error_code::unsupported: status = 501; break;
      case error_code::conflict: status = 409; break;
      case error_code::unauthorized: status = 401; break;
      case error_code::capacity: status = 429; break;
      default: break;
    }
    reply_error(res, status, to_string(code), message);
    return;
  }
  if (err == caf::sec::request_timeout) {
    reply_error(res, 504, "timeout", "an actor did not answer in time");
    return;
  }
  // An actor that went away mid-request: the node is stopping or degraded.
  reply_error(res, 503, "unavailable", error_text(err));
}

std::string_view error_code_for_status(int status) {
  switch (status) {
    case 400: return "malformed";
    case 401: return "unauthenticated";
    case 403: return "forbidden";
    case 404: return "not_found";
    case 405: return "method_not_allowed";
    case 413: return "too_large";
    case 415: return "unsupported_media_type";
    case 429: return "throttled";
    case 503: return "unavailable";
    default: return status >= 500 ? "internal" : "error";
  }
}

} // namespace streamb
