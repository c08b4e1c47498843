// Three real nodes from one config on the test's redis-server: placement,
// forwarding to the owner over CAF remote messages, failover after kill -9.

#include "tests/integration/raw_connection.hpp"
#include "tests/integration/redis_config_file.hpp"
#include "tests/integration/redis_process.hpp"
#include "tests/integration/running_node.hpp"
#include "tests/integration/stripe_signing.hpp"
#include "tests/integration/test_certificate.hpp"

#include <hiredis/hiredis.h>

#include <csignal>
#include <fstream>
#include <memory>
#include <sstream>
#include <thread>

using namespace streamb;
using namespace streamb::test;
using namespace std::chrono_literals;

namespace {

/// One node of the test cluster, its log in its output.
struct cluster_node {
  std::string name;
  node_process process;
  uint16_t port = 0;
  std::unique_ptr<httplib::Client> client;

  cluster_node(std::string node, const std::string& config)
    : name(std::move(node)),
      process(STREAMB_BINARY,
              {"run", "--config", config, "--node", name, "--http-port", "0"},
              true) {}

  void connect() {
    port = process.wait_for_port();
    REQUIRE(port != 0);
    client = std::make_unique<httplib::Client>("127.0.0.1", port);
    client->set_connection_timeout(5, 0);
    client->set_read_timeout(10, 0);
  }

  int status(const std::string& path) {
    auto res = client->Get(path.c_str());
    return res ? res->status : -1;
  }

  boost::json::value get_json(const std::string& path) {
    auto res = client->Get(path.c_str());
    REQUIRE(res);
    INFO(res->body);
    REQUIRE(res->status == 200);
    return boost::json::parse(res->body);
  }

  httplib::Result admit(const std::string& service, double cost) {
    return client->Post(("/api/v1/admission/" + service).c_str(),
                        R"({"priority": "high", "estimatedCostUsd": )"
                          + std::to_string(cost) + "}",
                        "application/json");
  }

  httplib::Result report(const std::string& service, int n) {
    return client->Post("/api/v1/calls",
                        sample_batch(service.c_str(), n, 0, "500", 10),
                        "application/json");
  }

  /// The component `name` of health/comprehensive: {status, detail}.
  boost::json::object component(const std::string& component_name) {
    auto doc = get_json("/api/v1/stream-b-coordination/health/comprehensive");
    for (auto& c : doc.at("components").as_array())
      if (c.at("name").as_string() == component_name)
        return c.as_object();
    FAIL("no component " << component_name);
    return {};
  }

  int64_t calls(const std::string& service) {
    auto m = get_json("/api/v1/stream-b-coordination/metrics/realtime");
    return m.at("services").at(service).at("calls").to_number<int64_t>();
  }
};

const char* three_node_placement =
  R"({"stripe": ["n1", "n2", "n3"], "twilio": ["n2", "n3", "n1"],
      "sendgrid": ["n3", "n1", "n2"], "samsara": "n1",
      "maps": "n2", "airtable": "n3"})";

std::string cluster_section(const std::vector<uint16_t>& actor_ports,
                            const std::string& placement) {
  std::string nodes;
  for (std::size_t i = 0; i < actor_ports.size(); ++i)
    nodes += std::string{i == 0 ? "" : ", "} + R"({"name": "n)"
      + std::to_string(i + 1) + R"(", "host": "127.0.0.1", "actor_port": )"
      + std::to_string(actor_ports[i]) + R"(, "http_port": 1})";
  return R"(,
  "cluster": {
    "secret": "a-cluster-secret-for-the-tests",
    "failover_ms": 1500, "heartbeat_ms": 200,
    "nodes": [)"
    + nodes + R"(],
    "placement": )"
    + placement + R"(
  }
})";
}

void add_cluster(redis_config_file& cfg, const std::vector<uint16_t>& ports,
                 const std::string& placement = three_node_placement) {
  auto end = cfg.text.rfind('}');
  REQUIRE(end != std::string::npos);
  cfg.text = cfg.text.substr(0, end);
  while (!cfg.text.empty()
         && (cfg.text.back() == '\n' || cfg.text.back() == ' '))
    cfg.text.pop_back();
  cfg.text += cluster_section(ports, placement);
  cfg.save();
}

