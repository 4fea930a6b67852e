// Process-wide structured logging through spdlog: JSON lines for machines, plain text for
// terminals.
#pragma once

#include <string>
#include <string_view>

namespace realmkit::infra {

enum class log_format { automatic, json, text };

// Installs the default logger writing to stderr. `automatic` picks text on a terminal, JSON
// otherwise. `level` is one of trace, debug, info, warn, error, critical, off.
void init_logging(log_format format, std::string_view level);

// Parses "auto" / "json" / "text"; false on anything else.
bool parse_log_format(std::string_view text, log_format& out);

}  // namespace realmkit::infra
