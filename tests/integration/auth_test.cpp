// Access control through the real binary: the route table walked with keys
// of every role, managed keys shared by two nodes on one redis-server,
// revocation and rotation, and what a refused request looks like.

#include "bridges/route_table.hpp"
#include "tests/integration/auth_support.hpp"
#include "tests/integration/raw_connection.hpp"

#include <boost/json/serialize.hpp>

#include <arpa/inet.h>
#include <csignal>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace streamb;
using namespace streamb::test;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

/// The route's pattern with its parameters filled in.
std::string concrete(std::string pattern) {
  for (auto [from, to] :
       {std::pair{"{service}", "stripe"}, std::pair{"{id...}", "stripe:x"},
        std::pair{"{id}", "x"}}) {
    for (auto at = pattern.find(from); at != std::string::npos;
         at = pattern.find(from))
      pattern.replace(at, std::string{from}.size(), to);
  }
  return pattern;
}

const char* one_below(auth::role r) {
  switch (r) {
    case auth::role::reporter: return "viewer";
    case auth::role::operator_: return "reporter";
    case auth::role::admin: return "operator";
    default: return "";
  }
}

std::string reason_of(const httplib::Result& res) {
  auto doc = json::parse(res->body);
  return std::string{doc.at("error").at("reason").as_string()};
}

} // namespace

TEST_CASE("every route in the table refuses no key with 401, a key one role "
          "too low with 403, and admits the role it names") {
  auth_config cfg{"route-walk"};
  running_node node{{}, cfg.path};
  auto agent_key = text_of(create_key(node.client, cfg.keys.at("admin"),
                                      "agent", "walk-agent"),
                           "key");
  std::size_t walked = 0;
  for (auto& r : route_table()) {
    auto path = concrete(r.pattern);
    INFO(r.method << " " << path);
    auto none = send(node.client, r.method, path, "");
    REQUIRE(none);
    INFO(none->body);
    if (r.access != route_access::role) {
      // Open, or the provider's signature: never a key question.
      CHECK(none->status != 401);
      CHECK(none->status != 403);
      continue;
    }
    ++walked;
    CHECK(none->status == 401);
    CHECK(none->get_header_value("WWW-Authenticate").rfind("Bearer", 0) == 0);
    CHECK(reason_of(none) == "missing");
    if (r.role == auth::role::agent) {
      // Only an agent key: no HTTP key, admin's neither, opens it.
      for (auto& k : {"viewer", "admin"}) {
        auto other = send(node.client, r.method, path, cfg.keys.at(k));
        REQUIRE(other);
        CHECK(other->status == 403);
      }
      auto ok = send(node.client, r.method, path, agent_key);
      REQUIRE(ok);
      INFO(ok->body);
      // Admitted: a plain GET of the socket is told to upgrade, the ticket
      // route issues one.
      CHECK(ok->status == (r.method == std::string{"GET"} ? 426 : 201));
      continue;
    }
    if (r.role != auth::role::viewer) {
      auto low = send(node.client, r.method, path,
                      cfg.keys.at(one_below(r.role)));
      REQUIRE(low);
      INFO(low->body);
      CHECK(low->status == 403);
      CHECK(low->body.find(std::string{"needs role "}
                           + std::string{auth::to_string(r.role)})
            != std::string::npos);
    } else {
      // Below viewer there is only an agent key, which opens no route.
      auto agent = send(node.client, r.method, path, agent_key);
      REQUIRE(agent);
      CHECK(agent->status == 403);
    }
    auto name = std::string{auth::to_string(r.role)};
    if (path.size() > 7 && path.compare(path.size() - 7, 7, "/stream") == 0) {
      // An event stream never ends: read its head only.
      raw_connection c{node.port};
      REQUIRE(c.send("GET " + path
                     + " HTTP/1.1\r\nHost: x\r\n"
                       "Authorization: Bearer "
                     + cfg.keys.at(name) + "\r\n\r\n"));
      CHECK(c.read_until(
        [](const std::string& x) {
          return x.find("\r\n\r\n") != std::string::npos;
        },
        std::chrono::seconds{5}));
      CHECK(c.received().rfind("HTTP/1.1 200 OK", 0) == 0);
      CHECK(c.received().find("text/event-stream") != std::string::npos);
      continue;
    }
    auto ok = send(node.client, r.method, path, cfg.keys.at(name));
    REQUIRE(ok);
    INFO(ok->body);
    CHECK(ok->status != 401);
    CHECK(ok->status != 403);
    // A handler answered, not the gate's "no route".
    CHECK(ok->body.find("no route") == std::string::npos);
  }
  CHECK(walked >= 20);
  // Outside the table: refused, whatever handler might exist.
  auto stray = send(node.client, "GET", "/api/v1/secret-debug",
                    cfg.keys.at("admin"));
  REQUIRE(stray);
  CHECK(stray->status == 404);
  auto wrong_method = send(node.client, "DELETE", "/api/v1/calls",
                           cfg.keys.at("admin"));
  REQUIRE(wrong_method);
  CHECK(wrong_method->status == 405);
}

