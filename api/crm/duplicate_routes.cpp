// Duplicate contacts from the duplicates read model: GET /api/contacts/{id}/duplicates lists a
// contact's likely duplicates, surest first, and POST /api/contacts answers 409 with the
// candidates unless the request says "force" (check_new_contact). Only contacts the caller sees
// are offered, and count.
#include <charconv>

#include "api/crm/read_model_support.hpp"
#include "api/crm/route_groups.hpp"
#include "projections/duplicates/duplicates_projection.hpp"
#include "projections/duplicates/duplicates_query.hpp"
#include "projections/records/records_schema.hpp"
#include "projections/support/statement_batch.hpp"

namespace realmkit::api::crm {
namespace {

namespace duplicates = projections::duplicates;

const std::string kItemProperties =
    R"("contact":{"type":"object"},"score":{"type":"number","minimum":0,"maximum":1},)"
    R"("reasons":{"type":"array","items":{"type":"string","enum":["same_email","same_phone",)"
    R"("similar_name_same_company"]}})";

std::string score_text(double score) {
  char text[16];
  const auto end = std::to_chars(text, text + sizeof text, score, std::chars_format::fixed, 3).ptr;
  return std::string(text, end);
}

struct offered {
  contact_view contact;
  domain::duplicate_verdict verdict;
};

// The candidates the caller may see, at most `limit`, each with its view from the records read
// model (a candidate that model does not have yet is left out).
std::vector<offered> visible(const request_scope& scope,
                             std::vector<duplicates::duplicate_candidate> candidates,
                             std::size_t limit) {
  std::vector<offered> out;
  for (auto& c : candidates) {
    if (out.size() == limit) break;
    if (!scope.can_see_owner(domain::user_id{c.owner_id})) continue;
    auto view = scope.services().queries.find_contact(c.contact_id);
    if (!view || !scope.can_see_owner(view->state.owner)) continue;
    out.push_back({std::move(*view), std::move(c.verdict)});
  }
  return out;
}

void write_offered(json_out& out, const std::vector<offered>& items) {
  out.begin_array();
  for (const auto& o : items) {
    out.begin_object();
    out.key("contact");
    write(out, o.contact);
    out.key("score").raw(score_text(o.verdict.score));
    out.key("reasons").begin_array();
    for (const auto reason : o.verdict.reasons) out.string(to_string(reason));
    out.end_array();
    out.end_object();
  }
  out.end_array();
}

http_response list_duplicates(request_scope& scope, infra::sql::session& db) {
  const query_reader q(scope.request(), {"limit"});
  const auto limit = q.limit(duplicates::kDefaultCandidates, duplicates::kMaxCandidates);
  const auto id = path_id(scope.request());
  visible_or_404(scope, scope.services().queries.find_contact(id), "contact");
  std::vector<offered> items;
  if (const auto profile = duplicates::stored_profile(db, id)) {
    items = visible(scope, duplicates::find_duplicates(db, *profile, id), limit);
  }
  json_out out;
  out.begin_object().key("items");
  write_offered(out, items);
  out.key("next_cursor").null();
  out.key("position").integer(projections::support::live_position(db, duplicates::kProjectionName));
  out.end_object();
  return http_response::json(200, out.take());
}

}  // namespace

void check_new_contact(const request_scope& scope, const domain::create_contact& contact) {
  auto* read_db = scope.services().read_db;
  if (read_db == nullptr) return;  // a process without read models cannot tell
  std::vector<std::string> addresses;
  for (const auto& e : contact.emails) addresses.push_back(e.address);
  std::vector<std::string> numbers;
  for (const auto& p : contact.phones) numbers.push_back(p.number);
  const auto profile =
      domain::make_match_profile(contact.first_name, contact.last_name, addresses, numbers,
                                 contact.company ? contact.company->value : std::string());
  std::vector<offered> items;
  {
    auto session = read_db->acquire();
    items = visible(scope, duplicates::find_duplicates(*session, profile),
                    duplicates::kDefaultCandidates);
  }
  if (items.empty()) return;
  problem p;
  p.status = 409;
  p.type = "urn:realmkit:problem:possible-duplicate";
  p.title = "The record may exist already";
  p.detail = std::to_string(items.size()) +
             (items.size() == 1 ? " contact looks" : " contacts look") +
             " like this one: merge into one of them, or send \"force\": true to create it anyway";
  p.field = "force";
  json_out candidates;
  write_offered(candidates, items);
  p.extensions.emplace_back("candidates", candidates.take());
  throw problem_error(std::move(p));
}

void add_duplicate_routes(router& routes, crm_services& services) {
  // The contact's visibility comes from the records read model, the candidates from the
  // duplicates one: min_position waits for both.
  add_read_route(routes, services, "/api/contacts/{id}/duplicates", "contacts.duplicates",
                 auth::permission::contact_view,
                 "A contact's likely duplicates (same address, same number, or a similar name at "
                 "the same company), surest first",
                 page_schema(kItemProperties),
                 {std::string(projections::records::kProjectionName),
                  std::string(duplicates::kProjectionName)},
                 list_duplicates);
}

}  // namespace realmkit::api::crm
