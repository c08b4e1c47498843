#include "runtime/config/config.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <ostream>
#include <string>
#include <vector>

#ifndef STREAMB_SOURCE_DIR
#  define STREAMB_SOURCE_DIR "."
#endif

namespace streamb {

// Lets Catch print the problem list when an assertion fails.
std::ostream& operator<<(std::ostream& out, const config_problem& x) {
  return out << x.path << ": " << x.message;
}

} // namespace streamb

using namespace streamb;

namespace {

using problem_list = std::vector<config_problem>;

problem_list problems_in(const std::string& json_text) {
  try {
    load_config_text(json_text);
  } catch (const config_error& e) {
    return e.problems();
  }
  FAIL("expected a config_error for: " << json_text);
  return {};
}

/// Matches a problem list that has a problem at exactly `path` whose message
/// contains `fragment`.
class has_problem_at : public Catch::MatcherBase<problem_list> {
public:
  has_problem_at(std::string path, std::string fragment = "")
    : path_(std::move(path)), fragment_(std::move(fragment)) {}

  bool match(const problem_list& xs) const override {
    for (const auto& x : xs)
      if (x.path == path_ && x.message.find(fragment_) != std::string::npos)
        return true;
    return false;
  }

  std::string describe() const override {
    return "has a problem at " + path_
      + (fragment_.empty() ? "" : " mentioning \"" + fragment_ + "\"");
  }

private:
  std::string path_;
  std::string fragment_;
};

// The smallest valid config; tests splice their mistakes into copies of it.
constexpr const char* minimal
  = R"({"services": {"stripe": {"budget_usd_month": 50}}})";

} // namespace

TEST_CASE("the embedded default config is valid") {
  auto cfg = load_config_file(STREAMB_SOURCE_DIR "/config/streamb.json");
  CHECK(cfg.node.name == "local");
  CHECK(cfg.node.http.host == "127.0.0.1");
  CHECK(cfg.node.http.port == 8080);
  CHECK(cfg.node.http.threads == 64);
  CHECK(cfg.node.http.backlog == 1024);
  CHECK(cfg.node.http.max_body_bytes == 8388608);
  CHECK(cfg.node.http.public_url == "http://127.0.0.1:8080");
  CHECK(cfg.node.actor.port == 4242);
  CHECK(cfg.store.kind == "memory");
  CHECK(cfg.auth.tokens.empty());
  CHECK(cfg.auth.open_reads);
  // A first run on loopback answers every route; anything else needs keys.
  CHECK(cfg.auth.allow_unauthenticated);
  CHECK(exposure_problems(cfg).empty());
  CHECK(cfg.agents.token_sha256.empty());
  std::vector<std::string> names;
  for (const auto& s : cfg.services) {
    names.push_back(s.name);
    CHECK_FALSE(s.webhook.has_value());
    CHECK_FALSE(s.hard_cap);
  }
  // One node, no cluster: every service runs here.
  CHECK(cfg.cluster.nodes.empty());
  CHECK(names
        == std::vector<std::string>{"stripe", "twilio", "sendgrid", "samsara",
                                    "maps", "airtable"});
  auto twilio = cfg.find_service("twilio");
  REQUIRE(twilio != nullptr);
  CHECK(twilio->budget_usd_month == 200);
  CHECK(twilio->cost.per_unit_usd == Approx(0.0079));
  CHECK(twilio->cost.unit == "sms_segment");
  auto stripe = cfg.find_service("stripe");
  REQUIRE(stripe != nullptr);
  CHECK(stripe->limits.burst.capacity == 25);
  CHECK(stripe->limits.sustained.limit == 1000);
  CHECK(stripe->limits.sustained.window_s == 60);
  CHECK(stripe->alerts.p95_ms == 800);
  CHECK(cfg.find_service("maps")->cost.per_call_usd == Approx(0.005));
  CHECK(cfg.find_service("nope") == nullptr);
  CHECK(cfg.cluster.nodes.empty());
}

