#include "runtime/auth/credential_registry.hpp"

namespace streamb::auth {

credential_registry::credential_registry(
  std::shared_ptr<const credential_set> first)
  : current_(std::move(first)) {}

std::shared_ptr<const credential_set> credential_registry::current() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return current_;
}

void credential_registry::publish(std::shared_ptr<const credential_set> next) {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    current_ = std::move(next);
  }
  generation_.fetch_add(1, std::memory_order_acq_rel);
}

void credential_registry::note_used(const std::string& id, int64_t now_ms) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto& at = pending_.last_used[id];
  at = std::max(at, now_ms);
}

void credential_registry::note_refused(const std::string& claimed_id,
                                       std::string_view reason,
                                       const std::string& remote) {
  std::pair<std::string, std::string> kind{
    claimed_id.empty() ? "-" : claimed_id, std::string{reason}};
  std::lock_guard<std::mutex> guard{mtx_};
  auto& refused = pending_.refused;
  auto i = refused.find(kind);
  if (i == refused.end()) {
    if (refused.size() >= max_refusal_kinds)
      kind = {"*", "other"};
    i = refused.try_emplace(std::move(kind)).first;
  }
  if (i->second.count++ == 0)
    i->second.first_remote = remote;
}

std::map<std::string, int64_t> credential_registry::peek_last_used() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return pending_.last_used;
}

credential_registry::activity credential_registry::take_activity() {
  std::lock_guard<std::mutex> guard{mtx_};
  activity out;
  std::swap(out, pending_);
  return out;
}

} // namespace streamb::auth
