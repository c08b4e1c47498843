#include "runtime/budget/spend_ledger.hpp"

namespace streamb::budget {

void spend_ledger::open(int64_t cost_micros, int64_t expires_ms) {
  grants_.push_back({cost_micros, expires_ms});
  reserved_ += cost_micros;
}

void spend_ledger::settle(std::size_t calls, int64_t actual_micros) {
  int64_t estimates = 0;
  for (std::size_t i = 0; i < calls && !grants_.empty(); ++i) {
    estimates += grants_.front().cost;
    grants_.pop_front();
  }
  reserved_ -= estimates;
  delta_ += actual_micros - estimates;
}

void spend_ledger::expire(int64_t now_ms) {
  while (!grants_.empty() && grants_.front().expires_ms <= now_ms) {
    delta_ -= grants_.front().cost;
    reserved_ -= grants_.front().cost;
    grants_.pop_front();
  }
}

void spend_ledger::clear() {
  grants_.clear();
  reserved_ = 0;
  delta_ = 0;
}

int64_t spend_ledger::take_delta() noexcept {
  auto x = delta_;
  delta_ = 0;
  return x;
}

} // namespace streamb::budget
