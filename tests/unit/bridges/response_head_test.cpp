#include "bridges/http/response_head.hpp"

#include <catch2/catch.hpp>

using streamb::http_fields;
using streamb::edge::write_response_head;

TEST_CASE("a response head frames the body by its length") {
  std::string out = "left over from the last answer";
  write_response_head(out, 200, {}, "application/json", 15, true);
  CHECK(out
        == "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
           "Content-Length: 15\r\n\r\n");
}

TEST_CASE("a response head says close when the connection ends") {
  std::string out;
  http_fields headers{{"Retry-After", "1"}};
  write_response_head(out, 503, headers, "application/json", 2, false);
  CHECK(out
        == "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\n"
           "Content-Type: application/json\r\nContent-Length: 2\r\n"
           "Connection: close\r\n\r\n");
}

TEST_CASE("a response head cannot be split by what a route copied") {
  std::string out;
  http_fields headers{{"X-Echo", "a\r\nSet-Cookie: evil=1"},
                      {"Bad\r\nName", "x"},
                      {"Content-Length", "999"},
                      {"Connection", "keep-alive"},
                      {"Transfer-Encoding", "chunked"}};
  write_response_head(out, 200, headers, "text/plain\r\nX: y", 0, true);
  CHECK(out
        == "HTTP/1.1 200 OK\r\nX-Echo: a  Set-Cookie: evil=1\r\n"
           "Content-Type: text/plain  X: y\r\nContent-Length: 0\r\n\r\n");
}

TEST_CASE("a response head has no length where there is no body") {
  std::string out;
  write_response_head(out, 204, {}, "", 0, true);
  CHECK(out == "HTTP/1.1 204 No Content\r\n\r\n");
  write_response_head(out, 101, {{"Upgrade", "websocket"}}, "", 0, true);
  CHECK(out
        == "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n");
}

TEST_CASE("a response head keeps a route's own content type") {
  std::string out;
  write_response_head(out, 200, {{"content-type", "text/html"}}, "", 4, true);
  CHECK(out
        == "HTTP/1.1 200 OK\r\ncontent-type: text/html\r\n"
           "Content-Length: 4\r\n\r\n");
}
