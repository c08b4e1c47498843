#include "runtime/advice/finding_book.hpp"

#include <algorithm>
#include <vector>

namespace streamb::advice {

void finding_book::add(agent_finding x) {
  drop_expired(x.at_ms);
  auto key = std::make_pair(x.service, x.title);
  by_key_[key] = {std::move(x), next_++};
  // Past the cap, the service's oldest goes.
  std::vector<decltype(by_key_)::iterator> same;
  for (auto i = by_key_.lower_bound({key.first, std::string{}});
       i != by_key_.end() && i->first.first == key.first; ++i)
    same.push_back(i);
  if (same.size() <= per_service_)
    return;
  auto oldest = std::min_element(same.begin(), same.end(), [](auto a, auto b) {
    return a->second.second < b->second.second;
  });
  by_key_.erase(*oldest);
}

void finding_book::drop_expired(int64_t now_ms) {
  for (auto i = by_key_.begin(); i != by_key_.end();)
    if (now_ms - i->second.first.at_ms > max_age_ms_)
      i = by_key_.erase(i);
    else
      ++i;
}

recommendations finding_book::list(int64_t now_ms) {
  drop_expired(now_ms);
  std::vector<const std::pair<agent_finding, uint64_t>*> xs;
  for (auto& kv : by_key_)
    xs.push_back(&kv.second);
  std::sort(xs.begin(), xs.end(),
            [](auto a, auto b) { return a->second > b->second; });
  recommendations out;
  for (auto x : xs) {
    auto& f = x->first;
    recommendation r;
    r.id = f.service + ":agent:" + std::to_string(x->second);
    r.service = f.service;
    r.kind = recommendation_kind::agent_finding;
    r.action_type = action_type::advice;
    r.action = f.title;
    r.rationale = f.detail;
    r.source = "agent:" + f.agent + " event:" + f.event_id;
    r.category = f.category;
    r.found_ms = f.at_ms;
    out.push_back(std::move(r));
  }
  return out;
}

} // namespace streamb::advice
