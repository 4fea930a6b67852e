#include "domain/common/erasure.hpp"

#include <string>

namespace realmkit::domain::rules {

std::optional<rejection> check_erasure_reason(std::string_view reason) {
  const auto text = trimmed(reason);
  if (text.empty()) return invalid("reason", "say why the person's data is erased");
  if (text.size() > kMaxErasureReasonLength) {
    return invalid("reason", "at most " + std::to_string(kMaxErasureReasonLength) + " characters");
  }
  return std::nullopt;
}

}  // namespace realmkit::domain::rules
