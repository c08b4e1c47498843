#include "runtime/app/config_path.hpp"

#include <cstdlib>
#include <sys/stat.h>

namespace streamb {

std::string default_config_path() {
  if (const char* env = std::getenv("STREAMB_CONFIG"); env && *env)
    return env;
  constexpr const char* installed = "/etc/streamb/streamb.json";
  struct stat st {};
  if (::stat(installed, &st) == 0)
    return installed;
  return "config/streamb.json";
}

} // namespace streamb
