#include "runtime/budget/time_zone.hpp"

// tz.h's declarations change with the mode libdate-tz was built in, and
// Debian builds it to read the OS database. CMake's date::date-tz target
// defines this too; saying it here keeps a bare -ldate-tz build right.
#ifndef USE_OS_TZDB
#  define USE_OS_TZDB 1
#endif

// ptz.h (3.0.1) defines a non-inline function: include it in this file only.
#include <date/ptz.h>
#include <date/tz.h>

#if !USE_OS_TZDB
#  error "libdate-tz must be built with USE_OS_TZDB=1, as Debian's is"
#endif

#include <chrono>
#include <cstdlib>
#include <exception>
#include <fstream>

namespace streamb::budget {

namespace {

using date::sys_seconds;

// Where libdate-tz looks on Linux (its discover_tz_dir): we read a zone's
// footer rule from the file it reads the table from.
constexpr const char* tz_dir = "/usr/share/zoneinfo";

// A TZif file is a few KiB; refuse anything absurd before reading it.
constexpr std::streamsize max_tzif_bytes = 1 << 20;

// Offsets beyond this are a typo, not a place on Earth.
constexpr int64_t max_abs_offset_s = 26 * 3600;

int64_t to_s(sys_seconds t) {
  return t.time_since_epoch().count();
}

sys_seconds from_s(int64_t s) {
  return sys_seconds{std::chrono::seconds{s}};
}

// date/tz and ptz.h end a span that never ends at the year 32767.
constexpr sys_seconds end_of_time = date::sys_days{date::year::max() / 1 / 1};

// ptz.h's messages are "Invalid time_zone initializer.\n<why>:\n<rule>\n"
// plus a caret line in ANSI colours; a log line wants only <why>.
std::string ptz_reason(const std::exception& e) {
  std::string_view what = e.what();
  auto from = what.find('\n');
  auto to = what.find(":\n");
  if (from == std::string_view::npos || to == std::string_view::npos
      || to <= from)
    return std::string{what};
  return std::string{what.substr(from + 1, to - from - 1)};
}

// What ptz.h 3.0.1 accepts without checking (upstream added range checks
// after that release): a daylight-time name without a rule, which it would
// read as "never daylight time", and day numbers out of range. Runs after
// ptz.h has accepted the syntax, so each field is where we look for it.
const char* unchecked_by_ptz(std::string_view rule) {
  auto comma = rule.find(',');
  if (comma == std::string_view::npos) {
    // "name offset [name [offset]]": a second name needs a rule.
    auto offset = rule[0] == '<' ? rule.find('>') + 1
                                 : rule.find_first_of("+-0123456789");
    if (rule.find_first_not_of("+-0123456789:", offset)
        != std::string_view::npos)
      return "daylight time without a rule";
    return nullptr;
  }
  auto rest = rule.substr(comma + 1);
  auto second = rest.find(',');
  for (auto date : {rest.substr(0, second), rest.substr(second + 1)}) {
    size_t i = 1;
    auto number = [&] {
      uint32_t x = 0;
      for (; i < date.size() && date[i] >= '0' && date[i] <= '9'; ++i)
        x = x * 10 + static_cast<uint32_t>(date[i] - '0');
      ++i; // past the '.' or '/' that follows
      return x;
    };
    if (date[0] == 'J') {
      auto n = number();
      if (n < 1 || n > 365)
        return "Julian day (Jn) not in 1-365";
    } else if (date[0] == 'M') {
      auto month = number();
      auto week = number();
      auto wday = number();
      if (month < 1 || month > 12)
        return "month (Mm.w.d) not in 1-12";
      if (week < 1 || week > 5)
        return "week (Mm.w.d) not in 1-5";
      if (wday > 6)
        return "weekday (Mm.w.d) not in 0-6";
    } else {
      i = 0;
      if (number() > 365)
        return "day of the year not in 0-365";
    }
  }
  return nullptr;
}

std::shared_ptr<const Posix::time_zone> parse_rule(std::string_view text,
                                                   std::string& why) {
  // Printable ASCII only: ptz.h hands each char to std::isalpha.
  for (auto c : text) {
    if (c < '!' || c > '~') {
      why = "characters other than printable ASCII";
      return nullptr;
    }
  }
  if (text.empty() || text.size() > 256) {
    why = text.empty() ? "empty" : "too long";
    return nullptr;
  }
  std::shared_ptr<const Posix::time_zone> z;
  try {
    z = std::make_shared<const Posix::time_zone>(text);
  } catch (const std::exception& e) {
    why = ptz_reason(e);
    return nullptr;
  }
  if (auto bad = unchecked_by_ptz(text)) {
    why = bad;
    return nullptr;
  }
  // Two consecutive spans show both offsets, standard and daylight.
  auto first = z->get_info(sys_seconds{});
  auto second = first.end < end_of_time ? z->get_info(first.end) : first;
  for (auto offset : {first.offset.count(), second.offset.count()}) {
    if (std::llabs(offset) > max_abs_offset_s) {
      why = "UTC offset beyond 26 hours";
      return nullptr;
    }
  }
  return z;
}

uint32_t be32(const std::string& data, size_t pos) {
  uint32_t x = 0;
  for (size_t i = 0; i < 4; ++i)
    x = (x << 8) | static_cast<uint8_t>(data[pos + i]);
  return x;
}

} // namespace

time_zone time_zone::utc() {
  time_zone z;
  z.name_ = "UTC";
  return z;
}

std::optional<time_zone> time_zone::from_posix(std::string_view rule,
                                               std::string& error) {
  std::string why;
  auto r = parse_rule(rule, why);
  if (!r) {
    error = "bad POSIX TZ rule \"" + std::string{rule} + "\": " + why;
    return std::nullopt;
  }
  time_zone z;
  z.name_ = std::string{rule};
  z.rule_ = std::move(r);
  return z;
}

std::optional<time_zone> time_zone::load(const std::string& name,
                                         std::string& error) {
  if (name == "UTC")
    return utc();
  auto fail = [&](const std::string& why) {
    error = "time zone \"" + name + "\": " + why;
    return std::nullopt;
  };
  // date/tz does not list right/, so without this the answer would only be
  // "not found".
  if (name.compare(0, 6, "right/") == 0)
    return fail("leap-second zones (\"right/...\") are not supported");
  // Debian's posix/ holds the same zones as the top level; date/tz lists
  // only the latter.
  std::string_view key = name;
  if (key.compare(0, 6, "posix/") == 0)
    key.remove_prefix(6);
  const date::time_zone* table = nullptr;
  try {
    // An exact match against the files listed at first use: no path
    // tricks ("../") get through.
    table = date::locate_zone(key);
  } catch (const std::exception& e) {
    std::string_view what = e.what();
    if (what.find("not found") != std::string_view::npos)
      return fail(std::string{"not in the tz database ("} + tz_dir
                  + "; is the tzdata package installed?)");
    return fail("cannot read the tz database: "
                + std::string{what.substr(0, what.find('\n'))});
  }
  auto path = std::string{tz_dir} + '/' + table->name();
  std::ifstream f{path, std::ios::binary};
  if (!f)
    return fail("cannot open " + path);
  std::string data;
  data.resize(static_cast<size_t>(max_tzif_bytes) + 1);
  f.read(data.data(), max_tzif_bytes + 1);
  if (f.gcount() > max_tzif_bytes)
    return fail(path + " is too large for a TZif file");
  data.resize(static_cast<size_t>(f.gcount()));
  // Checked here because libdate-tz asserts, aborting the process, on a
  // file that is not TZif, and reads leap seconds only from files it skips.
  if (data.size() < 44 || data.compare(0, 4, "TZif") != 0)
    return fail(path + " is not a TZif file");
  if (be32(data, 28) != 0)
    return fail("leap-second zones are not supported");
  // Version 2+ ends in "\n<POSIX TZ rule>\n"; an empty rule means none.
  std::string_view footer;
  if (data[4] >= '2') {
    auto last = data.size() - 1;
    auto start = data.rfind('\n', last - 1);
    if (data[last] != '\n' || start == std::string::npos)
      return fail(path + " has no footer rule (damaged?)");
    footer = std::string_view{data}.substr(start + 1, last - start - 1);
  }
  time_zone z;
  z.name_ = name;
  z.table_ = table;
  try {
    // Load the table now (once per process), so a damaged file fails here
    // and not on an admission decision; and find where it ends.
    z.rule_from_s_ = to_s(table->get_info(end_of_time).begin);
  } catch (const std::exception& e) {
    return fail(path + ": " + e.what());
  }
  if (footer.empty()) {
    z.rule_from_s_ = no_end_s; // the last offset holds forever
    return z;
  }
  std::string why;
  z.rule_ = parse_rule(footer, why);
  if (!z.rule_) {
    // ptz.h cannot parse negative rule times; the table is right as far
    // as it goes, which beats refusing the zone (callers fall back to UTC).
    if (footer.find("/-") == std::string_view::npos)
      return fail(path + ": footer rule \"" + std::string{footer}
                  + "\": " + why);
    z.rule_from_s_ = no_end_s;
  }
  return z;
}

time_zone::span time_zone::span_at(int64_t utc_s) const {
  auto t = from_s(utc_s);
  date::sys_info info;
  if (table_ && utc_s < rule_from_s_) {
    info = table_->get_info(t);
  } else if (rule_) {
    info = rule_->get_info(t);
    // ptz.h 3.0.1 takes the rule's year from the UTC date, so for a rule
    // with a transition within days of New Year (permanent daylight time:
    // "EST5EDT,0/0,J365/25") it can answer with a span that does not hold
    // t (fixed upstream later). Such an answer is recognisable; a query 8
    // days away lands where ptz.h picks the right year, and its span is
    // used if it holds t.
    auto holds = [t](const date::sys_info& i) {
      return i.begin <= t && t < i.end;
    };
    if (!holds(info)) {
      auto before = rule_->get_info(t - date::days{8});
      auto after = rule_->get_info(t + date::days{8});
      if (holds(before))
        info = before;
      else if (holds(after))
        info = after;
      else
        info.end = t + std::chrono::seconds{1}; // keep walks moving
    }
  } else {
    return {0, no_end_s};
  }
  auto end = info.end < end_of_time ? to_s(info.end) : no_end_s;
  return {static_cast<int32_t>(info.offset.count()), end};
}

int32_t time_zone::offset_s(int64_t utc_s) const {
  return span_at(utc_s).offset;
}

std::optional<int64_t> time_zone::next_transition_s(int64_t utc_s) const {
  auto end = span_at(utc_s).end;
  if (end == no_end_s)
    return std::nullopt;
  return end;
}

int64_t time_zone::local_day(int64_t now_ms) const {
  auto s = floor_div(now_ms, ms_per_second);
  return floor_div(s + offset_s(s), seconds_per_day);
}

int64_t time_zone::first_instant_of_day_s(int64_t day, int64_t from_s,
                                          span first) const {
  // Walk forward one constant-offset span at a time: within a span, local
  // midnight is day * 86400 - offset; if the span ends first, continue from
  // its end. Where a transition jumps over midnight the day begins at the
  // transition itself. Local midnights are not looked up by local time
  // (local_info) because the seam between table and rule would need the
  // same walk anyway.
  auto p = from_s;
  auto sp = first;
  for (int guard = 0; guard < 64; ++guard) {
    if (floor_div(p + sp.offset, seconds_per_day) >= day)
      return p;
    auto candidate = day * seconds_per_day - sp.offset;
    if (sp.end > candidate)
      return candidate;
    p = sp.end;
    sp = span_at(p);
  }
  return p; // not reached with real data: a day has few transitions
}

int64_t time_zone::next_day_start_ms(int64_t now_ms) const {
  auto s = floor_div(now_ms, ms_per_second);
  auto sp = span_at(s);
  auto day = floor_div(s + sp.offset, seconds_per_day);
  return first_instant_of_day_s(day + 1, s, sp) * ms_per_second;
}

int64_t time_zone::day_start_ms(int64_t day) const {
  // Start early enough that every offset puts us on an earlier local day.
  auto from = day * seconds_per_day - seconds_per_day - max_abs_offset_s;
  return first_instant_of_day_s(day, from, span_at(from)) * ms_per_second;
}

} // namespace streamb::budget
