#include "runtime/store/memory_backend.hpp"

#include "runtime/store/write_batch.hpp"

#include "runtime/core/error_code.hpp"

#include <algorithm>
#include <charconv>
#include <iterator>
#include <limits>
#include <map>
#include <set>
#include <string_view>
#include <unordered_map>
#include <variant>

namespace streamb::store {

namespace {

// -- errors -------------------------------------------------------------------

caf::error wrong_type(const std::string& key) {
  return caf::make_error(error_code::store_error,
                         "WRONGTYPE key holds another kind of value: " + key);
}

caf::error invalid(std::string what) {
  return caf::make_error(error_code::invalid_argument, std::move(what));
}

caf::error no_group(const std::string& stream, const std::string& group) {
  return caf::make_error(error_code::not_found,
                         "NOGROUP no stream " + stream + " or no group "
                           + group);
}

// -- integers -----------------------------------------------------------------

/// Parses a 64-bit integer in canonical form only, as Redis' string2ll does:
/// no leading '+', zeros or spaces, no "-0".
std::optional<int64_t> parse_i64(std::string_view str) {
  int64_t result = 0;
  auto last = str.data() + str.size();
  auto [ptr, ec] = std::from_chars(str.data(), last, result);
  if (ec != std::errc{} || ptr != last || std::to_string(result) != str)
    return std::nullopt;
  return result;
}

bool parse_u64(std::string_view str, uint64_t& result) {
  auto last = str.data() + str.size();
  auto [ptr, ec] = std::from_chars(str.data(), last, result);
  return !str.empty() && ec == std::errc{} && ptr == last;
}

// -- stream IDs ---------------------------------------------------------------

constexpr uint64_t u64_max = std::numeric_limits<uint64_t>::max();

/// A parsed "ms-seq" ID, ordered as Redis orders them.
struct stream_id {
  uint64_t ms = 0;
  uint64_t seq = 0;
};

bool operator<(stream_id x, stream_id y) {
  return x.ms != y.ms ? x.ms < y.ms : x.seq < y.seq;
}

constexpr stream_id first_id{0, 0};
constexpr stream_id last_id{u64_max, u64_max};

std::string to_string(stream_id x) {
  return std::to_string(x.ms) + '-' + std::to_string(x.seq);
}

std::optional<stream_id> successor(stream_id x) {
  if (x.seq < u64_max)
    return stream_id{x.ms, x.seq + 1};
  if (x.ms < u64_max)
    return stream_id{x.ms + 1, 0};
  return std::nullopt;
}

std::optional<stream_id> predecessor(stream_id x) {
  if (x.seq > 0)
    return stream_id{x.ms, x.seq - 1};
  if (x.ms > 0)
    return stream_id{x.ms - 1, u64_max};
  return std::nullopt;
}

/// Parses "ms-seq", or "ms" completed with `missing_seq`.
std::optional<stream_id> parse_id(std::string_view str, uint64_t missing_seq) {
  stream_id result;
  auto dash = str.find('-');
  if (dash == std::string_view::npos) {
    if (!parse_u64(str, result.ms))
      return std::nullopt;
    result.seq = missing_seq;
    return result;
  }
  if (!parse_u64(str.substr(0, dash), result.ms)
      || !parse_u64(str.substr(dash + 1), result.seq))
    return std::nullopt;
  return result;
}

caf::expected<stream_id> parse_strict_id(const std::string& str) {
  if (auto id = parse_id(str, 0))
    return *id;
  return invalid("invalid stream ID: " + str);
}

/// Every ID parsed, or the error of the first bad one: commands check all
/// IDs before they change anything, as Redis does.
caf::expected<std::vector<stream_id>>
parse_strict_ids(const std::vector<std::string>& ids) {
  std::vector<stream_id> parsed;
  parsed.reserve(ids.size());
  for (auto& id : ids) {
    auto x = parse_strict_id(id);
    if (!x)
      return x.error();
    parsed.push_back(*x);
  }
  return parsed;
}

/// Parses an inclusive range bound from "-", "+", "ID" or "(ID" (exclusive).
/// A bare "ms" means "ms-0" as a start and "ms-<max>" as an end.
caf::expected<stream_id> parse_bound(const std::string& str, bool is_start) {
  if (str == "-")
    return first_id;
  if (str == "+")
    return last_id;
  std::string_view view = str;
  bool exclusive = !view.empty() && view.front() == '(';
  if (exclusive)
    view.remove_prefix(1);
  auto id = parse_id(view, is_start ? 0 : u64_max);
  if (!id)
    return invalid("invalid stream ID: " + str);
  if (!exclusive)
    return *id;
  // Redis rejects an exclusive bound that cannot move instead of returning
  // an empty range.
  if (auto moved = is_start ? successor(*id) : predecessor(*id))
    return *moved;
  return invalid("invalid exclusive bound for the interval: " + str);
}

struct trim_spec {
  uint64_t max_len = 0;
  std::optional<stream_id> min_id;
};

caf::expected<trim_spec> parse_trim(const stream_trim& trim) {
  if (trim.max_len > 0 && !trim.min_id.empty())
    return invalid("MAXLEN and MINID cannot be combined");
  trim_spec result;
  result.max_len = trim.max_len;
  if (!trim.min_id.empty()) {
    auto id = parse_strict_id(trim.min_id);
    if (!id)
      return id.error();
    result.min_id = *id;
  }
  return result;
}

// -- values -------------------------------------------------------------------

/// Fields sorted by name, so HGETALL is deterministic.
using hash_value = std::map<std::string, std::string>;

/// One entry of a group's pending entries list (PEL).
struct pending_info {
  std::string consumer;
  int64_t delivered_at = 0;
  uint64_t deliveries = 0;
};

struct group_value {
  /// Entries up to here were delivered to the group ("new" means after it).
  stream_id last_delivered;
  std::map<stream_id, pending_info> pending;
};

struct stream_value {
  std::map<stream_id, field_list> entries;
  /// The highest ID ever generated, kept when trimming so that IDs never
  /// repeat, as Redis keeps last_id.
  stream_id last_generated;
  std::map<std::string, group_value> groups;
};

uint64_t apply_trim(stream_value& stream, const trim_spec& trim) {
  auto& entries = stream.entries;
  auto first = entries.begin();
  auto last = first;
  uint64_t removed = 0;
  if (trim.max_len > 0 && entries.size() > trim.max_len) {
    removed = entries.size() - trim.max_len;
    last = std::next(first, static_cast<std::ptrdiff_t>(removed));
  } else if (trim.min_id) {
    last = entries.lower_bound(*trim.min_id);
    removed = static_cast<uint64_t>(std::distance(first, last));
  }
  // The groups' pending lists keep trimmed IDs, as in Redis: XAUTOCLAIM
  // drops them when it comes across them.
  entries.erase(first, last);
  return removed;
}

stream_entry make_entry(const std::pair<const stream_id, field_list>& x) {
  return stream_entry{to_string(x.first), x.second};
}

struct entry {
  std::variant<std::string, hash_value, stream_value> value;
  /// Deadline in epoch milliseconds; 0 for none.
  int64_t expires_at = 0;
};

/// Bounds the work one call spends on reclaiming expired keys.
constexpr size_t max_reclaimed_per_call = 20;

} // namespace

// -- keyspace -----------------------------------------------------------------

struct memory_backend::state {
  // Hashed, not ordered: under webhook load an ordered map's lookups were
  // 8 % of the node's CPU, comparing keys that share long prefixes. Only
  // keys(prefix), an administrative call, wanted the order.
  using keyspace_type = std::unordered_map<std::string, entry>;
  using iterator = keyspace_type::iterator;

