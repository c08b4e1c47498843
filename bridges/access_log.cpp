#include "bridges/access_log.hpp"

#include "bridges/http/http_message.hpp"
#include "bridges/http_auth.hpp"
#include "bridges/route_table.hpp"
#include "runtime/core/log.hpp"

#include <cstdio>

namespace streamb {

access_entry access_entry_of(const http_context& ctx, const http_request& req) {
  access_entry x;
  x.start = std::chrono::steady_clock::now();
  x.method = req.method;
  auto row = static_cast<const route_spec*>(req.route);
  x.route = row != nullptr ? row->pattern : "unmatched";
  auto key = identity_of(ctx, req);
  x.key = key ? key->id : "-";
  x.addr = req.remote_addr;
  return x;
}

void log_access(const access_entry& x, int status) {
  using namespace std::chrono;
  auto us = duration_cast<microseconds>(steady_clock::now() - x.start).count();
  char ms[32];
  std::snprintf(ms, sizeof(ms), "%.3f", static_cast<double>(us) / 1000.0);
  log_info("access",
           "method=" + x.method + " route=" + x.route
             + " status=" + std::to_string(status) + " ms=" + ms
             + " key=" + x.key + " addr=" + x.addr);
}

} // namespace streamb
