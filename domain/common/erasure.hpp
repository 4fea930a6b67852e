// The rule for the reason given when a person's data is erased (GDPR art. 17), shared by the
// contact and lead deciders and by the HTTP edge, which checks it before any key is destroyed.
#pragma once

#include <optional>
#include <string_view>

#include "domain/common/types.hpp"

namespace realmkit::domain::rules {

// nullopt when the reason, trimmed, is not empty and at most kMaxErasureReasonLength bytes.
std::optional<rejection> check_erasure_reason(std::string_view reason);

}  // namespace realmkit::domain::rules
