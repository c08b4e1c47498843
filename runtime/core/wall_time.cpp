#include "runtime/core/wall_time.hpp"

#include <date/date.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>

namespace streamb {

int64_t epoch_ms_now() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch())
    .count();
}

std::string iso8601_utc(int64_t ms) {
  // Digits written by hand from date's civil calendar: strftime and
  // snprintf were 2.6 % of the node's instructions per webhook (several
  // timestamps per event history).
  using namespace std::chrono;
  auto t = date::sys_time<milliseconds>{milliseconds{ms}};
  auto day = date::floor<date::days>(t);
  date::year_month_day ymd{day};
  auto in_day = t - day; // [0, 24 h) even before 1970
  auto h = duration_cast<hours>(in_day).count();
  auto m = duration_cast<minutes>(in_day).count() % 60;
  auto s = duration_cast<seconds>(in_day).count() % 60;
  auto f = in_day.count() % 1000;
  int year = static_cast<int>(ymd.year());
  if (year < 0 || year > 9999) {
    // Outside what four digits hold: the slow path says it as strftime.
    auto secs = static_cast<std::time_t>(
      date::floor<seconds>(t).time_since_epoch().count());
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[64];
    auto n = std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
    std::snprintf(buf + n, sizeof(buf) - n, ".%03dZ", static_cast<int>(f));
    return buf;
  }
  std::string out = "0000-00-00T00:00:00.000Z";
  auto put = [&out](std::size_t at, std::size_t width, long long v) {
    for (std::size_t i = 0; i < width; ++i, v /= 10)
      out[at + width - 1 - i] = static_cast<char>('0' + v % 10);
  };
  put(0, 4, year);
  put(5, 2, static_cast<unsigned>(ymd.month()));
  put(8, 2, static_cast<unsigned>(ymd.day()));
  put(11, 2, h);
  put(14, 2, m);
  put(17, 2, s);
  put(20, 3, f);
  return out;
}

int64_t ms_until_next_utc_month(int64_t ms) {
  auto secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  tm.tm_mday = 1;
  tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
  tm.tm_mon += 1; // timegm normalizes December + 1
  return static_cast<int64_t>(timegm(&tm)) * 1000 - ms;
}

std::optional<int64_t> parse_time(std::string_view text) {
  if (text.empty() || text.size() > 30)
    return std::nullopt;
  auto digits = [](std::string_view s) {
    return !s.empty()
      && s.find_first_not_of("0123456789") == std::string_view::npos;
  };
  if (digits(text)) {
    if (text.size() > 15) // past year 33658: a mistake, not a time
      return std::nullopt;
    return std::stoll(std::string{text});
  }
  // YYYY-MM-DDTHH:MM:SS[.mmm]Z
  if (text.size() < 20 || text.back() != 'Z' || text[4] != '-' || text[7] != '-'
      || text[10] != 'T' || text[13] != ':' || text[16] != ':')
    return std::nullopt;
  auto field = [&](std::size_t pos, std::size_t len, int lo, int hi, int& out) {
    auto part = text.substr(pos, len);
    if (!digits(part))
      return false;
    out = std::stoi(std::string{part});
    return out >= lo && out <= hi;
  };
  std::tm tm{};
  int year = 0, month = 0, millis = 0;
  if (!field(0, 4, 1970, 9999, year) || !field(5, 2, 1, 12, month)
      || !field(8, 2, 1, 31, tm.tm_mday) || !field(11, 2, 0, 23, tm.tm_hour)
      || !field(14, 2, 0, 59, tm.tm_min) || !field(17, 2, 0, 60, tm.tm_sec))
    return std::nullopt;
  auto rest = text.substr(19, text.size() - 20);
  if (!rest.empty()) {
    if (rest.size() != 4 || rest[0] != '.' || !field(20, 3, 0, 999, millis))
      return std::nullopt;
  }
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  auto day = tm.tm_mday;
  auto secs = timegm(&tm);
  // timegm normalizes Feb 30 to Mar 2: a changed day means no such date.
  if (tm.tm_mday != day)
    return std::nullopt;
  return static_cast<int64_t>(secs) * 1000 + millis;
}

} // namespace streamb