TEST_CASE("open reads let GETs through without a key but no write, and a "
          "bad key is refused even on an open read") {
  auth_config cfg{"open-reads", true};
  running_node node{{}, cfg.path};
  auto read = send(node.client, "GET",
                   "/api/v1/stream-b-coordination/metrics/realtime", "");
  REQUIRE(read);
  CHECK(read->status == 200);
  auto write = send(node.client, "POST", "/api/v1/calls", "", "[]");
  REQUIRE(write);
  CHECK(write->status == 401);
  auto bad = send(node.client, "GET",
                  "/api/v1/stream-b-coordination/metrics/realtime",
                  "sbc_not_a_key");
  REQUIRE(bad);
  CHECK(bad->status == 401);
  CHECK(reason_of(bad) == "invalid");
  // Not a Bearer credential at all.
  httplib::Headers basic{{"Authorization", "Basic dXNlcjpwYXNz"}};
  auto malformed = node.client.Get("/api/v1/audit", basic);
  REQUIRE(malformed);
  CHECK(malformed->status == 401);
  CHECK(reason_of(malformed) == "malformed");
}

TEST_CASE("management bodies with a repeated key, malformed JSON or bad "
          "fields are 400 and change nothing") {
  auth_config cfg{"dup-keys"};
  running_node node{{}, cfg.path};
  auto& op = cfg.keys.at("operator");
  // Once this forced the throttle: the last of two "mode"s won.
  auto res = send(node.client, "POST", "/api/v1/budgets/stripe/override", op,
                  R"({"mode":"lift","mode":"force"})");
  check_error(res, 400, "malformed", "$.mode");
  auto budget = send(node.client, "GET",
                     "/api/v1/stream-b-coordination/cost/analysis", op);
  REQUIRE(budget);
  auto doc = json::parse(budget->body);
  CHECK(doc.at("services").at("stripe").at("override").as_string() == "none");
  auto& admin = cfg.keys.at("admin");
  check_error(send(node.client, "POST", "/api/v1/admin/keys", admin,
                   R"({"role":"viewer","role":"admin","name":"x"})"),
              400, "malformed", "$.role");
  check_error(send(node.client, "POST", "/api/v1/admin/keys", admin, "{nope"),
              400, "malformed");
  check_error(send(node.client, "POST", "/api/v1/admin/keys", admin,
                   R"({"role":"root","name":"x"})"),
              400, "invalid_argument", "$.role");
  check_error(send(node.client, "POST", "/api/v1/admin/keys", admin,
                   R"({"role":"viewer","name":"no spaces"})"),
              400, "invalid_argument");
  check_error(send(node.client, "POST",
                   "/api/v1/stream-b-coordination/coordination/send-event", op,
                   R"({"type":"cost_alert","type":"webhook"})"),
              400, "malformed", "$.type");
  check_error(send(node.client, "DELETE", "/api/v1/admin/keys/nosuchkey",
                   admin),
              404, "not_found");
  auto listed = send(node.client, "GET", "/api/v1/admin/keys", admin);
  REQUIRE(listed);
  // Only the four bootstrap keys: nothing was created.
  CHECK(json::parse(listed->body).at("keys").as_array().size() == 4);
}