  keyspace_type keyspace;

  /// Keys the store may hold (0: no cap); a call that would add one more
  /// fails with `capacity`, as a Redis at maxmemory with noeviction does.
  std::size_t max_keys = 0;

  bool full() const {
    return max_keys > 0 && keyspace.size() >= max_keys;
  }

  caf::error full_error() const {
    return caf::make_error(error_code::capacity,
                           "the memory store holds " + std::to_string(max_keys)
                             + " keys, the most store.memory_max_keys allows; "
                               "use Redis to keep more");
  }

  /// (expires_at, key) for every key with a deadline, soonest first.
  std::set<std::pair<int64_t, std::string>> deadlines;

  /// The time of the running call: read once per call, so one call sees one
  /// instant, as a Redis command does.
  int64_t now = 0;

  /// Starts a call at `now_ms` and reclaims some expired keys. Like Redis'
  /// active expiry (expire.c), a bounded amount of work per call frees keys
  /// that nobody reads again, while find() keeps expired keys invisible in the
  /// meantime. Redis samples random keys with a TTL because it keeps no order
  /// by deadline; `deadlines` is that order, so we only touch keys that are
  /// due, and a mass expiry is spread over several calls.
  state& begin(int64_t now_ms) {
    // Deadlines are positive; a broken clock must not make 0 ("no expiry")
    // a deadline.
    now = std::max<int64_t>(now_ms, 0);
    for (size_t i = 0; i < max_reclaimed_per_call && !deadlines.empty(); ++i) {
      auto soonest = deadlines.begin();
      if (soonest->first > now)
        break;
      keyspace.erase(soonest->second);
      deadlines.erase(soonest);
    }
    return *this;
  }

