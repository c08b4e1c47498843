#include "runtime/config/config_versions.hpp"

#include "runtime/core/crypto.hpp"

namespace streamb {

store::field_list config_version_fields(const std::string& node,
                                        const std::string& text,
                                        int64_t now_ms) {
  return {{"node", node},
          {"at", std::to_string(now_ms)},
          {"sha256", sha256_hex(text)},
          {"text", text}};
}

caf::expected<std::vector<config_version>>
list_config_versions(store::backend& db) {
  auto entries = db.xrange(config_versions_stream, "-", "+");
  if (!entries)
    return std::move(entries.error());
  std::vector<config_version> result;
  for (auto& e : *entries) {
    config_version v;
    v.number = result.size() + 1;
    v.id = e.id;
    for (auto& [key, value] : e.fields) {
      if (key == "node")
        v.node = value;
      else if (key == "at")
        v.at_ms = std::strtoll(value.c_str(), nullptr, 10);
      else if (key == "sha256")
        v.sha256 = value;
      else if (key == "text")
        v.text = value;
    }
    result.push_back(std::move(v));
  }
  return result;
}

} // namespace streamb