TEST_CASE("the production example is valid once its variables are set") {
  const std::string hex = "ABCDEF0123456789abcdef0123456789"
                          "abcdef0123456789abcdef0123456789";
  for (auto name :
       {"STRIPE", "TWILIO", "SENDGRID", "SAMSARA", "MAPS", "AIRTABLE"}) {
    auto var = std::string{name} + "_WEBHOOK_SECRET";
    setenv(var.c_str(), ("secret-of-" + var).c_str(), 1);
  }
  setenv("STREAMB_OPS_TOKEN_SHA256", hex.c_str(), 1);
  setenv("STREAMB_ADMIN_TOKEN_SHA256", std::string(64, 'f').c_str(), 1);
  setenv("STREAMB_AGENT_TOKEN_SHA256", hex.c_str(), 1);
  auto cfg = load_config_file(STREAMB_SOURCE_DIR
                              "/config/examples/production.json");
  CHECK(cfg.store.kind == "redis");
  CHECK(cfg.store.url == "redis://127.0.0.1:6379/0");
  REQUIRE(cfg.services.size() == 6);
  for (const auto& s : cfg.services)
    CHECK(s.webhook.has_value());
  auto stripe = cfg.find_service("stripe");
  REQUIRE(stripe != nullptr);
  CHECK(stripe->webhook->scheme == "stripe");
  CHECK(stripe->webhook->secrets
        == std::vector<std::string>{"secret-of-STRIPE_WEBHOOK_SECRET"});
  CHECK(cfg.find_service("maps")->webhook->scheme == "standard");
  REQUIRE(cfg.auth.tokens.size() == 2);
  CHECK(cfg.auth.tokens[0].role == "admin");
  CHECK(cfg.auth.tokens[1].role == "operator");
  CHECK(exposure_problems(cfg).empty());
  // Hashes are normalized to lower case.
  CHECK(cfg.auth.tokens[1].sha256
        == "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789");
}

TEST_CASE("omitted blocks and fields take the struct defaults") {
  auto cfg = load_config_text(minimal);
  REQUIRE(cfg.services.size() == 1);
  const auto& s = cfg.services[0];
  CHECK(s.name == "stripe");
  CHECK(s.budget_usd_month == 50);
  CHECK(s.limits.burst.capacity == 0);
  CHECK(s.limits.sustained.window_s == 60);
  CHECK(s.limits.daily.time_zone == "UTC");
  CHECK(s.alerts.clear_ratio == Approx(0.8));
  CHECK(s.breaker.half_open_probes == 3);
  CHECK_FALSE(s.webhook.has_value());
  CHECK(cfg.node.http.port == 8080);
  CHECK(cfg.store.kind == "memory");
  CHECK(cfg.cluster.nodes.empty());
}

TEST_CASE("an unknown key is reported with its path at every level") {
  auto ps = problems_in(R"({
    "nodes": {},
    "node": {"http": {"prot": 1}},
    "services": {"stripe": {"budget_usd_month": 50,
                            "limits": {"burst": {"capacty": 5}}}}})");
  CHECK_THAT(ps, has_problem_at("$.nodes", "unknown key"));
  CHECK_THAT(ps, has_problem_at("$.node.http.prot", "unknown key"));
  CHECK_THAT(ps,
             has_problem_at("$.services.stripe.limits.burst.capacty",
                            "unknown key"));
  CHECK(ps.size() == 3);
}

TEST_CASE("a value of the wrong type is reported with its path") {
  auto ps = problems_in(R"({
    "node": {"http": {"port": "8080", "threads": 1.5, "max_body_bytes": 4096.0},
             "actor": {"port": 70000}},
    "metrics": {"retention_h": true},
    "services": {"stripe": {"budget_usd_month": "50", "hard_cap": "yes"}},
    "cluster": {"nodes": [{"name": "a", "actor_port": 0}],
                "secret": "0123456789abcdef", "placement": {"stripe": "a"}}})");
  CHECK_THAT(ps, has_problem_at("$.node.http.port", "expected an integer"));
  CHECK_THAT(ps, has_problem_at("$.node.http.threads", "expected an integer"));
  CHECK_THAT(ps, has_problem_at("$.node.actor.port", "65535"));
  CHECK_THAT(ps, has_problem_at("$.metrics.retention_h", "got a boolean"));
  CHECK_THAT(ps,
             has_problem_at("$.services.stripe.budget_usd_month",
                            "expected a number, got a string"));
  CHECK_THAT(
    ps, has_problem_at("$.services.stripe.hard_cap", "expected a boolean"));
  CHECK_THAT(
    ps, has_problem_at("$.cluster.nodes[0].actor_port", "between 1 and 65535"));
  // An integral double is an integer.
  CHECK_THAT(ps, !has_problem_at("$.node.http.max_body_bytes"));
  CHECK(ps.size() == 7);
}

