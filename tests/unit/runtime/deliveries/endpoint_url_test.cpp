#include "runtime/deliveries/endpoint_url.hpp"

#include <catch2/catch.hpp>

using namespace streamb;

TEST_CASE("endpoint URLs: scheme, host, port and path are read") {
  std::string why;
  auto a = parse_endpoint_url("https://hooks.example.com/in?k=1", why);
  REQUIRE(a);
  CHECK(a->tls);
  CHECK(a->host == "hooks.example.com");
  CHECK(a->port == 443);
  CHECK(a->path == "/in?k=1");
  CHECK(a->origin() == "https://hooks.example.com:443");
  CHECK(a->display() == "https://hooks.example.com:443/in"); // no query
  auto b = parse_endpoint_url("http://127.0.0.1:8081", why);
  REQUIRE(b);
  CHECK_FALSE(b->tls);
  CHECK(b->port == 8081);
  CHECK(b->path == "/");
  auto c = parse_endpoint_url("http://[::1]:9000/x", why);
  REQUIRE(c);
  CHECK(c->host == "::1");
  CHECK(c->origin() == "http://[::1]:9000");
  auto d = parse_endpoint_url("http://h?x=1", why);
  REQUIRE(d);
  CHECK(d->path == "/?x=1");
}

TEST_CASE("endpoint URLs: what is not one is refused with the reason") {
  struct bad {
    const char* url;
    const char* reason;
  };
  for (auto& x : std::vector<bad>{
         {"ftp://h/x", "http://"},
         {"hooks.example.com/x", "http://"},
         {"http:///x", "no host"},
         {"http://user:pw@h/x", "user:password"},
         {"http://h:0/x", "port"},
         {"http://h:70000/x", "port"},
         {"http://h:8a/x", "port"},
         {"http://h/x#frag", "fragment"},
         {"http://h/a b", "spaces"},
         {"http://h\x01/", "control"},
         {"http://ho$t/", "host"},
         {"http://[::1/", "IPv6"},
       }) {
    INFO(x.url);
    std::string why;
    CHECK_FALSE(parse_endpoint_url(x.url, why));
    CHECK(why.find(x.reason) != std::string::npos);
  }
}