/// VmRSS of `pid` in bytes.
std::size_t rss_of(int pid) {
  std::ifstream in{"/proc/" + std::to_string(pid) + "/status"};
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0)
      return std::stoull(line.substr(6)) * 1024;
  return 0;
}

/// A BASP header (CAF 0.17: operation, 3 bytes, payload length, operation
/// data, source and destination actor; network byte order) that claims a
/// payload of `claimed` bytes: on a plain actor port CAF reserves that much
/// before any handshake.
std::string basp_header_claiming(uint32_t claimed) {
  std::string h(32, '\0');
  h[0] = 1; // client handshake
  for (int i = 0; i < 4; ++i)
    h[4 + i] = static_cast<char>((claimed >> (24 - 8 * i)) & 0xff);
  return h;
}

/// n1 and n2 on `cfg`: stripe placed on n1 then n2, the rest on n2; both
/// ready when constructed.
struct two_nodes {
  std::vector<uint16_t> ports{free_loopback_port(), free_loopback_port()};
  std::unique_ptr<cluster_node> n1;
  std::unique_ptr<cluster_node> n2;

  explicit two_nodes(redis_config_file& cfg, bool failback = false) {
    add_cluster(cfg, ports,
                R"({"stripe": ["n1", "n2"], "twilio": "n2", "sendgrid": "n2",
                    "samsara": "n2", "maps": "n2", "airtable": "n2"})");
    if (failback) {
      cfg.replace(R"("failover_ms": 1500)",
                  R"("failback": true, "failover_ms": 1500)");
      cfg.save();
    }
    n1 = std::make_unique<cluster_node>("n1", cfg.path);
    n2 = std::make_unique<cluster_node>("n2", cfg.path);
    n1->connect();
    n2->connect();
    CHECK(eventually(20s, [&] { return n1->status("/readyz") == 200; }));
    CHECK(eventually(20s, [&] { return n2->status("/readyz") == 200; }));
  }
};

/// n1, n2 and n3 on `cfg` with three_node_placement; each ready (every
/// service has a reachable owner) when constructed.
struct three_nodes {
  std::vector<uint16_t> ports{free_loopback_port(), free_loopback_port(),
                              free_loopback_port()};
  std::vector<std::unique_ptr<cluster_node>> nodes;

  explicit three_nodes(redis_config_file& cfg) {
    add_cluster(cfg, ports);
    for (auto name : {"n1", "n2", "n3"})
      nodes.push_back(std::make_unique<cluster_node>(name, cfg.path));
    for (auto& n : nodes)
      n->connect();
    for (auto& n : nodes)
      CHECK(eventually(20s, [&] { return n->status("/readyz") == 200; }));
  }

  /// The node named `name` (null once reset).
  std::unique_ptr<cluster_node>& named(const std::string& name) {
    for (auto& n : nodes)
      if (n && n->name == name)
        return n;
    FAIL("no running node " << name);
    return nodes.front();
  }
};

int64_t spend_units(redis_config_file& cfg, const std::string& service) {
  auto db = cfg.backend();
  auto keys = db.keys("budget:spend:" + service + ":");
  REQUIRE(keys);
  if (keys->empty())
    return 0;
  REQUIRE(keys->size() == 1);
  auto spend = db.get(keys->front());
  REQUIRE(spend);
  return std::stoll(spend->value_or("0"));
}

