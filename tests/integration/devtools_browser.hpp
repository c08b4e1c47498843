#pragma once

// Headless Chromium (Debian `chromium`) driven over its DevTools protocol:
// a page to navigate, evaluate scripts in and screenshot, and every console
// error, uncaught exception and failed load it reported.

#include "tests/integration/node_process.hpp"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace streamb::test {

class devtools_browser {
public:
  /// Starts Chromium with a fresh profile (a temporary directory) and opens
  /// a blank page.
  devtools_browser();
  ~devtools_browser();

  devtools_browser(const devtools_browser&) = delete;
  devtools_browser& operator=(const devtools_browser&) = delete;

  /// Sends a command to the page and waits (at most 15 s) for its result;
  /// throws std::runtime_error on an error answer or no answer.
  boost::json::value call(const std::string& method,
                          boost::json::object params = {});

  /// The value of `expression` evaluated in the page (promises awaited).
  boost::json::value eval(const std::string& expression);

  /// Evaluates `expression` every 100 ms until it is true or `timeout`
  /// passes; returns whether it became true.
  bool wait_until(const std::string& expression,
                  std::chrono::milliseconds timeout);

  /// The page as a PNG.
  std::string screenshot_png();

  /// Console errors, uncaught exceptions and failed loads so far.
  const std::vector<std::string>& errors() const {
    return errors_;
  }

private:
  struct connection;

  void on_event(const boost::json::object& msg);

  std::string profile_dir_;
  std::unique_ptr<node_process> chrome_;
  std::unique_ptr<connection> conn_;
  std::string session_;
  int64_t next_id_ = 0;
  std::vector<std::string> errors_;
};

} // namespace streamb::test
