#pragma once

// A time zone as the daily limit and the budget month need it: the UTC offset
// at any instant and the instant each local day begins.
//
// Why Howard Hinnant's date/tz (Debian: libhowardhinnant-date-dev, linked as
// libdate-tz): it is the library C++20's <chrono> time zones were
// standardised from, so moving to std::chrono later is a rename, and
// Debian's build reads the OS tz database (/usr/share/zoneinfo, package
// `tzdata`) instead of downloading one. glibc's localtime_r is no option: it
// goes through the process-global TZ variable, so it cannot serve several
// services' zones in one process.
//
// IANA zones ("Europe/Berlin") come from date::locate_zone, whose sys_info
// gives each constant-offset span. Debian's libdate-tz (3.0.1) reads only a
// TZif file's transition table, not the POSIX TZ rule in its footer that
// continues the table (HowardHinnant/date#794): Debian's files stop in 2037,
// "slim" ones decades earlier, and past the table date/tz keeps the last
// offset -- no daylight time. So we take the footer rule and evaluate it with
// date/ptz.h (Posix::time_zone) from the table's last transition on.
// POSIX rules given directly ("EST5EDT,M3.2.0,M11.1.0") use ptz.h alone.
//
// Limits this brings, against our former TZif reader:
// - The database directory is fixed: date/tz finds it once per process
//   (/usr/share/zoneinfo) and caches its zone list and each zone's table, so
//   `load` takes no directory, and a tzdata upgrade needs a restart.
// - ptz.h does not parse negative rule times (RFC 8536's extension, used by
//   America/Nuuk: "...,M3.5.0/-1,..."). Such a zone still loads, and is right
//   as far as its table goes (2037 with Debian's files); from_posix refuses
//   such a rule.
// - Leap-second zones ("right/...") are refused: their timestamps are not
//   POSIX time, and nobody bills by them.

#include "runtime/budget/calendar.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace date {
class time_zone;
} // namespace date

namespace Posix {
class time_zone;
} // namespace Posix

namespace streamb::budget {

/// A zone's offsets over time; copyable (cheaply), immutable after loading,
/// safe to use from several threads.
class time_zone {
public:
  /// Coordinated Universal Time: offset 0, no transitions.
  static time_zone utc();

  /// Loads an IANA zone ("Europe/Berlin") from the system's tz database.
  /// "UTC" needs no database. On failure returns nothing and sets `error`
  /// (names the zone and why).
  static std::optional<time_zone> load(const std::string& name,
                                       std::string& error);

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

private:
  // The offset at an instant and where it stops applying.
  struct span {
    int32_t offset;
    int64_t end; // UTC seconds; no_end_s if the offset never changes
  };

  static constexpr int64_t no_end_s = INT64_MAX;

  span span_at(int64_t utc_s) const;

  // First instant >= from_s whose local day is >= day; `first` is the span
  // holding from_s.
  int64_t first_instant_of_day_s(int64_t day, int64_t from_s, span first) const;

  std::string name_;
  // Both point into immutable data: the tz database lives for the process,
  // and a parsed rule is shared by the copies of a zone.
  const date::time_zone* table_ = nullptr;       // nullptr: rule (or UTC) only
  std::shared_ptr<const Posix::time_zone> rule_; // from rule_from_s_ on
  int64_t rule_from_s_ = INT64_MIN;              // table_'s last transition
};

} // namespace streamb::budget