/// XADD with an explicit (old) entry ID, which the store's API never
/// makes: an entry as if written long ago, for the retention sweep.
void add_old_entry(redis_config_file& cfg, const std::string& stream,
                   const std::string& id) {
  auto opts = store::parse_redis_url(cfg.url);
  REQUIRE(opts);
  auto* c = redisConnect(opts->host.c_str(), opts->port);
  REQUIRE(c);
  REQUIRE(c->err == 0);
  auto key = cfg.prefix + stream;
  auto* reply = static_cast<redisReply*>(
    redisCommand(c, "XADD %s %s id stripe:evt_old", key.c_str(), id.c_str()));
  REQUIRE(reply);
  INFO((reply->str ? reply->str : ""));
  CHECK(reply->type == REDIS_REPLY_STRING);
  freeReplyObject(reply);
  redisFree(c);
}

/// The node that holds the housekeeping lease, from the store ("" if none).
std::string lease_holder(redis_config_file& cfg) {
  auto db = cfg.backend();
  auto v = db.get("lease:housekeeping");
  REQUIRE(v);
  return v->has_value() ? (*v)->substr(0, (*v)->find(' ')) : std::string{};
}

} // namespace

TEST_CASE("three nodes from one config: each service runs on its owner, "
          "calls and admissions on any node land there, and a killed "
          "owner's services move to the next node") {
  redis_config_file cfg{"cluster"};
  // Ready once every service has a reachable owner.
  three_nodes cluster{cfg};
  auto& nodes = cluster.nodes;
  auto& n1 = *nodes[0];
  auto& n2 = *nodes[1];
  auto& n3 = *nodes[2];
  // Each service's actors run on the first node of its placement only.
  n1.process.drain();
  n2.process.drain();
  n3.process.drain();
  CHECK(n1.process.output().find("runs service 'stripe'") != std::string::npos);
  CHECK(n1.process.output().find("runs service 'samsara'")
        != std::string::npos);
  CHECK(n2.process.output().find("runs service 'stripe'") == std::string::npos);
  CHECK(n3.process.output().find("runs service 'stripe'") == std::string::npos);
  CHECK(n2.process.output().find("runs service 'twilio'") != std::string::npos);
  CHECK(n1.process.output().find("runs service 'twilio'") == std::string::npos);
  CHECK(n3.component("service_monitor/stripe").at("detail") == "on n1");
  CHECK(n1.component("service_monitor/sendgrid").at("detail") == "on n3");
  auto peer = n1.component("peer/n2");
  CHECK(peer.at("status") == "ok");
  CHECK(peer.at("detail").as_string().find("twilio") != std::string::npos);

  // Calls reported to any node reach stripe's monitor on n1; any node's
  // metrics ask it.
  for (auto [node, count] : {std::pair{&n2, 30}, {&n3, 20}, {&n1, 5}}) {
    auto res = node->report("stripe", count);
    REQUIRE(res);
    INFO(node->name << ": " << res->body);
    CHECK(res->status == 202);
  }
  CHECK(eventually(10s, [&] { return n1.calls("stripe") == 55; }));
  CHECK(n3.calls("stripe") == 55);
  CHECK(n2.calls("stripe") == 55);

  // Admissions on every node are decided by stripe's one budget: exact
  // spend, 1 cent = 10 000 units (24 high-priority calls: inside the burst
  // of 25).
  int granted = 0;
  for (auto* n : {&n1, &n2, &n3})
    for (int i = 0; i < 8; ++i) {
      auto res = n->admit("stripe", 0.01);
      REQUIRE(res);
      INFO(n->name << ": " << res->body);
      CHECK(res->status == 200);
      granted += res->status == 200 ? 1 : 0;
    }
  CHECK(granted == 24);
  CHECK(spend_units(cfg, "stripe") == 24 * 10'000);

  // kill -9 of stripe's owner: n2, next in its placement, takes it within
  // 10 s; samsara, placed on n1 alone, has no owner and says so.
  auto killed_at = std::chrono::steady_clock::now();
  n1.process.signal(SIGKILL);
  CHECK(n1.process.stop(SIGKILL, 5s) == 128 + SIGKILL);
  bool moved = eventually(10s, [&] {
    auto res = n3.admit("stripe", 0.01);
    return res && res->status == 200;
  });
  CHECK(moved);
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
    std::chrono::steady_clock::now() - killed_at);
  INFO("stripe admitted again " << took.count() << " ms after the kill");
  CHECK(took < 10s);
  CHECK(n2.component("service_monitor/stripe").at("detail") == "on n2");
  n2.process.drain();
  CHECK(n2.process.output().find("runs service 'stripe'") != std::string::npos);
  // The budget restored its month from Redis: spend stays exact.
  auto res = n2.admit("stripe", 0.01);
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(spend_units(cfg, "stripe") == 26 * 10'000);
  // Ingest resumes (after the spend check: a reported call's cost replaces
  // an open reservation).
  CHECK(eventually(5s, [&] {
    auto res = n3.report("stripe", 7);
    return res && res->status == 202;
  }));
  CHECK(eventually(10s, [&] { return n2.calls("stripe") >= 7; }));
  // Nobody may take samsara: 503 with the reason, for calls and admission.
  auto refused = n3.report("samsara", 3);
  REQUIRE(refused);
  INFO(refused->body);
  CHECK(refused->status == 503);
  CHECK(refused->body.find("samsara") != std::string::npos);
  auto denied = n2.admit("samsara", 0.01);
  REQUIRE(denied);
  INFO(denied->body);
  CHECK(denied->status == 503);
  CHECK(denied->body.find("samsara") != std::string::npos);
  auto gone = n2.component("peer/n1");
  CHECK(gone.at("status") == "degraded");
}

TEST_CASE("cluster peers and agents on a TLS actor port: the cluster forms "
          "over mutual TLS; a client or peer without a certificate is cut "
          "in the handshake without the node's memory growing or the "
          "genuine link breaking") {
  test_certificate tls; // self-signed: its own CA
  redis_config_file cfg{"cluster-tls"};
  cfg.replace(R"("actor": {)",
              R"("actor": {"tls": {"cert_file": ")" + tls.cert
                + R"(", "key_file": ")" + tls.key + R"(", "ca_file": ")"
                + tls.cert + R"("}, )");
  two_nodes cluster{cfg};
  auto& n1 = *cluster.n1;
  auto& n2 = *cluster.n2;
  auto& ports = cluster.ports;
  // n2 reaches stripe's budget on n1 over the TLS link.
  CHECK(n2.component("peer/n1").at("status") == "ok");
  auto res = n2.admit("stripe", 0.01);
  REQUIRE(res);
  INFO(res->body);
  CHECK(res->status == 200);
  CHECK(res->body.find("n1:stripe") != std::string::npos);

  // Three clients that claim a 1 GiB BASP payload each: cut in the TLS
  // handshake, nothing reserved (on a plain actor port the same three
  // bytes make the node reserve over 1 GiB).
  auto before = rss_of(n1.process.pid());
  std::vector<std::unique_ptr<raw_connection>> intruders;
  for (int i = 0; i < 3; ++i) {
    intruders.push_back(std::make_unique<raw_connection>(ports[0]));
    REQUIRE(intruders.back()->connected());
    intruders.back()->send(basp_header_claiming(0x40000000)
                           + std::string(4096, 'x'));
  }
  for (auto& c : intruders)
    CHECK(c->closed_within(5s));
  auto after = rss_of(n1.process.pid());
  INFO("RSS " << before / 1024 << " KiB -> " << after / 1024 << " KiB");
  CHECK(after < before + 64 * 1024 * 1024);

  // An agent without a certificate never registers; with one it does.
  auto agents = [&] {
    return n1.get_json("/api/v1/stream-b-coordination/agents/status")
      .at("agents")
      .as_array()
      .size();
  };
  node_process plain{STREAMB_AGENT_BINARY,
                     {"--connect", "127.0.0.1:" + std::to_string(ports[0]),
                      "--name", "no-cert", "--role", "r"}};
  std::this_thread::sleep_for(2s);
  CHECK(agents() == 0);
  node_process with_cert{STREAMB_AGENT_BINARY,
                         {"--connect", "127.0.0.1:" + std::to_string(ports[0]),
                          "--name", "with-cert", "--role", "r", "--tls-cert",
                          tls.cert, "--tls-key", tls.key, "--tls-ca",
                          tls.cert}};
  CHECK(with_cert.wait_for("registered", 10s));
  CHECK(agents() == 1);

  // A peer node without a certificate (same cluster secret, plain actor
  // port) never joins: its links to n1 are cut in the handshake, so it sees
  // n1 down and cannot reach stripe, which n1 owns. In its config it is
  // "n1" and the TLS node "n2", so that it is the side that connects. Its
  // failed handshakes do not disturb the genuine link (before
  // runtime/app/openssl_error_queue.cpp each one cut n1-n2 and n2 took
  // stripe over).
  redis_config_file plain_cfg{"cluster-tls-plain"};
  add_cluster(plain_cfg, {free_loopback_port(), ports[0]},
              R"({"stripe": "n2", "twilio": "n1", "sendgrid": "n1",
                  "samsara": "n1", "maps": "n1", "airtable": "n1"})");
  cluster_node rogue{"n1", plain_cfg.path};
  rogue.connect();
  for (int i = 0; i < 5; ++i) {
    std::this_thread::sleep_for(1s);
    CHECK(n1.component("peer/n2").at("status") == "ok");
    CHECK(n2.component("peer/n1").at("status") == "ok");
  }
  auto seen = rogue.component("peer/n2");
  INFO(boost::json::serialize(seen));
  CHECK(seen.at("status") == "degraded");
  auto refused = rogue.admit("stripe", 0.01);
  REQUIRE(refused);
  CHECK(refused->status == 503);
  auto still = n2.admit("stripe", 0.01);
  REQUIRE(still);
  CHECK(still->status == 200);
  CHECK(still->body.find("n1:stripe") != std::string::npos);
  CHECK(rss_of(n1.process.pid()) < before + 64 * 1024 * 1024);
}

