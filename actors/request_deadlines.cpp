#include "actors/request_deadlines.hpp"

#include <caf/error.hpp>
#include <caf/local_actor.hpp>
#include <caf/sec.hpp>

namespace streamb {

void request_deadlines::expire(caf::local_actor* self) {
  auto now = self->clock().now();
  for (auto i = due_.begin(); i != due_.end();) {
    if (i->second > now) {
      ++i;
      continue;
    }
    self->eq_impl(caf::message_id{i->first}, nullptr, self->context(),
                  caf::make_error(caf::sec::request_timeout));
    i = due_.erase(i);
  }
}

} // namespace streamb
