// Commands of the company aggregate.
#pragma once

#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "domain/company/company_events.hpp"

namespace realmkit::domain {

struct create_company {
  company_id company;
  std::string name;
  std::string domain;
  std::string industry;
  company_size size = company_size::unknown;
  std::string phone;
  postal_address address;
  std::optional<user_id> owner;  // the actor when absent
  std::vector<std::string> tags;
};

// A PATCH: absent fields stay as they are, an empty string clears a field (but not the name).
struct update_company {
  company_id company;
  std::optional<std::string> name;
  std::optional<std::string> domain;
  std::optional<std::string> industry;
  std::optional<company_size> size;
  std::optional<std::string> phone;
  std::optional<postal_address> address;
};

struct assign_company_owner {
  company_id company;
  user_id owner;
};

struct tag_company {
  company_id company;
  std::vector<std::string> tags;
};

struct untag_company {
  company_id company;
  std::vector<std::string> tags;
};

struct archive_company {
  company_id company;
};

struct restore_company {
  company_id company;
};

using company_command = std::variant<create_company, update_company, assign_company_owner,
                                     tag_company, untag_company, archive_company, restore_company>;

}  // namespace realmkit::domain
