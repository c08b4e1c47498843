#include "runtime/app/keys_cli.hpp"

#include "runtime/core/crypto.hpp"
#include "runtime/core/audit.hpp"
#include "runtime/auth/api_key.hpp"
#include "runtime/auth/key_admin.hpp"
#include "runtime/app/cli_store.hpp"
#include "runtime/core/wall_time.hpp"

#include <caf/message.hpp>

#include <fstream>
#include <iostream>
#include <map>
#include <optional>

namespace streamb {

namespace {

using namespace auth;

constexpr const char* default_config_path = "config/streamb.json";
constexpr const char* who = "cli";

const char* keys_usage = R"(Usage:
  streamb keys create --role ROLE --name NAME [--expires-in 90d] [STORE]
  streamb keys list [STORE]
  streamb keys rotate ID [--overlap 24h] [STORE]
  streamb keys revoke ID [STORE]
  streamb keys bootstrap --name NAME --role ROLE
  streamb webhook-secrets add SERVICE [--secret-file F] [STORE]
  streamb webhook-secrets list SERVICE [STORE]
  streamb webhook-secrets retire SERVICE ID [STORE]

STORE is --config FILE (its store; default config/streamb.json) and/or
--store redis://...  Roles: viewer, reporter, operator, admin, agent.
A new key is printed alone on the first line of stdout, once: keep it.
bootstrap makes a key for auth.tokens: the key, then the config entry.
add reads the secret from --secret-file or the first line of stdin (never
from the command line, where ps would show it); it needs STREAMB_SECRET_KEY.
)";

int usage_error(const std::string& message) {
  std::cerr << "streamb: " << message << "\n\n" << keys_usage;
  return 2;
}

struct cli_args {
  std::vector<std::string> positional;
  std::map<std::string, std::string> flags;
};

std::optional<cli_args> parse(const std::vector<std::string>& args,
                              std::initializer_list<const char*> known,
                              std::string& error) {
  cli_args out;
  for (std::size_t i = 0; i < args.size(); ++i) {
    auto& a = args[i];
    if (a.rfind("--", 0) != 0) {
      out.positional.push_back(a);
      continue;
    }
    bool ok = false;
    for (auto k : known)
      ok |= a == k;
    if (!ok || i + 1 >= args.size()) {
      error = ok ? a + " needs a value" : "unknown option '" + a + "'";
      return std::nullopt;
    }
    out.flags[a] = args[++i];
  }
  return out;
}

std::optional<cli_store> open_store(const cli_args& a, int& code) {
  auto config_path = a.flags.count("--config") ? a.flags.at("--config")
                                               : default_config_path;
  std::optional<std::string> url;
  if (a.flags.count("--store"))
    url = a.flags.at("--store");
  return open_cli_store(config_path, url, "managed credentials", code);
}

int64_t retention_ms(const config& cfg) {
  return int64_t{cfg.store.audit_retention_days} * 24 * 3600 * 1000;
}

/// Writes `ops` plus an audit record; false (after saying why) on failure.
bool write(cli_store& s, std::vector<store::write_op> ops,
           const std::string& action, const std::string& subject,
           const std::string& detail) {
  audit_record x;
  x.at_ms = epoch_ms_now();
  x.node = "cli";
  x.who = who;
  x.action = action;
  x.subject = subject;
  x.outcome = "ok";
  x.detail = detail;
  ops.push_back(audit_write(x, retention_ms(s.cfg)));
  auto written = s.db->write(ops);
  caf::error failure = written ? caf::error{} : written.error();
  if (written)
    for (auto& r : *written)
      if (r.error && !failure)
        failure = r.error;
  if (failure) {
    std::cerr << "streamb: the store refused the change: "
              << caf::to_string(failure) << '\n';
    return false;
  }
  return true;
}

std::optional<std::vector<key_record>> read_keys(cli_store& s) {
  auto fields = s.db->hgetall(keys_hash);
  if (!fields) {
    std::cerr << "streamb: cannot read the keys: "
              << caf::to_string(fields.error()) << '\n';
    return std::nullopt;
  }
  auto keys = decode_keys(*fields);
  auto revoked = s.db->hgetall(revoked_hash);
  if (!revoked) {
    std::cerr << "streamb: cannot read the revocations: "
              << caf::to_string(revoked.error()) << '\n';
    return std::nullopt;
  }
  apply_revocations(keys, *revoked);
  return keys;
}

std::optional<std::vector<secret_record>> read_secrets(cli_store& s) {
  auto fields = s.db->hgetall(secrets_hash);
  if (!fields) {
    std::cerr << "streamb: cannot read the webhook secrets: "
              << caf::to_string(fields.error()) << '\n';
    return std::nullopt;
  }
  return decode_secrets(*fields);
}

int fail(const caf::error& err) {
  auto& ctx = err.context();
  std::cerr << "streamb: "
            << (ctx.match_elements<std::string>() ? ctx.get_as<std::string>(0)
                                                  : caf::to_string(err))
            << '\n';
  return 1;
}

std::string time_or_dash(int64_t ms) {
  return ms > 0 ? iso8601_utc(ms) : "-";
}

void print_key_line(const key_record& k, const std::string& state,
                    int64_t last_used) {
  std::cout << k.id << "  " << k.name << "  " << to_string(k.r) << "  " << state
            << "  created " << time_or_dash(k.created_ms) << "  expires "
            << time_or_dash(k.expires_ms) << "  last used "
            << time_or_dash(last_used) << '\n';
}

int keys_bootstrap(const cli_args& a) {
  if (!a.flags.count("--name") || !a.flags.count("--role"))
    return usage_error("keys bootstrap needs --name and --role");
  auto r = parse_role(a.flags.at("--role"));
  if (!r || *r == role::agent)
    return usage_error("bootstrap keys are viewer, reporter, operator or "
                       "admin (agent tokens: agents.token_sha256)");
  if (!valid_name(a.flags.at("--name")))
    return usage_error("--name must be 1-64 of A-Z a-z 0-9 . _ -");
  // Not the managed shape: a config key is looked up by its hash alone.
  auto key = "sbc_" + to_hex(random_bytes(32));
  std::cout << key << '\n'
            << "{\"name\": \"" << a.flags.at("--name") << "\", \"sha256\": \""
            << key_hash(key) << "\", \"role\": \"" << to_string(*r) << "\"}\n";
  return 0;
}

} // namespace