TEST_CASE("port 0 on the node's own listeners means pick a free port") {
  auto cfg = load_config_text(R"({"node": {"http": {"port": 0},
                                           "actor": {"port": 0}},
                                  "services": {"x": {"budget_usd_month": 1}}})");
  CHECK(cfg.node.http.port == 0);
  CHECK(cfg.node.actor.port == 0);
}

TEST_CASE("negative budgets, costs and limits are rejected") {
  auto ps = problems_in(R"({"services": {"stripe": {
    "budget_usd_month": -1,
    "cost": {"per_call_usd": -0.5},
    "limits": {"burst": {"capacity": -5, "refill_per_s": 1},
               "daily": {"limit": -100}}}}})");
  CHECK_THAT(ps,
             has_problem_at("$.services.stripe.budget_usd_month",
                            "must not be negative"));
  CHECK_THAT(ps,
             has_problem_at("$.services.stripe.cost.per_call_usd",
                            "must not be negative"));
  CHECK_THAT(ps, has_problem_at("$.services.stripe.limits.burst.capacity"));
  CHECK_THAT(ps,
             has_problem_at("$.services.stripe.limits.daily.limit",
                            "must not be negative"));
  CHECK(ps.size() == 4);
}

TEST_CASE("a duplicate service name is reported") {
  auto ps = problems_in(R"({"services": {
    "stripe": {"budget_usd_month": 50},
    "twilio": {"budget_usd_month": 10},
    "stripe": {"budget_usd_month": 60}}})");
  REQUIRE(ps.size() == 1);
  CHECK_THAT(ps, has_problem_at("$.services.stripe", "duplicate service name"));
}

TEST_CASE("a duplicate key is reported wherever it is") {
  auto ps = problems_in(R"({
    "node": {"http": {"port": 1, "port": 2}},
    "auth": {"tokens": [
      {"name": "a", "role": "viewer", "sha256": "%"},
      {"name": "b", "role": "viewer", "role": "admin"}]},
    "services": {"stripe": {"budget_usd_month": 50}}})");
  CHECK_THAT(ps, has_problem_at("$.node.http.port", "duplicate key"));
  CHECK_THAT(ps, has_problem_at("$.auth.tokens[1].role", "duplicate key"));
}

TEST_CASE("a service name that does not fit in a URL is rejected") {
  auto ps = problems_in(R"({"services": {
    "Stripe": {"budget_usd_month": 1},
    "my service": {"budget_usd_month": 1},
    "-x": {"budget_usd_month": 1},
    "ok_1-b": {"budget_usd_month": 1}}})");
  CHECK_THAT(ps, has_problem_at("$.services.Stripe", "[a-z0-9][a-z0-9_-]*"));
  CHECK_THAT(ps, has_problem_at("$.services[\"my service\"]"));
  CHECK_THAT(ps, has_problem_at("$.services.-x"));
  CHECK(ps.size() == 3);
}

TEST_CASE("at least one service is required") {
  CHECK_THAT(problems_in(R"({"services": {}})"),
             has_problem_at("$.services", "at least one service"));
  CHECK_THAT(problems_in(R"({})"), has_problem_at("$.services", "required"));
}

TEST_CASE("environment references are replaced in every string value") {
  setenv("STREAMB_TEST_HOST", "10.0.0.7", 1);
  setenv("STREAMB_TEST_DB", "3", 1);
  auto cfg = load_config_text(R"({
    "store": {"kind": "redis",
              "url": "redis://${env:STREAMB_TEST_HOST}:6379/${env:STREAMB_TEST_DB}"},
    "services": {"stripe": {"budget_usd_month": 50}}})");
  CHECK(cfg.store.url == "redis://10.0.0.7:6379/3");
}

