#include "tests/integration/devtools_browser.hpp"

#include "runtime/core/crypto.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <cstdlib>
#include <filesystem>
#include <regex>
#include <stdexcept>
#include <unistd.h>

namespace streamb::test {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace json = boost::json;

struct devtools_browser::connection {
  net::io_context ioc;
  beast::websocket::stream<net::ip::tcp::socket> ws{ioc};

  /// One message, or an exception after `timeout`: a browser that stops
  /// answering fails the test instead of hanging it.
  std::string read(std::chrono::milliseconds timeout) {
    beast::flat_buffer buf;
    bool done = false;
    beast::error_code ec;
    ws.async_read(buf, [&](beast::error_code e, std::size_t) {
      ec = e;
      done = true;
    });
    ioc.restart();
    ioc.run_for(timeout);
    if (!done)
      throw std::runtime_error("DevTools: no message within the timeout");
    if (ec)
      throw std::runtime_error("DevTools: " + ec.message());
    return beast::buffers_to_string(buf.data());
  }
};

devtools_browser::devtools_browser() {
  char dir[] = "/tmp/streamb-chromium-XXXXXX";
  if (mkdtemp(dir) == nullptr)
    throw std::runtime_error("cannot create a profile directory");
  profile_dir_ = dir;
  // Headless without a sandbox (CI runs as root in a VM) or a GPU; port 0:
  // Chromium picks a free one and prints it.
  chrome_ = std::make_unique<node_process>(
    "/usr/bin/chromium",
    std::vector<std::string>{
      "--headless=new", "--no-sandbox", "--disable-gpu",
      "--disable-dev-shm-usage", "--no-first-run", "--no-default-browser-check",
      "--disable-extensions", "--hide-scrollbars", "--window-size=1400,1000",
      "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
      "--user-data-dir=" + profile_dir_, "about:blank"},
    true);
  if (!chrome_->wait_for("DevTools listening on ws://",
                         std::chrono::seconds{30}))
    throw std::runtime_error("chromium did not start: " + chrome_->drain());
  std::smatch m;
  auto out = chrome_->drain(std::chrono::milliseconds{0});
  if (!std::regex_search(
        out, m, std::regex{R"(ws://127\.0\.0\.1:(\d+)(/devtools/\S+))"}))
    throw std::runtime_error("no DevTools address in: " + out);
  auto port = static_cast<unsigned short>(std::stoi(m[1].str()));
  conn_ = std::make_unique<connection>();
  conn_->ws.next_layer().connect({net::ip::make_address("127.0.0.1"), port});
  conn_->ws.read_message_max(64u << 20); // screenshots
  conn_->ws.handshake("127.0.0.1:" + m[1].str(), m[2].str());
  // A page of our own, attached in flat mode: its commands carry the
  // session id on the browser's connection.
  auto target = call("Target.createTarget", {{"url", "about:blank"}});
  auto attached = call("Target.attachToTarget",
                       {{"targetId", target.at("targetId")},
                        {"flatten", true}});
  session_ = std::string{attached.at("sessionId").as_string()};
  call("Runtime.enable");
  call("Log.enable");
  call("Page.enable");
}

devtools_browser::~devtools_browser() {
  conn_.reset();
  if (chrome_)
    chrome_->stop(SIGTERM, std::chrono::seconds{10});
  chrome_.reset();
  if (!profile_dir_.empty()) {
    std::error_code ignored;
    std::filesystem::remove_all(profile_dir_, ignored);
  }
}

json::value devtools_browser::call(const std::string& method,
                                   json::object params) {
  auto id = ++next_id_;
  json::object msg{
    {"id", id}, {"method", method}, {"params", std::move(params)}};
  // Target.* goes to the browser, the rest to our page.
  if (!session_.empty() && method.rfind("Target.", 0) != 0)
    msg["sessionId"] = session_;
  conn_->ws.write(net::buffer(json::serialize(msg)));
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{15};
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0)
      throw std::runtime_error("DevTools: no answer to " + method);
    auto in = json::parse(conn_->read(left)).as_object();
    if (auto x = in.if_contains("id"); x && x->to_number<int64_t>() == id) {
      if (auto err = in.if_contains("error"))
        throw std::runtime_error("DevTools " + method + ": "
                                 + json::serialize(*err));
      return in["result"];
    }
    if (in.contains("method"))
      on_event(in);
  }
}

void devtools_browser::on_event(const json::object& msg) {
  auto method = msg.at("method").as_string();
  auto& params = msg.at("params").as_object();
  if (method == "Runtime.exceptionThrown") {
    errors_.push_back("exception: "
                      + json::serialize(params.at("exceptionDetails")));
  } else if (method == "Runtime.consoleAPICalled") {
    if (params.at("type") == "error" || params.at("type") == "assert")
      errors_.push_back("console: " + json::serialize(params.at("args")));
  } else if (method == "Log.entryAdded") {
    auto& entry = params.at("entry").as_object();
    if (entry.at("level") == "error")
      errors_.push_back("log: " + json::serialize(entry));
  }
}

json::value devtools_browser::eval(const std::string& expression) {
  auto r = call("Runtime.evaluate",
                {{"expression", expression},
                 {"returnByValue", true},
                 {"awaitPromise", true}});
  if (auto ex = r.as_object().if_contains("exceptionDetails"))
    throw std::runtime_error("evaluating " + expression + ": "
                             + json::serialize(*ex));
  auto& result = r.at("result").as_object();
  auto v = result.if_contains("value");
  return v ? *v : json::value(nullptr);
}

bool devtools_browser::wait_until(const std::string& expression,
                                  std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (eval(expression) == true)
      return true;
    usleep(100 * 1000);
  }
  return false;
}

std::string devtools_browser::screenshot_png() {
  auto r = call("Page.captureScreenshot",
                {{"format", "png"}, {"captureBeyondViewport", true}});
  auto png = base64_decode(r.at("data").as_string());
  if (!png)
    throw std::runtime_error("DevTools: a screenshot that is not base64");
  return *png;
}

} // namespace streamb::test
