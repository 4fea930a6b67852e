// Tag rules shared by the aggregates that carry free-form tags (companies, contacts): how a tag is
// normalized, validated and compared, so that "VIP", " vip " and "Vip" are one tag everywhere.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/common/types.hpp"

namespace realmkit::domain::rules {

// Trimmed, ASCII-lowercased, inner runs of whitespace collapsed to one space. Non-ASCII letters
// are kept as typed: folding them needs Unicode tables the pure domain does not carry.
std::string normalized_tag(std::string_view tag);

// nullopt when `tag` normalizes to a non-empty tag of at most kMaxTagLength characters without
// control characters.
std::optional<rejection> check_tag(std::string_view field, std::string_view tag);

// The normalized tags of `requested` that `current` (already normalized) lacks, in request order
// and without repeats. Rejects a bad tag as "<field>/<index>", and the whole request as `field`
// when the result would hold more than kMaxTags tags.
std::optional<rejection> tags_to_add(std::string_view field,
                                     const std::vector<std::string>& current,
                                     const std::vector<std::string>& requested,
                                     std::vector<std::string>& added);

// The tags of `current` that `requested` names (compared normalized), in request order without
// repeats; tags not present are ignored, so untagging is idempotent.
std::vector<std::string> tags_to_remove(const std::vector<std::string>& current,
                                        const std::vector<std::string>& requested);

}  // namespace realmkit::domain::rules
