#pragma once

// `streamb webhook-verify`: runs a file of signature test vectors through
// the verifiers of bridges/signatures/, or verifies one request an operator
// captured ("why does our endpoint reject the provider's webhooks?").

#include "runtime/app/cli.hpp"
#include "runtime/webhooks/signatures/verify.hpp"

#include <cstdint>
#include <iosfwd>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace streamb {

/// One case of a vectors file (the format of webhook-vectors.json: id,
/// scheme, secret or public_key, url, method, headers, body or body_base64,
/// now, tolerance_s, expect, reason).
struct webhook_vector {
  std::string id;
  std::string scheme;
  std::string method = "POST";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::vector<std::string> secrets;
  int64_t now_s = 0;
  /// null in the file = 0 = no freshness check.
  uint32_t tolerance_s = 0;
  bool expect_valid = false;
  /// The expected reason of an invalid case; empty when the file has none.
  std::string expect_reason;
  /// Why the case could not be read; empty when it could.
  std::string problem;

  /// The request, viewing this case's body.
  signatures::webhook_request request() const;
  signatures::verify_options options() const;
};

/// Reads the text of a vectors file into `out`; returns an error message
/// when the text is not a vectors file at all (not JSON, no `cases` array),
/// "" otherwise. A case that cannot be read is kept with its `problem` set.
std::string parse_webhook_vectors(std::string_view json_text,
                                  std::vector<webhook_vector>& out);

/// The verdict of one case and whether it is the expected one: validity,
/// and for an invalid case the reason (when the file gives one).
struct webhook_vector_result {
  bool passed = false;
  signatures::verdict got;
};

webhook_vector_result check_webhook_vector(const webhook_vector& c);

/// Adds `webhook-verify` to the `streamb` command tree; it writes to `out`
/// and `err`. Exit code 0 (all vectors passed, or the request is valid), 1
/// (a vector failed, or the request is invalid), 2 (usage error, unreadable
/// file).
void add_webhook_verify_command(cli::program& p, std::ostream& out,
                                std::ostream& err);

/// `streamb webhook-verify ARGS…` on its own, writing to `out` and `err`
/// (for tests).
int webhook_verify_command(const std::vector<std::string>& args,
                           std::ostream& out, std::ostream& err);

} // namespace streamb
