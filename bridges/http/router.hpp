#pragma once

// Route handlers by route-table row. A handler is added under the method
// and pattern of a row of bridges/route_table.hpp, character for character,
// so the table the auth gate reads and the handlers that run cannot drift
// apart: adding a handler without a row throws at start, and unhandled()
// lists rows without a handler (a test keeps it empty).

#include "bridges/http/http_message.hpp"

#include <functional>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace streamb {

struct route_spec;

using route_fn = std::function<void(const http_request&, http_response&)>;

/// A handler that never waits: it runs on the io thread that read the
/// request and answers through `reply` (exactly once, from any thread),
/// typically from the callback of an ask_then.
using async_route_fn = std::function<void(const http_request&, http_reply)>;

/// Where a handler runs.
enum class route_thread : uint8_t {
  /// On a route thread: it may wait for actors.
  worker,
  /// On the io thread that read the request: only for handlers that answer
  /// at once and never wait (probes).
  io,
};

struct route_entry {
  route_fn fn;
  route_thread thread = route_thread::worker;
  /// Set: the handler is asynchronous (`fn` is empty, `thread` is io).
  async_route_fn async_fn;
};

class router {
public:
  /// Throws std::logic_error when no row of the route table has exactly
  /// this method and pattern, or when the row has a handler already.
  void add(std::string_view method, std::string_view pattern, route_fn fn,
           route_thread thread = route_thread::worker);

  /// An asynchronous handler; same rules for the row.
  void add_async(std::string_view method, std::string_view pattern,
                 async_route_fn fn);

  void get(std::string_view pattern, route_fn fn,
           route_thread thread = route_thread::worker) {
    add("GET", pattern, std::move(fn), thread);
  }
  void post(std::string_view pattern, route_fn fn) {
    add("POST", pattern, std::move(fn));
  }
  void del(std::string_view pattern, route_fn fn) {
    add("DELETE", pattern, std::move(fn));
  }

  /// The handler of `row`, or nullptr.
  const route_entry* find(const route_spec* row) const;

  /// Rows of the route table that have no handler.
  std::vector<const route_spec*> unhandled() const;

private:
  void add_entry(std::string_view method, std::string_view pattern,
                 route_entry entry);

  std::unordered_map<const route_spec*, route_entry> entries_;
};

} // namespace streamb
