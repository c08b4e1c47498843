#include "bridges/http/router.hpp"

#include "bridges/route_table.hpp"

#include <stdexcept>
#include <string>

namespace streamb {

void router::add(std::string_view method, std::string_view pattern, route_fn fn,
                 route_thread thread) {
  add_entry(method, pattern, route_entry{std::move(fn), thread, nullptr});
}

void router::add_async(std::string_view method, std::string_view pattern,
                       async_route_fn fn) {
  add_entry(method, pattern,
            route_entry{nullptr, route_thread::io, std::move(fn)});
}

void router::add_entry(std::string_view method, std::string_view pattern,
                       route_entry entry) {
  for (auto& row : route_table()) {
    if (method != row.method || pattern != row.pattern)
      continue;
    if (!entries_.emplace(&row, std::move(entry)).second)
      throw std::logic_error("two handlers for " + std::string{method} + " "
                             + std::string{pattern});
    return;
  }
  throw std::logic_error("no route-table row for " + std::string{method} + " "
                         + std::string{pattern});
}

const route_entry* router::find(const route_spec* row) const {
  auto i = entries_.find(row);
  return i == entries_.end() ? nullptr : &i->second;
}

std::vector<const route_spec*> router::unhandled() const {
  std::vector<const route_spec*> out;
  for (auto& row : route_table())
    if (entries_.count(&row) == 0)
      out.push_back(&row);
  return out;
}

} // namespace streamb
