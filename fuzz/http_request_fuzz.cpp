// The edge's request parsing path: Beast's parser with the node's limits,
// then what the edge does with a parsed head (target split and decoded,
// route lookup, path captures, the UTF-8 clean-up of echoed text).

#include "bridges/http/http_message.hpp"
#include "bridges/route_table.hpp"
#include "runtime/core/utf8.hpp"

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <cstddef>
#include <cstdint>

namespace bhttp = boost::beast::http;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  bhttp::request_parser<bhttp::string_body> parser;
  parser.header_limit(16 * 1024);
  parser.body_limit(64 * 1024);
  parser.eager(true);
  boost::beast::error_code ec;
  parser.put(boost::asio::buffer(data, size), ec);
  if (ec || !parser.is_header_done())
    return 0;
  auto& head = parser.get();
  streamb::http_request req;
  req.method = std::string{head.method_string()};
  req.target = std::string{head.target()};
  streamb::parse_target(req.target, req.path, req.params);
  for (auto& field : head)
    req.headers.emplace(std::string{field.name_string()},
                        std::string{field.value()});
  if (auto row = streamb::find_route(req.method, req.path))
    streamb::matches(row->pattern, req.path, &req.matches);
  auto allow = streamb::allowed_methods(req.path);
  auto clean = streamb::sanitize_utf8(req.path);
  if (!streamb::valid_utf8(clean))
    __builtin_trap();
  (void)req.get_header_value("Authorization");
  return 0;
}
