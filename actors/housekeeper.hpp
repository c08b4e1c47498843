#pragma once

// The cluster's singleton jobs: whichever node holds the housekeeping lease
// (runtime/cluster/lease) runs them, every other node keeps trying for it,
// so that exactly one node does them and another takes over within the
// lease's TTL when that one dies. One job today: the retention sweep, which
// trims the shared streams to their retention even when nothing is written
// to them (writes trim only the stream they add to).

#include "runtime/cluster/lease.hpp"
#include "runtime/messages.hpp"

#include <caf/typed_event_based_actor.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace streamb {

/// A stream the sweep keeps to `max_age_ms` (entries are as old as their IDs).
struct retained_stream {
  std::string stream;
  int64_t max_age_ms = 0;
};

struct housekeeper_settings {
  std::string node = "local";
  /// The store key all nodes compete for.
  std::string lease_key = "lease:housekeeping";
  /// Lost this long after the holder's last renewal (cluster.failover_ms).
  int64_t lease_ttl_ms = 3000;
  /// Tries and renewals (cluster.heartbeat_ms).
  std::chrono::milliseconds renew_interval{500};
  /// store.sweep_interval_s.
  std::chrono::milliseconds sweep_interval{300'000};
  std::vector<retained_stream> streams;
};

struct housekeeper_state {
  static inline const char* name = "housekeeper";
  housekeeper_settings settings;
  store_actor store;
  std::optional<cluster::lease> lease;
  /// A lease request is on its way: no second one until it is answered.
  bool asking = false;
  int64_t next_sweep_ms = 0;
  int64_t last_sweep_ms = 0;
  uint64_t last_removed = 0;
  uint64_t sweeps = 0;
  std::string last_error;
};

using housekeeper_pointer = housekeeper_actor::stateful_pointer<
  housekeeper_state>;

/// `token` must be unique to this process (node name, a space, random hex):
/// it is what the store holds while this node has the lease.
housekeeper_actor::behavior_type housekeeper(housekeeper_pointer self,
                                             housekeeper_settings settings,
                                             std::string token,
                                             store_actor store);

/// A fresh lease token for node `node`: "<node> <16 random hex digits>".
std::string lease_token(const std::string& node);

} // namespace streamb
