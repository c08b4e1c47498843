#include "runtime/budget/time_zone.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <iterator>

namespace streamb::budget {

namespace {

// Offsets beyond this are corrupt data, not a place on Earth.
constexpr int32_t max_abs_offset_s = 26 * 3600;

// A TZif file is a few KiB; refuse anything absurd before reading it.
constexpr std::streamsize max_tzif_bytes = 1 << 20;

// -- POSIX TZ rule parser ----------------------------------------------------

class rule_parser {
public:
  explicit rule_parser(std::string_view s) : s_(s) {
    // nop
  }

  bool at_end() const {
    return i_ == s_.size();
  }

  bool eat(char c) {
    if (i_ < s_.size() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }

  char peek() const {
    return i_ < s_.size() ? s_[i_] : '\0';
  }

  // A zone abbreviation: three or more letters, or <...> with letters,
  // digits, '+' and '-' (e.g. "<+0330>").
  bool name() {
    if (eat('<')) {
      auto start = i_;
      while (i_ < s_.size() && s_[i_] != '>') {
        auto c = static_cast<unsigned char>(s_[i_]);
        if (!std::isalnum(c) && c != '+' && c != '-')
          return false;
        ++i_;
      }
      if (i_ - start < 3 || !eat('>'))
        return false;
      return true;
    }
    auto start = i_;
    while (i_ < s_.size() && std::isalpha(static_cast<unsigned char>(s_[i_])))
      ++i_;
    return i_ - start >= 3;
  }

  // [+-]h[h...][:mm[:ss]] in seconds, hours at most max_hours.
  bool duration(int32_t& out, int32_t max_hours) {
    int32_t sign = 1;
    if (eat('-'))
      sign = -1;
    else
      eat('+');
    int32_t h = 0;
    if (!number(h, 0, max_hours))
      return false;
    int32_t m = 0;
    int32_t sec = 0;
    if (eat(':')) {
      if (!number(m, 0, 59))
        return false;
      if (eat(':') && !number(sec, 0, 59))
        return false;
    }
    out = sign * (h * 3600 + m * 60 + sec);
    return true;
  }

  bool date(time_zone::posix_rule::date& out) {
    using kind = time_zone::posix_rule::date_kind;
    int32_t a = 0;
    int32_t b = 0;
    int32_t c = 0;
    if (eat('J')) {
      out.kind = kind::julian_no_leap;
      if (!number(a, 1, 365))
        return false;
      out.n = static_cast<uint32_t>(a);
      return true;
    }
    if (eat('M')) {
      out.kind = kind::month_week;
      if (!number(a, 1, 12) || !eat('.') || !number(b, 1, 5) || !eat('.')
          || !number(c, 0, 6))
        return false;
      out.month = static_cast<uint32_t>(a);
      out.week = static_cast<uint32_t>(b);
      out.wday = static_cast<uint32_t>(c);
      return true;
    }
    out.kind = kind::zero_based;
    if (!number(a, 0, 365))
      return false;
    out.n = static_cast<uint32_t>(a);
    return true;
  }

private:
  bool number(int32_t& out, int32_t lo, int32_t hi) {
    auto start = i_;
    int64_t x = 0;
    while (i_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[i_]))
           && i_ - start < 4) {
      x = x * 10 + (s_[i_] - '0');
      ++i_;
    }
    if (i_ == start || x < lo || x > hi)
      return false;
    out = static_cast<int32_t>(x);
    return true;
  }

  std::string_view s_;
  size_t i_ = 0;
};

// Day number of a rule date in year `y`.
int64_t rule_day(const time_zone::posix_rule::date& d, int32_t y) {
  using kind = time_zone::posix_rule::date_kind;
  auto jan1 = days_from_civil(y, 1, 1);
  switch (d.kind) {
    case kind::julian_no_leap: {
      // Jn counts 1-365 and never names Feb 29: day 60 is always March 1.
      int64_t doy = d.n - 1;
      if (is_leap_year(y) && d.n >= 60)
        ++doy;
      return jan1 + doy;
    }
    case kind::zero_based: return jan1 + d.n;
    case kind::month_week:
    default: {
      auto first = days_from_civil(y, d.month, 1);
      auto shift = (d.wday + 7 - weekday_from_days(first)) % 7;
      auto day = first + shift + 7 * (static_cast<int64_t>(d.week) - 1);
      // Week 5 means "the last": step back while past the month's end.
      while (day >= first + days_in_month(y, d.month))
        day -= 7;
      return day;
    }
  }
}

// -- TZif reader -------------------------------------------------------------

class byte_reader {
public:
  explicit byte_reader(const std::string& data) : data_(data) {
    // nop
  }