int keys_command(const std::vector<std::string>& args) {
  if (!args.empty() && (args[0] == "--help" || args[0] == "help")) {
    std::cout << keys_usage;
    return 0;
  }
  if (args.empty())
    return usage_error("keys needs create, list, rotate, revoke or bootstrap");
  auto verb = args[0];
  std::string error;
  auto a = parse({args.begin() + 1, args.end()},
                 {"--config", "--store", "--role", "--name", "--expires-in",
                  "--overlap"},
                 error);
  if (!a)
    return usage_error(error);
  if (verb == "bootstrap")
    return keys_bootstrap(*a);
  if (verb != "create" && verb != "list" && verb != "rotate"
      && verb != "revoke")
    return usage_error("unknown keys command '" + verb + "'");
  bool needs_id = verb == "rotate" || verb == "revoke";
  if (a->positional.size() != (needs_id ? 1u : 0u))
    return usage_error(needs_id ? "keys " + verb + " takes one key ID"
                                : "keys " + verb + " takes no arguments");
  std::optional<role> r;
  int64_t seconds = 0;
  if (verb == "create") {
    if (!a->flags.count("--role") || !a->flags.count("--name"))
      return usage_error("keys create needs --role and --name");
    r = parse_role(a->flags.at("--role"));
    if (!r)
      return usage_error("--role must be viewer, reporter, operator, admin "
                         "or agent");
  }
  for (auto flag : {"--expires-in", "--overlap"})
    if (a->flags.count(flag)) {
      auto s = parse_duration_s(a->flags.at(flag));
      if (!s)
        return usage_error(std::string{flag}
                           + " must be a duration such as 90d, 24h, 30m");
      seconds = *s;
    }
  int code = 0;
  auto s = open_store(*a, code);
  if (!s)
    return code;
  auto keys = read_keys(*s);
  if (!keys)
    return 1;
  auto now = epoch_ms_now();
  if (verb == "list") {
    auto used = s->db->hgetall(last_used_hash);
    std::map<std::string, int64_t> last;
    if (used)
      for (auto& [id, text] : *used)
        last[id] = std::atoll(text.c_str());
    for (auto& t : s->cfg.auth.tokens) {
      key_record k;
      k.id = "config:" + t.name;
      k.name = t.name;
      k.r = parse_role(t.role).value_or(role::viewer);
      print_key_line(k, "config", last[k.id]);
    }
    for (auto& k : *keys)
      print_key_line(k, std::string{to_string(state_of(k, now))}, last[k.id]);
    std::cout << s->cfg.auth.tokens.size() + keys->size() << " key(s)\n";
    return 0;
  }
  if (verb == "create") {
    auto made = create_key(*keys, a->flags.at("--name"), *r, seconds, who, now);
    if (!made)
      return fail(made.error());
    if (!write(*s, write_key(made->record), "key.create", made->record.id,
               "key '" + made->record.name + "' role "
                 + std::string{to_string(*r)}))
      return 1;
    std::cout << made->key << '\n';
    print_key_line(made->record, "active", 0);
    return 0;
  }
  auto& id = a->positional[0];
  if (verb == "rotate") {
    auto overlap = a->flags.count("--overlap") ? seconds : int64_t{0};
    auto made = rotate_key(*keys, id, overlap, now);
    if (!made)
      return fail(made.error());
    if (!write(*s, write_key(made->record), "key.rotate", id,
               "old key valid " + std::to_string(overlap) + " s more"))
      return 1;
    std::cout << made->key << '\n';
    print_key_line(made->record,
                   std::string{to_string(state_of(made->record, now))}, 0);
    return 0;
  }
  auto revoked = revoke_key(*keys, id, now);
  if (!revoked)
    return fail(revoked.error());
  if (!write(*s, write_key(*revoked), "key.revoke", id,
             "key '" + revoked->name + "'"))
    return 1;
  print_key_line(*revoked, "revoked", 0);
  return 0;
}

