// The company aggregate: its folded state, evolve and decide.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/company/company_commands.hpp"
#include "domain/company/company_events.hpp"

namespace realmkit::domain {

struct company_state {
  bool exists = false;
  company_id id;
  std::string name;
  std::string domain;
  std::string industry;
  company_size size = company_size::unknown;
  std::string phone;
  postal_address address;
  user_id owner;
  std::vector<std::string> tags;  // normalized, in the order they were added
  bool archived = false;

  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("exists", self.exists);
    v("id", self.id);
    v("name", self.name);
    v("domain", self.domain);
    v("industry", self.industry);
    v("size", self.size);
    v("phone", self.phone);
    v("address", self.address);
    v("owner_id", self.owner);
    v("tags", self.tags);
    v("archived", self.archived);
  }
};

inline constexpr std::size_t kMaxIndustryLength = 100;
inline constexpr std::size_t kMaxAddressLineLength = 200;
inline constexpr std::size_t kMaxStreetLength = 500;
inline constexpr std::size_t kMaxPostalCodeLength = 20;

// A web domain as typed ("Example.COM ") in the form the domain stores: trimmed and lowercased.
std::string normalized_web_domain(std::string_view value);
// nullopt when `value` (normalized) is a host name: dot-separated labels of 1–63 letters, digits
// and inner hyphens, at least two labels, a non-numeric last label, at most 253 characters. URLs
// ("https://…", "…/path") are refused rather than guessed at.
std::optional<rejection> check_web_domain(std::string_view field, std::string_view value);
// The address trimmed, the country upper-cased; then each part checked, named "<field>.<part>".
postal_address normalized_address(const postal_address& address);
std::optional<rejection> check_address(std::string_view field, const postal_address& address);

company_state evolve(company_state state, const company_event& event);
decision<company_event> decide(const company_command& command, const company_state& state,
                               const command_context& context);

struct company_aggregate {
  using state = company_state;
  using event = company_event;
  using command = company_command;
  static constexpr std::string_view kCategory = "company";
};

}  // namespace realmkit::domain
