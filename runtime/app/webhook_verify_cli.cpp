#include "runtime/app/webhook_verify_cli.hpp"

#include "runtime/core/crypto.hpp"
#include "runtime/core/wall_time.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>
#include <sstream>

namespace streamb {

namespace json = boost::json;

namespace {

const char* usage = R"(Usage:
  streamb webhook-verify --vectors FILE
  streamb webhook-verify --scheme S --secret X [--secret Y ...]
                         [--header 'Name: value' ...] --body-file F|-
                         [--url U] [--method M] [--now UNIX_S] [--tolerance S]

--vectors    run every case of a vectors file (webhook-vectors.json format);
             prints each failure, then "N passed, M failed"
--scheme     stripe, twilio, sendgrid, samsara, airtable, standard_webhooks
--secret     an active secret as the provider hands it out (for sendgrid:
             the base64 verification key); repeat for several
--header     a request header as received; repeat for each
--body-file  the raw request body ("-" reads standard input)
--url        the full URL the provider called (twilio signs it)
--method     the request method (default POST)
--now        unix seconds to treat as now (default: the clock)
--tolerance  freshness window in seconds (default 300; 0 turns it off)
)";

int fail_usage(std::ostream& err, const std::string& message) {
  err << "streamb webhook-verify: " << message << "\n\n" << usage;
  return 2;
}

std::optional<std::string> read_file(const std::string& path) {
  if (path == "-")
    return std::string{std::istreambuf_iterator<char>{std::cin}, {}};
  std::ifstream in{path, std::ios::binary};
  if (!in)
    return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad())
    return std::nullopt;
  return std::move(text).str();
}

bool all_digits(const std::string& s, size_t max_len) {
  return !s.empty() && s.size() <= max_len
    && s.find_first_not_of("0123456789") == std::string::npos;
}

// A string member, or nullopt (absent or not a string).
std::optional<std::string> string_at(const json::object& obj,
                                     std::string_view key) {
  auto* v = obj.if_contains(key);
  if (v == nullptr || !v->is_string())
    return std::nullopt;
  return std::string{v->get_string()};
}

// Reads one case; sets `c.problem` on the first thing it cannot use.
void read_case(const json::value& v, size_t index, webhook_vector& c) {
  c.id = "case #" + std::to_string(index);
  auto* obj = v.if_object();
  if (obj == nullptr) {
    c.problem = "not an object";
    return;
  }
  if (auto id = string_at(*obj, "id"))
    c.id = *id;
  auto problem = [&](std::string what) { c.problem = std::move(what); };
  auto scheme = string_at(*obj, "scheme");
  if (!scheme)
    return problem("no scheme");
  c.scheme = *scheme;
  if (auto method = string_at(*obj, "method"))
    c.method = *method;
  if (auto url = string_at(*obj, "url"))
    c.url = *url;
  if (auto* headers = obj->if_contains("headers")) {
    if (!headers->is_object())
      return problem("headers is not an object");
    for (auto& [name, value] : headers->get_object()) {
      if (!value.is_string())
        return problem("header " + std::string{name} + " is not a string");
      c.headers.emplace_back(std::string{name},
                             std::string{value.get_string()});
    }
  }
  if (auto b64 = string_at(*obj, "body_base64")) {
    auto body = base64_decode(*b64);
    if (!body)
      return problem("body_base64 is not base64");
    c.body = std::move(*body);
  } else if (auto body = string_at(*obj, "body")) {
    c.body = *body;
  } else {
    return problem("no body or body_base64");
  }
  // SendGrid's verification key, else the secret; either may be absent in
  // a case that expects a rejection before any secret is used.
  if (auto key = string_at(*obj, "public_key"))
    c.secrets.push_back(*key);
  else if (auto secret = string_at(*obj, "secret"))
    c.secrets.push_back(*secret);
  auto* now = obj->if_contains("now");
  if (now == nullptr || !now->is_int64())
    return problem("now is not an integer");
  c.now_s = now->get_int64();
  if (auto* tol = obj->if_contains("tolerance_s"); tol && !tol->is_null()) {
    if (!tol->is_int64() || tol->get_int64() < 0
        || tol->get_int64() > int64_t{UINT32_MAX})
      return problem("tolerance_s is not null or a number of seconds");
    c.tolerance_s = static_cast<uint32_t>(tol->get_int64());
  }
  auto expect = string_at(*obj, "expect");
  if (!expect || (*expect != "valid" && *expect != "invalid"))
    return problem("expect is not \"valid\" or \"invalid\"");
  c.expect_valid = *expect == "valid";
  if (auto why = string_at(*obj, "reason"))
    c.expect_reason = *why;
  if (!signatures::find_verifier(c.scheme))
    return problem("unknown scheme " + c.scheme);
}

int run_vectors(const std::string& path, std::ostream& out, std::ostream& err) {
  auto text = read_file(path);
  if (!text) {
    err << "streamb webhook-verify: cannot read " << path << '\n';
    return 2;
  }
  std::vector<webhook_vector> cases;
  if (auto error = parse_webhook_vectors(*text, cases); !error.empty()) {
    err << "streamb webhook-verify: " << path << ": " << error << '\n';
    return 2;
  }
  size_t passed = 0;
  size_t failed = 0;
  for (auto& c : cases) {
    if (!c.problem.empty()) {
      out << "FAIL " << c.id << ": unreadable case: " << c.problem << '\n';
      ++failed;
      continue;
    }
    auto result = check_webhook_vector(c);
    if (result.passed) {
      ++passed;
      continue;
    }
    ++failed;
    out << "FAIL " << c.id << " (" << c.scheme << "): expected "
        << (c.expect_valid ? "valid" : "invalid");
    if (!c.expect_valid && !c.expect_reason.empty())
      out << " (" << c.expect_reason << ')';
    out << ", got " << (result.got.valid ? "valid" : "invalid");
    if (!result.got.valid)
      out << " (" << signatures::to_string(result.got.why) << ')';
    out << ": " << result.got.detail << '\n';
  }
  out << passed << " passed, " << failed << " failed\n";
  return failed == 0 ? 0 : 1;
}