TEST_CASE("an unset variable is named and no variable's value is shown") {
  const std::string secret = "s3cret-value-never-printed";
  setenv("STREAMB_TEST_SECRET", secret.c_str(), 1);
  unsetenv("STREAMB_TEST_UNSET");
  try {
    load_config_text(R"({
      "store": {"kind": "${env:STREAMB_TEST_SECRET}"},
      "services": {"stripe": {"budget_usd_month": 50, "webhook": {
        "scheme": "stripe",
        "secrets": ["${env:STREAMB_TEST_SECRET}/${env:STREAMB_TEST_UNSET}"]}}}})");
    FAIL("expected a config_error");
  } catch (const config_error& e) {
    const auto& ps = e.problems();
    CHECK_THAT(ps,
               has_problem_at("$.services.stripe.webhook.secrets[0]",
                              "environment variable STREAMB_TEST_UNSET "
                              "is not set"));
    // The bad store kind came from the environment: reported, not shown.
    CHECK_THAT(ps, has_problem_at("$.store.kind"));
    CHECK(std::string{e.what()}.find(secret) == std::string::npos);
    for (const auto& p : ps)
      CHECK(p.message.find(secret) == std::string::npos);
  }
}

TEST_CASE("malformed JSON is reported at $ with its line and column") {
  auto ps = problems_in("{\n  \"services\": {\n    \"stripe\": {,}\n  }\n}");
  REQUIRE(ps.size() == 1);
  CHECK(ps[0].path == "$");
  CHECK_THAT(ps[0].message, Catch::Contains("line 3, column 16"));
  CHECK_THAT(problems_in(""), has_problem_at("$", "malformed JSON"));
  CHECK_THAT(problems_in(std::string{minimal} + " {}"),
             has_problem_at("$", "malformed JSON"));
  CHECK_THAT(problems_in("[]"), has_problem_at("$", "expected an object"));
}

TEST_CASE("an unknown store kind is rejected") {
  auto ps = problems_in(R"({"store": {"kind": "postgres"},
                            "services": {"x": {"budget_usd_month": 1}}})");
  REQUIRE(ps.size() == 1);
  CHECK_THAT(ps, has_problem_at("$.store.kind", "\"postgres\""));
}

TEST_CASE("a redis store needs a redis:// url") {
  CHECK_THAT(problems_in(R"({"store": {"kind": "redis"},
                             "services": {"x": {"budget_usd_month": 1}}})"),
             has_problem_at("$.store.url", "required"));
  CHECK_THAT(problems_in(R"({"store": {"kind": "redis",
                                       "url": "http://127.0.0.1:6379"},
                             "services": {"x": {"budget_usd_month": 1}}})"),
             has_problem_at("$.store.url", "redis://"));
}

TEST_CASE("TLS on the listener needs both PEM files, and readable ones") {
  CHECK_THAT(problems_in(R"({"node": {"http": {"tls": {"cert_file": "x"}}},
                             "services": {"x": {"budget_usd_month": 1}}})"),
             has_problem_at("$.node.http.tls.key_file", "required"));
  auto ps = problems_in(R"({"node": {"http": {"tls": {
                              "cert_file": "/nonexistent/cert.pem",
                              "key_file": "/nonexistent/key.pem"}}},
                            "services": {"x": {"budget_usd_month": 1}}})");
  CHECK_THAT(ps,
             has_problem_at("$.node.http.tls.cert_file",
                            "cannot read /nonexistent/cert.pem"));
  CHECK_THAT(ps,
             has_problem_at("$.node.http.tls.key_file",
                            "cannot read /nonexistent/key.pem"));
  CHECK_THAT(problems_in(R"({"node": {"http": {"tls": {"cert": "x"}}},
                             "services": {"x": {"budget_usd_month": 1}}})"),
             has_problem_at("$.node.http.tls.cert", "unknown key"));
}