TEST_CASE("an agent connected to one node takes events sent on another and "
          "webhooks received on a third") {
  redis_config_file cfg{"cluster-agents"};
  cfg.replace(R"("stripe": {)",
              R"("stripe": {"webhook": {"scheme": "stripe", "secrets": )"
              R"(["whsec_cluster"], "tolerance_s": 300},)");
  three_nodes cluster{cfg};
  auto& nodes = cluster.nodes;
  auto& ports = cluster.ports;
  auto& n2 = *nodes[1];
  auto& n3 = *nodes[2];
  // The only agent: on n1, for cost alerts and webhooks.
  // (It knows n2 too, for when n1 goes.)
  node_process agent{STREAMB_AGENT_BINARY,
                     {"--connect",
                      "127.0.0.1:" + std::to_string(ports[0])
                        + ",127.0.0.1:" + std::to_string(ports[1]),
                      "--name", "ops-1", "--role", "ops", "--subscribe",
                      "cost_alert,webhook"}};
  REQUIRE(agent.wait_for("registered", 10s));
  // The other hubs learn what n1's agents take with the next heartbeat.
  bool sent = false;
  std::string id;
  CHECK(eventually(10s, [&] {
    auto res = n3.client->Post(
      "/api/v1/stream-b-coordination/coordination/send-event",
      R"({"type": "cost_alert", "payload": {"from": "n3"}})",
      "application/json");
    if (!res || res->status != 202)
      return false;
    auto doc = boost::json::parse(res->body);
    id = std::string{doc.at("id").as_string()};
    // Sent before n3 knew of the agent, n3 keeps it (unrouted, an n3 id);
    // once it knows, n1 routes it and the id is n1's.
    sent = id.rfind("n1-", 0) == 0;
    return sent;
  }));
  REQUIRE(sent);
  CHECK(agent.wait_for(R"("from":"n3")", 10s));
  // Its record is n1's (where the agent took it), readable on n3 too.
  CHECK(eventually(10s, [&] {
    auto got = n3.client->Get(("/api/v1/coordination/events/" + id).c_str());
    return got && got->status == 200
      && boost::json::parse(got->body).at("state").as_string() == "completed";
  }));

  // A Stripe webhook received on n2 reaches the agent on n1, once.
  auto res = post_stripe_event(*n2.client, "whsec_cluster", "evt_cluster_1");
  REQUIRE(res);
  INFO(res->body);
  CHECK(res->status == 200);
  CHECK(agent.wait_for("evt_cluster_1", 10s));
  std::this_thread::sleep_for(1s);
  agent.drain();
  // One event line for it (each line names the id in several fields).
  std::size_t seen = 0;
  std::istringstream lines{agent.output()};
  for (std::string line; std::getline(lines, line);)
    if (line.find("evt_cluster_1") != std::string::npos)
      ++seen;
  CHECK(seen == 1);
  CHECK(eventually(5s, [&] {
    auto st = n2.get_json("/api/v1/stream-b-coordination/webhooks/stats");
    return boost::json::serialize(st).find(R"("delivered":1)")
      != std::string::npos;
  }));

  // kill -9 of n1: the agent registers with n2, the next node it was
  // given, and events sent on n3 reach it there.
  nodes[0]->process.signal(SIGKILL);
  CHECK(nodes[0]->process.stop(SIGKILL, 5s) == 128 + SIGKILL);
  CHECK(agent.wait_for("registered", 15s, 2));
  CHECK(eventually(15s, [&] {
    auto res = n3.client->Post(
      "/api/v1/stream-b-coordination/coordination/send-event",
      R"({"type": "cost_alert", "payload": {"after": "failover"}})",
      "application/json");
    if (!res || res->status != 202)
      return false;
    auto doc = boost::json::parse(res->body);
    return std::string{doc.at("id").as_string()}.rfind("n2-", 0) == 0;
  }));
  CHECK(agent.wait_for(R"("after":"failover")", 10s));
}

