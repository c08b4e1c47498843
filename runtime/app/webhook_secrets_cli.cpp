#include "runtime/app/webhook_secrets_cli.hpp"

#include "runtime/app/cli_store.hpp"
#include "runtime/auth/key_admin.hpp"
#include "runtime/core/error_text.hpp"
#include "runtime/core/wall_time.hpp"

#include <caf/message.hpp>

#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

namespace streamb {

namespace {

using namespace auth;

/// The command line of one `webhook-secrets` command.
struct secrets_options {
  store_flags store;
  std::string service;
  /// retire ID.
  std::string id;
  /// add --secret-file; nullopt: the first line of stdin.
  std::optional<std::string> secret_file;
};

/// The store and the service's secrets, or nullopt with `code` set.
struct opened_secrets {
  cli_store s;
  std::vector<secret_record> secrets;
};

std::optional<opened_secrets> open_secrets(const secrets_options& opts,
                                           int& code) {
  auto s = open_cli_store(opts.store, "managed credentials", code);
  if (!s)
    return std::nullopt;
  auto svc = s->cfg.find_service(opts.service);
  if (svc == nullptr || !svc->webhook) {
    std::cerr << "streamb: service '" << opts.service
              << "' has no webhook block in the config\n";
    code = 1;
    return std::nullopt;
  }
  auto fields = s->db->hgetall(secrets_hash);
  if (!fields) {
    std::cerr << "streamb: cannot read the webhook secrets: "
              << error_text(fields.error()) << '\n';
    code = 1;
    return std::nullopt;
  }
  return opened_secrets{std::move(*s), decode_secrets(*fields)};
}

int list(const secrets_options& opts) {
  int code = 0;
  auto o = open_secrets(opts, code);
  if (!o)
    return code;
  for (auto& x : o->secrets)
    if (x.service == opts.service)
      std::cout << x.id << "  " << (x.retired_ms ? "retired" : "active")
                << "  created " << time_or_dash(x.created_ms) << "  retired "
                << time_or_dash(x.retired_ms) << '\n';
  return 0;
}

int retire(const secrets_options& opts) {
  int code = 0;
  auto o = open_secrets(opts, code);
  if (!o)
    return code;
  auto retired = retire_secret(o->secrets, opts.service, opts.id,
                               epoch_ms_now());
  if (!retired)
    return print_refusal(retired.error());
  if (!write_audited(o->s, write_secret(*retired), "webhook_secret.retire",
                     retired->id, "managed webhook secret for " + opts.service))
    return 1;
  std::cout << retired->id << "  retired\n";
  return 0;
}

int add(const secrets_options& opts) {
  int code = 0;
  auto o = open_secrets(opts, code);
  if (!o)
    return code;
  std::string why;
  auto box = secret_box::from_environment(why);
  if (!box) {
    std::cerr << "streamb: " << why << '\n';
    return 1;
  }
  std::string secret;
  if (opts.secret_file) {
    std::ifstream in{*opts.secret_file, std::ios::binary};
    if (!in) {
      std::cerr << "streamb: cannot read " << *opts.secret_file << '\n';
      return 1;
    }
    std::getline(in, secret);
  } else {
    std::getline(std::cin, secret);
  }
  while (!secret.empty() && (secret.back() == '\r' || secret.back() == ' '))
    secret.pop_back();
  auto made = add_secret(o->secrets, *box, opts.service, secret, "cli",
                         epoch_ms_now());
  if (!made)
    return print_refusal(made.error());
  if (!write_audited(o->s, write_secret(*made), "webhook_secret.add", made->id,
                     "managed webhook secret for " + opts.service))
    return 1;
  std::cout << made->id << "  active\n";
  return 0;
}

} // namespace

void add_webhook_secrets_command(cli::program& p) {
  auto& secrets = p.add_command(p.app(), "webhook-secrets",
                                "managed webhook secrets in the store, for "
                                "every node that shares it");
  secrets.require_subcommand(1);
  secrets.footer("SERVICE needs a webhook block in the config. Nodes apply a "
                 "change within 200 ms.\n"
                 "Exit 1: the store or the change was refused; exit 2: usage "
                 "error.");
  cli::add_help_command(p, secrets, std::cout);
  auto command = [&](const char* name, const char* description,
                     int (*what)(const secrets_options&)) {
    auto opts = std::make_shared<secrets_options>();
    auto& cmd = p.add_command(secrets, name, description);
    cmd.add_option("SERVICE", opts->service, "the service in the config")
      ->required();
    p.on_run(cmd, [opts, what] { return what(*opts); });
    return std::make_pair(&cmd, opts);
  };
  {
    auto [cmd, opts] = command("add",
                               "add a secret (STREAMB_SECRET_KEY "
                               "encrypts it in the store)",
                               add);
    cmd
      ->add_option("--secret-file", opts->secret_file,
                   "read the secret from the first line of FILE (default: "
                   "the first line of stdin; never the command line, "
                   "where ps shows it)")
      ->type_name("FILE");
    add_store_flags(*cmd, opts->store);
  }
  {
    auto [cmd, opts] = command("list",
                               "list a service's secrets (never a "
                               "secret)",
                               list);
    add_store_flags(*cmd, opts->store);
  }
  {
    auto [cmd, opts] = command("retire",
                               "retire a secret: it stops "
                               "verifying on every node",
                               retire);
    cmd->add_option("ID", opts->id, "the secret's id (webhook-secrets list)")
      ->required();
    add_store_flags(*cmd, opts->store);
  }
}

} // namespace streamb