TEST_CASE("a webhook needs a known scheme and a non-empty secret") {
  auto ps = problems_in(R"({"services": {
    "stripe": {"budget_usd_month": 1,
               "webhook": {"scheme": "paypal", "secrets": ["x"]}},
    "twilio": {"budget_usd_month": 1,
               "webhook": {"scheme": "twilio", "secrets": ["", ""]}},
    "maps": {"budget_usd_month": 1, "webhook": {"scheme": "standard"}}}})");
  CHECK_THAT(ps, has_problem_at("$.services.stripe.webhook.scheme", "paypal"));
  CHECK_THAT(ps,
             has_problem_at("$.services.twilio.webhook.secrets", "non-empty"));
  CHECK_THAT(ps, has_problem_at("$.services.maps.webhook.secrets", "required"));
  // Twilio signs the public URL, which this config does not set.
  CHECK_THAT(ps, has_problem_at("$.node.http.public_url", "twilio"));
}

TEST_CASE("auth tokens need a known role and a SHA-256") {
  auto ps = problems_in(R"({
    "auth": {"tokens": [{"name": "ops", "sha256": "abc", "role": "root"}]},
    "agents": {"token_sha256": "xyz"},
    "services": {"x": {"budget_usd_month": 1}}})");
  CHECK_THAT(ps, has_problem_at("$.auth.tokens[0].role", "operator"));
  CHECK_THAT(ps, has_problem_at("$.auth.tokens[0].sha256", "64 hex"));
  CHECK_THAT(ps, has_problem_at("$.agents.token_sha256", "64 hex"));
}

TEST_CASE("agents.expected takes names and role:R; an empty entry or a bare "
          "role: is refused") {
  auto cfg = load_config_text(R"({
    "agents": {"expected": ["ops-1", "role:frontend"]},
    "services": {"stripe": {"budget_usd_month": 50}}})");
  CHECK(cfg.agents.expected
        == std::vector<std::string>{"ops-1", "role:frontend"});
  auto ps = problems_in(R"({
    "agents": {"expected": ["", "role:", 7]},
    "services": {"stripe": {"budget_usd_month": 50}}})");
  CHECK_THAT(ps, has_problem_at("$.agents.expected[0]", "role:ROLE"));
  CHECK_THAT(ps, has_problem_at("$.agents.expected[1]", "role:ROLE"));
  CHECK_THAT(ps, has_problem_at("$.agents.expected[2]"));
}

TEST_CASE("node.http.access_log is off unless set") {
  CHECK_FALSE(load_config_text(minimal).node.http.access_log);
  auto cfg = load_config_text(R"({"node": {"http": {"access_log": true}},
    "services": {"stripe": {"budget_usd_month": 50}}})");
  CHECK(cfg.node.http.access_log);
}

TEST_CASE("numbers outside their range are rejected") {
  auto ps = problems_in(R"({
    "node": {"http": {"threads": 0, "max_body_bytes": 1000}},
    "metrics": {"snapshot_interval_s": 0},
    "services": {"x": {"budget_usd_month": 1,
                       "alerts": {"clear_ratio": 0, "error_rate": 1.5},
                       "breaker": {"open_s": 0}}}})");
  CHECK_THAT(ps, has_problem_at("$.node.http.threads", "between 1 and"));
  CHECK_THAT(ps, has_problem_at("$.node.http.max_body_bytes", "1024"));
  CHECK_THAT(ps, has_problem_at("$.metrics.snapshot_interval_s"));
  CHECK_THAT(ps, has_problem_at("$.services.x.alerts.clear_ratio", "(0, 1]"));
  CHECK_THAT(ps, has_problem_at("$.services.x.alerts.error_rate", "(0, 1]"));
  CHECK_THAT(ps, has_problem_at("$.services.x.breaker.open_s"));
  CHECK(ps.size() == 6);
}

