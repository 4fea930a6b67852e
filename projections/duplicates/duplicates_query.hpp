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

// A contact as a lookup names it: the caller decides by its owner whether to show it.
struct matched_contact {
  std::string contact_id;
  std::string owner_id;
};

struct duplicate_candidate : matched_contact {
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

// Two active contacts that share a key and match, `first` the one with the lesser id.
struct duplicate_pair {
  matched_contact first;
  matched_contact second;
  domain::duplicate_verdict verdict;
};

// Where a scan of every pair goes on from: the last pair it examined.
struct pair_position {
  std::string first;
  std::string second;
};

struct pair_scan {
  std::vector<duplicate_pair> pairs;  // the pairs that match, in order of (first, second)
  // The last pair examined, whether it matched or not; nullopt when none was.
  std::optional<pair_position> last;
  bool exhausted = false;  // no pair is left after `last`
};

// The pairs of active contacts sharing a key, after `after` in order of their ids, at most
// `max_examined` of them, judged by domain::match_contacts: the workspace's duplicates, page by
// page, however many contacts share a key.
pair_scan scan_pairs(infra::sql::session& db, const std::optional<pair_position>& after,
                     std::size_t max_examined);

}  // namespace realmkit::projections::duplicates
