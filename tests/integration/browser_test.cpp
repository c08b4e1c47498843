// The web dashboard in a real browser (headless Chromium over DevTools): it
// loads from the node alone, goes live over the stream, shows the numbers
// GET .../dashboard shows, receives frontend_update events, becomes the
// Frontend agent itself (the JavaScript agent library), and logs no error. Its
// screenshot is kept in build/artifacts/dashboard.png.

#include "tests/integration/agent_process.hpp"
#include "tests/integration/devtools_browser.hpp"
#include "tests/integration/redis_config_file.hpp"
#include "tests/integration/running_node.hpp"
#include "tests/integration/stripe_signing.hpp"

#include <boost/json/serialize.hpp>
#include <catch2/catch.hpp>

#include <cmath>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

using namespace streamb;
using namespace streamb::test;
using namespace std::chrono_literals;

namespace {

constexpr const char* prefix = "/api/v1/stream-b-coordination";

/// The default config, pushing the dashboard every second and expecting a
/// frontend agent that never comes.
struct browser_config {
  std::string path = "/tmp/streamb-browser-" + std::to_string(getpid())
    + ".json";

  browser_config() {
    auto doc = boost::json::parse(
      read_file(STREAMB_SOURCE_DIR "/config/streamb.json"));
    doc.at("metrics").as_object()["dashboard_interval_s"] = 1;
    doc.at("agents").as_object()["expected"] = {"role:frontend"};
    // A webhook that no agent or endpoint takes: it waits, and says so.
    doc.at("services").at("stripe").as_object()["webhook"] = {
      {"scheme", "stripe"}, {"secrets", {"whsec_browser"}}};
    write_file(path, boost::json::serialize(doc));
  }

  ~browser_config() {
    unlink(path.c_str());
  }
};

double number_in(const std::string& text) {
  std::string digits;
  for (char c : text)
    if ((c >= '0' && c <= '9') || c == '.' || c == '-')
      digits += c;
  return digits.empty() ? NAN : std::stod(digits);
}

} // namespace

