#pragma once

// Which config file a command reads when it is given no --config: an
// installed node's, an operator's choice, or a checkout's.

#include <string>

namespace streamb {

/// $STREAMB_CONFIG when set; else /etc/streamb/streamb.json when it exists
/// (the package's); else config/streamb.json (a checkout, relative to the
/// working directory). --config overrides all three.
std::string default_config_path();

} // namespace streamb
