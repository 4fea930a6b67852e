// Contacts under the keys their duplicates are found by (domain/contact/contact_matching.hpp), so
// that a new or existing contact's likely duplicates are a few index lookups away.
//
// Relations:
//   rm_contact_match       (contact_id, owner_id, company_id, name, emails, phones, active, doc)
//                          — every contact not erased: its match profile (name words, mailbox
//                          keys and phone keys, each joined by a space) and its folded state (doc)
//                          to fold on from; active = 0 once archived or merged into another
//   rm_contact_match_keys  (match_key, contact_id) — for active contacts: "e:<mailbox>",
//                          "p:<national number>", and with a company "n:<company>:<first two
//                          letters of a name word>" per word
// An erased contact leaves no row behind.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "projections/projection.hpp"

namespace realmkit::projections::duplicates {

inline constexpr std::string_view kProjectionName = "duplicates";

class duplicates_projection final : public projection {
 public:
  std::string_view name() const override { return kProjectionName; }
  int version() const override { return 1; }
  std::vector<std::string> relations() const override;
  void create(infra::sql::session& db, const relation_names& names) const override;
  bool handles(std::string_view event_type) const override;
  std::unique_ptr<projection_writer> open(const relation_names& names) const override;
};

}  // namespace realmkit::projections::duplicates