TEST_CASE("placement must name configured services and nodes") {
  auto ps = problems_in(R"({
    "services": {"stripe": {"budget_usd_month": 1},
                 "maps": {"budget_usd_month": 1}},
    "cluster": {"nodes": [{"name": "a"}, {"name": "a", "actor_port": 4243}],
                "secret": "0123456789abcdef",
                "placement": {"stripe": ["a", "b"], "ghost": "a"}}})");
  CHECK_THAT(ps, has_problem_at("$.cluster.placement.stripe", "\"b\""));
  CHECK_THAT(ps, has_problem_at("$.cluster.placement.ghost", "ghost"));
  CHECK_THAT(ps, has_problem_at("$.cluster.nodes[1].name", "duplicate"));
  CHECK_THAT(ps, has_problem_at("$.cluster.placement", "\"maps\""));
  CHECK(ps.size() == 4);
}

TEST_CASE("a cluster places each service on nodes in order and has a secret") {
  auto ps = problems_in(R"({
    "services": {"stripe": {"budget_usd_month": 1},
                 "maps": {"budget_usd_month": 1}},
    "cluster": {"nodes": [{"name": "a"}, {"name": "b", "actor_port": 4243}],
                "placement": {"stripe": ["a", "a"], "maps": []}}})");
  CHECK_THAT(ps, has_problem_at("$.cluster.placement.stripe", "twice"));
  CHECK_THAT(ps, has_problem_at("$.cluster.placement.maps", "at least one"));
  CHECK_THAT(ps, has_problem_at("$.cluster.secret", "required"));
  CHECK(ps.size() == 3);
  auto cfg = load_config_text(R"({
    "services": {"stripe": {"budget_usd_month": 1},
                 "maps": {"budget_usd_month": 1}},
    "cluster": {"nodes": [{"name": "a"}, {"name": "b", "actor_port": 4243}],
                "secret": "0123456789abcdef", "failover_ms": 2000,
                "placement": {"stripe": ["b", "a"], "maps": "a"}}})");
  CHECK(cfg.cluster.placement.at("stripe")
        == std::vector<std::string>{"b", "a"});
  CHECK(cfg.cluster.placement.at("maps") == std::vector<std::string>{"a"});
  CHECK(cfg.cluster.failover_ms == 2000);
  REQUIRE(cfg.cluster.find_node("b") != nullptr);
  CHECK(cfg.cluster.find_node("b")->actor_port == 4243);
  // Fewer than three heartbeats per failover delay: one late answer would
  // move services and lose the housekeeping lease.
  auto tight = problems_in(R"({
    "services": {"stripe": {"budget_usd_month": 1}},
    "cluster": {"failover_ms": 1000, "heartbeat_ms": 500}})");
  CHECK_THAT(tight,
             has_problem_at("$.cluster.failover_ms", "3 x heartbeat_ms"));
  CHECK(tight.size() == 1);
  auto three = load_config_text(R"({
    "services": {"stripe": {"budget_usd_month": 1}},
    "cluster": {"failover_ms": 1500, "heartbeat_ms": 500}})");
  CHECK(three.cluster.failover_ms == 1500);
}

TEST_CASE("every problem in a file is reported, not only the first") {
  try {
    load_config_text(R"({
      "store": {"kind": "disk"},
      "metrics": {"retention_h": -1},
      "colour": "blue",
      "services": {"Bad": {"budget_usd_month": -3},
                   "ok": {"budget_usd_month": 1, "breaker": {"min_calls": "x"}}}})");
    FAIL("expected a config_error");
  } catch (const config_error& e) {
    const auto& ps = e.problems();
    CHECK_THAT(ps, has_problem_at("$.store.kind"));
    CHECK_THAT(ps, has_problem_at("$.metrics.retention_h"));
    CHECK_THAT(ps, has_problem_at("$.colour", "unknown key"));
    CHECK_THAT(ps, has_problem_at("$.services.Bad"));
    CHECK_THAT(ps, has_problem_at("$.services.Bad.budget_usd_month"));
    CHECK_THAT(ps, has_problem_at("$.services.ok.breaker.min_calls"));
    REQUIRE(ps.size() == 6);
    // what() lists them as `path: message`, one per line.
    std::string what = e.what();
    CHECK(std::count(what.begin(), what.end(), '\n') == 5);
    CHECK_THAT(what, Catch::Contains("$.colour: unknown key"));
  }
}

