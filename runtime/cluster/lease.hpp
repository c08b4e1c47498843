#pragma once

// A lease in the shared store that at most one node holds at a time: taken
// with SET NX PX, kept by renewing it while the store still holds this
// holder's token (expire_if), given back on a clean stop. The node that holds
// it runs the cluster's singleton jobs; when it dies its lease expires and
// another node takes it at its next try.

#include <cstdint>
#include <string>

namespace streamb::cluster {

class lease {
public:
  enum class step { acquire, renew };

  /// `token` names this holder (node name + a per-process random part, so a
  /// restarted node does not mistake its predecessor's lease for its own).
  lease(std::string token, int64_t ttl_ms);

  const std::string& token() const {
    return token_;
  }

  int64_t ttl_ms() const {
    return ttl_ms_;
  }

  /// What to ask the store next.
  step next() const {
    return believed_ ? step::renew : step::acquire;
  }

  /// The store's answer to a SET NX (acquire) or expire_if (renew) sent at
  /// `asked_ms` (this node's clock): the key expires no earlier than
  /// asked_ms + ttl, because the store set its TTL after that moment.
  void answered(bool ok, int64_t asked_ms);

  /// Whether this node may run the singleton jobs at `now_ms`: it holds the
  /// lease with a margin before the expiry it knows of (a tenth of the TTL,
  /// for clock rate differences and a job already under way).
  bool held(int64_t now_ms) const;

  /// Gives the lease up (after a clean release or when stopping).
  void drop();

private:
  std::string token_;
  int64_t ttl_ms_;
  bool believed_ = false;
  int64_t valid_until_ms_ = 0;
};

} // namespace streamb::cluster
