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

// "score" and "reasons", inside an object being written.
void write_verdict(json_out& out, const domain::duplicate_verdict& verdict) {
  out.key("score").raw(score_text(verdict.score));
  out.key("reasons").begin_array();
  for (const auto reason : verdict.reasons) out.string(to_string(reason));
  out.end_array();
}

void write_offered(json_out& out, const std::vector<offered>& items) {
  out.begin_array();
  for (const auto& o : items) {
    out.begin_object();
    out.key("contact");
    write(out, o.contact);
    write_verdict(out, o.verdict);
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

const std::string kPairProperties =
    R"("contacts":{"type":"array","items":{"type":"object"},"minItems":2,"maxItems":2},)"
    R"("score":{"type":"number","minimum":0,"maximum":1},)"
    R"("reasons":{"type":"array","items":{"type":"string","enum":["same_email","same_phone",)"
    R"("similar_name_same_company"]}})";

constexpr std::string_view kPairCursor = "dup1";
// Pairs examined per request at most, and per statement: a page of few matches among many
// pairs sharing a key ends early with a cursor instead of reading them all.
constexpr std::size_t kMaxPairsExamined = 20'000;
constexpr std::size_t kPairsPerScan = 1'000;

http_response list_all_duplicates(request_scope& scope, infra::sql::session& db) {
  const query_reader q(scope.request(), {"limit", "cursor"});
  const auto limit = q.limit(duplicates::kDefaultCandidates, duplicates::kMaxCandidates);
  std::optional<duplicates::pair_position> after;
  if (const auto cursor = q.text("cursor")) {
    const auto fields = projections::support::decode_cursor(kPairCursor, *cursor, 2);
    if (!fields) fail("cursor", "is not a cursor this API gave out");
    after = duplicates::pair_position{(*fields)[0], (*fields)[1]};
  }
  const auto position = projections::support::live_position(db, duplicates::kProjectionName);
  json_out out;
  out.begin_object().key("items").begin_array();
  std::size_t shown = 0;
  std::size_t examined = 0;
  std::optional<duplicates::pair_position> next;  // where the next page starts; none: no page
  for (bool done = false; !done;) {
    if (examined >= kMaxPairsExamined) {
      next = after;  // the last pair examined: the rest on the next page
      break;
    }
    const auto scan = duplicates::scan_pairs(db, after, kPairsPerScan);
    examined += kPairsPerScan;
    for (const auto& p : scan.pairs) {
      if (!scope.can_see_owner(domain::user_id{p.first.owner_id}) ||
          !scope.can_see_owner(domain::user_id{p.second.owner_id})) {
        continue;
      }
      auto a = scope.services().queries.find_contact(p.first.contact_id);
      auto b = scope.services().queries.find_contact(p.second.contact_id);
      if (!a || !b || !scope.can_see_owner(a->state.owner) ||
          !scope.can_see_owner(b->state.owner)) {
        continue;
      }
      out.begin_object().key("contacts").begin_array();
      write(out, *a);
      write(out, *b);
      out.end_array();
      write_verdict(out, p.verdict);
      out.end_object();
      if (++shown == limit) {
        const bool last_of_all = scan.exhausted && scan.last &&
                                 scan.last->first == p.first.contact_id &&
                                 scan.last->second == p.second.contact_id;
        if (!last_of_all) next = duplicates::pair_position{p.first.contact_id, p.second.contact_id};
        done = true;
        break;
      }
    }
    if (scan.exhausted) break;
    after = scan.last;
  }
  out.end_array();
  out.key("next_cursor");
  if (next) {
    out.string(projections::support::encode_cursor(kPairCursor, {next->first, next->second}));
  } else {
    out.null();
  }
  out.key("position").integer(position);
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
  add_read_route(routes, services, "/api/contacts/duplicates", "contacts.duplicate_pairs",
                 auth::permission::contact_view,
                 "Every pair of contacts the caller sees that look like one person, in order of "
                 "their ids, page by page",
                 page_schema(kPairProperties),
                 {std::string(projections::records::kProjectionName),
                  std::string(duplicates::kProjectionName)},
                 list_all_duplicates);
}

}  // namespace realmkit::api::crm