  bool expired(const entry& x) const {
    return x.expires_at != 0 && x.expires_at <= now;
  }

  /// The live key, or end(); removes the key when it expired.
  iterator find(const std::string& key) {
    auto i = keyspace.find(key);
    if (i != keyspace.end() && expired(i->second)) {
      erase(i);
      return keyspace.end();
    }
    return i;
  }

  /// The live key if it holds a T, end() if missing, WRONGTYPE otherwise.
  template <class T>
  caf::expected<iterator> find_as(const std::string& key) {
    auto i = find(key);
    if (i != keyspace.end() && !std::holds_alternative<T>(i->second.value))
      return wrong_type(key);
    return i;
  }

  /// Adds a key that holds an empty T.
  template <class T>
  iterator add(const std::string& key) {
    return keyspace.emplace(key, entry{T{}, 0}).first;
  }

  void erase(iterator i) {
    set_deadline(i, 0);
    keyspace.erase(i);
  }

  void set_deadline(iterator i, int64_t expires_at) {
    auto& current = i->second.expires_at;
    if (current == expires_at)
      return;
    if (current != 0)
      deadlines.erase({current, i->first});
    current = expires_at;
    if (current != 0)
      deadlines.emplace(current, i->first);
  }

  /// The deadline `ttl_ms` from now, 0 for a TTL of 0.
  caf::expected<int64_t> deadline_after(int64_t ttl_ms) const {
    if (ttl_ms < 0)
      return invalid("negative TTL: " + std::to_string(ttl_ms));
    if (ttl_ms > std::numeric_limits<int64_t>::max() - now)
      return invalid("TTL overflows: " + std::to_string(ttl_ms));
    return ttl_ms == 0 ? 0 : now + ttl_ms;
  }

  /// The stream and group, or not_found / WRONGTYPE.
  caf::expected<std::pair<stream_value*, group_value*>>
  find_group(const std::string& stream, const std::string& group) {
    auto i = find_as<stream_value>(stream);
    if (!i)
      return i.error();
    if (*i == keyspace.end())
      return no_group(stream, group);
    auto& value = std::get<stream_value>((*i)->second.value);
    auto g = value.groups.find(group);
    if (g == value.groups.end())
      return no_group(stream, group);
    return std::make_pair(&value, &g->second);
  }