TEST_CASE("the web dashboard shows the node's numbers live in a real browser") {
  browser_config cfg;
  running_node node{{}, cfg.path};
  REQUIRE(
    node.post(sample_batch("twilio", 40, 4, "500", 120, ",\"costUsd\":0.25"))
      ->status
    == 202);
  REQUIRE(
    node.post(sample_batch("stripe", 25, 0, "200", 300, ",\"costUsd\":0.1"))
      ->status
    == 202);
  {
    auto res = post_stripe_event(node.client, "whsec_browser", "evt_browser");
    REQUIRE(res);
    REQUIRE(res->status == 200);
  }
  // The node has taken them before the page opens.
  for (int i = 0; i < 50; ++i) {
    auto doc = node.get_json(std::string{prefix} + "/dashboard");
    auto& m = doc.at("services").at("stripe").at("metrics");
    if (m.is_object() && m.at("calls").to_number<int>() == 25)
      break;
    std::this_thread::sleep_for(100ms);
  }

  devtools_browser browser;
  browser.call(
    "Page.navigate",
    {{"url", "http://127.0.0.1:" + std::to_string(node.port) + "/"}});
  // Live: at least one snapshot came over the stream after the first GET.
  REQUIRE(browser.wait_until(
    "document.body && Number(document.body.dataset.streamSnapshots || 0) >= 2",
    15s));
  CHECK(browser.eval("document.getElementById('live').textContent") == "live");
  CHECK(
    browser.wait_until("document.getElementById('webhook-waiting').textContent"
                       " === '1 pending, 1 waiting for a consumer'",
                       5s));

  // A frontend_update reaches the page as the seed's Frontend agent would
  // get it.
  auto sent = node.client.Post(
    (std::string{prefix} + "/coordination/send-event").c_str(),
    R"({"type":"frontend_update","payload":{"view":"browser-test-marker"}})",
    "application/json");
  REQUIRE(sent);
  INFO(sent->body);
  REQUIRE(sent->status < 300);
  CHECK(browser.wait_until(
    "[...document.querySelectorAll('#events li[data-topic=frontend_update]')]"
    ".some(li => li.textContent.includes('browser-test-marker'))",
    5s));

  // An agent's finding is hostile text: the page shows it as text.
  test::agent_process db{node.process.actor_port(),
                         "db-1",
                         "database",
                         "database_coordination",
                         {"--answer", R"({"findings":[{"service":"stripe",
                           "title":"<img src=x onerror=alert(1)>index it"}]})"}};
  REQUIRE(db.registered());
  auto asked = node.client.Post(
    (std::string{prefix} + "/coordination/send-event").c_str(),
    R"({"type":"database_coordination","payload":{}})", "application/json");
  REQUIRE(asked);
  REQUIRE(asked->status == 202);
  CHECK(browser.wait_until(
    "[...document.querySelectorAll('#recommendations li')]"
    ".some(li => li.textContent.includes('<img src=x onerror=alert(1)>'))",
    10s));
  CHECK(browser.eval("document.querySelectorAll('main img').length") == 0);
  CHECK(browser.wait_until(
    "[...document.querySelectorAll('#events li[data-topic=finding]')]"
    ".some(li => li.textContent.includes('index it'))",
    5s));

  // What the page shows is what GET .../dashboard says (traffic stopped,
  // so both read the same window).
  auto shown = browser.eval("Object.fromEntries([...document.querySelectorAll('"
                            "#services [data-field]')]"
                            ".map(td => [td.dataset.field, td.textContent]))");
  auto doc = node.get_json(std::string{prefix} + "/dashboard");
  INFO(boost::json::serialize(shown));
  auto text = [&](const std::string& field) {
    return std::string{shown.at(field).as_string()};
  };
  for (auto& [name, svc] : doc.at("services").as_object()) {
    std::string n{name};
    auto& m = svc.at("metrics");
    auto& b = svc.at("budget");
    CHECK(number_in(text(n + ".calls")) == m.at("calls").to_number<double>());
    if (m.at("calls").to_number<double>() > 0) {
      CHECK(number_in(text(n + ".p95"))
            == Approx(m.at("responseTime").at("p95").to_number<double>())
                 .margin(0.051));
      CHECK(number_in(text(n + ".p99"))
            == Approx(m.at("responseTime").at("p99").to_number<double>())
                 .margin(0.051));
    }
    CHECK(number_in(text(n + ".spend"))
          == Approx(b.at("spendUsd").to_number<double>()).margin(0.0051));
    CHECK(number_in(text(n + ".budget"))
          == Approx(b.at("budgetUsd").to_number<double>()).margin(0.0051));
    CHECK(text(n + ".state") == b.at("state").as_string().c_str());
  }
  CHECK(text("twilio.errors") == "10.00 %");
  CHECK(text("twilio.spend") == "$10.00");

  // The missing expected agent, and the charts drawn from the snapshots.
  CHECK(browser.eval("[...document.querySelectorAll('#agents tbody tr')]"
                     ".some(tr => tr.cells[0].textContent === 'role:frontend'"
                     " && tr.cells[2].textContent === 'missing')")
        == true);
  CHECK(browser.eval("Chart.getChart('latency-chart').data.datasets.length")
        == 12);

  // The page itself becomes the Frontend agent, through the JavaScript
  // agent library the node serves: it registers, gets a frontend_update,
  // shows it and answers it.
  browser.eval("document.getElementById('page-agent-connect').click()");
  REQUIRE(browser.wait_until(
    "(document.body.dataset.pageAgent || '').startsWith('registered as "
    "dashboard-')",
    10s));
  auto to_page = node.client.Post(
    (std::string{prefix} + "/coordination/send-event").c_str(),
    R"({"type":"frontend_update","payload":{"view":"page-agent-marker"}})",
    "application/json");
  REQUIRE(to_page);
  REQUIRE(to_page->status == 202);
  auto page_event = std::string{
    boost::json::parse(to_page->body).at("id").as_string()};
  CHECK(browser.wait_until(
    "[...document.querySelectorAll('#page-agent-events li')]"
    ".some(li => li.textContent.includes('page-agent-marker'))",
    10s));
  boost::json::value rec;
  for (int i = 0; i < 100; ++i) {
    rec = node.get_json("/api/v1/coordination/events/" + page_event);
    if (rec.at("state").as_string() == "completed")
      break;
    std::this_thread::sleep_for(100ms);
  }
  INFO(boost::json::serialize(rec));
  CHECK(rec.at("state").as_string() == "completed");
  CHECK(boost::json::serialize(rec).find("\"shown\":true")
        != std::string::npos);
  CHECK(browser.wait_until("[...document.querySelectorAll('#agents tbody tr')]"
                           ".some(tr => tr.cells[1].textContent === 'frontend'"
                           " && tr.cells[2].textContent === 'active')",
                           5s));
  CHECK(browser.eval("Chart.getChart('spend-chart').data.labels.length") == 6);

  auto png = browser.screenshot_png();
  CHECK(png.substr(1, 3) == "PNG");
  mkdir(STREAMB_ARTIFACT_DIR, 0755);
  write_file(STREAMB_ARTIFACT_DIR "/dashboard.png", png);

  // Nothing failed to load, threw or was refused by the page's CSP.
  for (auto& e : browser.errors())
    UNSCOPED_INFO(e);
  CHECK(browser.errors().empty());
}

TEST_CASE("the dashboard's files are served with a strict CSP and an ETag, "
          "and an unknown file is 404") {
  running_node node;
  auto page = node.client.Get("/");
  REQUIRE(page);
  CHECK(page->status == 200);
  CHECK(page->get_header_value("Content-Type") == "text/html; charset=utf-8");
  auto csp = page->get_header_value("Content-Security-Policy");
  CHECK(csp.find("script-src 'self'") != std::string::npos);
  CHECK(csp.find("unsafe-inline") == std::string::npos);
  CHECK(csp.find("frame-ancestors 'none'") != std::string::npos);
  CHECK(page->get_header_value("X-Content-Type-Options") == "nosniff");
  CHECK(page->body.find("/ui/app.js") != std::string::npos);
  auto etag = page->get_header_value("ETag");
  REQUIRE_FALSE(etag.empty());
  auto again = node.client.Get("/", {{"If-None-Match", etag}});
  REQUIRE(again);
  CHECK(again->status == 304);
  CHECK(again->body.empty());
  for (auto file : {"/ui/app.js", "/ui/chart.js", "/ui/style.css"}) {
    auto res = node.client.Get(file);
    REQUIRE(res);
    INFO(file);
    CHECK(res->status == 200);
    CHECK(res->body.size() > 1000);
  }
  CHECK(node.client.Get("/ui/chart.js")->get_header_value("Content-Type")
        == "text/javascript; charset=utf-8");
  check_error(node.client.Get("/ui/secrets.txt"), 404, "not_found");
  check_error(node.client.Get("/ui/../config/streamb.json"), 404, "not_found");
}
