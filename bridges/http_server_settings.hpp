#pragma once

// The cpp-httplib server settings every streamb HTTP listener uses, and the
// benchmark baseline too, so that "same server settings" is literally true.

#include <cstdint>
#include <string>

namespace httplib {
class Server;
} // namespace httplib

namespace streamb {

struct http_config;

/// Applies load-ready settings to `srv` (see DESIGN.md, cpp-httplib section):
/// TCP_NODELAY, keep-alive without the 5-request cap, a pool of
/// `cfg.threads` workers, timeouts and the payload limit.
void apply_http_settings(httplib::Server& srv, const http_config& cfg);

/// Binds `srv` to host:port (port 0 picks a free one) and re-listens with
/// `backlog`, since cpp-httplib hard-codes a backlog of 5. Returns the bound
/// port, or -1 with `err` set.
int bind_http_server(httplib::Server& srv, const std::string& host,
                     uint16_t port, uint32_t backlog, std::string& err);

} // namespace streamb
