#pragma once

// The status line and header block of an answer, written straight into a
// reused buffer. Beast's serializer walks a chain of buffer views per
// write (perf: ~7 % of the edge's CPU for a small answer, plus a message
// allocated per answer); an answer here is a head and a body, nothing
// else to frame.

#include "bridges/http/http_message.hpp"

#include <cstddef>
#include <string>

namespace streamb::edge {

/// Appends to `out` (cleared first) the HTTP/1.1 head of an answer with
/// `status`, `headers` and `content_type`, framed by Content-Length
/// `content_length` (none for 1xx, 204 and 304), with `Connection: close`
/// unless `keep_alive`. Header names or values holding CR, LF or NUL are
/// sanitized (a value) or dropped (a name), so that nothing a route copied from
/// a client can split the answer. Content-Length, Connection and
/// Transfer-Encoding set by a route are ignored: the edge frames the answer.
void write_response_head(std::string& out, int status,
                         const http_fields& headers,
                         const std::string& content_type,
                         std::size_t content_length, bool keep_alive);

} // namespace streamb::edge