TEST_CASE("an unreadable file is reported at $ with the OS reason") {
  try {
    load_config_file("/nonexistent/streamb.json");
    FAIL("expected a config_error");
  } catch (const config_error& e) {
    REQUIRE(e.problems().size() == 1);
    CHECK(e.problems()[0].path == "$");
    CHECK_THAT(e.problems()[0].message,
               Catch::Contains("No such file or directory"));
  }
}

TEST_CASE("agent settings: timeouts per event type, limits, and their "
          "problems") {
  auto cfg = load_config_text(R"({
    "agents": {"heartbeat_interval_s": 2, "missed_heartbeats": 4,
               "response_timeout_s": 7, "max_attempts": 5,
               "max_in_flight": 32, "undeliverable_after_s": 60,
               "event_retention_h": 48,
               "response_timeouts_s": {"database_coordination": 120}},
    "services": {"stripe": {"budget_usd_month": 50}}})");
  CHECK(cfg.agents.heartbeat_interval_s == 2);
  CHECK(cfg.agents.missed_heartbeats == 4);
  CHECK(cfg.agents.response_timeout_s == 7);
  CHECK(cfg.agents.max_attempts == 5);
  CHECK(cfg.agents.max_in_flight == 32);
  CHECK(cfg.agents.undeliverable_after_s == 60);
  CHECK(cfg.agents.event_retention_h == 48);
  CHECK(cfg.agents.response_timeouts_s.at("database_coordination") == 120);
  auto defaults = load_config_text(minimal);
  CHECK(defaults.agents.response_timeout_s == 10);
  CHECK(defaults.agents.max_attempts == 3);
  CHECK(defaults.agents.max_in_flight == 8);
  CHECK(defaults.agents.response_timeouts_s.empty());

  auto ps = problems_in(R"({
    "agents": {"max_attempts": 0, "max_in_flight": 0,
               "response_timeouts_s": {"telepathy": 5, "webhook": 0}},
    "services": {"stripe": {"budget_usd_month": 50}}})");
  CHECK_THAT(ps, has_problem_at("$.agents.max_attempts"));
  CHECK_THAT(ps, has_problem_at("$.agents.max_in_flight"));
  CHECK_THAT(ps,
             has_problem_at("$.agents.response_timeouts_s.telepathy",
                            "unknown event type"));
  CHECK_THAT(ps, has_problem_at("$.agents.response_timeouts_s.webhook"));
  CHECK(ps.size() == 4);
}

TEST_CASE("budget levels, throttle, escalation and the advisor are read from "
          "the config") {
  auto cfg = load_config_text(R"({
    "advisor": {"observation_days": 14, "headroom": 2, "min_confidence": 0.9,
                "persist_interval_s": 30},
    "services": {"x": {"budget_usd_month": 1,
                       "alert_levels_percent": [50, 80],
                       "throttle_percent": 97.5,
                       "alerts": {"escalate_after_s": [60, 600],
                                  "anomaly_sigmas": 4,
                                  "anomaly_min_observations": 10}}}})");
  auto& x = cfg.services.at(0);
  CHECK(x.alert_levels_bp == std::vector<uint32_t>{5000, 8000});
  CHECK(x.throttle_bp == 9750);
  CHECK(x.alerts.escalate_after_s == std::vector<uint32_t>{60, 600});
  CHECK(x.alerts.anomaly_sigmas == 4);
  CHECK(x.alerts.anomaly_min_observations == 10);
  CHECK(cfg.advisor.observation_days == 14);
  CHECK(cfg.advisor.headroom == 2);
  CHECK(cfg.advisor.min_confidence == 0.9);
  CHECK(cfg.advisor.persist_interval_s == 30);
  auto defaults = load_config_text(
    R"({"services": {"x": {"budget_usd_month": 1}}})");
  CHECK(defaults.services.at(0).alert_levels_bp
        == std::vector<uint32_t>{7500, 9000});
  CHECK(defaults.services.at(0).throttle_bp == 9500);
  CHECK(defaults.advisor.observation_days == 7);
  CHECK(defaults.advisor.headroom == 1.5);
  CHECK(defaults.advisor.min_confidence == 0.8);
}

