// Credentials that change at run time: managed webhook secrets on two nodes,
// agent keys revoked under a live agent, SIGHUP reloads, and a sweep of
// every output for the secrets that went through a node.

#include "runtime/auth/api_key.hpp"
#include "runtime/core/crypto.hpp"
#include "tests/integration/auth_support.hpp"
#include "tests/integration/stripe_signing.hpp"

#include <boost/json/serialize.hpp>

#include <csignal>
#include <cstdlib>

using namespace streamb;
using namespace streamb::test;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

/// The sealing key the nodes of a test share (set before they start).
const std::string sealing_key(64, '7');

void with_stripe_webhooks(redis_config_file& cfg) {
  cfg.replace(R"("stripe": {)",
              R"("stripe": {"webhook": {"scheme": "stripe", "secrets": )"
              R"(["whsec_config"], "tolerance_s": 300},)");
  cfg.save();
}

/// Posts a Stripe event signed with `secret`; returns the status.
int post_signed(httplib::Client& client, const std::string& secret) {
  static int n = 0;
  auto body = stripe_event("evt_auth_" + std::to_string(getpid()) + "_"
                           + std::to_string(++n));
  httplib::Headers headers{
    {"Stripe-Signature", stripe_signature(secret, body, now_s())}};
  auto res = client.Post("/webhooks/stripe", headers, body, "application/json");
  return res ? res->status : -1;
}

/// A node whose log lines (stderr) are captured with its stdout.
struct logged_node {
  node_process process;
  uint16_t port;
  httplib::Client client;

  explicit logged_node(const std::string& config_path)
    : process(STREAMB_BINARY, run_args({}, config_path), true),
      port(process.wait_for_port()), client("127.0.0.1", port) {
    REQUIRE(port != 0);
    client.set_read_timeout(10, 0);
  }
};

} // namespace

TEST_CASE("a managed webhook secret added on one node verifies on another; "
          "retired, it is refused; a node without STREAMB_SECRET_KEY says "
          "why and keeps its config secrets") {
  auth_config cfg{"wh-secrets"};
  with_stripe_webhooks(cfg);
  auto path_b = cfg.write_copy_for_node("b");
  auto path_c = cfg.write_copy_for_node("c");
  setenv("STREAMB_SECRET_KEY", sealing_key.c_str(), 1);
  running_node a{{}, cfg.path};
  running_node b{{}, path_b};
  unsetenv("STREAMB_SECRET_KEY");
  running_node c{{}, path_c};
  auto& admin = cfg.keys.at("admin");
  auto added = send(a.client, "POST", "/api/v1/admin/webhooks/stripe/secrets",
                    admin, R"({"secret": "whsec_managed_1"})");
  REQUIRE(added);
  INFO(added->body);
  REQUIRE(added->status == 201);
  CHECK(added->body.find("whsec_managed_1") == std::string::npos);
  auto id = text_of(json::parse(added->body).as_object(), "id");
  auto managed_on_b = [&] { return post_signed(b.client, "whsec_managed_1"); };
  CHECK(wait_status(managed_on_b, 200, 2s) >= 0ms);
  CHECK(post_signed(b.client, "whsec_config") == 200);
  auto listed = send(b.client, "GET", "/api/v1/admin/webhooks/stripe/secrets",
                     admin);
  REQUIRE(listed);
  CHECK(listed->body.find(id) != std::string::npos);
  CHECK(listed->body.find("whsec_managed_1") == std::string::npos);
  // Node c cannot open managed secrets: it says why, serves config ones.
  auto refused = send(c.client, "POST", "/api/v1/admin/webhooks/stripe/secrets",
                      admin, R"({"secret": "whsec_managed_2"})");
  REQUIRE(refused);
  CHECK(refused->status == 503);
  CHECK(refused->body.find("STREAMB_SECRET_KEY") != std::string::npos);
  auto health = send(c.client, "GET",
                     "/api/v1/stream-b-coordination/health/comprehensive",
                     cfg.keys.at("viewer"));
  REQUIRE(health);
  CHECK(health->body.find("managed webhook secrets are off")
        != std::string::npos);
  CHECK(post_signed(c.client, "whsec_config") == 200);
  CHECK(post_signed(c.client, "whsec_managed_1") == 401);
  // Retired on a: refused on b within a second.
  auto retired = send(a.client, "DELETE",
                      "/api/v1/admin/webhooks/stripe/secrets/" + id, admin);
  REQUIRE(retired);
  CHECK(retired->status == 200);
  auto took = wait_status(managed_on_b, 401, 1s);
  INFO("refused on node b after " << took.count() << " ms");
  CHECK(took >= 0ms);
  CHECK(post_signed(b.client, "whsec_config") == 200);
  // Unknown services and services without webhooks are told apart.
  check_error(send(a.client, "POST", "/api/v1/admin/webhooks/nosuch/secrets",
                   admin, R"({"secret": "x"})"),
              404, "unknown_service");
  check_error(send(a.client, "POST", "/api/v1/admin/webhooks/twilio/secrets",
                   admin, R"({"secret": "x"})"),
              404, "not_found");
  unlink(path_b.c_str());
  unlink(path_c.c_str());
}

