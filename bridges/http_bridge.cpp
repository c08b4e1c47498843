#include "bridges/http_bridge.hpp"

#include "bridges/access_log.hpp"
#include "bridges/http/http_server.hpp"
#include "bridges/http/router.hpp"
#include "bridges/http/worker_pool.hpp"
#include "bridges/http_auth.hpp"
#include "bridges/json_response.hpp"
#include "bridges/route_table.hpp"
#include "bridges/routes/routes.hpp"
#include "runtime/core/log.hpp"

#include <malloc.h>

#include <atomic>
#include <chrono>
#include <exception>

namespace streamb {

std::shared_ptr<const router> make_routes(http_context_ptr ctx) {
  auto r = std::make_shared<router>();
  add_health_routes(*r, ctx);
  add_call_routes(*r, ctx);
  add_metrics_routes(*r, ctx);
  add_prometheus_routes(*r, ctx);
  add_dashboard_routes(*r, ctx);
  add_history_routes(*r, ctx);
  add_audit_routes(*r, ctx);
  add_webhook_routes(*r, ctx);
  add_delivery_routes(*r, ctx);
  add_admission_routes(*r, ctx);
  add_coordination_routes(*r, ctx);
  add_admin_routes(*r, ctx);
  add_stream_routes(*r, ctx);
  add_web_routes(*r);
  return r;
}

http_limits limits_of(const http_config& cfg) {
  http_limits out;
  out.io_threads = cfg.io_threads;
  out.max_connections = cfg.max_connections;
  out.max_header_bytes = cfg.max_header_bytes;
  out.max_body_bytes = cfg.max_body_bytes;
  out.head_timeout = std::chrono::seconds{cfg.head_timeout_s};
  out.body_timeout = std::chrono::seconds{cfg.body_timeout_s};
  out.keep_alive_timeout = std::chrono::seconds{cfg.keep_alive_timeout_s};
  out.keep_alive_max_count = cfg.keep_alive_max_count;
  out.write_timeout = std::chrono::seconds{cfg.write_timeout_s};
  out.backlog = static_cast<int>(cfg.backlog);
  out.streams.max_queued_bytes = cfg.stream_queue_bytes;
  out.streams.max_message_bytes = cfg.ws_max_message_bytes;
  out.streams.keep_alive = std::chrono::seconds{cfg.stream_keep_alive_s};
  out.streams.write_timeout = std::chrono::seconds{cfg.write_timeout_s};
  return out;
}

namespace {

/// Runs a handler; whatever it throws becomes a 500, never a lost answer.
void run_route(const route_entry& entry, const http_request& req,
               http_response& res) {
  try {
    entry.fn(req, res);
  } catch (const std::exception& e) {
    log_error("http",
              "handler of " + req.method + " " + req.path
                + " threw: " + e.what());
    res = http_response{};
    reply_error(res, 500, "internal", "internal error");
  } catch (...) {
    res = http_response{};
    reply_error(res, 500, "internal", "internal error");
  }
}

/// Runs an asynchronous handler; if it throws before it answered, the
/// client gets a 500 (and never two answers).
void run_async_route(const route_entry& entry, const http_request& req,
                     http_reply reply) {
  auto answered = std::make_shared<std::atomic<bool>>(false);
  http_reply once = [answered, reply](http_response res) {
    if (!answered->exchange(true))
      reply(std::move(res));
  };
  auto fail = [&](const char* what) {
    log_error("http",
              "handler of " + req.method + " " + req.path + " threw: " + what);
    http_response res;
    reply_error(res, 500, "internal", "internal error");
    once(std::move(res));
  };
  try {
    entry.async_fn(req, once);
  } catch (const std::exception& e) {
    fail(e.what());
  } catch (...) {
    fail("unknown exception");
  }
}

http_handlers handlers_of(http_context_ptr ctx,
                          std::shared_ptr<const router> routes,
                          std::shared_ptr<worker_pool> workers) {
  http_handlers out;
  // Before the body is read: the route table and the caller's key decide
  // whether a handler runs at all.
  auto access_log = ctx->cfg.node.http.access_log;
  out.on_head = [ctx, access_log](http_request& req, http_response& res) {
    // HEAD is served by the GET handler; the server drops the body. (Not
    // a ?: expression: that would view a temporary std::string.)
    std::string_view method = req.method;
    if (method == "HEAD")
      method = "GET";
    req.route = find_route(method, req.path);
    if (admit_request(*ctx, req, res))
      return true;
    if (access_log)
      log_access(access_entry_of(*ctx, req), res.status);
    return false;
  };
  // Every answer, the edge's own refusals included. The context (and its
  // counters) outlives the server: the handlers hold it.
  out.on_answered = [edge = ctx->edge.get()](const void* route, int status) {
    edge->count(static_cast<const route_spec*>(route), status);
  };
  out.on_request = [ctx, routes, workers, access_log](http_request req,
                                                      http_reply reply) {
    auto row = static_cast<const route_spec*>(req.route);
    if (access_log)
      reply = [entry = access_entry_of(*ctx, req),
               upgrade = req.get_header_value("Upgrade") == "websocket",
               reply = std::move(reply)](http_response res) {
        // The edge answers a WebSocket route without an upgrade with 426.
        auto status = res.stream != stream_kind::websocket ? res.status
          : upgrade                                        ? 101
                                                           : 426;
        log_access(entry, status);
        reply(std::move(res));
      };
    auto entry = row != nullptr ? routes->find(row) : nullptr;
    if (entry == nullptr) {
      http_response res;
      reply_error(res, 404, "not_found",
                  "no route " + req.method + " " + req.path);
      return reply(std::move(res));
    }
    matches(row->pattern, req.path, &req.matches);
    if (entry->async_fn)
      return run_async_route(*entry, req, std::move(reply));
    std::function<void()> task = [entry, req = std::move(req), reply]() {
      http_response res;
      run_route(*entry, req, res);
      reply(std::move(res));
    };
    if (entry->thread == route_thread::io)
      return task();
    if (!workers->try_post(std::move(task))) {
      http_response res;
      res.set_header("Retry-After", "1");
      reply_error(res, 503, "overloaded",
                  "every route thread is busy and the request queue is "
                  "full; retry later");
      reply(std::move(res));
    }
  };
  return out;
}

} // namespace

http_bridge_state::http_bridge_state() = default;

http_bridge_state::~http_bridge_state() {
  stop();
}

void http_bridge_state::stop() {
  if (context)
    context->edge->detach();
  if (server) {
    auto grace = std::chrono::seconds{context->cfg.node.http.shutdown_grace_s};
    server->stop(grace);
  }
  // After the server: a request it let finish may still be on a route
  // thread. Once these are joined, no answer can be sent any more, so no 2xx
  // follows the actors' stop.
  if (workers)
    workers->stop();
  // The subscribers are closed; the hub must not keep them (and through
  // them the stopped server) alive.
  if (context)
    context->streams->clear();
  server.reset();
  workers.reset();
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
      // Where glibc's malloc is used (STREAMB_JEMALLOC=OFF): it hands the
      // pages of each large request body back to the kernel and faults them
      // in again for the next one (~14 % of CPU at 1000-sample batches).
      // Keep 16 MiB around.
      mallopt(M_TRIM_THRESHOLD, 16 << 20);
      st.routes = make_routes(st.context);
      st.workers = std::make_shared<worker_pool>(http.threads,
                                                 http.max_queued_requests);
      st.server = std::make_unique<http_server>(
        limits_of(http), handlers_of(st.context, st.routes, st.workers));
      std::string err;
      if (http.tls.enabled()
          && !st.server->use_tls(http.tls.cert_file, http.tls.key_file, err)) {
        st.stop();
        return caf::make_error(error_code::invalid_argument, err);
      }
      auto port = st.server->listen(http.host, http.port, err);
      if (port == 0) {
        st.stop();
        return caf::make_error(error_code::unavailable, err);
      }
      st.server->start();
      st.context->edge->attach(
        [server = st.server.get()] { return server->stats(); });
      return port;
    },
    [=](stop_atom) {
      self->state.stop();
      return true;
    },
  };
}

} // namespace streamb