TEST_CASE("bad budget levels, escalation steps and advisor settings are "
          "rejected") {
  auto ps = problems_in(R"({
    "advisor": {"observation_days": 0, "headroom": 0.5, "min_confidence": 0,
                "extra": 1},
    "services": {"x": {"budget_usd_month": 1,
                       "alert_levels_percent": [90, 75],
                       "throttle_percent": 120,
                       "alerts": {"escalate_after_s": [1, 2, 3]}},
                 "y": {"budget_usd_month": 1,
                       "alert_levels_percent": [0],
                       "alerts": {"escalate_after_s": "soon",
                                  "anomaly_sigmas": -1}}}})");
  CHECK_THAT(ps, has_problem_at("$.advisor.observation_days"));
  CHECK_THAT(ps, has_problem_at("$.advisor.headroom"));
  CHECK_THAT(ps, has_problem_at("$.advisor.min_confidence"));
  CHECK_THAT(ps, has_problem_at("$.advisor.extra"));
  CHECK_THAT(ps,
             has_problem_at("$.services.x.alert_levels_percent", "ascending"));
  CHECK_THAT(ps, has_problem_at("$.services.x.throttle_percent"));
  CHECK_THAT(
    ps, has_problem_at("$.services.x.alerts.escalate_after_s", "more than 2"));
  CHECK_THAT(ps, has_problem_at("$.services.y.alert_levels_percent[0]"));
  CHECK_THAT(ps,
             has_problem_at("$.services.y.alerts.escalate_after_s", "array"));
  CHECK_THAT(ps, has_problem_at("$.services.y.alerts.anomaly_sigmas"));
  CHECK(ps.size() == 10);
}

TEST_CASE("deliveries.endpoints are read and checked at start") {
  auto cfg = load_config_text(
    R"({"services": {"stripe": {"budget_usd_month": 50,
      "webhook": {"scheme": "stripe", "secrets": ["whsec_a"]}}},
    "deliveries": {"endpoints": [{"name": "ops", "url": "https://ops.example/in",
      "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
      "events": ["cost_alert"], "webhooks": ["stripe"], "timeout_s": 3,
      "retry_delays_s": [1, 2], "max_in_flight": 2}]}})");
  REQUIRE(cfg.deliveries.endpoints.size() == 1);
  auto& e = cfg.deliveries.endpoints[0];
  CHECK(e.name == "ops");
  CHECK(e.events == std::vector<std::string>{"cost_alert"});
  CHECK(e.webhooks == std::vector<std::string>{"stripe"});
  CHECK(e.timeout_s == 3);
  CHECK(e.retry_delays_s == std::vector<uint32_t>{1, 2});
  CHECK(e.max_in_flight == 2);

  auto problems = problems_in(
    R"({"services": {"stripe": {"budget_usd_month": 50}},
    "deliveries": {"endpoints": [
      {"name": "a", "url": "ftp://x/", "secret": "not base64!",
       "events": ["nope", "webhook"], "webhooks": ["stripe"], "colour": 1,
       "ca_file": "/nonexistent/ca.pem"},
      {"name": "a", "url": "http://x/", "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}]}})");
  auto at = [](int i, const char* key) {
    return "$.deliveries.endpoints[" + std::to_string(i) + "]." + key;
  };
  CHECK_THAT(problems, has_problem_at(at(0, "url"), "http://"));
  CHECK_THAT(problems, has_problem_at(at(0, "secret"), "whsec_"));
  CHECK_THAT(problems, has_problem_at(at(0, "events") + "[0]", "unknown"));
  // stripe has no webhook in this config
  CHECK_THAT(problems, has_problem_at(at(0, "webhooks") + "[0]", "stripe"));
  CHECK_THAT(problems, has_problem_at(at(0, "colour")));
  CHECK_THAT(problems, has_problem_at(at(0, "events") + "[1]", "by service"));
  CHECK_THAT(problems, has_problem_at(at(0, "ca_file"), "readable"));
  CHECK_THAT(problems, has_problem_at(at(1, "name"), "repeats"));
  CHECK_THAT(problems, has_problem_at(at(1, "events"), "at least one"));
}
