// The upcasting steps compiled into the binary, registered by the codec before its first use.
#pragma once

#include <string>
#include <vector>

#include "infra/event_codec.hpp"

namespace realmkit::infra::detail {

struct builtin_upcaster {
  std::string old_type;
  std::string new_type;
  upcaster fn;
};

// Listed in one place rather than registered by static objects spread over files: a static
// library drops an object file that nothing references, and its registration with it.
std::vector<builtin_upcaster> builtin_upcasters();

}  // namespace realmkit::infra::detail
