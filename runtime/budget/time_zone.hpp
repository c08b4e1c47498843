#pragma once

// A time zone as the daily limit and the budget month need it: the UTC offset
// at any instant and the instant each local day begins. Read from the
// system's tz database (/usr/share/zoneinfo, Debian's `tzdata`) by our own
// TZif reader (RFC 8536): the version-2+ block's 64-bit transition table,
// then the footer's POSIX TZ rule (e.g. "CET-1CEST,M3.5.0,M10.5.0/3") for
// instants after the table ends -- Debian's files stop listing transitions
// in 2037, and "slim" files much earlier, so the rule is not optional.
//
// Why our own reader: glibc's localtime_r goes through the process-global TZ
// variable, so it cannot serve several services' zones in one process.
// Debian does package Howard Hinnant's date/tz (libhowardhinnant-date-dev,
// libdate-tz3), which reads the same files; it would be one more library to
// install and link for what is a small, fixed format, so we read it here and
// test it against known DST dates.
//
// Leap-second zones ("right/...") are refused: their timestamps are not POSIX
// time, and nobody bills by them.

#include "runtime/budget/calendar.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace streamb::budget {

/// A zone's offsets over time; copyable, immutable after loading.
class time_zone {
public:
  /// Where `load` looks by default.
  static constexpr const char* default_dir = "/usr/share/zoneinfo";

  /// Coordinated Universal Time: offset 0, no transitions.
  static time_zone utc();

  /// Loads an IANA zone ("Europe/Berlin") from `dir`. "UTC" needs no file.
  /// On failure returns nothing and sets `error` (names the file and why).
  static std::optional<time_zone> load(const std::string& name,
                                       std::string& error,
                                       const std::string& dir = default_dir);

  /// A zone from a POSIX TZ rule alone ("EST5EDT,M3.2.0,M11.1.0"): the same
  /// rule for every year. On failure returns nothing and sets `error`.
  static std::optional<time_zone> from_posix(std::string_view rule,
                                             std::string& error);

  const std::string& name() const noexcept {
    return name_;
  }

  /// Local time minus UTC, in seconds, at the instant `utc_s`.
  int32_t offset_s(int64_t utc_s) const;

  /// The first instant strictly after `utc_s` at which the offset may change
  /// (a table entry or a rule transition), or nothing.
  std::optional<int64_t> next_transition_s(int64_t utc_s) const;

  /// Local day number (days since 1970-01-01 on the local calendar).
  int64_t local_day(int64_t now_ms) const;

  /// Local calendar date at `now_ms`.
  civil_date local_date(int64_t now_ms) const {
    return civil_from_days(local_day(now_ms));
  }

  /// The first instant (epoch ms) of the local day after the one containing
  /// `now_ms`: local midnight, or the transition instant where midnight is
  /// skipped (zones that switch DST at 00:00). Always > now_ms.
  int64_t next_day_start_ms(int64_t now_ms) const;

  /// The first instant (epoch ms) of local day `day`.
  int64_t day_start_ms(int64_t day) const;

  /// A rule of the POSIX TZ form, public for the parser's tests.
  struct posix_rule {
    enum class date_kind : uint8_t { julian_no_leap, zero_based, month_week };
    struct date {
      date_kind kind = date_kind::month_week;
      uint32_t n = 0;     // Jn: 1-365; n: 0-365
      uint32_t month = 0; // Mm.w.d
      uint32_t week = 0;  // 1-5, 5 = last
      uint32_t wday = 0;  // 0 = Sunday
    };
    int32_t std_offset = 0; // local - UTC, seconds (POSIX writes -local)
    bool has_dst = false;
    int32_t dst_offset = 0;
    date start, end;
    int32_t start_time = 7200; // local wall time (standard), seconds
    int32_t end_time = 7200;   // local wall time (daylight), seconds
  };

private:
  // One rule-derived transition.
  struct rule_transition {
    int64_t at;
    int32_t offset;
  };

  // The rule's transitions in years y-1 .. y+1 around `utc_s`, in order.
  std::vector<rule_transition> rule_transitions_near(int64_t utc_s) const;

  // First instant >= from_s whose local day is >= day.
  int64_t first_instant_of_day_s(int64_t day, int64_t from_s) const;

  std::string name_;
  std::vector<int64_t> transitions_; // UTC seconds, ascending
  std::vector<int32_t> offsets_;     // offset from transitions_[i] on
  int32_t initial_offset_ = 0;       // before the first transition
  std::optional<posix_rule> rule_;   // after the last transition
};

/// Parses a POSIX TZ rule ("<+0330>-3:30", "CET-1CEST,M3.5.0,M10.5.0/3").
/// Accepts RFC 8536's extension of rule times to -167..167 hours.
std::optional<time_zone::posix_rule> parse_posix_rule(std::string_view text,
                                                      std::string& error);

} // namespace streamb::budget