TEST_CASE("the open events of a killed node are taken over by a survivor and "
          "finished there") {
  redis_config_file cfg{"cluster-adopt"};
  two_nodes cluster{cfg};
  auto& n1 = *cluster.n1;
  auto& n2 = *cluster.n2;
  auto& ports = cluster.ports;
  // An agent that takes 3 s per event, and knows both nodes.
  node_process agent{STREAMB_AGENT_BINARY,
                     {"--connect",
                      "127.0.0.1:" + std::to_string(ports[0])
                        + ",127.0.0.1:" + std::to_string(ports[1]),
                      "--name", "slow-1", "--role", "ops", "--subscribe",
                      "cost_alert", "--reply", "delay:3000"}};
  REQUIRE(agent.wait_for("registered", 10s));
  auto res = n1.client->Post(
    "/api/v1/stream-b-coordination/coordination/send-event",
    R"({"type": "cost_alert", "payload": {"open": "at the kill"}})",
    "application/json");
  REQUIRE(res);
  REQUIRE(res->status == 202);
  auto id = std::string{boost::json::parse(res->body).at("id").as_string()};
  // The agent is working on it when n1 dies.
  REQUIRE(agent.wait_for(R"("open":"at the kill")", 5s));
  n1.process.signal(SIGKILL);
  CHECK(n1.process.stop(SIGKILL, 5s) == 128 + SIGKILL);
  // n2 takes it over after the failover delay, the agent (now on n2) gets
  // it again and answers: finished on n2.
  CHECK(eventually(20s, [&] {
    auto got = n2.client->Get(("/api/v1/coordination/events/" + id).c_str());
    return got && got->status == 200
      && boost::json::parse(got->body).at("state").as_string() == "completed";
  }));
  n2.process.drain();
  CHECK(n2.process.output().find("took over open event " + id)
        != std::string::npos);
  CHECK(agent.wait_for(R"("open":"at the kill")", 1s, 2));
}