TEST_CASE("a key created on one node works on another that shares the "
          "store; revoked, it is refused there within a second") {
  auth_config cfg{"two-nodes"};
  running_node a{{}, cfg.path};
  auto path_b = cfg.write_copy_for_node("b");
  running_node b{{}, path_b};
  auto created = create_key(a.client, cfg.keys.at("admin"), "operator",
                            "ops-alice");
  auto key = text_of(created, "key");
  auto id = text_of(created, "id");
  CHECK(key.rfind("sbk_" + id + "_", 0) == 0);
  auto status_on_b = [&] {
    auto res = send(b.client, "GET", "/api/v1/audit", key);
    return res ? res->status : -1;
  };
  CHECK(wait_status(status_on_b, 200, 2s) >= 0ms);
  // The audit trail names the key by id and name, never by the key.
  auto audit = send(b.client, "GET", "/api/v1/audit?limit=1000",
                    cfg.keys.at("viewer"));
  REQUIRE(audit);
  CHECK(audit->body.find("key.create") != std::string::npos);
  CHECK(audit->body.find(key) == std::string::npos);
  auto revoked = send(a.client, "DELETE", "/api/v1/admin/keys/" + id,
                      cfg.keys.at("admin"));
  REQUIRE(revoked);
  CHECK(revoked->status == 200);
  CHECK(json::parse(revoked->body).at("state").as_string() == "revoked");
  auto took = wait_status(status_on_b, 401, 1s);
  INFO("refused on node b after " << took.count() << " ms");
  CHECK(took >= 0ms);
  auto res = send(b.client, "GET", "/api/v1/audit", key);
  REQUIRE(res);
  CHECK(reason_of(res) == "revoked");
  unlink(path_b.c_str());
}

TEST_CASE("a rotated key's old secret works during the overlap and not "
          "after; an expired key is refused with its reason") {
  auth_config cfg{"rotation"};
  running_node a{{}, cfg.path};
  auto path_b = cfg.write_copy_for_node("b");
  running_node b{{}, path_b};
  auto& admin = cfg.keys.at("admin");
  auto created = create_key(a.client, admin, "viewer", "dash");
  auto old_key = text_of(created, "key");
  auto id = text_of(created, "id");
  auto rotated = send(a.client, "POST", "/api/v1/admin/keys/" + id + "/rotate",
                      admin, R"({"overlapS": 2})");
  REQUIRE(rotated);
  INFO(rotated->body);
  REQUIRE(rotated->status == 200);
  auto new_key = text_of(json::parse(rotated->body).as_object(), "key");
  CHECK(new_key != old_key);
  auto on_b = [&](const std::string& key) {
    return [&b, key] {
      auto res = send(b.client, "GET", "/api/v1/audit", key);
      return res ? res->status : -1;
    };
  };
  CHECK(wait_status(on_b(new_key), 200, 2s) >= 0ms);
  CHECK(on_b(old_key)() == 200);
  // Overlap over: the old secret is refused, the new one works.
  CHECK(wait_status(on_b(old_key), 401, 5s) >= 0ms);
  auto res = send(b.client, "GET", "/api/v1/audit", old_key);
  REQUIRE(res);
  CHECK(reason_of(res) == "expired");
  CHECK(on_b(new_key)() == 200);
  // A key that expires by itself.
  auto short_lived = text_of(create_key(a.client, admin, "viewer", "temp",
                                        R"(, "expiresInS": 1)"),
                             "key");
  CHECK(wait_status(on_b(short_lived), 200, 2s) >= 0ms);
  CHECK(wait_status(on_b(short_lived), 401, 4s) >= 0ms);
  res = send(b.client, "GET", "/api/v1/audit", short_lived);
  REQUIRE(res);
  CHECK(reason_of(res) == "expired");
  unlink(path_b.c_str());
}

TEST_CASE("streamb keys manages keys in the store: the key printed once, "
          "never listed, revoked for every node") {
  auth_config cfg{"keys-cli"};
  running_node node{{}, cfg.path};
  std::string out;
  REQUIRE(node_process::run_to_exit({"keys", "create", "--role", "reporter",
                                     "--name", "sdk-prod", "--expires-in",
                                     "90d", "--config", cfg.path},
                                    out)
          == 0);
  INFO(out);
  auto key = out.substr(0, out.find('\n'));
  auto id = auth::key_id_of(key);
  REQUIRE(id);
  auto post_calls = [&] {
    auto res = send(node.client, "POST", "/api/v1/calls", key, "[]");
    return res ? res->status : -1;
  };
  CHECK(wait_status(post_calls, 202, 2s) >= 0ms);
  std::string listed;
  REQUIRE(
    node_process::run_to_exit({"keys", "list", "--config", cfg.path}, listed)
    == 0);
  INFO(listed);
  CHECK(listed.find(*id) != std::string::npos);
  CHECK(listed.find("sdk-prod") != std::string::npos);
  CHECK(listed.find(key.substr(4 + 13)) == std::string::npos);
  CHECK(listed.find(auth::key_hash(key)) == std::string::npos);
  std::string revoked;
  REQUIRE(node_process::run_to_exit(
            {"keys", "revoke", *id, "--config", cfg.path}, revoked)
          == 0);
  CHECK(wait_status(post_calls, 401, 1s) >= 0ms);
  // Unknown ids and bad flags say so.
  std::string err;
  CHECK(node_process::run_to_exit(
          {"keys", "revoke", "nosuchid", "--config", cfg.path}, err)
        == 1);
  CHECK(err.find("no key") != std::string::npos);
  CHECK(node_process::run_to_exit({"keys", "create", "--role", "root", "--name",
                                   "x", "--config", cfg.path},
                                  err)
        == 2);
}

