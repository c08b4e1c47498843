#pragma once

// Config history: every config a node starts with, as it was on disk (so
// `${env:...}` secrets are never stored expanded), with its SHA-256 and time,
// in one stream of the store. `streamb config history|show|rollback` read it.

#include "runtime/store/store_backend.hpp"

#include <caf/expected.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace streamb {

/// The stream (under the store's prefix) that holds the versions.
constexpr const char* config_versions_stream = "config:versions";

/// One stored config; `number` counts from 1 in the order of starts.
struct config_version {
  std::size_t number = 0;
  std::string id;
  int64_t at_ms = 0;
  std::string node;
  std::string sha256;
  std::string text;
};

/// The fields of one version entry, ready for XADD.
store::field_list config_version_fields(const std::string& node,
                                        const std::string& text,
                                        int64_t now_ms);

/// Every stored version, oldest first.
caf::expected<std::vector<config_version>>
list_config_versions(store::backend& db);

} // namespace streamb