TEST_CASE("webhooks a killed node acknowledged reach an agent through a "
          "survivor") {
  redis_config_file cfg{"cluster-webhooks"};
  cfg.replace(R"("stripe": {)",
              R"("stripe": {"webhook": {"scheme": "stripe", "secrets": )"
              R"(["whsec_cluster"], "tolerance_s": 300},)");
  // Entries a dead node holds are claimed after 2 s of silence.
  cfg.replace(R"("agents": {)",
              R"("webhooks": {"claim_idle_s": 2}, "agents": {)");
  two_nodes cluster{cfg};
  auto& n1 = *cluster.n1;
  // No consumer anywhere yet: n1 acknowledges (stored), they wait.
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    ids.push_back("evt_wait_" + std::to_string(i));
    auto res = post_stripe_event(*n1.client, "whsec_cluster", ids.back());
    REQUIRE(res);
    INFO(res->body);
    REQUIRE(res->status == 200);
  }
  n1.process.signal(SIGKILL);
  CHECK(n1.process.stop(SIGKILL, 5s) == 128 + SIGKILL);
  // A consumer appears on the survivor: every acknowledged webhook gets
  // to it.
  node_process agent{STREAMB_AGENT_BINARY,
                     {"--connect",
                      "127.0.0.1:" + std::to_string(cluster.ports[1]), "--name",
                      "hooks-1", "--role", "hooks", "--subscribe", "webhook"}};
  REQUIRE(agent.wait_for("registered", 10s));
  for (auto& id : ids)
    CHECK(agent.wait_for(id, 30s));
}

