#include "bridges/http/http_message.hpp"
#include "bridges/http/router.hpp"
#include "bridges/http_context.hpp"
#include "bridges/route_table.hpp"
#include "bridges/routes/routes.hpp"

#include <catch2/catch.hpp>

#include <stdexcept>

using namespace streamb;

TEST_CASE("a target splits into its decoded path and query parameters") {
  std::string path;
  std::multimap<std::string, std::string> params;
  parse_target("/api/v1/webhooks/events/stripe%3Aevt_1?window=5m&x=a+b&x=%2F&"
               "flag&bad=%zz",
               path, params);
  CHECK(path == "/api/v1/webhooks/events/stripe:evt_1");
  CHECK(params.find("window")->second == "5m");
  CHECK(params.count("x") == 2);
  CHECK(params.lower_bound("x")->second == "a b");
  CHECK(params.find("flag")->second.empty());
  // An invalid escape is kept as sent, never read past the end.
  CHECK(params.find("bad")->second == "%zz");
  CHECK(percent_decode("%4", false) == "%4");
  CHECK(percent_decode("a+b%20c", false) == "a+b c");
}

TEST_CASE("header names are case-insensitive; set_header replaces") {
  http_request req;
  req.headers.emplace("Content-Type", "application/json");
  CHECK(req.get_header_value("content-type") == "application/json");
  CHECK(req.has_header("CONTENT-TYPE"));
  CHECK(req.get_header_value("Missing", "fallback") == "fallback");
  http_response res;
  res.set_header("Retry-After", "1");
  res.set_header("retry-after", "5");
  CHECK(res.headers.size() == 1);
  CHECK(res.headers.begin()->second == "5");
}

TEST_CASE("every row of the route table has exactly one handler") {
  auto ctx = std::make_shared<const http_context>();
  auto routes = make_routes(ctx);
  std::vector<std::string> missing;
  for (auto* row : routes->unhandled())
    missing.push_back(std::string{row->method} + " " + row->pattern);
  CHECK(missing.empty());
  router r;
  CHECK_THROWS_AS(r.get("/no/such/row", [](auto&, auto&) {}), std::logic_error);
  r.get("/healthz", [](auto&, auto&) {});
  CHECK_THROWS_AS(r.get("/healthz", [](auto&, auto&) {}), std::logic_error);
}
