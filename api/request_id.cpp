#include "api/request_id.hpp"

#include <algorithm>

#include "infra/ids.hpp"

namespace realmkit::api {

bool is_acceptable_request_id(std::string_view id) {
  return !id.empty() && id.size() <= kMaxRequestIdLength &&
         std::all_of(id.begin(), id.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_' || c == '.' || c == ':';
         });
}

std::string request_id_for(const std::string* incoming) {
  if (incoming && is_acceptable_request_id(*incoming)) return *incoming;
  return infra::new_uuid_v7();
}

}  // namespace realmkit::api
