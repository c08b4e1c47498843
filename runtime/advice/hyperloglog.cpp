#include "runtime/advice/hyperloglog.hpp"

#include <algorithm>
#include <cmath>

namespace streamb::advice {

namespace {

// splitmix64's output function: a bijection, so distinct keys stay
// distinct, that spreads sequential or low-entropy inputs over all 64 bits.
// The HLL's accuracy assumes uniform bits, which client keys need not have.
uint64_t mix(uint64_t x) noexcept {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

} // namespace

hyperloglog::hyperloglog() : registers_(register_count, 0) {
  // nop
}

void hyperloglog::add(uint64_t hash) noexcept {
  auto h = mix(hash);
  auto index = static_cast<std::size_t>(h >> (64 - precision));
  auto rest = h << precision;
  // The low `precision` bits of `rest` are zero, so a non-zero `rest` has at
  // most 49 leading zeros and only an all-zero one reaches max_rank.
  auto rank = rest == 0 ? max_rank
                        : static_cast<uint8_t>(__builtin_clzll(rest) + 1);
  auto& r = registers_[index];
  if (rank > r)
    r = rank;
}

double hyperloglog::estimate() const noexcept {
  constexpr auto m = static_cast<double>(register_count);
  double sum = 0;
  std::size_t zeros = 0;
  for (auto r : registers_) {
    sum += std::ldexp(1.0, -static_cast<int>(r));
    if (r == 0)
      ++zeros;
  }
  if (zeros == register_count)
    return 0;
  auto alpha = 0.7213 / (1 + 1.079 / m);
  auto raw = alpha * m * m / sum;
  // The raw estimate is biased upwards for small counts, while linear
  // counting over the empty registers is accurate there.
  if (raw <= 2.5 * m && zeros > 0)
    return m * std::log(m / static_cast<double>(zeros));
  // With 64-bit hashes collisions matter only near 2^64 keys, so the
  // original large-range correction (for 32-bit hashes) is left out.
  return raw;
}

void hyperloglog::merge(const hyperloglog& other) noexcept {
  for (std::size_t i = 0; i < register_count; ++i)
    registers_[i] = std::max(registers_[i], other.registers_[i]);
}

bool hyperloglog::empty() const noexcept {
  return std::all_of(registers_.begin(), registers_.end(),
                     [](uint8_t r) { return r == 0; });
}

double hyperloglog::relative_error() noexcept {
  return 1.04 / std::sqrt(static_cast<double>(register_count));
}

std::string hyperloglog::to_bytes() const {
  return std::string(registers_.begin(), registers_.end());
}

std::optional<hyperloglog> hyperloglog::from_bytes(std::string_view bytes) {
  if (bytes.size() != register_count)
    return std::nullopt;
  hyperloglog result;
  for (std::size_t i = 0; i < register_count; ++i) {
    auto r = static_cast<uint8_t>(bytes[i]);
    if (r > max_rank)
      return std::nullopt;
    result.registers_[i] = r;
  }
  return result;
}

} // namespace streamb::advice
