#include "runtime/config/config_diff.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace streamb;

namespace {

using strings = std::vector<std::string>;

service_config stripe() {
  service_config svc;
  svc.name = "stripe";
  svc.budget_usd_month = 50;
  svc.limits.burst = {25, 1};
  webhook_config wh;
  wh.scheme = "stripe";
  wh.secrets = {"whsec_one"};
  svc.webhook = wh;
  return svc;
}

config two_services() {
  config cfg;
  cfg.services.push_back(stripe());
  auto twilio = stripe();
  twilio.name = "twilio";
  twilio.webhook.reset();
  cfg.services.push_back(twilio);
  return cfg;
}

} // namespace

TEST_CASE("service_changes is empty for an unchanged service") {
  CHECK(service_changes(stripe(), stripe()).empty());
}

TEST_CASE("service_changes says key before -> after, in the order of the "
          "config's fields") {
  auto before = stripe();
  auto after = before;
  after.limits.burst.capacity = 10;
  after.budget_usd_month = 80;
  after.alerts.error_rate = 0.1;
  after.limits.daily.time_zone = "Europe/Berlin";
  after.hard_cap = true;
  after.cost.unit = "sms_segment";
  after.batching.endpoints = {"/v3/mail/send", "/v0/records"};
  CHECK(service_changes(before, after)
        == strings{"batching.endpoints [] -> [/v3/mail/send, /v0/records]",
                   "budget_usd_month 50 -> 80", "hard_cap false -> true",
                   "cost.unit \"\" -> sms_segment",
                   "limits.burst.capacity 25 -> 10",
                   "limits.daily.time_zone UTC -> Europe/Berlin",
                   "alerts.error_rate 0.05 -> 0.1"});
}

TEST_CASE("service_changes counts webhook secrets and never shows them") {
  auto before = stripe();
  auto after = before;
  after.webhook->secrets = {"whsec_two", "whsec_three"};
  auto changes = service_changes(before, after);
  CHECK(changes == strings{"webhook.secrets <1 secret> -> <2 secrets>"});
  // A rotation that keeps the count is still a change.
  after.webhook->secrets = {"whsec_two"};
  CHECK(service_changes(before, after)
        == strings{"webhook.secrets <1 secret> -> <1 secret>"});
  after.webhook.reset();
  CHECK(service_changes(before, after) == strings{"webhook stripe -> none"});
}

TEST_CASE("restart_only_changes is empty when only live settings changed") {
  auto before = two_services();
  auto after = before;
  after.auth.open_reads = false;
  after.agents.token_sha256 = std::string(64, 'a');
  after.services[0].budget_usd_month = 500;
  after.services[0].limits.burst.capacity = 1;
  after.services[0].webhook->secrets = {"whsec_new"};
  CHECK(restart_only_changes(before, after).empty());
}

TEST_CASE("restart_only_changes names the keys a restart applies, without "
          "their values") {
  auto before = two_services();
  auto after = before;
  after.node.http.port = 9090;
  after.store.url = "redis://:password@10.0.0.2:6379/0";
  after.metrics.snapshot_interval_s = 5;
  after.agents.max_attempts = 5;
  after.webhooks.retry_delays_s = {1, 2};
  after.node.actor.tls.ca_file = "/etc/streamb/tls/ca.pem";
  after.cluster.placement["stripe"] = {"node-b"};
  after.cluster.secret = "a-new-cluster-secret-0123";
  after.cluster.failback = true;
  after.services[0].webhook->scheme = "standard";
  after.services[0].webhook->max_body_bytes = 1024;
  after.services[0].webhook->dedup_ttl_s = 60;
  after.services[0].webhook->tolerance_s = 60;
  after.services[1].webhook = webhook_config{};
  auto changes = restart_only_changes(before, after);
  CHECK(changes
        == strings{"node.http.port", "node.actor.tls.ca_file", "store.url",
                   "metrics.snapshot_interval_s",
                   "agents.max_attempts", "webhooks.retry_delays_s",
                   "services.stripe.webhook.scheme",
                   "services.stripe.webhook.max_body_bytes",
                   "services.stripe.webhook.dedup_ttl_s",
                   "services.stripe.webhook.tolerance_s",
                   "services.twilio.webhook", "cluster.placement",
                   "cluster.secret", "cluster.failback"});
  for (auto& key : changes) {
    CHECK(key.find("password") == std::string::npos);
    CHECK(key.find("a-new-cluster-secret") == std::string::npos);
  }
}

TEST_CASE("restart_only_changes names services when one is added, removed "
          "or moved") {
  auto before = two_services();
  auto reordered = before;
  std::swap(reordered.services[0], reordered.services[1]);
  CHECK(restart_only_changes(before, reordered) == strings{"services"});
  auto removed = before;
  removed.services.pop_back();
  CHECK(restart_only_changes(before, removed) == strings{"services"});
}
