// The likely duplicates of a contact, or of one about to be created, from the duplicates read
// model: the contacts sharing one of its match keys, judged by domain::match_contacts, surest
// first.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/contact/contact_matching.hpp"
#include "infra/sql/sql_database.hpp"

namespace realmkit::projections::duplicates {

inline constexpr std::size_t kDefaultCandidates = 10;
inline constexpr std::size_t kMaxCandidates = 50;
// Contacts sharing a key that are judged per lookup, at most: a key every contact of a large
// company shares (a name's start) must not make one lookup read all of them.
inline constexpr std::size_t kMaxExamined = 2'000;

struct duplicate_candidate {
  std::string contact_id;
  std::string owner_id;
  domain::duplicate_verdict verdict;
};

// The profile the read model holds of an active contact: nullopt when it holds none (archived,
// merged, erased, or not projected yet).
std::optional<domain::match_profile> stored_profile(infra::sql::session& db,
                                                    std::string_view contact_id);

// The active contacts other than `exclude` that match `profile`, surest first (then by id), all
// of them: the caller leaves out those it may not show, then keeps what it needs.
std::vector<duplicate_candidate> find_duplicates(infra::sql::session& db,
                                                 const domain::match_profile& profile,
                                                 std::string_view exclude = {});

}  // namespace realmkit::projections::duplicates
