#include "runtime/app/webhook_verify_cli.hpp"

#include "runtime/core/crypto.hpp"
#include "runtime/core/wall_time.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <optional>
#include <sstream>

namespace streamb {

namespace json = boost::json;

namespace {

/// The command line of `webhook-verify`.
struct verify_cli_options {
  std::optional<std::string> vectors;
  std::string scheme;
  std::vector<std::string> secrets;
  std::vector<std::string> headers;
  std::optional<std::string> body_file;
  std::string url;
  std::string method = "POST";
  std::optional<int64_t> now_s;
  uint32_t tolerance_s = signatures::verify_options{}.tolerance_s;
};

/// At most `max_len` digits: the conversion cannot overflow.
CLI::Validator digits(size_t max_len, std::string message) {
  return cli::check(
    [max_len](const std::string& text) { return cli::digits(text, max_len); },
    std::move(message));
}

const CLI::Validator& scheme_name() {
  static const CLI::Validator validator{[](std::string& text) -> std::string {
                                          if (!signatures::find_verifier(text))
                                            return "unknown scheme '" + text
                                              + "'";
                                          return {};
                                        },
                                        ""};
  return validator;
}

const CLI::Validator& header_line() {
  static const auto validator = cli::check(
    [](const std::string& text) {
      auto colon = text.find(':');
      return colon != 0 && colon != std::string::npos;
    },
    "needs 'Name: value'");
  return validator;
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

int run_live(const CLI::App& cmd, const verify_cli_options& opts,
             std::ostream& out, std::ostream& err) {
  if (opts.scheme.empty())
    return cli::usage_error(cmd, err, "--scheme is required");
  auto verify = signatures::find_verifier(opts.scheme);
  if (opts.secrets.empty())
    return cli::usage_error(cmd, err, "at least one --secret is required");
  if (!opts.body_file)
    return cli::usage_error(cmd, err,
                            "--body-file is required (\"-\" for stdin)");
  if (opts.url.empty() && verify == signatures::verify_twilio)
    return cli::usage_error(cmd, err,
                            "twilio signs the URL: --url is required");
  signatures::webhook_request req;
  req.method = opts.method;
  req.url = opts.url;
  for (auto& line : opts.headers) {
    // header_line() checked the colon.
    auto colon = line.find(':');
    auto first = line.find_first_not_of(" \t", colon + 1);
    auto last = line.find_last_not_of(" \t");
    req.headers.emplace_back(line.substr(0, colon),
                             first == std::string::npos || last < first
                               ? std::string{}
                               : line.substr(first, last - first + 1));
  }
  auto body = read_file(*opts.body_file);
  if (!body) {
    err << "streamb webhook-verify: cannot read " << *opts.body_file << '\n';
    return 2;
  }
  req.body = *body;
  req.now_s = opts.now_s ? *opts.now_s : epoch_ms_now() / 1000;
  signatures::verify_options vopts;
  vopts.secrets = opts.secrets;
  vopts.tolerance_s = opts.tolerance_s;
  auto v = verify(req, vopts);
  // The detail names checks and headers, never a secret or a signature.
  if (v.valid) {
    out << "valid: " << v.detail << '\n';
    return 0;
  }
  out << "invalid: " << signatures::to_string(v.why) << ": " << v.detail
      << '\n';
  return 1;
}

int webhook_verify(const CLI::App& cmd, const verify_cli_options& opts,
                   std::ostream& out, std::ostream& err) {
  if (opts.vectors)
    return run_vectors(*opts.vectors, out, err);
  if (opts.scheme.empty() && opts.secrets.empty() && !opts.body_file)
    return cli::usage_error(cmd, err,
                            "needs --vectors FILE, or --scheme with --secret "
                            "and --body-file");
  return run_live(cmd, opts, out, err);
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

void add_webhook_verify_command(cli::program& p, std::ostream& out,
                                std::ostream& err) {
  auto opts = std::make_shared<verify_cli_options>();
  auto& cmd = p.add_command(p.app(), "webhook-verify",
                            "check webhook signatures: a vectors file, or one "
                            "request an operator captured");
  auto vectors = cmd
                   .add_option("--vectors", opts->vectors,
                               "run every case of a vectors file "
                               "(webhook-vectors.json format) and nothing "
                               "else")
                   ->type_name("FILE");
  std::vector<CLI::Option*> live{
    cmd
      .add_option("--scheme", opts->scheme,
                  "stripe, twilio, sendgrid, samsara, airtable, standard")
      ->type_name("S")
      ->check(scheme_name()),
    cmd
      .add_option("--secret", opts->secrets,
                  "an active secret as the provider hands it out (sendgrid: "
                  "the base64 verification key); repeat for several")
      ->type_name("X")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
      ->allow_extra_args(false),
    cmd
      .add_option("--header", opts->headers,
                  "a request header as received; repeat for each")
      ->type_name("'NAME: VALUE'")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
      ->allow_extra_args(false)
      ->check(header_line()),
    cmd
      .add_option("--body-file", opts->body_file,
                  "the raw request body (\"-\" reads standard input)")
      ->type_name("FILE"),
    cmd
      .add_option("--url", opts->url,
                  "the full URL the provider called (twilio signs it)")
      ->type_name("U"),
    cmd.add_option("--method", opts->method, "the request method")
      ->type_name("M")
      ->capture_default_str(),
    cmd
      .add_option("--now", opts->now_s,
                  "unix seconds to treat as now (default: the clock)")
      ->type_name("UNIX_S")
      ->check(digits(18, "needs unix seconds")),
    cmd
      .add_option("--tolerance", opts->tolerance_s,
                  "freshness window in seconds; 0 turns it off")
      ->type_name("S")
      ->capture_default_str()
      ->check(digits(9, "needs seconds (0 turns it off)")),
  };
  for (auto* x : live)
    vectors->excludes(x);
  cmd.footer("--vectors prints each failing case, then \"N passed, M "
             "failed\". One request prints\n"
             "\"valid: ...\" or \"invalid: REASON: ...\"; never a secret "
             "(but a --secret argument\n"
             "shows in ps and the shell history).\n"
             "Exit 0: all passed / valid; 1: a case failed / invalid; 2: "
             "usage error or\n"
             "unreadable file.");
  p.on_run(cmd, [&cmd, opts, &out, &err] {
    return webhook_verify(cmd, *opts, out, err);
  });
}

int webhook_verify_command(const std::vector<std::string>& args,
                           std::ostream& out, std::ostream& err) {
  cli::program p{"streamb", ""};
  add_webhook_verify_command(p, out, err);
  std::vector<std::string> line{"webhook-verify"};
  line.insert(line.end(), args.begin(), args.end());
  return p.run(line, out, err);
}

} // namespace streamb