TEST_CASE("a revoked agent key disconnects its live agent, which cannot "
          "register again; once agent keys exist, none is refused") {
  auth_config cfg{"agent-keys"};
  cfg.replace(R"("heartbeat_interval_s": 5, "missed_heartbeats": 3)",
              R"("heartbeat_interval_s": 1, "missed_heartbeats": 2)");
  cfg.save();
  running_node node{{}, cfg.path};
  auto& admin = cfg.keys.at("admin");
  auto created = create_key(node.client, admin, "agent", "db-fleet");
  auto key = text_of(created, "key");
  auto actor_port = std::to_string(node.process.actor_port());
  auto agent_args = [&](const std::string& name,
                        const std::string& token) -> std::vector<std::string> {
    std::vector<std::string> xs{"--connect",   "127.0.0.1:" + actor_port,
                                "--name",      name,
                                "--role",      "database",
                                "--subscribe", "database_coordination"};
    if (!token.empty()) {
      xs.push_back("--token");
      xs.push_back(token);
    }
    return xs;
  };
  node_process agent{STREAMB_AGENT_BINARY, agent_args("db-1", key)};
  REQUIRE(agent.wait_for("\"registered\"", 15s));
  node_process anonymous{STREAMB_AGENT_BINARY, agent_args("db-anon", "")};
  CHECK(anonymous.wait_for("\"refused\"", 15s));
  CHECK(anonymous.stop(SIGTERM, 5s) == 1);
  auto revoked = send(node.client, "DELETE",
                      "/api/v1/admin/keys/" + text_of(created, "id"), admin);
  REQUIRE(revoked);
  CHECK(revoked->status == 200);
  // The agent is told at once, registers again, is refused and exits 1.
  CHECK(agent.wait_for("\"refused\"", 5s));
  CHECK(agent.stop(SIGTERM, 5s) == 1);
  auto status = send(node.client, "GET",
                     "/api/v1/stream-b-coordination/agents/status",
                     cfg.keys.at("viewer"));
  REQUIRE(status);
  auto doc = json::parse(status->body);
  for (auto& a : doc.at("agents").as_array())
    if (a.at("name").as_string() == "db-1")
      CHECK(a.at("state").as_string() == "disconnected");
  node_process again{STREAMB_AGENT_BINARY, agent_args("db-1", key)};
  CHECK(again.wait_for("\"refused\"", 15s));
  CHECK(again.stop(SIGTERM, 5s) == 1);
  auto audit = send(node.client, "GET", "/api/v1/audit?limit=1000", admin);
  REQUIRE(audit);
  CHECK(audit->body.find("agent.revoked") != std::string::npos);
}

TEST_CASE("SIGHUP applies a changed limit and a new key and audits it; a "
          "broken file changes nothing") {
  auth_config cfg{"sighup"};
  running_node node{{}, cfg.path};
  auto& op = cfg.keys.at("operator");
  auto admit = [&] {
    auto res = send(node.client, "POST", "/api/v1/admission/stripe", op,
                    R"({"priority": "critical"})");
    return res ? res->status : -1;
  };
  for (int i = 0; i < 3; ++i)
    CHECK(admit() == 200);
  auto new_key = "sbc_" + streamb::to_hex(streamb::random_bytes(32));
  CHECK(send(node.client, "GET", "/api/v1/audit", new_key)->status == 401);
  cfg.replace(R"("burst": {"capacity": 25, "refill_per_s": 25})",
              R"("burst": {"capacity": 2, "refill_per_s": 0.01})");
  cfg.replace(R"({"name": "boot-viewer")",
              R"({"name": "reloaded", "sha256": ")" + auth::key_hash(new_key)
                + R"(", "role": "viewer"}, {"name": "boot-viewer")");
  cfg.save();
  node.process.signal(SIGHUP);
  std::string audit_body;
  auto reloaded = [&] {
    auto res = send(node.client, "GET", "/api/v1/audit?limit=1000", op);
    audit_body = res ? res->body : "";
    return audit_body.find("\"config.reload\"") != std::string::npos ? 1 : 0;
  };
  REQUIRE(wait_status(reloaded, 1, 10s) >= 0ms);
  INFO(audit_body);
  CHECK(audit_body.find("limits.burst.capacity 25 -> 2") != std::string::npos);
  CHECK(audit_body.find("signal:SIGHUP") != std::string::npos);
  CHECK(send(node.client, "GET", "/api/v1/audit", new_key)->status == 200);
  int refused = 0;
  for (int i = 0; i < 3; ++i)
    refused += admit() == 429 ? 1 : 0;
  CHECK(refused >= 1);
  // A broken file: refused, logged, audited; the node keeps what it had.
  write_file(cfg.path, "{\"node\": ");
  node.process.signal(SIGHUP);
  auto refused_reload = [&] {
    auto res = send(node.client, "GET", "/api/v1/audit?limit=1000", op);
    return res && res->body.find("\"outcome\":\"invalid\"") != std::string::npos
      ? 1
      : 0;
  };
  CHECK(wait_status(refused_reload, 1, 10s) >= 0ms);
  CHECK(send(node.client, "GET", "/healthz", "")->status == 200);
  CHECK(send(node.client, "GET", "/api/v1/audit", new_key)->status == 200);
  CHECK(admit() == 429);
}

