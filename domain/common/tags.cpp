#include "domain/common/tags.hpp"

#include <algorithm>

namespace realmkit::domain::rules {

std::string normalized_tag(std::string_view tag) {
  const std::string t = folded(tag);
  std::string out;
  out.reserve(t.size());
  bool in_space = false;
  for (const char c : t) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f') {
      in_space = true;
      continue;
    }
    if (in_space && !out.empty()) out.push_back(' ');
    in_space = false;
    out.push_back(c);
  }
  return out;
}

std::optional<rejection> check_tag(std::string_view field, std::string_view tag) {
  return check_name(field, normalized_tag(tag), kMaxTagLength);
}

std::optional<rejection> tags_to_add(std::string_view field,
                                     const std::vector<std::string>& current,
                                     const std::vector<std::string>& requested,
                                     std::vector<std::string>& added) {
  added.clear();
  for (std::size_t i = 0; i < requested.size(); ++i) {
    if (auto r = check_tag(std::string(field) + "/" + std::to_string(i), requested[i])) return r;
    std::string tag = normalized_tag(requested[i]);
    const bool known = std::find(current.begin(), current.end(), tag) != current.end() ||
                       std::find(added.begin(), added.end(), tag) != added.end();
    if (!known) added.push_back(std::move(tag));
  }
  if (current.size() + added.size() > kMaxTags) {
    added.clear();
    return invalid(std::string(field),
                   "a record has at most " + std::to_string(kMaxTags) + " tags");
  }
  return std::nullopt;
}

std::vector<std::string> tags_to_remove(const std::vector<std::string>& current,
                                        const std::vector<std::string>& requested) {
  std::vector<std::string> removed;
  for (const auto& r : requested) {
    std::string tag = normalized_tag(r);
    if (std::find(current.begin(), current.end(), tag) != current.end() &&
        std::find(removed.begin(), removed.end(), tag) == removed.end()) {
      removed.push_back(std::move(tag));
    }
  }
  return removed;
}

}  // namespace realmkit::domain::rules
