// The pure parts of access control: key shapes, roles, the route table,
// credential checks with rotation, expiry and revocation, sealed secrets.

#include "bridges/route_table.hpp"
#include "runtime/auth/api_key.hpp"
#include "runtime/auth/credential_registry.hpp"
#include "runtime/auth/credentials.hpp"
#include "runtime/auth/key_admin.hpp"
#include "runtime/auth/secret_box.hpp"
#include "runtime/config/config.hpp"
#include "runtime/core/error_code.hpp"
#include "runtime/core/json_strict.hpp"

#include <catch2/catch.hpp>

#include <set>

using namespace streamb;
using namespace streamb::auth;

namespace {

config config_with_token(const std::string& key, const std::string& role) {
  config cfg;
  cfg.auth.tokens.push_back({"boot", key_hash(key), role});
  service_config stripe;
  stripe.name = "stripe";
  stripe.webhook = webhook_config{};
  stripe.webhook->scheme = "stripe";
  stripe.webhook->secrets = {"whsec_config"};
  cfg.services.push_back(stripe);
  return cfg;
}

constexpr int64_t t0 = 1'800'000'000'000;

} // namespace

TEST_CASE("managed keys carry a readable id and 256 random bits, and only "
          "their hash is kept") {
  std::set<std::string> ids;
  for (int i = 0; i < 100; ++i)
    ids.insert(new_key_id());
  CHECK(ids.size() == 100);
  auto id = new_key_id();
  auto key = new_key(id);
  CHECK(key.size() == 4 + 12 + 1 + 64);
  CHECK(key_id_of(key) == id);
  CHECK(key_hash(key).size() == 64);
  CHECK(key_hash(key) != key_hash(new_key(id)));
  CHECK_FALSE(key_id_of("sbk_" + id + "_short"));
  CHECK_FALSE(key_id_of("sbk_" + id + "-" + std::string(64, 'a')));
  CHECK_FALSE(key_id_of("sbk_XYZ" + id.substr(3) + "_" + std::string(64, 'a')));
  CHECK_FALSE(key_id_of("Bearer"));
}

TEST_CASE("roles include the ones before them; agent keys open no HTTP "
          "role") {
  CHECK(grants(role::admin, role::viewer));
  CHECK(grants(role::operator_, role::reporter));
  CHECK(grants(role::reporter, role::reporter));
  CHECK_FALSE(grants(role::viewer, role::reporter));
  CHECK_FALSE(grants(role::operator_, role::admin));
  CHECK_FALSE(grants(role::agent, role::viewer));
  CHECK_FALSE(grants(role::admin, role::agent));
  CHECK(parse_role("operator") == role::operator_);
  CHECK_FALSE(parse_role("root"));
}

TEST_CASE("the route table matches paths segment by segment and knows every "
          "method") {
  CHECK(matches("/webhooks/{service}", "/webhooks/stripe"));
  CHECK_FALSE(matches("/webhooks/{service}", "/webhooks/"));
  CHECK_FALSE(matches("/webhooks/{service}", "/webhooks/stripe/x"));
  CHECK(matches("/api/v1/webhooks/events/{id...}",
                "/api/v1/webhooks/events/stripe:evt/1"));
  CHECK_FALSE(
    matches("/api/v1/webhooks/events/{id...}", "/api/v1/webhooks/events/"));
  CHECK_FALSE(matches("/healthz", "/healthz/"));
  auto r = find_route("POST", "/api/v1/admission/maps");
  REQUIRE(r != nullptr);
  CHECK(r->role == role::reporter);
  r = find_route("DELETE", "/api/v1/admin/webhooks/stripe/secrets/whs_1");
  REQUIRE(r != nullptr);
  CHECK(r->role == role::admin);
  CHECK(find_route("GET", "/api/v1/calls") == nullptr);
  CHECK(allowed_methods("/api/v1/calls") == "POST");
  CHECK(allowed_methods("/api/v1/admin/keys") == "GET, HEAD, POST");
  CHECK(allowed_methods("/api/v1/unknown").empty());
  CHECK(find_route("GET", "/api/v1/unknown") == nullptr);
  std::vector<std::string> captures;
  REQUIRE(matches("/api/v1/admin/webhooks/{service}/secrets/{id}",
                  "/api/v1/admin/webhooks/stripe/secrets/s1", &captures));
  CHECK(captures
        == std::vector<std::string>{"/api/v1/admin/webhooks/stripe/secrets/s1",
                                    "stripe", "s1"});
  REQUIRE(matches("/api/v1/webhooks/events/{id...}",
                  "/api/v1/webhooks/events/stripe:evt/1", &captures));
  CHECK(captures.back() == "stripe:evt/1");
  // No two rows for one method and path.
  std::set<std::string> seen;
  for (auto& row : route_table())
    CHECK(seen.insert(std::string{row.method} + " " + row.pattern).second);
}

