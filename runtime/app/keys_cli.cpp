#include "runtime/app/keys_cli.hpp"

#include "runtime/app/cli_store.hpp"
#include "runtime/auth/api_key.hpp"
#include "runtime/auth/key_admin.hpp"
#include "runtime/core/crypto.hpp"
#include "runtime/core/error_text.hpp"
#include "runtime/core/wall_time.hpp"

#include <caf/message.hpp>

#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>

namespace streamb {

namespace {

using namespace auth;

/// The command line of one `keys` command.
struct keys_options {
  store_flags store;
  std::string name;
  std::string role_text;
  /// create --expires-in, rotate --overlap; nullopt: not given.
  std::optional<std::string> duration;
  /// rotate and revoke.
  std::string id;
};

const CLI::Validator& any_role() {
  static const auto validator = cli::check(
    [](const std::string& text) { return parse_role(text).has_value(); },
    "must be viewer, reporter, operator, admin or agent");
  return validator;
}

const CLI::Validator& bootstrap_role() {
  static const auto validator = cli::check(
    [](const std::string& text) {
      auto r = parse_role(text);
      return r && *r != role::agent;
    },
    "bootstrap keys are viewer, reporter, operator or admin (agent tokens: "
    "agents.token_sha256)");
  return validator;
}

const CLI::Validator& key_name() {
  static const auto validator = cli::check(valid_name,
                                           "must be 1-64 of A-Z a-z 0-9 . _ -");
  return validator;
}

const CLI::Validator& duration() {
  static const auto validator = cli::check(
    [](const std::string& text) { return parse_duration_s(text).has_value(); },
    "must be a duration such as 90d, 24h, 30m");
  return validator;
}

/// The seconds of a duration the validator accepted; 0 when not given.
int64_t seconds_of(const std::optional<std::string>& text) {
  return text ? parse_duration_s(*text).value_or(0) : 0;
}

std::optional<std::vector<key_record>> read_keys(cli_store& s) {
  auto fields = s.db->hgetall(keys_hash);
  if (!fields) {
    std::cerr << "streamb: cannot read the keys: " << error_text(fields.error())
              << '\n';
    return std::nullopt;
  }
  auto keys = decode_keys(*fields);
  auto revoked = s.db->hgetall(revoked_hash);
  if (!revoked) {
    std::cerr << "streamb: cannot read the revocations: "
              << error_text(revoked.error()) << '\n';
    return std::nullopt;
  }
  apply_revocations(keys, *revoked);
  return keys;
}

void print_key_line(const key_record& k, const std::string& state,
                    int64_t last_used) {
  std::cout << k.id << "  " << k.name << "  " << to_string(k.r) << "  " << state
            << "  created " << time_or_dash(k.created_ms) << "  expires "
            << time_or_dash(k.expires_ms) << "  last used "
            << time_or_dash(last_used) << '\n';
}

/// The store and its keys, or nullopt with `code` set (after saying why).
struct opened_keys {
  cli_store s;
  std::vector<key_record> keys;
};

std::optional<opened_keys> open_keys(const keys_options& opts, int& code) {
  auto s = open_cli_store(opts.store, "managed credentials", code);
  if (!s)
    return std::nullopt;
  auto keys = read_keys(*s);
  if (!keys) {
    code = 1;
    return std::nullopt;
  }
  return opened_keys{std::move(*s), std::move(*keys)};
}

int create(const keys_options& opts) {
  int code = 0;
  auto o = open_keys(opts, code);
  if (!o)
    return code;
  auto r = *parse_role(opts.role_text);
  auto made = create_key(o->keys, opts.name, r, seconds_of(opts.duration),
                         "cli", epoch_ms_now());
  if (!made)
    return print_refusal(made.error());
  if (!write_audited(
        o->s, write_key(made->record), "key.create", made->record.id,
        "key '" + made->record.name + "' role " + std::string{to_string(r)}))
    return 1;
  std::cout << made->key << '\n';
  print_key_line(made->record, "active", 0);
  return 0;
}

int list(const keys_options& opts) {
  int code = 0;
  auto o = open_keys(opts, code);
  if (!o)
    return code;
  auto now = epoch_ms_now();
  auto used = o->s.db->hgetall(last_used_hash);
  std::map<std::string, int64_t> last;
  if (used)
    for (auto& [id, text] : *used)
      last[id] = std::atoll(text.c_str());
  for (auto& t : o->s.cfg.auth.tokens) {
    key_record k;
    k.id = "config:" + t.name;
    k.name = t.name;
    k.r = parse_role(t.role).value_or(role::viewer);
    print_key_line(k, "config", last[k.id]);
  }
  for (auto& k : o->keys)
    print_key_line(k, std::string{to_string(state_of(k, now))}, last[k.id]);
  std::cout << o->s.cfg.auth.tokens.size() + o->keys.size() << " key(s)\n";
  return 0;
}

int rotate(const keys_options& opts) {
  int code = 0;
  auto o = open_keys(opts, code);
  if (!o)
    return code;
  auto now = epoch_ms_now();
  auto overlap = seconds_of(opts.duration);
  auto made = rotate_key(o->keys, opts.id, overlap, now);
  if (!made)
    return print_refusal(made.error());
  if (!write_audited(o->s, write_key(made->record), "key.rotate", opts.id,
                     "old key valid " + std::to_string(overlap) + " s more"))
    return 1;
  std::cout << made->key << '\n';
  print_key_line(made->record,
                 std::string{to_string(state_of(made->record, now))}, 0);
  return 0;
}

int revoke(const keys_options& opts) {
  int code = 0;
  auto o = open_keys(opts, code);
  if (!o)
    return code;
  auto revoked = revoke_key(o->keys, opts.id, epoch_ms_now());
  if (!revoked)
    return print_refusal(revoked.error());
  if (!write_audited(o->s, write_key(*revoked), "key.revoke", opts.id,
                     "key '" + revoked->name + "'"))
    return 1;
  print_key_line(*revoked, "revoked", 0);
  return 0;
}

int bootstrap(const keys_options& opts) {
  // Not the managed shape: a config key is looked up by its hash alone.
  auto key = "sbc_" + to_hex(random_bytes(32));
  std::cout << key << '\n'
            << "{\"name\": \"" << opts.name << "\", \"sha256\": \""
            << key_hash(key) << "\", \"role\": \""
            << to_string(*parse_role(opts.role_text)) << "\"}\n";
  return 0;
}

} // namespace

void add_keys_command(cli::program& p) {
  auto& keys = p.add_command(p.app(), "keys",
                             "managed API keys in the store, for every node "
                             "that shares it");
  keys.require_subcommand(1);
  keys.footer("Roles: viewer, reporter, operator, admin, agent. A new key is "
              "printed alone on the\n"
              "first line of stdout, once: keep it. Nodes apply a change "
              "within 200 ms.\n"
              "Exit 1: the store or the change was refused; exit 2: usage "
              "error.");
  cli::add_help_command(p, keys, std::cout);
  auto command = [&](const char* name, const char* description,
                     int (*what)(const keys_options&)) {
    auto opts = std::make_shared<keys_options>();
    auto& cmd = p.add_command(keys, name, description);
    p.on_run(cmd, [opts, what] { return what(*opts); });
    return std::make_pair(&cmd, opts);
  };
  {
    auto [cmd, opts] = command("create", "create a key", create);
    cmd->add_option("--role", opts->role_text, "the key's role")
      ->type_name("ROLE")
      ->required()
      ->check(any_role());
    cmd->add_option("--name", opts->name, "who or what uses the key")
      ->type_name("NAME")
      ->required();
    cmd
      ->add_option("--expires-in", opts->duration,
                   "lifetime such as 90d, 24h, 30m (default: never "
                   "expires)")
      ->type_name("DURATION")
      ->check(duration());
    add_store_flags(*cmd, opts->store);
  }
  {
    auto [cmd, opts] = command("list", "list the keys (never a key or a hash)",
                               list);
    add_store_flags(*cmd, opts->store);
  }
  {
    auto [cmd, opts] = command("rotate", "replace a key with a new one",
                               rotate);
    cmd->add_option("ID", opts->id, "the key's id (keys list)")->required();
    cmd
      ->add_option("--overlap", opts->duration,
                   "how long the old key stays valid, such as 24h (default: "
                   "it dies now)")
      ->type_name("DURATION")
      ->check(duration());
    add_store_flags(*cmd, opts->store);
  }
  {
    auto [cmd, opts] = command("revoke", "revoke a key on every node", revoke);
    cmd->add_option("ID", opts->id, "the key's id (keys list)")->required();
    add_store_flags(*cmd, opts->store);
  }
  {
    auto [cmd, opts] = command("bootstrap",
                               "make a key for auth.tokens in the config: "
                               "prints the key, then the entry",
                               bootstrap);
    cmd->add_option("--name", opts->name, "the entry's name")
      ->type_name("NAME")
      ->required()
      ->check(key_name());
    cmd
      ->add_option("--role", opts->role_text,
                   "viewer, reporter, operator or admin")
      ->type_name("ROLE")
      ->required()
      ->check(bootstrap_role());
    cmd->footer("Needs no store: the key goes into the config file as its "
                "SHA-256.");
  }
}

} // namespace streamb
