#include "runtime/core/error_text.hpp"

#include "runtime/core/error_code.hpp"

#include <caf/atom.hpp>
#include <caf/error.hpp>
#include <caf/message.hpp>
#include <caf/sec.hpp>

#include <algorithm>

namespace streamb {

std::string error_text(const caf::error& err) {
  if (!err)
    return "no error";
  auto& ctx = err.context();
  std::string detail = ctx.empty()      ? std::string{}
    : ctx.match_elements<std::string>() ? ctx.get_as<std::string>(0)
                                        : caf::to_string(ctx);
  std::string what;
  if (err.category() == caf::atom("streamb")) {
    // Our errors carry a message written for people; the code adds nothing.
    if (!detail.empty())
      return detail;
    what = to_string(static_cast<error_code>(err.code()));
  } else if (err.category() == caf::atom("system")) {
    what = caf::to_string(static_cast<caf::sec>(err.code()));
  } else {
    return caf::to_string(err);
  }
  std::replace(what.begin(), what.end(), '_', ' ');
  return detail.empty() ? what : what + ": " + detail;
}

} // namespace streamb