TEST_CASE("a credential set checks config keys, managed keys with rotation, "
          "expiry and revocation, and names the reason") {
  auto boot = "sbc_" + std::string(64, '1');
  auto cfg = config_with_token(boot, "admin");
  auto made = create_key({}, "ops", role::operator_, 3600, "test", t0);
  REQUIRE(made);
  auto rotated = rotate_key({made->record}, made->record.id, 60, t0 + 1000);
  REQUIRE(rotated);
  credential_set set{cfg, {rotated->record}, {}};
  auto by_config = set.authenticate(boot, t0);
  REQUIRE(by_config);
  CHECK(by_config.who->id == "config:boot");
  CHECK(by_config.who->r == role::admin);
  auto now = t0 + 2000;
  auto current = set.authenticate(rotated->key, now);
  REQUIRE(current);
  CHECK(current.who->who() == made->record.id + " (ops)");
  CHECK(set.authenticate(made->key, now)); // the overlap
  auto old = set.authenticate(made->key, t0 + 1000 + 61'000);
  CHECK_FALSE(old);
  CHECK(old.why == refusal::expired);
  auto late = set.authenticate(rotated->key, t0 + 3601'000);
  CHECK(late.why == refusal::expired);
  CHECK(set.authenticate("", now).why == refusal::missing);
  auto forged = set.authenticate(
    "sbk_" + made->record.id + "_" + std::string(64, '0'), now);
  CHECK(forged.why == refusal::invalid);
  CHECK(forged.claimed_id == made->record.id);
  auto revoked = revoke_key({rotated->record}, made->record.id, now);
  REQUIRE(revoked);
  credential_set after{cfg, {*revoked}, {}};
  CHECK(after.authenticate(rotated->key, now).why == refusal::revoked);
  // A node cut off from the store stops trusting managed keys only.
  auto fresh = std::make_shared<std::atomic<int64_t>>(now - 1);
  credential_set stale{cfg, {rotated->record}, {}, fresh};
  CHECK(stale.authenticate(rotated->key, now).why == refusal::unavailable);
  CHECK(stale.authenticate(boot, now));
}

TEST_CASE("agent tokens: open registration until a token exists, then only "
          "agent keys and the config token") {
  config cfg;
  credential_set open{cfg, {}, {}};
  CHECK_FALSE(open.agent_token_required());
  CHECK(open.authenticate_agent("", t0));
  // The agents' HTTP route takes only a real agent credential, even here.
  CHECK(open.authenticate_agent_key("", t0).why == refusal::missing);
  CHECK(open.authenticate_agent_key("anything", t0).why == refusal::invalid);
  auto agent = create_key({}, "db-agents", role::agent, 0, "test", t0);
  auto viewer = create_key({}, "dash", role::viewer, 0, "test", t0);
  REQUIRE(agent);
  REQUIRE(viewer);
  credential_set closed{cfg, {agent->record, viewer->record}, {}};
  CHECK(closed.agent_token_required());
  CHECK(closed.authenticate_agent("", t0).why == refusal::missing);
  auto ok = closed.authenticate_agent(agent->key, t0);
  REQUIRE(ok);
  auto hash = key_hash(agent->key);
  CHECK(closed.agent_key_valid(ok.who->id, hash, t0));
  CHECK_FALSE(closed.agent_key_valid("anonymous", "", t0));
  // Rotated without overlap: the registration made with the old token ends;
  // with an overlap it stands until the overlap ends.
  auto rotated = rotate_key({agent->record}, agent->record.id, 0, t0);
  REQUIRE(rotated);
  credential_set after_rotation{cfg, {rotated->record}, {}};
  CHECK_FALSE(after_rotation.agent_key_valid(ok.who->id, hash, t0));
  CHECK(after_rotation.agent_key_valid(ok.who->id, key_hash(rotated->key), t0));
  auto overlapping = rotate_key({agent->record}, agent->record.id, 10, t0);
  credential_set in_overlap{cfg, {overlapping->record}, {}};
  CHECK(in_overlap.agent_key_valid(ok.who->id, hash, t0 + 9000));
  CHECK_FALSE(in_overlap.agent_key_valid(ok.who->id, hash, t0 + 10'000));
  CHECK(closed.authenticate_agent(viewer->key, t0).why == refusal::wrong_kind);
  CHECK(closed.authenticate_agent_key(viewer->key, t0).why
        == refusal::wrong_kind);
  CHECK(closed.authenticate_agent_key(agent->key, t0));
  CHECK(closed.authenticate(agent->key, t0).why == refusal::wrong_kind);
  auto revoked = revoke_key({agent->record}, agent->record.id, t0);
  REQUIRE(revoked);
  credential_set after{cfg, {*revoked}, {}};
  CHECK(after.agent_token_required());
  CHECK(after.authenticate_agent(agent->key, t0).why == refusal::revoked);
  CHECK_FALSE(after.agent_key_valid(agent->record.id, hash, t0));
  // Before a node has read its store, managed agent keys may exist: no
  // registration without a token, and managed keys are "unavailable".
  credential_set unread{config{}, {}, {}, nullptr, false};
  CHECK(unread.authenticate_agent("", t0).why == refusal::unavailable);
  CHECK(unread.authenticate(agent->key, t0).why == refusal::unavailable);
  cfg.agents.token_sha256 = key_hash("fleet-token");
  credential_set by_config{cfg, {}, {}};
  CHECK(by_config.authenticate_agent("fleet-token", t0));
  CHECK_FALSE(by_config.authenticate_agent("other", t0));
}

TEST_CASE("sealed webhook secrets open only with the same key and record") {
  auto box = secret_box::from_hex(std::string(64, 'a'));
  REQUIRE(box);
  auto other = secret_box::from_hex(std::string(64, 'b'));
  REQUIRE(other);
  CHECK_FALSE(secret_box::from_hex("abc"));
  CHECK_FALSE(secret_box::from_hex(std::string(64, 'z')));
  auto x = add_secret({}, *box, "stripe", "whsec_live", "test", t0);
  REQUIRE(x);
  CHECK(x->sealed.find("whsec_live") == std::string::npos);
  CHECK(box->open(x->sealed, secret_aad(*x)) == std::string{"whsec_live"});
  CHECK_FALSE(other->open(x->sealed, secret_aad(*x)));
  auto moved = *x;
  moved.service = "twilio";
  CHECK_FALSE(box->open(x->sealed, secret_aad(moved)));
  auto damaged = x->sealed;
  damaged[30] = damaged[30] == '0' ? '1' : '0';
  CHECK_FALSE(box->open(damaged, secret_aad(*x)));
  // Two seals of one secret differ (fresh nonce).
  CHECK(box->seal("s", "a") != box->seal("s", "a"));
  // Config and active managed secrets verify together.
  auto cfg = config_with_token("k", "viewer");
  credential_set set{cfg, {}, {{"stripe", {"whsec_live"}}}};
  auto secrets = set.webhook_secrets("stripe");
  CHECK(*secrets == std::vector<std::string>{"whsec_config", "whsec_live"});
  CHECK(set.webhook_secrets("twilio")->empty());
  std::vector<secret_record> many;
  for (int i = 0; i < 10; ++i)
    many.push_back(*add_secret(many, *box, "stripe", "s", "t", t0));
  CHECK(add_secret(many, *box, "stripe", "s", "t", t0).error()
        == caf::make_error(error_code::conflict));
}

TEST_CASE("refusals are counted per key and reason, with a cap on kinds") {
  credential_registry registry{std::make_shared<const credential_set>(
    config{}, std::vector<key_record>{},
    std::map<std::string, std::vector<std::string>>{})};
  for (int i = 0; i < 3; ++i)
    registry.note_refused("abc", "invalid", "127.0.0.1");
  for (int i = 0; i < 1000; ++i)
    registry.note_refused("k" + std::to_string(i), "invalid", "127.0.0.2");
  auto activity = registry.take_activity();
  CHECK(activity.refused.size() <= max_refusal_kinds + 1);
  CHECK(activity.refused.at({"abc", "invalid"}).count == 3);
  CHECK(activity.refused.at({"abc", "invalid"}).first_remote == "127.0.0.1");
  uint64_t total = 0;
  for (auto& [kind, n] : activity.refused)
    total += n.count;
  CHECK(total == 1003);
  CHECK(registry.take_activity().refused.empty());
}

TEST_CASE("a revocation recorded apart survives a stale rewrite of the "
          "record") {
  auto made = create_key({}, "ops", role::operator_, 0, "test", t0);
  REQUIRE(made);
  auto revoked = revoke_key({made->record}, made->record.id, t0 + 5);
  REQUIRE(revoked);
  auto ops = write_key(*revoked);
  REQUIRE(ops.size() == 3);
  CHECK(ops[1].key == revoked_hash);
  // Another node rotates its stale, unrevoked copy: the record says
  // "active" again, the revoked hash still names it.
  auto rotated = rotate_key({made->record}, made->record.id, 60, t0 + 6);
  REQUIRE(rotated);
  std::vector<key_record> keys{rotated->record};
  apply_revocations(keys, ops[1].fields);
  CHECK(keys[0].revoked_ms == t0 + 5);
  credential_set set{config{}, keys, {}};
  CHECK(set.authenticate(made->key, t0 + 7).why == refusal::revoked);
  CHECK(set.authenticate(rotated->key, t0 + 7).why == refusal::revoked);
}

TEST_CASE("durations, strict JSON and exposure checks") {
  CHECK(parse_duration_s("90d") == 90 * 86400);
  CHECK(parse_duration_s("24h") == 86400);
  CHECK(parse_duration_s("45") == 45);
  CHECK_FALSE(parse_duration_s("0s"));
  CHECK_FALSE(parse_duration_s("-1h"));
  CHECK_FALSE(parse_duration_s("1w"));
  json_problem p;
  CHECK_FALSE(parse_json_strict(R"({"a":{"b":1,"b":2}})", p));
  CHECK(p.path == "$.a.b");
  CHECK(parse_json_strict(R"({"a":1,"b":[1,1]})", p));
  config cfg;
  CHECK_FALSE(cfg.auth.open_reads);
  CHECK(is_loopback_host("127.0.0.1"));
  CHECK(is_loopback_host("127.3.2.1"));
  CHECK(is_loopback_host("::1"));
  CHECK(is_loopback_host("[::1]"));
  CHECK(is_loopback_host("localhost"));
  CHECK_FALSE(is_loopback_host("127.example.com"));
  CHECK_FALSE(is_loopback_host("0.0.0.0"));
  CHECK_FALSE(is_loopback_host("::"));
  CHECK(exposure_problems(cfg).empty());
  CHECK(exposure_warnings(cfg).empty());
  cfg.node.http.host = "0.0.0.0";
  CHECK(exposure_problems(cfg).size() == 1);
  cfg.auth.tokens.push_back({"boot", std::string(64, 'a'), "admin"});
  CHECK(exposure_problems(cfg).empty());
  cfg.auth.open_reads = true;
  CHECK(exposure_warnings(cfg).size() == 1);
  cfg.auth.tokens.clear();
  cfg.auth.allow_unauthenticated = true;
  CHECK(exposure_problems(cfg).empty());
  CHECK(exposure_warnings(cfg).size() == 1);
  // Off loopback the actor port needs both: no TLS there, and agents
  // without a token would be let in.
  cfg.node.actor.host = "10.1.2.3";
  CHECK(exposure_problems(cfg).size() == 2);
  cfg.agents.require_token = true;
  REQUIRE(exposure_problems(cfg).size() == 1);
  CHECK(exposure_problems(cfg)[0].path == "$.node.actor.host");
  cfg.node.actor.allow_plaintext_remote = true;
  CHECK(exposure_problems(cfg).empty());
  // Mutual TLS on the actor port is the other way to bind it off loopback.
  cfg.node.actor.allow_plaintext_remote = false;
  cfg.node.actor.tls = {"node.pem", "node.key", "ca.pem"};
  CHECK(exposure_problems(cfg).empty());
}
