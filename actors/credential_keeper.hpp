#pragma once

#include "runtime/auth/credential_registry.hpp"
#include "runtime/auth/secret_box.hpp"
#include "runtime/messages.hpp"

#include <caf/typed_event_based_actor.hpp>

#include <atomic>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace streamb {

struct credential_keeper_settings {
  std::string node = "local";
  /// How often the store's credential version is read: the most a change
  /// made on another node takes to apply here.
  int64_t poll_ms = 200;
  /// Managed keys are refused after this long without an answer from the
  /// store (a revocation could have been missed).
  int64_t stale_after_ms = 30000;
  /// Last-used times and aggregated refusals go to the store this often.
  int64_t flush_ms = 60000;
  int64_t audit_retention_ms = int64_t{90} * 24 * 3600 * 1000;
};

struct credential_keeper_state {
  static inline const char* name = "credential_keeper";

  credential_keeper_settings settings;
  config_ptr cfg;
  store_actor store;
  std::shared_ptr<auth::credential_registry> registry;
  /// Moved on by every answer from the store; read by credential sets.
  std::shared_ptr<std::atomic<int64_t>> fresh_until;
  /// Set when STREAMB_SECRET_KEY is usable; else why managed secrets are off.
  std::optional<auth::secret_box> box;
  std::string box_error;
  std::vector<auth::key_record> keys;
  std::vector<auth::secret_record> secrets;
  std::map<std::string, int64_t> last_used;
  /// The store's version last loaded; "" before the first load.
  std::string version;
  bool polling = false;
  /// Whether the store's records were read once (see credential_set).
  bool loaded = false;
  /// Secrets that did not open, logged once each.
  std::set<std::string> unopened;
};

using credential_keeper_pointer = credential_keeper_actor::stateful_pointer<
  credential_keeper_state>;

/// The registry a keeper publishes into; its first set holds the config's
/// credentials only (managed ones arrive with the first load).
std::shared_ptr<auth::credential_registry>
make_credential_registry(const config& cfg);

/// See credential_keeper_actor in runtime/messages.hpp.
credential_keeper_actor::behavior_type
credential_keeper(credential_keeper_pointer self, config_ptr cfg,
                  credential_keeper_settings settings, store_actor store,
                  std::shared_ptr<auth::credential_registry> registry);

} // namespace streamb