int webhook_secrets_command(const std::vector<std::string>& args) {
  if (args.empty())
    return usage_error("webhook-secrets needs add, list or retire");
  auto verb = args[0];
  std::string error;
  auto a = parse({args.begin() + 1, args.end()},
                 {"--config", "--store", "--secret-file"}, error);
  if (!a)
    return usage_error(error);
  std::size_t want = verb == "retire" ? 2 : 1;
  if ((verb != "add" && verb != "list" && verb != "retire")
      || a->positional.size() != want)
    return usage_error(
      "webhook-secrets add|list SERVICE, or retire SERVICE ID");
  int code = 0;
  auto s = open_store(*a, code);
  if (!s)
    return code;
  auto& service = a->positional[0];
  auto svc = s->cfg.find_service(service);
  if (svc == nullptr || !svc->webhook) {
    std::cerr << "streamb: service '" << service
              << "' has no webhook block in the config\n";
    return 1;
  }
  auto secrets = read_secrets(*s);
  if (!secrets)
    return 1;
  auto now = epoch_ms_now();
  if (verb == "list") {
    for (auto& x : *secrets)
      if (x.service == service)
        std::cout << x.id << "  " << (x.retired_ms ? "retired" : "active")
                  << "  created " << time_or_dash(x.created_ms) << "  retired "
                  << time_or_dash(x.retired_ms) << '\n';
    return 0;
  }
  if (verb == "retire") {
    auto retired = retire_secret(*secrets, service, a->positional[1], now);
    if (!retired)
      return fail(retired.error());
    if (!write(*s, write_secret(*retired), "webhook_secret.retire", retired->id,
               "managed webhook secret for " + service))
      return 1;
    std::cout << retired->id << "  retired\n";
    return 0;
  }
  std::string why;
  auto box = secret_box::from_environment(why);
  if (!box) {
    std::cerr << "streamb: " << why << '\n';
    return 1;
  }
  std::string secret;
  if (a->flags.count("--secret-file")) {
    std::ifstream in{a->flags.at("--secret-file"), std::ios::binary};
    if (!in) {
      std::cerr << "streamb: cannot read " << a->flags.at("--secret-file")
                << '\n';
      return 1;
    }
    std::getline(in, secret);
  } else {
    std::getline(std::cin, secret);
  }
  while (!secret.empty() && (secret.back() == '\r' || secret.back() == ' '))
    secret.pop_back();
  auto made = add_secret(*secrets, *box, service, secret, who, now);
  if (!made)
    return fail(made.error());
  if (!write(*s, write_secret(*made), "webhook_secret.add", made->id,
             "managed webhook secret for " + service))
    return 1;
  std::cout << made->id << "  active\n";
  return 0;
}

} // namespace streamb