  bool has(size_t n) const {
    return pos_ <= data_.size() && data_.size() - pos_ >= n;
  }

  uint8_t u8() {
    return static_cast<uint8_t>(data_[pos_++]);
  }

  uint32_t be32() {
    uint32_t x = 0;
    for (int i = 0; i < 4; ++i)
      x = (x << 8) | u8();
    return x;
  }

  int64_t be64() {
    uint64_t x = 0;
    for (int i = 0; i < 8; ++i)
      x = (x << 8) | u8();
    return static_cast<int64_t>(x);
  }

  void skip(size_t n) {
    pos_ += n;
  }

  size_t pos() const {
    return pos_;
  }

private:
  const std::string& data_;
  size_t pos_ = 0;
};

struct tzif_header {
  char version = 0;
  uint32_t isutcnt = 0;
  uint32_t isstdcnt = 0;
  uint32_t leapcnt = 0;
  uint32_t timecnt = 0;
  uint32_t typecnt = 0;
  uint32_t charcnt = 0;

  // Size of the data block that follows, with times of `time_size` bytes.
  size_t block_size(size_t time_size) const {
    return size_t{timecnt} * time_size + timecnt + size_t{typecnt} * 6 + charcnt
      + size_t{leapcnt} * (time_size + 4) + isstdcnt + isutcnt;
  }
};

bool read_header(byte_reader& in, tzif_header& h, std::string& error) {
  if (!in.has(44)) {
    error = "truncated header";
    return false;
  }
  char magic[4];
  for (auto& c : magic)
    c = static_cast<char>(in.u8());
  if (std::string_view{magic, 4} != "TZif") {
    error = "not a TZif file";
    return false;
  }
  h.version = static_cast<char>(in.u8());
  in.skip(15);
  h.isutcnt = in.be32();
  h.isstdcnt = in.be32();
  h.leapcnt = in.be32();
  h.timecnt = in.be32();
  h.typecnt = in.be32();
  h.charcnt = in.be32();
  if (h.typecnt == 0 || h.timecnt > 100000 || h.typecnt > 256
      || h.charcnt > 65536 || h.leapcnt > 10000 || h.isutcnt > 256
      || h.isstdcnt > 256) {
    error = "implausible counts in header";
    return false;
  }
  return true;
}

bool valid_name(const std::string& name) {
  if (name.empty() || name.size() > 255 || name.front() == '/'
      || name.find("..") != std::string::npos)
    return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return std::isalnum(u) || c == '/' || c == '_' || c == '-' || c == '+'
      || c == '.';
  });
}

} // namespace

std::optional<time_zone::posix_rule> parse_posix_rule(std::string_view text,
                                                      std::string& error) {
  time_zone::posix_rule r;
  rule_parser p{text};
  auto fail = [&](const char* what) {
    error = std::string{"bad POSIX TZ rule \""} + std::string{text}
      + "\": " + what;
    return std::nullopt;
  };
  int32_t std_posix = 0;
  if (!p.name())
    return fail("expected a standard-time name");
  if (!p.duration(std_posix, 24))
    return fail("expected the standard-time offset");
  // POSIX writes the offset to add to local time to get UTC: "EST5".
  r.std_offset = -std_posix;
  if (p.at_end())
    return r;
  if (!p.name())
    return fail("expected a daylight-time name");
  r.has_dst = true;
  r.dst_offset = r.std_offset + 3600;
  if (p.peek() != ',' && !p.at_end()) {
    int32_t dst_posix = 0;
    if (!p.duration(dst_posix, 24))
      return fail("bad daylight-time offset");
    r.dst_offset = -dst_posix;
  }
  // Without a rule POSIX leaves the dates to the implementation; tzdata
  // always writes one, so we refuse to guess.
  if (!p.eat(','))
    return fail("daylight time without a rule");
  if (!p.date(r.start))
    return fail("bad start date");
  if (p.eat('/') && !p.duration(r.start_time, 167))
    return fail("bad start time");
  if (!p.eat(','))
    return fail("expected ',' before the end date");
  if (!p.date(r.end))
    return fail("bad end date");
  if (p.eat('/') && !p.duration(r.end_time, 167))
    return fail("bad end time");
  if (!p.at_end())
    return fail("trailing characters");
  return r;
}

