// Events of the company aggregate: an organization the sales team sells to.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "domain/common/types.hpp"

namespace realmkit::domain {

// Head count bands as most CRMs and data providers report them; `unknown` until someone asks.
enum class company_size {
  unknown,
  s1_10,
  s11_50,
  s51_200,
  s201_500,
  s501_1000,
  s1001_5000,
  s5001_plus
};

constexpr std::string_view to_string(company_size size) {
  switch (size) {
    case company_size::unknown:
      return "unknown";
    case company_size::s1_10:
      return "1-10";
    case company_size::s11_50:
      return "11-50";
    case company_size::s51_200:
      return "51-200";
    case company_size::s201_500:
      return "201-500";
    case company_size::s501_1000:
      return "501-1000";
    case company_size::s1001_5000:
      return "1001-5000";
    case company_size::s5001_plus:
      return "5001+";
  }
  return {};  // only for a value outside the enum, which decide rejects
}

constexpr bool from_string(std::string_view text, company_size& out) {
  return parse_enum(text, out,
                    {company_size::unknown, company_size::s1_10, company_size::s11_50,
                     company_size::s51_200, company_size::s201_500, company_size::s501_1000,
                     company_size::s1001_5000, company_size::s5001_plus});
}

// Every part may be empty; country is an ISO 3166-1 alpha-2 code in upper case.
struct postal_address {
  std::string street;  // may span lines
  std::string city;
  std::string region;
  std::string postal_code;
  std::string country;

  bool operator==(const postal_address&) const = default;
  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("street", self.street);
    v("city", self.city);
    v("region", self.region);
    v("postal_code", self.postal_code);
    v("country", self.country);
  }
};

// Text fields are empty when unknown; `domain` is a lowercase host name such as "example.com".
struct company_created {
  static constexpr std::string_view kType = "company.created.v1";
  company_id company;
  std::string name;
  std::string domain;
  std::string industry;
  company_size size = company_size::unknown;
  std::string phone;
  postal_address address;
  user_id owner;
  std::vector<std::string> tags;  // normalized, without repeats

  bool operator==(const company_created&) const = default;
  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("company_id", self.company);
    v("name", self.name);
    v("domain", self.domain);
    v("industry", self.industry);
    v("size", self.size);
    v("phone", self.phone);
    v("address", self.address);
    v("owner_id", self.owner);
    v("tags", self.tags);
  }
};

// Only the fields that changed are present; an empty string means the field was cleared. The
// address changes as a whole, so a read model never has to merge half an address.
struct company_updated {
  static constexpr std::string_view kType = "company.updated.v1";
  company_id company;
  std::optional<std::string> name;
  std::optional<std::string> domain;
  std::optional<std::string> industry;
  std::optional<company_size> size;
  std::optional<std::string> phone;
  std::optional<postal_address> address;

  bool operator==(const company_updated&) const = default;
  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("company_id", self.company);
    v("name", self.name);
    v("domain", self.domain);
    v("industry", self.industry);
    v("size", self.size);
    v("phone", self.phone);
    v("address", self.address);
  }
};

struct company_owner_assigned {
  static constexpr std::string_view kType = "company.owner_assigned.v1";
  company_id company;
  user_id from_owner;
  user_id to_owner;

  bool operator==(const company_owner_assigned&) const = default;
  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("company_id", self.company);
    v("from_owner_id", self.from_owner);
    v("to_owner_id", self.to_owner);
  }
};

// Only the tags that were not there before.
struct company_tagged {
  static constexpr std::string_view kType = "company.tagged.v1";
  company_id company;
  std::vector<std::string> tags;

  bool operator==(const company_tagged&) const = default;
  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("company_id", self.company);
    v("tags", self.tags);
  }
};

// Only the tags that were there.
struct company_untagged {
  static constexpr std::string_view kType = "company.untagged.v1";
  company_id company;
  std::vector<std::string> tags;

  bool operator==(const company_untagged&) const = default;
  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("company_id", self.company);
    v("tags", self.tags);
  }
};

struct company_archived {
  static constexpr std::string_view kType = "company.archived.v1";
  company_id company;

  bool operator==(const company_archived&) const = default;
  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("company_id", self.company);
  }
};

struct company_restored {
  static constexpr std::string_view kType = "company.restored.v1";
  company_id company;

  bool operator==(const company_restored&) const = default;
  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("company_id", self.company);
  }
};

using company_event =
    std::variant<company_created, company_updated, company_owner_assigned, company_tagged,
                 company_untagged, company_archived, company_restored>;

}  // namespace realmkit::domain
