// A reference to any CRM record (contact, company, deal, lead): what activities and tasks are
// about. Activities and tasks are polymorphic in what they link to, so the reference carries the
// kind next to the id.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "domain/common/types.hpp"

namespace realmkit::domain {

enum class entity_kind { contact, company, deal, lead };

constexpr std::string_view to_string(entity_kind kind) {
  switch (kind) {
    case entity_kind::contact:
      return "contact";
    case entity_kind::company:
      return "company";
    case entity_kind::deal:
      return "deal";
    case entity_kind::lead:
      return "lead";
  }
  return {};  // only for a value outside the enum, which decide rejects
}

constexpr bool from_string(std::string_view text, entity_kind& out) {
  return parse_enum(
      text, out,
      {entity_kind::contact, entity_kind::company, entity_kind::deal, entity_kind::lead});
}

struct entity_ref {
  entity_kind kind = entity_kind::contact;
  std::string id;  // the record's id; its type depends on kind, so it stays a plain string

  bool operator==(const entity_ref&) const = default;
  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("kind", self.kind);
    v("id", self.id);
  }
};

// nullopt when the reference names a known kind and a well-formed id; `field` prefixes the
// rejected member ("subject" gives "subject.kind" / "subject.id").
inline std::optional<rejection> check_entity_ref(std::string_view field, const entity_ref& ref) {
  if (to_string(ref.kind).empty()) {
    return invalid(std::string(field) + ".kind", "must be one of contact, company, deal, lead");
  }
  return rules::check_id(std::string(field) + ".id", ref.id);
}

}  // namespace realmkit::domain