int run_live(const std::vector<std::string>& args, std::ostream& out,
             std::ostream& err) {
  std::string scheme;
  std::optional<std::string> body_file;
  std::optional<int64_t> now;
  signatures::webhook_request req;
  signatures::verify_options opts;
  for (size_t i = 0; i < args.size(); ++i) {
    auto& flag = args[i];
    if (i + 1 >= args.size())
      return fail_usage(err, flag + " needs a value");
    auto& value = args[++i];
    if (flag == "--scheme") {
      scheme = value;
    } else if (flag == "--secret") {
      opts.secrets.push_back(value);
    } else if (flag == "--header") {
      auto colon = value.find(':');
      if (colon == 0 || colon == std::string::npos)
        return fail_usage(err, "--header needs 'Name: value'");
      auto first = value.find_first_not_of(" \t", colon + 1);
      auto last = value.find_last_not_of(" \t");
      req.headers.emplace_back(value.substr(0, colon),
                               first == std::string::npos || last < first
                                 ? std::string{}
                                 : value.substr(first, last - first + 1));
    } else if (flag == "--body-file") {
      body_file = value;
    } else if (flag == "--url") {
      req.url = value;
    } else if (flag == "--method") {
      req.method = value;
    } else if (flag == "--now") {
      if (!all_digits(value, 18))
        return fail_usage(err, "--now needs unix seconds");
      now = std::stoll(value);
    } else if (flag == "--tolerance") {
      if (!all_digits(value, 9))
        return fail_usage(err, "--tolerance needs seconds (0 turns it off)");
      opts.tolerance_s = static_cast<uint32_t>(std::stoul(value));
    } else {
      return fail_usage(err, "unknown option '" + flag + "'");
    }
  }
  auto verify = signatures::find_verifier(scheme);
  if (scheme.empty())
    return fail_usage(err, "--scheme is required");
  if (verify == nullptr)
    return fail_usage(err, "unknown scheme '" + scheme + "'");
  if (opts.secrets.empty())
    return fail_usage(err, "at least one --secret is required");
  if (!body_file)
    return fail_usage(err, "--body-file is required (\"-\" for stdin)");
  if (req.url.empty() && verify == signatures::verify_twilio)
    return fail_usage(err, "twilio signs the URL: --url is required");
  auto body = read_file(*body_file);
  if (!body) {
    err << "streamb webhook-verify: cannot read " << *body_file << '\n';
    return 2;
  }
  req.body = *body;
  req.now_s = now ? *now : epoch_ms_now() / 1000;
  auto v = verify(req, opts);
  // The detail names checks and headers, never a secret or a signature.
  if (v.valid) {
    out << "valid: " << v.detail << '\n';
    return 0;
  }
  out << "invalid: " << signatures::to_string(v.why) << ": " << v.detail
      << '\n';
  return 1;
}

} // namespace

signatures::webhook_request webhook_vector::request() const {
  signatures::webhook_request req;
  req.method = method;
  req.url = url;
  req.headers = headers;
  req.body = body;
  req.now_s = now_s;
  return req;
}

signatures::verify_options webhook_vector::options() const {
  signatures::verify_options opts;
  opts.secrets = secrets;
  opts.tolerance_s = tolerance_s;
  return opts;
}

std::string parse_webhook_vectors(std::string_view json_text,
                                  std::vector<webhook_vector>& out) {
  json::error_code ec;
  auto doc = json::parse(json::string_view{json_text.data(), json_text.size()},
                         ec);
  if (ec)
    return "not JSON: " + ec.message();
  auto* top = doc.if_object();
  auto* cases = top ? top->if_contains("cases") : nullptr;
  if (cases == nullptr || !cases->is_array())
    return "not a vectors file: no \"cases\" array";
  if (cases->get_array().empty())
    return "no cases";
  size_t index = 0;
  for (auto& v : cases->get_array()) {
    webhook_vector c;
    read_case(v, index++, c);
    out.push_back(std::move(c));
  }
  return {};
}

webhook_vector_result check_webhook_vector(const webhook_vector& c) {
  webhook_vector_result result;
  auto verify = signatures::find_verifier(c.scheme);
  if (verify == nullptr || !c.problem.empty()) {
    result.got.detail = c.problem.empty() ? "unknown scheme" : c.problem;
    return result;
  }
  result.got = verify(c.request(), c.options());
  if (c.expect_valid)
    result.passed = result.got.valid;
  else
    result.passed = !result.got.valid
      && (c.expect_reason.empty()
          || c.expect_reason == signatures::to_string(result.got.why));
  return result;
}

int webhook_verify_command(const std::vector<std::string>& args) {
  return webhook_verify_command(args, std::cout, std::cerr);
}

int webhook_verify_command(const std::vector<std::string>& args,
                           std::ostream& out, std::ostream& err) {
  if (args.empty())
    return fail_usage(err, "needs --vectors FILE or --scheme ...");
  if (args[0] == "--help" || args[0] == "-h") {
    out << usage;
    return 0;
  }
  if (args[0] == "--vectors") {
    if (args.size() != 2)
      return fail_usage(err, "--vectors takes exactly one FILE");
    return run_vectors(args[1], out, err);
  }
  return run_live(args, out, err);
}

} // namespace streamb
