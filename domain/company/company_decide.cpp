#include <algorithm>
#include <cctype>

#include "domain/common/tags.hpp"
#include "domain/company/company_state.hpp"

namespace realmkit::domain {
namespace {

using events = std::vector<company_event>;

bool is_label_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-';
}

// Empty is allowed (the part is unknown); otherwise one line without control characters.
std::optional<rejection> check_line(std::string_view field, std::string_view value,
                                    std::size_t max_length) {
  if (rules::trimmed(value).empty()) return std::nullopt;
  return rules::check_name(field, value, max_length);
}

std::optional<rejection> check_phone(std::string_view value) {
  const auto phone = rules::trimmed(value);
  if (phone.empty()) return std::nullopt;
  return rules::check_phone("phone", phone);
}

std::optional<rejection> check_size(company_size size) {
  if (to_string(size).empty()) {
    return invalid("size",
                   "must be one of unknown, 1-10, 11-50, 51-200, 201-500, 501-1000, "
                   "1001-5000, 5001+");
  }
  return std::nullopt;
}

std::optional<rejection> require_active(const company_state& state) {
  if (!state.exists) return not_found("company does not exist");
  if (state.archived) return invalid_state("archived", "company is archived; restore it first");
  return std::nullopt;
}

decision<company_event> decide_create(const create_company& c, const company_state& state,
                                      const command_context& ctx) {
  if (state.exists) return already_exists("company already exists");
  if (auto r = rules::check_id("id", c.company.value)) return *r;
  if (auto r = rules::check_name("name", c.name)) return *r;
  if (auto r = check_web_domain("domain", c.domain)) return *r;
  if (auto r = check_line("industry", c.industry, kMaxIndustryLength)) return *r;
  if (auto r = check_size(c.size)) return *r;
  if (auto r = check_phone(c.phone)) return *r;
  if (auto r = check_address("address", c.address)) return *r;
  const user_id owner = c.owner.value_or(ctx.actor);
  if (auto r = rules::check_id("owner_id", owner.value)) return *r;
  std::vector<std::string> tags;
  if (auto r = rules::tags_to_add("tags", {}, c.tags, tags)) return *r;
  return company_event{company_created{c.company, rules::trimmed(c.name),
                                       normalized_web_domain(c.domain), rules::trimmed(c.industry),
                                       c.size, rules::trimmed(c.phone),
                                       normalized_address(c.address), owner, std::move(tags)}};
}

// Sets `out` to the normalized value when the command names a field whose value differs.
template <class T>
void record_change(std::optional<T>& out, const std::optional<T>& requested, const T& current) {
  if (requested && *requested != current) out = *requested;
}

decision<company_event> decide_update(const update_company& c, const company_state& state) {
  if (auto r = require_active(state)) return *r;
  if (c.name) {
    if (auto r = rules::check_name("name", *c.name)) return *r;
  }
  if (c.domain) {
    if (auto r = check_web_domain("domain", *c.domain)) return *r;
  }
  if (c.industry) {
    if (auto r = check_line("industry", *c.industry, kMaxIndustryLength)) return *r;
  }
  if (c.size) {
    if (auto r = check_size(*c.size)) return *r;
  }
  if (c.phone) {
    if (auto r = check_phone(*c.phone)) return *r;
  }
  if (c.address) {
    if (auto r = check_address("address", *c.address)) return *r;
  }
  auto trimmed = [](const std::optional<std::string>& s) -> std::optional<std::string> {
    if (!s) return std::nullopt;
    return rules::trimmed(*s);
  };
  company_updated e{state.id, {}, {}, {}, {}, {}, {}};
  record_change(e.name, trimmed(c.name), state.name);
  record_change(
      e.domain,
      c.domain ? std::optional<std::string>(normalized_web_domain(*c.domain)) : std::nullopt,
      state.domain);
  record_change(e.industry, trimmed(c.industry), state.industry);
  record_change(e.size, c.size, state.size);
  record_change(e.phone, trimmed(c.phone), state.phone);
  record_change(
      e.address,
      c.address ? std::optional<postal_address>(normalized_address(*c.address)) : std::nullopt,
      state.address);
  if (!e.name && !e.domain && !e.industry && !e.size && !e.phone && !e.address) return events{};
  return company_event{std::move(e)};
}

}  // namespace

