#include "runtime/cluster/cluster_state.hpp"

#include "runtime/core/crypto.hpp"

namespace streamb::cluster {

cluster_state::cluster_state(std::string self,
                             std::vector<std::string> services,
                             const std::string& secret)
  : self_(std::move(self)), services_(services.size()),
    secret_sha256_(secret.empty() ? std::string{}
                                  : sha256(secret).value_or(std::string{})),
    reachable_(new std::atomic<bool>[services.size()]) {
  for (std::size_t i = 0; i < services_; ++i) {
    reachable_[i] = false;
    owners_.push_back(service_owner{services[i], {}, false, false});
  }
  directory_.node = self_;
}

bool cluster_state::secret_matches(std::string_view presented) const {
  auto digest = sha256(presented);
  // An empty secret never matches: a node without one answers no peer.
  return digest && !secret_sha256_.empty()
    && equal_constant_time(*digest, secret_sha256_);
}

void cluster_state::set_directory(cluster_directory x) {
  std::lock_guard<std::mutex> guard{mtx_};
  directory_ = std::move(x);
}

cluster_directory cluster_state::directory() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return directory_;
}

void cluster_state::set_owner(std::size_t service, service_owner x) {
  if (service >= services_)
    return;
  std::lock_guard<std::mutex> guard{mtx_};
  reachable_[service] = x.reachable;
  owners_[service] = std::move(x);
}

service_owner cluster_state::owner(std::size_t service) const {
  std::lock_guard<std::mutex> guard{mtx_};
  return service < services_ ? owners_[service] : service_owner{};
}

void cluster_state::set_peers(std::vector<peer_view> xs) {
  std::lock_guard<std::mutex> guard{mtx_};
  peers_ = std::move(xs);
}

std::vector<peer_view> cluster_state::peers() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return peers_;
}

} // namespace streamb::cluster