  /// XRANGE (or XREVRANGE when `reverse`): entries between the bounds,
  /// inclusive, at most `count` (0: all).
  caf::expected<std::vector<stream_entry>> range(const std::string& stream,
                                                 const std::string& start,
                                                 const std::string& end,
                                                 uint64_t count, bool reverse) {
    auto lo = parse_bound(start, true);
    if (!lo)
      return lo.error();
    auto hi = parse_bound(end, false);
    if (!hi)
      return hi.error();
    auto i = find_as<stream_value>(stream);
    if (!i)
      return i.error();
    std::vector<stream_entry> result;
    if (*i == keyspace.end() || *hi < *lo)
      return result;
    auto& entries = std::get<stream_value>((*i)->second.value).entries;
    auto first = entries.lower_bound(*lo);
    auto last = entries.upper_bound(*hi);
    auto full = [&] { return count != 0 && result.size() >= count; };
    if (reverse) {
      for (auto j = std::make_reverse_iterator(last);
           j != std::make_reverse_iterator(first) && !full(); ++j)
        result.push_back(make_entry(*j));
    } else {
      for (auto j = first; j != last && !full(); ++j)
        result.push_back(make_entry(*j));
    }
    return result;
  }
};

// -- construction -------------------------------------------------------------

memory_backend::memory_backend(clock_fn now_ms, std::size_t max_keys)
  : now_ms_(std::move(now_ms)), state_(std::make_unique<state>()) {
  state_->max_keys = max_keys;
}

memory_backend::~memory_backend() = default;

// Every call below holds mtx_ for its whole duration, clock read included, so
// calls are atomic and ordered like commands on one Redis connection.

caf::expected<caf::unit_t> memory_backend::ping() {
  return caf::unit;
}

// -- strings and expiry -------------------------------------------------------

caf::expected<std::optional<std::string>>
memory_backend::get(const std::string& key) {
  std::lock_guard<std::recursive_mutex> guard{mtx_};
  auto& st = state_->begin(now_ms_());
  auto i = st.find_as<std::string>(key);
  if (!i)
    return i.error();
  if (*i == st.keyspace.end())
    return std::nullopt;
  return std::get<std::string>((*i)->second.value);
}

caf::expected<caf::unit_t> memory_backend::set(const std::string& key,
                                               const std::string& value,
                                               int64_t ttl_ms) {
  std::lock_guard<std::recursive_mutex> guard{mtx_};
  auto& st = state_->begin(now_ms_());
  auto deadline = st.deadline_after(ttl_ms);
  if (!deadline)
    return deadline.error();
  auto i = st.find(key);
  if (i == st.keyspace.end()) {
    if (st.full())
      return st.full_error();
    i = st.add<std::string>(key);
  }
  i->second.value = value;
  st.set_deadline(i, *deadline);
  return caf::unit;
}

caf::expected<bool> memory_backend::set_nx(const std::string& key,
                                           const std::string& value,
                                           int64_t ttl_ms) {
  std::lock_guard<std::recursive_mutex> guard{mtx_};
  auto& st = state_->begin(now_ms_());
  auto deadline = st.deadline_after(ttl_ms);
  if (!deadline)
    return deadline.error();
  if (st.find(key) != st.keyspace.end())
    return false;
  if (st.full())
    return st.full_error();
  auto i = st.add<std::string>(key);
  i->second.value = value;
  st.set_deadline(i, *deadline);
  return true;
}

caf::expected<bool> memory_backend::del(const std::string& key) {
  std::lock_guard<std::recursive_mutex> guard{mtx_};
  auto& st = state_->begin(now_ms_());
  auto i = st.find(key);
  if (i == st.keyspace.end())
    return false;
  st.erase(i);
  return true;
}

caf::expected<bool> memory_backend::expire(const std::string& key,
                                           int64_t ttl_ms) {
  std::lock_guard<std::recursive_mutex> guard{mtx_};
  auto& st = state_->begin(now_ms_());
  auto i = st.find(key);
  if (i == st.keyspace.end())
    return false;
  // PEXPIRE with a TTL in the past deletes the key right away.
  if (ttl_ms <= 0) {
    st.erase(i);
    return true;
  }
  auto deadline = st.deadline_after(ttl_ms);
  if (!deadline)
    return deadline.error();
  st.set_deadline(i, *deadline);
  return true;
}

caf::expected<bool> memory_backend::expire_if(const std::string& key,
                                              const std::string& value,
                                              int64_t ttl_ms) {
  std::lock_guard<std::recursive_mutex> guard{mtx_};
  auto current = get(key);
  if (!current)
    return current.error();
  if (!*current || **current != value)
    return false;
  return expire(key, ttl_ms);
}

caf::expected<int64_t> memory_backend::ttl_ms(const std::string& key) {
  std::lock_guard<std::recursive_mutex> guard{mtx_};
  auto& st = state_->begin(now_ms_());
  auto i = st.find(key);
  if (i == st.keyspace.end())
    return int64_t{-2};
  if (i->second.expires_at == 0)
    return int64_t{-1};
  return i->second.expires_at - st.now;
}

caf::expected<int64_t> memory_backend::incr_by(const std::string& key,
                                               int64_t delta, int64_t ttl_ms) {
  std::lock_guard<std::recursive_mutex> guard{mtx_};
  auto& st = state_->begin(now_ms_());
  auto deadline = st.deadline_after(ttl_ms);
  if (!deadline)
    return deadline.error();
  auto found = st.find_as<std::string>(key);
  if (!found)
    return found.error();
  auto i = *found;
  int64_t value = 0;
  if (i != st.keyspace.end()) {
    auto parsed = parse_i64(std::get<std::string>(i->second.value));
    if (!parsed)
      return caf::make_error(error_code::store_error,
                             "value is not an integer: " + key);
    value = *parsed;
  }
  if (__builtin_add_overflow(value, delta, &value))
    return caf::make_error(error_code::store_error,
                           "increment would overflow: " + key);
  if (i == st.keyspace.end()) {
    if (st.full())
      return st.full_error();
    i = st.add<std::string>(key);
  }
  i->second.value = std::to_string(value);
  // EXPIRE ... NX: a counter keeps the deadline of its first increment.
  if (*deadline != 0 && i->second.expires_at == 0)
    st.set_deadline(i, *deadline);
  return value;
}

// -- hashes -------------------------------------------------------------------

caf::expected<uint64_t> memory_backend::hset(const std::string& key,
                                             const field_list& fields) {
  std::lock_guard<std::recursive_mutex> guard{mtx_};
  auto& st = state_->begin(now_ms_());
  auto found = st.find_as<hash_value>(key);
  if (!found)
    return found.error();
  // Redis holds no empty hashes.
  if (fields.empty())
    return uint64_t{0};
  auto i = *found;
  if (i == st.keyspace.end()) {
    if (st.full())
      return st.full_error();
    i = st.add<hash_value>(key);
  }
  auto& hash = std::get<hash_value>(i->second.value);
  uint64_t added = 0;
  for (auto& [field, value] : fields)
    if (hash.insert_or_assign(field, value).second)
      ++added;
  return added;
}

caf::expected<std::optional<std::string>>
memory_backend::hget(const std::string& key, const std::string& field) {
  std::lock_guard<std::recursive_mutex> guard{mtx_};
  auto& st = state_->begin(now_ms_());
  auto i = st.find_as<hash_value>(key);
  if (!i)
    return i.error();
  if (*i == st.keyspace.end())
    return std::nullopt;
  auto& hash = std::get<hash_value>((*i)->second.value);
  auto j = hash.find(field);
  if (j == hash.end())
    return std::nullopt;
  return j->second;
}

caf::expected<field_list> memory_backend::hgetall(const std::string& key) {
  std::lock_guard<std::recursive_mutex> guard{mtx_};
  auto& st = state_->begin(now_ms_());
  auto i = st.find_as<hash_value>(key);
  if (!i)
    return i.error();
  field_list result;
  if (*i == st.keyspace.end())
    return result;
  auto& hash = std::get<hash_value>((*i)->second.value);
  result.assign(hash.begin(), hash.end());
  return result;
}

caf::expected<int64_t> memory_backend::hincr_by(const std::string& key,
                                                const std::string& field,
                                                int64_t delta) {
  std::lock_guard<std::recursive_mutex> guard{mtx_};
  auto& st = state_->begin(now_ms_());
  auto found = st.find_as<hash_value>(key);
  if (!found)
    return found.error();
  auto i = *found;
  if (i == st.keyspace.end()) {
    if (st.full())
      return st.full_error();
    i = st.add<hash_value>(key);
  }
  auto& hash = std::get<hash_value>(i->second.value);
  // A new key gets its field below whatever happens: delta alone cannot
  // overflow, so no empty hash is left behind.
  auto [j, added] = hash.try_emplace(field, "0");
  auto value = parse_i64(j->second);
  if (!value)
    return caf::make_error(error_code::store_error,
                           "hash value is not an integer: " + key + " "
                             + field);
  int64_t sum = 0;
  if (__builtin_add_overflow(*value, delta, &sum))
    return caf::make_error(error_code::store_error,
                           "increment would overflow: " + key + " " + field);
  j->second = std::to_string(sum);
  return sum;
}

caf::expected<bool> memory_backend::hdel(const std::string& key,
                                         const std::string& field) {
  std::lock_guard<std::recursive_mutex> guard{mtx_};
  auto& st = state_->begin(now_ms_());
  auto found = st.find_as<hash_value>(key);
  if (!found)
    return found.error();
  auto i = *found;
  if (i == st.keyspace.end())
    return false;
  auto& hash = std::get<hash_value>(i->second.value);
  if (hash.erase(field) == 0)
    return false;
  if (hash.empty())
    st.erase(i);
  return true;
}

// -- streams ------------------------------------------------------------------

caf::expected<std::string> memory_backend::xadd(const std::string& stream,
                                                const field_list& fields,
                                                const stream_trim& trim) {
  std::lock_guard<std::recursive_mutex> guard{mtx_};
  auto& st = state_->begin(now_ms_());
  auto spec = parse_trim(trim);
  if (!spec)
    return spec.error();
  if (fields.empty())
    return invalid("a stream entry needs at least one field: " + stream);
  auto found = st.find_as<stream_value>(stream);
  if (!found)
    return found.error();
  auto i = *found;
  auto last = i == st.keyspace.end()
    ? first_id
    : std::get<stream_value>(i->second.value).last_generated;
  // Redis' rule (streamNextID): a fresh millisecond starts at seq 0; a clock
  // that stands still or goes backwards continues the last ID's sequence.
  auto now = static_cast<uint64_t>(st.now);
  auto id = now > last.ms ? stream_id{now, 0} : successor(last);
  if (!id)
    return caf::make_error(error_code::store_error,
                           "stream exhausted the last possible ID: " + stream);
  if (i == st.keyspace.end()) {
    if (st.full())
      return st.full_error();
    i = st.add<stream_value>(stream);
  }
  auto& value = std::get<stream_value>(i->second.value);
  value.entries.emplace_hint(value.entries.end(), *id, fields);
  value.last_generated = *id;
  apply_trim(value, *spec);
  return to_string(*id);
}

caf::expected<uint64_t> memory_backend::xlen(const std::string& stream) {
  std::lock_guard<std::recursive_mutex> guard{mtx_};
  auto& st = state_->begin(now_ms_());
  auto i = st.find_as<stream_value>(stream);
  if (!i)
    return i.error();
  if (*i == st.keyspace.end())
    return uint64_t{0};
  return uint64_t{std::get<stream_value>((*i)->second.value).entries.size()};
}

caf::expected<std::vector<stream_entry>>
memory_backend::xrange(const std::string& stream, const std::string& start,
                       const std::string& end, uint64_t count) {
  std::lock_guard<std::recursive_mutex> guard{mtx_};
  return state_->begin(now_ms_()).range(stream, start, end, count, false);
}

caf::expected<std::vector<stream_entry>>
memory_backend::xrevrange(const std::string& stream, const std::string& end,
                          const std::string& start, uint64_t count) {
  std::lock_guard<std::recursive_mutex> guard{mtx_};
  return state_->begin(now_ms_()).range(stream, start, end, count, true);
}

caf::expected<uint64_t> memory_backend::xtrim(const std::string& stream,
                                              const stream_trim& trim) {
  std::lock_guard<std::recursive_mutex> guard{mtx_};
  auto& st = state_->begin(now_ms_());
  auto spec = parse_trim(trim);
  if (!spec)
    return spec.error();
  auto i = st.find_as<stream_value>(stream);
  if (!i)
    return i.error();
  if (*i == st.keyspace.end())
    return uint64_t{0};
  return apply_trim(std::get<stream_value>((*i)->second.value), *spec);
}

caf::expected<uint64_t>
memory_backend::xdel(const std::string& stream,
                     const std::vector<std::string>& ids) {
  std::lock_guard<std::recursive_mutex> guard{mtx_};
  auto& st = state_->begin(now_ms_());
  auto parsed = parse_strict_ids(ids);
  if (!parsed)
    return parsed.error();
  auto i = st.find_as<stream_value>(stream);
  if (!i)
    return i.error();
  if (*i == st.keyspace.end())
    return uint64_t{0};
  // The key stays when empty and last_generated is kept, as in Redis. So are
  // the groups' pending lists: XAUTOCLAIM drops the deleted IDs when it comes
  // across them, as it does for trimmed ones.
  auto& entries = std::get<stream_value>((*i)->second.value).entries;
  uint64_t deleted = 0;
  for (auto id : *parsed)
    deleted += entries.erase(id);
  return deleted;
}

// -- consumer groups ----------------------------------------------------------

caf::expected<bool> memory_backend::xgroup_create(const std::string& stream,
                                                  const std::string& group,
                                                  const std::string& start_id) {
  std::lock_guard<std::recursive_mutex> guard{mtx_};
  auto& st = state_->begin(now_ms_());
  std::optional<stream_id> start;
  if (start_id != "$") {
    auto id = parse_strict_id(start_id);
    if (!id)
      return id.error();
    start = *id;
  }
  auto found = st.find_as<stream_value>(stream);
  if (!found)
    return found.error();
  auto i = *found;
  if (i == st.keyspace.end()) {
    if (st.full())
      return st.full_error();
    i = st.add<stream_value>(stream); // MKSTREAM
  }
  auto& value = std::get<stream_value>(i->second.value);
  group_value fresh;
  fresh.last_delivered = start ? *start : value.last_generated;
  return value.groups.emplace(group, std::move(fresh)).second;
}

caf::expected<std::vector<stream_entry>>
memory_backend::xreadgroup(const std::string& stream, const std::string& group,
                           const std::string& consumer, uint64_t count) {
  std::lock_guard<std::recursive_mutex> guard{mtx_};
  auto& st = state_->begin(now_ms_());
  auto found = st.find_group(stream, group);
  if (!found)
    return found.error();
  auto& [value, grp] = *found;
  std::vector<stream_entry> result;
  for (auto i = value->entries.upper_bound(grp->last_delivered);
       i != value->entries.end() && (count == 0 || result.size() < count);
       ++i) {
    grp->pending.insert_or_assign(i->first, pending_info{consumer, st.now, 1});
    grp->last_delivered = i->first;
    result.push_back(make_entry(*i));
  }
  return result;
}

caf::expected<uint64_t>
memory_backend::xack(const std::string& stream, const std::string& group,
                     const std::vector<std::string>& ids) {
  std::lock_guard<std::recursive_mutex> guard{mtx_};
  auto& st = state_->begin(now_ms_());
  auto parsed = parse_strict_ids(ids);
  if (!parsed)
    return parsed.error();
  auto found = st.find_group(stream, group);
  if (!found)
    return found.error();
  uint64_t acked = 0;
  for (auto id : *parsed)
    acked += found->second->pending.erase(id);
  return acked;
}

caf::expected<uint64_t>
memory_backend::xpending_count(const std::string& stream,
                               const std::string& group) {
  std::lock_guard<std::recursive_mutex> guard{mtx_};
  auto& st = state_->begin(now_ms_());
  auto found = st.find_group(stream, group);
  if (!found)
    return found.error();
  return uint64_t{found->second->pending.size()};
}

caf::expected<std::vector<pending_entry>>
memory_backend::xpending(const std::string& stream, const std::string& group,
                         uint64_t count) {
  std::lock_guard<std::recursive_mutex> guard{mtx_};
  auto& st = state_->begin(now_ms_());
  auto found = st.find_group(stream, group);
  if (!found)
    return found.error();
  std::vector<pending_entry> result;
  for (auto& [id, info] : found->second->pending) {
    if (count != 0 && result.size() >= count)
      break;
    // A clock that went backwards shows as idle 0, as in Redis.
    auto idle = std::max<int64_t>(st.now - info.delivered_at, 0);
    result.push_back(
      pending_entry{to_string(id), info.consumer, idle, info.deliveries});
  }
  return result;
}

caf::expected<std::vector<stream_entry>>
memory_backend::xautoclaim(const std::string& stream, const std::string& group,
                           const std::string& consumer, int64_t min_idle_ms,
                           uint64_t count) {
  std::lock_guard<std::recursive_mutex> guard{mtx_};
  auto& st = state_->begin(now_ms_());
  if (min_idle_ms < 0)
    return invalid("negative min-idle-time: " + std::to_string(min_idle_ms));
  auto found = st.find_group(stream, group);
  if (!found)
    return found.error();
  auto& [value, grp] = *found;
  std::vector<stream_entry> result;
  auto& pending = grp->pending;
  for (auto i = pending.begin();
       i != pending.end() && (count == 0 || result.size() < count);) {
    auto& info = i->second;
    // Same order of checks as Redis 7.0: an entry trimmed from the stream
    // meanwhile leaves the pending list whether it is idle or not; only
    // then is the idle time compared.
    auto stored = value->entries.find(i->first);
    if (stored == value->entries.end()) {
      i = pending.erase(i);
      continue;
    }
    if (st.now - info.delivered_at < min_idle_ms) {
      ++i;
      continue;
    }
    info.consumer = consumer;
    info.delivered_at = st.now;
    ++info.deliveries;
    result.push_back(make_entry(*stored));
    ++i;
  }
  return result;
}

// -- administration -----------------------------------------------------------

caf::expected<std::vector<std::string>>
memory_backend::keys(const std::string& prefix) {
  std::lock_guard<std::recursive_mutex> guard{mtx_};
  auto& st = state_->begin(now_ms_());
  std::vector<std::string> result;
  for (auto& [key, value] : st.keyspace)
    if (key.compare(0, prefix.size(), prefix) == 0 && !st.expired(value))
      result.push_back(key);
  // Sorted, as the backend contract says.
  std::sort(result.begin(), result.end());
  return result;
}

// -- batches ------------------------------------------------------------------

caf::expected<std::vector<write_result>>
memory_backend::write(const std::vector<write_op>& ops) {
  // Held across the single calls below: nobody else's call runs in between,
  // as with MULTI ... EXEC.
  std::lock_guard<std::recursive_mutex> guard{mtx_};
  auto now = now_ms_();
  for (auto& op : ops)
    if (auto err = check_write_op(op, now))
      return err;
  std::vector<write_result> results;
  results.reserve(ops.size());
  for (auto& op : ops)
    results.push_back(apply_write_op(*this, op));
  return results;
}

} // namespace streamb::store
