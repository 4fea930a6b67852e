// `realmkit config`: the configuration `realmkit serve` would run with, given the same flags and
// environment, after defaults — with every secret masked, so it can be pasted into a ticket.
#pragma once

#include <iosfwd>

#include "app/serve_command.hpp"
#include "infra/store_factory.hpp"

namespace realmkit::app {

// One "name = value" line per setting, in a fixed order. Passwords in URLs, the JWT secrets and
// secret Kafka properties are never printed. Validates first (throws cli_error like serve).
void print_config(const infra::store_config& store, const serve_options& serving,
                  std::ostream& out);

}  // namespace realmkit::app
