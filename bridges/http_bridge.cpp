#include "bridges/http_bridge.hpp"

#include "bridges/http_auth.hpp"
#include "bridges/http_server_settings.hpp"
#include "bridges/json_response.hpp"
#include "bridges/routes/routes.hpp"
#include "runtime/core/log.hpp"

#include <httplib.h>

#include <chrono>
#include <thread>

namespace streamb {

namespace {

/// Where refused requests are routed (see the pre-routing handler); no
/// client reaches it: the gate refuses every path outside the route table.
constexpr const char* refused_path = "/.streamb/refused";

void add_error_rendering(httplib::Server& srv) {
  // httplib answers unknown routes (404) and oversized bodies (413) itself;
  // give those the same JSON error shape as our own handlers.
  srv.set_error_handler(
    [](const httplib::Request& req, httplib::Response& res) {
      if (!res.body.empty())
        return;
      std::string message;
      switch (res.status) {
        case 404: message = "no route " + req.method + " " + req.path; break;
        case 413: message = "request body exceeds the configured limit"; break;
        default: message = "HTTP status " + std::to_string(res.status);
      }
      reply_error(res, res.status, error_code_for_status(res.status), message,
                  "");
    });
  srv.set_exception_handler(
    [](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
      std::string what = "unexpected error";
      try {
        std::rethrow_exception(ep);
      } catch (const std::exception& e) {
        what = e.what();
      } catch (...) {
        // keep the generic message
      }
      log_error("http", "handler threw: " + what);
      reply_error(res, 500, "internal", "internal error", "");
    });
}

} // namespace

http_bridge_state::http_bridge_state() = default;

http_bridge_state::~http_bridge_state() {
  stop();
}

void http_bridge_state::stop() {
  if (server)
    server->stop();
  if (listener.joinable())
    listener.join();
  server.reset();
}

http_bridge_actor::behavior_type
http_bridge(http_bridge_pointer self,
            std::shared_ptr<const http_context> context) {
  self->state.context = std::move(context);
  return {
    [=](start_atom) -> caf::result<uint16_t> {
      auto& st = self->state;
      if (st.server)
        return caf::make_error(error_code::invalid_argument,
                               "HTTP server already started");
      auto& http = st.context->cfg.node.http;
      st.server = std::make_unique<httplib::Server>();
      auto& srv = *st.server;
      apply_http_settings(srv, http);
      add_error_rendering(srv);
      // Before routing (and before any body is read): the route table and
      // the caller's key decide whether a handler runs at all.
      auto ctx = st.context;
      srv.set_pre_routing_handler(
        [ctx](const httplib::Request& req, httplib::Response& res) {
          if (admit_request(*ctx, req, res))
            return httplib::Server::HandlerResponse::Unhandled;
          // Refused, and `res` holds the answer. httplib reads a body only
          // after this handler, and a body left unread would be parsed as
          // the next request on the connection (a request smuggled past the
          // gate). So the request goes on to a handler that does nothing:
          // httplib reads and drops its body (bounded by max_body_bytes),
          // then sends `res`. The request is httplib's own non-const
          // object; it hands us a const view.
          const_cast<httplib::Request&>(req).path = refused_path;
          return httplib::Server::HandlerResponse::Unhandled;
        });
      auto keep_answer = [](const httplib::Request&, httplib::Response&) {};
      srv.Get(refused_path, keep_answer);
      srv.Post(refused_path, keep_answer);
      srv.Put(refused_path, keep_answer);
      srv.Patch(refused_path, keep_answer);
      srv.Delete(refused_path, keep_answer);
      srv.Options(refused_path, keep_answer);
      add_health_routes(srv, st.context);
      add_call_routes(srv, st.context);
      add_metrics_routes(srv, st.context);
      add_history_routes(srv, st.context);
      add_audit_routes(srv, st.context);
      add_webhook_routes(srv, st.context);
      add_admission_routes(srv, st.context);
      add_coordination_routes(srv, st.context);
      add_admin_routes(srv, st.context);
      std::string err;
      auto port = bind_http_server(srv, http.host, http.port, http.backlog,
                                   err);
      if (port < 0) {
        st.server.reset();
        return caf::make_error(error_code::unavailable, err);
      }
      st.listener = std::thread{[&srv] { srv.listen_after_bind(); }};
      // httplib's stop() is a no-op until the accept loop runs: a stop right
      // after start would be lost and the join would hang. Wait for it.
      for (int i = 0; i < 5000 && !srv.is_running(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds{1});
      if (!srv.is_running()) {
        st.stop();
        return caf::make_error(error_code::unavailable,
                               "HTTP accept loop did not start");
      }
      return static_cast<uint16_t>(port);
    },
    [=](stop_atom) {
      self->state.stop();
      return true;
    },
  };
}

} // namespace streamb