std::string normalized_web_domain(std::string_view value) {
  return rules::folded(value);
}

std::optional<rejection> check_web_domain(std::string_view field, std::string_view value) {
  const std::string host = normalized_web_domain(value);
  if (host.empty()) return std::nullopt;
  auto bad = [&] {
    return invalid(std::string(field),
                   "must be a host name such as example.com, without "
                   "scheme or path");
  };
  if (host.size() > 253) return bad();
  std::size_t labels = 0;
  std::string_view rest = host;
  std::string_view last;
  while (true) {
    const auto dot = rest.find('.');
    const std::string_view label = rest.substr(0, dot);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-' ||
        !std::all_of(label.begin(), label.end(), is_label_char)) {
      return bad();
    }
    ++labels;
    last = label;
    if (dot == std::string_view::npos) break;
    rest.remove_prefix(dot + 1);
  }
  const bool numeric_tld = std::all_of(
      last.begin(), last.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
  if (labels < 2 || numeric_tld) return bad();
  return std::nullopt;
}

postal_address normalized_address(const postal_address& address) {
  postal_address out{rules::trimmed(address.street), rules::trimmed(address.city),
                     rules::trimmed(address.region), rules::trimmed(address.postal_code),
                     rules::trimmed(address.country)};
  std::transform(out.country.begin(), out.country.end(), out.country.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return out;
}

std::optional<rejection> check_address(std::string_view field, const postal_address& address) {
  const std::string f(field);
  const postal_address a = normalized_address(address);
  if (auto r = rules::check_text(f + ".street", a.street, kMaxStreetLength)) return r;
  if (auto r = check_line(f + ".city", a.city, kMaxAddressLineLength)) return r;
  if (auto r = check_line(f + ".region", a.region, kMaxAddressLineLength)) return r;
  if (auto r = check_line(f + ".postal_code", a.postal_code, kMaxPostalCodeLength)) return r;
  const bool country_ok =
      a.country.empty() ||
      (a.country.size() == 2 && std::all_of(a.country.begin(), a.country.end(),
                                            [](char c) { return c >= 'A' && c <= 'Z'; }));
  if (!country_ok) return invalid(f + ".country", "must be an ISO 3166-1 alpha-2 code such as DE");
  return std::nullopt;
}

decision<company_event> decide(const company_command& command, const company_state& state,
                               const command_context& ctx) {
  return std::visit(
      overloaded{
          [&](const create_company& c) { return decide_create(c, state, ctx); },
          [&](const update_company& c) { return decide_update(c, state); },
          [&](const assign_company_owner& c) -> decision<company_event> {
            if (auto r = require_active(state)) return *r;
            if (auto r = rules::check_id("owner_id", c.owner.value)) return *r;
            if (c.owner == state.owner) return events{};
            return company_event{company_owner_assigned{state.id, state.owner, c.owner}};
          },
          [&](const tag_company& c) -> decision<company_event> {
            if (auto r = require_active(state)) return *r;
            std::vector<std::string> added;
            if (auto r = rules::tags_to_add("tags", state.tags, c.tags, added)) return *r;
            if (added.empty()) return events{};
            return company_event{company_tagged{state.id, std::move(added)}};
          },
          [&](const untag_company& c) -> decision<company_event> {
            if (auto r = require_active(state)) return *r;
            auto removed = rules::tags_to_remove(state.tags, c.tags);
            if (removed.empty()) return events{};
            return company_event{company_untagged{state.id, std::move(removed)}};
          },
          [&](const archive_company&) -> decision<company_event> {
            if (!state.exists) return not_found("company does not exist");
            if (state.archived) return events{};
            return company_event{company_archived{state.id}};
          },
          [&](const restore_company&) -> decision<company_event> {
            if (!state.exists) return not_found("company does not exist");
            if (!state.archived) return events{};
            return company_event{company_restored{state.id}};
          },
      },
      command);
}

}  // namespace realmkit::domain