TEST_CASE("keys and secrets never appear in logs, audit records, key lists "
          "or error messages") {
  auth_config cfg{"no-leaks"};
  with_stripe_webhooks(cfg);
  setenv("STREAMB_SECRET_KEY", sealing_key.c_str(), 1);
  logged_node node{cfg.path};
  unsetenv("STREAMB_SECRET_KEY");
  auto& admin = cfg.keys.at("admin");
  std::vector<std::string> secrets{admin, sealing_key, "whsec_config",
                                   "whsec_leak_check"};
  auto made = create_key(node.client, admin, "operator", "leak-op");
  secrets.push_back(text_of(made, "key"));
  auto rotated = send(node.client, "POST",
                      "/api/v1/admin/keys/" + text_of(made, "id") + "/rotate",
                      admin, R"({"overlapS": 60})");
  REQUIRE(rotated);
  secrets.push_back(text_of(json::parse(rotated->body).as_object(), "key"));
  auto agent_key = text_of(create_key(node.client, admin, "agent", "leak-ag"),
                           "key");
  secrets.push_back(agent_key);
  REQUIRE(send(node.client, "POST", "/api/v1/admin/webhooks/stripe/secrets",
               admin, R"({"secret": "whsec_leak_check"})")
            ->status
          == 201);
  std::string bodies;
  // Wrong and revoked keys, bad signatures, a refused agent token.
  bodies += send(node.client, "GET", "/api/v1/audit", secrets[4] + "x")->body;
  bodies += send(node.client, "DELETE",
                 "/api/v1/admin/keys/" + text_of(made, "id"), admin)
              ->body;
  bodies += send(node.client, "GET", "/api/v1/audit", secrets[4])->body;
  bodies += send(node.client, "POST", "/api/v1/calls", agent_key, "[]")->body;
  httplib::Headers forged{{"Stripe-Signature", "t=1,v1=deadbeef"}};
  bodies += node.client
              .Post("/webhooks/stripe", forged, stripe_event("evt_leak"),
                    "application/json")
              ->body;
  CHECK(post_signed(node.client, "whsec_leak_check") == 200);
  node_process agent{STREAMB_AGENT_BINARY,
                     {"--connect",
                      "127.0.0.1:" + std::to_string(node.process.actor_port()),
                      "--name", "leaky", "--role", "db", "--subscribe",
                      "database_coordination", "--token", admin}};
  CHECK(agent.wait_for("\"refused\"", 15s));
  bodies += send(node.client, "GET", "/api/v1/admin/keys", admin)->body;
  bodies += send(node.client, "GET", "/api/v1/admin/webhooks/stripe/secrets",
                 admin)
              ->body;
  bodies += send(node.client, "GET", "/api/v1/audit?limit=1000", admin)->body;
  std::string listed;
  node_process::run_to_exit({"keys", "list", "--config", cfg.path}, listed);
  CHECK(node.process.stop(SIGTERM, 10s) == 0);
  auto logs = node.process.drain();
  CHECK(logs.find("refused the registration of agent 'leaky'")
        != std::string::npos);
  for (auto& s : secrets) {
    INFO(s);
    CHECK(logs.find(s) == std::string::npos);
    CHECK(bodies.find(s) == std::string::npos);
    CHECK(listed.find(s) == std::string::npos);
    CHECK(agent.output().find(s) == std::string::npos);
    if (s.size() > 40)
      CHECK(logs.find(auth::key_hash(s)) == std::string::npos);
  }
}