TEST_CASE("refused requests are audited once per key and reason per "
          "interval, never with the key") {
  auth_config cfg{"refusals", false, R"(, "audit_interval_s": 1)"};
  running_node node{{}, cfg.path};
  const std::string forged = "sbk_0123456789ab_" + std::string(64, 'f');
  for (int i = 0; i < 40; ++i) {
    auto res = send(node.client, "GET", "/api/v1/audit", forged);
    REQUIRE(res);
    CHECK(res->status == 401);
  }
  for (int i = 0; i < 10; ++i)
    REQUIRE(
      send(node.client, "POST", "/api/v1/calls", cfg.keys.at("viewer"), "[]"));
  json::array records;
  auto refused_count = [&] {
    auto res = send(node.client, "GET", "/api/v1/audit?limit=1000",
                    cfg.keys.at("viewer"));
    uint64_t n = 0;
    records.clear();
    if (!res || res->status != 200)
      return 0;
    auto doc = json::parse(res->body);
    for (auto& r : doc.at("records").as_array())
      if (r.at("action").as_string() == "auth.refused") {
        records.push_back(r);
        auto detail = std::string{r.at("detail").as_string()};
        n += std::stoull(detail);
      }
    return static_cast<int>(n);
  };
  CHECK(wait_status(refused_count, 50, 5s) >= 0ms);
  INFO(json::serialize(records));
  // Two kinds: the forged key (invalid) and the viewer's (forbidden).
  CHECK(records.size() <= 4);
  CHECK(json::serialize(records).find(forged) == std::string::npos);
  CHECK(json::serialize(records).find("0123456789ab") != std::string::npos);
}

TEST_CASE("a node off loopback without keys refuses to start and "
          "check-config says how to fix it") {
  redis_config_file cfg{"exposed"};
  cfg.replace(R"("host": "127.0.0.1")", R"("host": "0.0.0.0")");
  cfg.replace(R"(, "allow_unauthenticated": true)", "");
  cfg.save();
  std::string out;
  CHECK(node_process::run_to_exit({"check-config", cfg.path}, out) == 1);
  CHECK(out.find("$.auth.tokens") != std::string::npos);
  CHECK(out.find("not loopback") != std::string::npos);
  out.clear();
  CHECK(node_process::run_to_exit({"run", "--config", cfg.path, "--http-port",
                                   "0", "--actor-port", "0"},
                                  out)
        == 1);
  CHECK(out.find("refusing to start") != std::string::npos);
  // Explicitly unauthenticated: starts, with a warning every time.
  redis_config_file open{"exposed-open"};
  open.replace(R"("host": "127.0.0.1")", R"("host": "0.0.0.0")");
  open.save();
  out.clear();
  CHECK(node_process::run_to_exit({"check-config", open.path}, out) == 0);
  CHECK(out.find("warning: auth.allow_unauthenticated") != std::string::npos);
}

TEST_CASE("an actor port off loopback has no TLS: the node refuses to "
          "start unless the network is declared trusted") {
  redis_config_file cfg{"actor-exposed"};
  cfg.replace(R"("actor": {"host": "127.0.0.1")",
              R"("actor": {"host": "0.0.0.0")");
  cfg.replace(R"("agents": {)", R"("agents": {"require_token": true, )");
  cfg.save();
  std::string out;
  CHECK(node_process::run_to_exit({"check-config", cfg.path}, out) == 1);
  CHECK(out.find("$.node.actor.host") != std::string::npos);
  CHECK(out.find("no TLS") != std::string::npos);
  out.clear();
  CHECK(node_process::run_to_exit({"run", "--config", cfg.path, "--http-port",
                                   "0", "--actor-port", "0"},
                                  out)
        == 1);
  CHECK(out.find("refusing to start") != std::string::npos);
  redis_config_file trusted{"actor-trusted"};
  trusted.replace(
    R"("actor": {"host": "127.0.0.1")",
    R"("actor": {"host": "0.0.0.0", "allow_plaintext_remote": true)");
  trusted.replace(R"("agents": {)", R"("agents": {"require_token": true, )");
  trusted.save();
  out.clear();
  CHECK(node_process::run_to_exit({"check-config", trusted.path}, out) == 0);
}

