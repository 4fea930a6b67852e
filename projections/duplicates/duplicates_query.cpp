#include "projections/duplicates/duplicates_query.hpp"

#include <algorithm>
#include <unordered_map>

#include "projections/support/statement_batch.hpp"

namespace realmkit::projections::duplicates {
namespace {

namespace sql = infra::sql;

std::vector<std::string> words_of(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty()) {
    const auto space = text.find(' ');
    if (space != 0) out.emplace_back(text.substr(0, space));
    if (space == std::string_view::npos) break;
    text.remove_prefix(space + 1);
  }
  return out;
}

// Columns: company_id, name, emails, phones.
domain::match_profile profile_of(const sql::row& r, int first) {
  domain::match_profile p;
  p.company = r.optional_text(first).value_or("");
  p.name = words_of(r.text(first + 1));
  p.emails = words_of(r.text(first + 2));
  p.phones = words_of(r.text(first + 3));
  return p;
}

}  // namespace

std::optional<domain::match_profile> stored_profile(sql::session& db, std::string_view contact_id) {
  const sql::value params[] = {std::string(contact_id)};
  const auto rows = db.query(
      "SELECT company_id, name, emails, phones FROM rm_contact_match WHERE contact_id = $1 AND "
      "active = 1",
      params);
  if (rows.empty()) return std::nullopt;
  return profile_of(rows.front(), 0);
}

std::vector<duplicate_candidate> find_duplicates(sql::session& db,
                                                 const domain::match_profile& profile,
                                                 std::string_view exclude) {
  const auto keys = domain::match_keys(profile);
  if (keys.empty()) return {};
  const sql::value params[] = {support::json_array(keys), std::string(exclude),
                               static_cast<std::int64_t>(kMaxExamined)};
  const auto rows = db.query(
      "SELECT c.contact_id, c.owner_id, c.company_id, c.name, c.emails, c.phones FROM "
      "rm_contact_match c WHERE c.active = 1 AND c.contact_id <> $2 AND c.contact_id IN (SELECT "
      "k.contact_id FROM rm_contact_match_keys k WHERE k.match_key IN (" +
          support::key_set(db.dialect(), 1) + ")) ORDER BY c.contact_id LIMIT $3",
      params);
  std::vector<duplicate_candidate> out;
  for (const auto& r : rows) {
    auto verdict = domain::match_contacts(profile, profile_of(r, 2));
    if (!verdict) continue;
    out.push_back({{r.text(0), r.text(1)}, std::move(*verdict)});
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    if (a.verdict.score != b.verdict.score) return a.verdict.score > b.verdict.score;
    return a.contact_id < b.contact_id;
  });
  return out;
}

pair_scan scan_pairs(sql::session& db, const std::optional<pair_position>& after,
                     std::size_t max_examined) {
  pair_scan out;
  const sql::value params[] = {after ? after->first : std::string(),
                               after ? after->second : std::string(),
                               static_cast<std::int64_t>(max_examined)};
  // Inactive contacts have no keys, so every pair here is of active contacts.
  const auto rows = db.query(
      "SELECT DISTINCT k1.contact_id, k2.contact_id FROM rm_contact_match_keys k1 JOIN "
      "rm_contact_match_keys k2 ON k2.match_key = k1.match_key AND k2.contact_id > k1.contact_id "
      "WHERE k1.contact_id > $1 OR (k1.contact_id = $1 AND k2.contact_id > $2) ORDER BY "
      "k1.contact_id, k2.contact_id LIMIT $3",
      params);
  out.exhausted = rows.size() < max_examined;
  if (rows.empty()) return out;
  out.last = pair_position{rows.back().text(0), rows.back().text(1)};

  std::vector<std::string> ids;
  for (const auto& r : rows) {
    ids.push_back(r.text(0));
    ids.push_back(r.text(1));
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  struct stored {
    std::string owner;
    domain::match_profile profile;
  };
  std::unordered_map<std::string, stored> profiles;
  const sql::value id_set[] = {support::json_array(ids)};
  for (const auto& r :
       db.query("SELECT contact_id, owner_id, company_id, name, emails, phones FROM "
                "rm_contact_match WHERE contact_id IN (" +
                    support::key_set(db.dialect(), 1) + ")",
                id_set)) {
    profiles.emplace(r.text(0), stored{r.text(1), profile_of(r, 2)});
  }
  for (const auto& r : rows) {
    const auto a = profiles.find(r.text(0));
    const auto b = profiles.find(r.text(1));
    if (a == profiles.end() || b == profiles.end()) continue;
    auto verdict = domain::match_contacts(a->second.profile, b->second.profile);
    if (!verdict) continue;
    out.pairs.push_back(
        {{a->first, a->second.owner}, {b->first, b->second.owner}, std::move(*verdict)});
  }
  return out;
}

}  // namespace realmkit::projections::duplicates