time_zone time_zone::utc() {
  time_zone z;
  z.name_ = "UTC";
  return z;
}

std::optional<time_zone> time_zone::from_posix(std::string_view rule,
                                               std::string& error) {
  auto r = parse_posix_rule(rule, error);
  if (!r)
    return std::nullopt;
  time_zone z;
  z.name_ = std::string{rule};
  z.initial_offset_ = r->std_offset;
  z.rule_ = *r;
  return z;
}

std::optional<time_zone> time_zone::load(const std::string& name,
                                         std::string& error,
                                         const std::string& dir) {
  if (name == "UTC")
    return utc();
  if (!valid_name(name)) {
    error = "invalid time zone name \"" + name + "\"";
    return std::nullopt;
  }
  auto path = dir + "/" + name;
  auto fail = [&](const std::string& what) {
    error = path + ": " + what;
    return std::nullopt;
  };
  std::ifstream f{path, std::ios::binary};
  if (!f)
    return fail("cannot open (is the tzdata package installed?)");
  std::string data;
  data.resize(static_cast<size_t>(max_tzif_bytes) + 1);
  f.read(data.data(), max_tzif_bytes + 1);
  if (f.gcount() > max_tzif_bytes)
    return fail("too large for a TZif file");
  data.resize(static_cast<size_t>(f.gcount()));
  byte_reader in{data};
  tzif_header h;
  std::string why;
  if (!read_header(in, h, why))
    return fail(why);
  size_t time_size = 4;
  if (h.version >= '2') {
    // Skip the 32-bit block: the 64-bit one after it is complete.
    if (!in.has(h.block_size(4)))
      return fail("truncated version 1 data");
    in.skip(h.block_size(4));
    if (!read_header(in, h, why))
      return fail("second header: " + why);
    time_size = 8;
  }
  if (h.leapcnt > 0)
    return fail("leap-second zones are not supported");
  if (!in.has(h.block_size(time_size)))
    return fail("truncated data");
  time_zone z;
  z.name_ = name;
  z.transitions_.resize(h.timecnt);
  for (auto& t : z.transitions_)
    t = time_size == 8 ? in.be64()
                       : static_cast<int64_t>(static_cast<int32_t>(in.be32()));
  std::vector<uint8_t> index(h.timecnt);
  for (auto& i : index)
    i = in.u8();
  std::vector<int32_t> type_offsets(h.typecnt);
  for (auto& o : type_offsets) {
    o = static_cast<int32_t>(in.be32());
    in.skip(2); // isdst, abbreviation index: not needed for offsets
    if (o > max_abs_offset_s || o < -max_abs_offset_s)
      return fail("implausible UTC offset");
  }
  in.skip(h.charcnt + h.isstdcnt + h.isutcnt);
  for (size_t i = 0; i < index.size(); ++i) {
    if (index[i] >= h.typecnt)
      return fail("transition names an unknown time type");
    if (i > 0 && z.transitions_[i] <= z.transitions_[i - 1])
      return fail("transitions out of order");
    z.offsets_.push_back(type_offsets[index[i]]);
  }
  // RFC 8536: before the first transition, time type 0 applies.
  z.initial_offset_ = type_offsets[0];
  if (time_size == 8) {
    // Footer: "\n<POSIX TZ rule>\n"; an empty rule means "no rule".
    if (!in.has(1) || in.u8() != '\n')
      return fail("missing footer");
    auto start = in.pos();
    auto end = data.find('\n', start);
    if (end == std::string::npos)
      return fail("unterminated footer");
    auto text = std::string_view{data}.substr(start, end - start);
    if (!text.empty()) {
      auto r = parse_posix_rule(text, why);
      if (!r)
        return fail(why);
      z.rule_ = *r;
    }
  }
  return z;
}