TEST_CASE("exactly one node holds the housekeeping lease and runs the "
          "retention sweep; when it is killed another node takes both") {
  redis_config_file cfg{"cluster-lease"};
  cfg.replace(R"("store": {"kind": "redis")",
              R"("store": {"sweep_interval_s": 1, "kind": "redis")");
  three_nodes cluster{cfg};
  std::string holder;
  REQUIRE(
    eventually(10s, [&] { return !(holder = lease_holder(cfg)).empty(); }));
  // Every node's health report agrees on who holds it.
  auto agree = [&](const std::string& who) {
    for (auto& n : cluster.nodes) {
      if (!n)
        continue;
      auto& name = n->name;
      auto detail = std::string{
        n->component("housekeeping").at("detail").as_string()};
      INFO(name << ": " << detail);
      if (name == who) {
        if (detail.find("this node holds the lease") != 0)
          return false;
      } else if (detail != "node " + who + " holds the lease") {
        return false;
      }
    }
    return true;
  };
  CHECK(eventually(5s, [&] { return agree(holder); }));
  // A dead letter past its retention (as if from 1970) is swept; a new one
  // stays.
  auto db = cfg.backend();
  add_old_entry(cfg, "webhooks:dead", "1000-0");
  REQUIRE(db.xadd("webhooks:dead", {{"id", "stripe:evt_new"}}));
  auto only_new_left = [&] {
    auto xs = db.xrange("webhooks:dead", "-", "+", 10);
    return xs && xs->size() == 1
      && xs->front().fields.front().second == "stripe:evt_new";
  };
  CHECK(eventually(10s, only_new_left));
  // The holder dies without giving the lease back: another node takes it
  // after its TTL (failover_ms 1500) and sweeps in its place.
  auto& dead = *cluster.named(holder);
  dead.process.signal(SIGKILL);
  CHECK(dead.process.stop(SIGKILL, 5s) == 128 + SIGKILL);
  cluster.named(holder).reset();
  REQUIRE(db.del("webhooks:dead"));
  add_old_entry(cfg, "webhooks:dead", "2000-0");
  REQUIRE(db.xadd("webhooks:dead", {{"id", "stripe:evt_new"}}));
  std::string next;
  CHECK(eventually(10s, [&] {
    next = lease_holder(cfg);
    return !next.empty() && next != holder;
  }));
  CHECK(eventually(10s, only_new_left));
  CHECK(eventually(5s, [&] { return agree(next); }));
  auto& taker = *cluster.named(next);
  taker.process.drain();
  CHECK(taker.process.output().find("node '" + next
                                    + "' holds the housekeeping lease")
        != std::string::npos);
}

