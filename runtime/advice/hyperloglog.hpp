#pragma once

// A HyperLogLog sketch of distinct 64-bit keys: a fixed 16 KiB however many
// keys it sees, with a standard error of ~0.81 %, and mergeable, so per-day
// sketches (and the ones other nodes stored) combine into one window.
//
// The register layout and the mixing of `add` are the persistence format
// (`to_bytes`): changing either makes stored sketches count wrong, silently.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace streamb::advice {

class hyperloglog {
public:
  /// Bits of the hash that pick a register.
  static constexpr unsigned precision = 14;

  /// Number of registers (and bytes).
  static constexpr std::size_t register_count = std::size_t{1} << precision;

  /// Largest valid register: the rank of a hash whose remaining 50 bits are
  /// all zero.
  static constexpr uint8_t max_rank = 64 - precision + 1;

  hyperloglog();

  /// Counts one key. `hash` may be a weak hash (e.g. a client's counter),
  /// so it is mixed again before use.
  void add(uint64_t hash) noexcept;

  /// Estimated number of distinct keys added.
  double estimate() const noexcept;

  /// Makes this sketch count the union of both.
  void merge(const hyperloglog& other) noexcept;

  bool empty() const noexcept;

  /// Standard error of `estimate` relative to the true count.
  static double relative_error() noexcept;

  /// The registers, one byte each, for the store.
  std::string to_bytes() const;

  /// Reads `to_bytes` output; nullopt for anything else (wrong length or a
  /// register no hash can produce), so a corrupt value is not merged in.
  static std::optional<hyperloglog> from_bytes(std::string_view bytes);

private:
  std::vector<uint8_t> registers_;
};

} // namespace streamb::advice
