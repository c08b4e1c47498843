// Every signature scheme's header parsing and checks, form-urlencoded
// bodies (Twilio) and the event extraction of every scheme. The input is
// "<scheme byte><header value>\n<body>".

#include "bridges/webhook_events.hpp"
#include "runtime/webhooks/form_urlencoded.hpp"
#include "runtime/webhooks/signatures/verify.hpp"

#include <cstddef>
#include <cstdint>
#include <string>

namespace sig = streamb::signatures;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  struct scheme {
    const char* name;
    std::vector<const char*> headers;
  };
  static const std::vector<scheme> schemes{
    {"stripe", {"Stripe-Signature"}},
    {"twilio", {"X-Twilio-Signature"}},
    {"sendgrid",
     {"X-Twilio-Email-Event-Webhook-Signature",
      "X-Twilio-Email-Event-Webhook-Timestamp"}},
    {"samsara", {"X-Samsara-Signature", "X-Samsara-Timestamp"}},
    {"airtable", {"X-Airtable-Content-MAC"}},
    {"standard", {"webhook-id", "webhook-timestamp", "webhook-signature"}},
  };
  if (size == 0)
    return 0;
  auto& s = schemes[data[0] % schemes.size()];
  std::string rest{reinterpret_cast<const char*>(data) + 1, size - 1};
  auto nl = rest.find('\n');
  auto header = rest.substr(0, nl);
  std::string body = nl == std::string::npos ? std::string{}
                                             : rest.substr(nl + 1);
  sig::webhook_request req;
  req.url = "https://example.com/webhooks/x?a=1";
  // The same text in every header the scheme reads, split on '|'.
  std::size_t at = 0;
  for (auto* name : s.headers) {
    auto bar = header.find('|', at);
    req.headers.emplace_back(name, header.substr(at, bar - at));
    at = bar == std::string::npos ? header.size() : bar + 1;
  }
  req.body = body;
  req.now_s = 1'700'000'000;
  sig::verify_options opts;
  opts.secrets = {"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "c2VjcmV0",
                  "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE"};
  if (auto verify = sig::find_verifier(s.name))
    (void)verify(req, opts);
  (void)streamb::parse_form(body);
  (void)streamb::form_decode(header);
  (void)streamb::extract_events(s.name, req);
  return 0;
}
