#include "api/auth/auth_types.hpp"

namespace realmkit::api::auth {

clock_fn system_clock() {
  return [] {
    return std::chrono::time_point_cast<std::chrono::microseconds>(
        std::chrono::system_clock::now());
  };
}

}  // namespace realmkit::api::auth