TEST_CASE("a node that returns after a failover gets its services back only "
          "with cluster.failback") {
  for (bool failback : {false, true}) {
    INFO("failback " << failback);
    redis_config_file cfg{failback ? "cluster-failback" : "cluster-stay"};
    two_nodes cluster{cfg, failback};
    auto stripe_on = [](cluster_node& n) {
      return std::string{
        n.component("budget_controller/stripe").at("detail").as_string()};
    };
    auto& n2 = *cluster.n2;
    CHECK(eventually(10s, [&] { return stripe_on(n2) == "on n1"; }));
    cluster.n1->process.signal(SIGKILL);
    CHECK(cluster.n1->process.stop(SIGKILL, 5s) == 128 + SIGKILL);
    CHECK(eventually(10s, [&] { return stripe_on(n2) == "on n2"; }));
    // n1 comes back on the same ports.
    cluster.n1 = std::make_unique<cluster_node>("n1", cfg.path);
    auto& n1 = *cluster.n1;
    n1.connect();
    CHECK(eventually(20s, [&] { return n1.status("/readyz") == 200; }));
    CHECK(eventually(10s, [&] {
      return n1.component("peer/n2").at("status") == "ok";
    }));
    auto expected = failback ? "on n1" : "on n2";
    if (!failback)
      std::this_thread::sleep_for(3s); // time in which it would have moved
    CHECK(eventually(10s, [&] {
      return stripe_on(n1) == expected && stripe_on(n2) == expected;
    }));
    auto res = n1.admit("stripe", 0.01);
    REQUIRE(res);
    INFO(res->body);
    CHECK(res->status == 200);
    CHECK(res->body.find(failback ? "n1:stripe" : "n2:stripe")
          != std::string::npos);
  }
}

TEST_CASE("an event whose agents on this node are all busy goes to an agent "
          "of the same role on a peer with room") {
  redis_config_file cfg{"cluster-room"};
  cfg.replace(R"("max_in_flight": 8)", R"("max_in_flight": 1)");
  two_nodes cluster{cfg};
  auto& n1 = *cluster.n1;
  auto& ports = cluster.ports;
  // On n1 an agent that takes 6 s per event; on n2 one of the same role
  // that answers at once.
  node_process slow{STREAMB_AGENT_BINARY,
                    {"--connect", "127.0.0.1:" + std::to_string(ports[0]),
                     "--name", "slow-1", "--role", "ops", "--subscribe",
                     "cost_alert", "--reply", "delay:6000"}};
  node_process quick{STREAMB_AGENT_BINARY,
                     {"--connect", "127.0.0.1:" + std::to_string(ports[1]),
                      "--name", "quick-1", "--role", "ops", "--subscribe",
                      "cost_alert"}};
  REQUIRE(slow.wait_for("registered", 10s));
  REQUIRE(quick.wait_for("registered", 10s));
  std::this_thread::sleep_for(1s); // n2's room reaches n1 with a heartbeat
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    auto res = n1.client->Post(
      "/api/v1/stream-b-coordination/coordination/send-event",
      R"({"type": "cost_alert", "payload": {"n": )" + std::to_string(i) + "}}",
      "application/json");
    REQUIRE(res);
    INFO(res->body);
    REQUIRE(res->status == 202);
    ids.emplace_back(boost::json::parse(res->body).at("id").as_string());
  }
  // The first takes n1's only slot; the others do not wait 6 and 12 s
  // behind it: n2's agent answers them.
  auto completed = [&](const std::string& id) {
    auto got = n1.client->Get(("/api/v1/coordination/events/" + id).c_str());
    return got && got->status == 200
      && boost::json::parse(got->body).at("state").as_string() == "completed";
  };
  CHECK(eventually(3s, [&] { return completed(ids[1]) && completed(ids[2]); }));
  CHECK(quick.wait_for(R"("n":1)", 1s));
  CHECK(quick.wait_for(R"("n":2)", 1s));
  CHECK(slow.wait_for(R"("n":0)", 1s));
  CHECK(eventually(10s, [&] { return completed(ids[0]); }));
}