TEST_CASE("the body of a refused request is never taken for a second "
          "request on the same connection") {
  auth_config cfg{"smuggling"};
  running_node node{{}, cfg.path};
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(node.port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  timeval timeout{3, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  auto send_all = [&](const std::string& x) {
    REQUIRE(::send(fd, x.data(), x.size(), MSG_NOSIGNAL)
            == static_cast<ssize_t>(x.size()));
  };
  // The body is a whole request for a route the caller may not use; it
  // arrives after the gate refused the headers.
  std::string hidden = "GET /api/v1/admin/keys HTTP/1.1\r\nHost: x\r\n"
                       "Authorization: Bearer "
    + cfg.keys.at("viewer") + "\r\n\r\n";
  send_all("POST /api/v1/calls HTTP/1.1\r\nHost: x\r\n"
           "Content-Type: application/json\r\nContent-Length: "
           + std::to_string(hidden.size()) + "\r\n\r\n");
  std::this_thread::sleep_for(100ms);
  send_all(hidden);
  std::string got;
  char buf[4096];
  auto read_until = [&](const std::string& marker) {
    while (got.find(marker) == std::string::npos) {
      auto n = ::recv(fd, buf, sizeof(buf), 0);
      if (n <= 0)
        return;
      got.append(buf, static_cast<std::size_t>(n));
    }
  };
  read_until("\"path\":\"Authorization\"}}");
  // The refused request's body is never read as a request: the node answers
  // and closes the connection (reading and dropping what still arrives).
  read_until("never arrives");
  ::close(fd);
  INFO(got);
  CHECK(got.rfind("HTTP/1.1 401", 0) == 0);
  CHECK(got.find("Connection: close\r\n") != std::string::npos);
  CHECK(got.find("HTTP/1.1 403") == std::string::npos);
  std::size_t answers = 0;
  for (auto at = got.find("HTTP/1.1 "); at != std::string::npos;
       at = got.find("HTTP/1.1 ", at + 1))
    ++answers;
  CHECK(answers == 1);
}

TEST_CASE("a one-time ticket opens a live stream without a header, once, and "
          "only for a key that may read it") {
  auth_config cfg{"tickets"};
  running_node node{{}, cfg.path};
  const std::string p = "/api/v1/stream-b-coordination";
  // Without a key, no ticket and no stream.
  CHECK(send(node.client, "POST", p + "/stream/ticket", "")->status == 401);
  auto issued = send(node.client, "POST", p + "/stream/ticket",
                     cfg.keys.at("viewer"));
  REQUIRE(issued);
  REQUIRE(issued->status == 201);
  auto ticket = std::string{
    boost::json::parse(issued->body).at("ticket").as_string()};
  CHECK(ticket.rfind("sbt_", 0) == 0);
  auto open_stream = [&](const std::string& query) {
    raw_connection c{node.port};
    REQUIRE(
      c.send("GET " + p + "/stream" + query + " HTTP/1.1\r\nHost: x\r\n\r\n"));
    c.read_until(
      [](const std::string& x) {
        return x.find(": connected") != std::string::npos
          || x.find("\r\n\r\n{") != std::string::npos;
      },
      5s);
    return c.received();
  };
  auto first = open_stream("?ticket=" + ticket);
  CHECK(first.find("200 OK") != std::string::npos);
  CHECK(first.find(": connected") != std::string::npos);
  // Used up: the same ticket again is refused, as is a made-up one.
  auto again = open_stream("?ticket=" + ticket);
  CHECK(again.find("401") != std::string::npos);
  CHECK(again.find("\"reason\":\"ticket\"") != std::string::npos);
  CHECK(open_stream("?ticket=sbt_00").find("401") != std::string::npos);
  // A ticket opens streams only: not another route.
  auto other = send(node.client, "POST", p + "/stream/ticket",
                    cfg.keys.at("viewer"));
  auto t2 = std::string{
    boost::json::parse(other->body).at("ticket").as_string()};
  auto dash = node.client.Get(p + "/dashboard?ticket=" + t2);
  REQUIRE(dash);
  CHECK(dash->status == 401);
}