std::vector<time_zone::rule_transition>
time_zone::rule_transitions_near(int64_t utc_s) const {
  std::vector<rule_transition> out;
  if (!rule_ || !rule_->has_dst)
    return out;
  const auto& r = *rule_;
  auto year = civil_from_days(floor_div(utc_s + r.std_offset, seconds_per_day))
                .year;
  for (int32_t y = year - 1; y <= year + 1; ++y) {
    // The start is written in standard time, the end in daylight time.
    auto start = rule_day(r.start, y) * seconds_per_day + r.start_time
      - r.std_offset;
    auto end = rule_day(r.end, y) * seconds_per_day + r.end_time - r.dst_offset;
    out.push_back({end, r.std_offset});
    out.push_back({start, r.dst_offset});
  }
  // Stable: where an end and the next start coincide (DST all year, e.g.
  // "EST5EDT,0/0,J365/25"), the start was pushed later and wins.
  std::stable_sort(out.begin(), out.end(),
                   [](const auto& a, const auto& b) { return a.at < b.at; });
  return out;
}

int32_t time_zone::offset_s(int64_t utc_s) const {
  if (!transitions_.empty() && utc_s < transitions_.back()) {
    auto i = std::upper_bound(transitions_.begin(), transitions_.end(), utc_s);
    if (i == transitions_.begin())
      return initial_offset_;
    return offsets_[static_cast<size_t>(i - transitions_.begin()) - 1];
  }
  if (rule_) {
    if (!rule_->has_dst)
      return rule_->std_offset;
    auto ts = rule_transitions_near(utc_s);
    int32_t result = rule_->std_offset;
    for (const auto& t : ts)
      if (t.at <= utc_s)
        result = t.offset;
    return result;
  }
  return transitions_.empty() ? initial_offset_ : offsets_.back();
}

std::optional<int64_t> time_zone::next_transition_s(int64_t utc_s) const {
  auto i = std::upper_bound(transitions_.begin(), transitions_.end(), utc_s);
  if (i != transitions_.end())
    return *i;
  // Past the table: the rule's next transition. The list spans the year
  // before to the year after, and every year with DST has two.
  for (const auto& t : rule_transitions_near(utc_s))
    if (t.at > utc_s)
      return t.at;
  return std::nullopt;
}

int64_t time_zone::local_day(int64_t now_ms) const {
  auto s = floor_div(now_ms, ms_per_second);
  return floor_div(s + offset_s(s), seconds_per_day);
}

int64_t time_zone::first_instant_of_day_s(int64_t day, int64_t from_s) const {
  // Walk forward from `from_s` one constant-offset stretch at a time: within
  // a stretch, local midnight is day * 86400 - offset; if a transition comes
  // first, continue from it. Where a transition jumps over midnight the day
  // begins at the transition itself.
  auto p = from_s;
  for (int guard = 0; guard < 64; ++guard) {
    auto o = offset_s(p);
    if (floor_div(p + o, seconds_per_day) >= day)
      return p;
    auto candidate = day * seconds_per_day - o;
    auto t = next_transition_s(p);
    if (!t || *t > candidate)
      return candidate;
    p = *t;
  }
  return p; // not reached with real data: a day has few transitions
}

int64_t time_zone::next_day_start_ms(int64_t now_ms) const {
  auto s = floor_div(now_ms, ms_per_second);
  auto day = floor_div(s + offset_s(s), seconds_per_day);
  return first_instant_of_day_s(day + 1, s) * ms_per_second;
}

int64_t time_zone::day_start_ms(int64_t day) const {
  // Start early enough that every offset puts us on an earlier local day.
  auto from = day * seconds_per_day - seconds_per_day - max_abs_offset_s;
  return first_instant_of_day_s(day, from) * ms_per_second;
}

} // namespace streamb::budget
