// GET /api/search: full-text search over contacts, companies, deals and leads from the search
// read model, ranked, with prefix matching, only what the caller may see (docs/crm-api.md).
#include <cstdio>

#include "api/crm/read_model_support.hpp"
#include "api/crm/route_groups.hpp"
#include "projections/search/search_document.hpp"
#include "projections/search/search_projection.hpp"
#include "projections/search/search_query.hpp"

namespace realmkit::api::crm {
namespace {

namespace search = projections::search;

// The permission that reading each kind of record needs.
auth::permission permission_of(std::string_view kind) {
  if (kind == "contact") return auth::permission::contact_view;
  if (kind == "company") return auth::permission::company_view;
  if (kind == "deal") return auth::permission::deal_view;
  return auth::permission::lead_view;
}

std::vector<std::string> read_kinds(const request_scope& scope, const query_reader& q) {
  std::vector<std::string> kinds;
  const auto text = q.text("kinds");
  if (!text) {
    // Every kind the caller may read.
    for (const auto kind : search::kAllKinds) {
      if (auth::has_permission(scope.caller().role, permission_of(kind))) {
        kinds.emplace_back(kind);
      }
    }
    return kinds;
  }
  std::size_t from = 0;
  for (;;) {
    const auto comma = text->find(',', from);
    const auto kind = text->substr(from, comma == std::string::npos ? comma : comma - from);
    bool known = false;
    for (const auto k : search::kAllKinds) known = known || k == kind;
    if (!known) fail("kinds", "must list contact, company, deal or lead, separated by commas");
    if (!auth::has_permission(scope.caller().role, permission_of(kind))) {
      forbid("the role " + std::string(to_string(scope.caller().role)) + " cannot read " + kind +
                 " records",
             "kinds");
    }
    if (std::find(kinds.begin(), kinds.end(), kind) == kinds.end()) kinds.push_back(kind);
    if (comma == std::string::npos) break;
    from = comma + 1;
  }
  return kinds;
}

http_response run_search(request_scope& scope, infra::sql::session& db) {
  const query_reader q(scope.request(), {"q", "kinds", "limit", "cursor"});
  const auto text = q.text("q");
  if (!text || text->empty()) fail("q", "is required: the words to search for");
  if (text->size() > search::kMaxQueryLength) {
    fail("q", "must be at most " + std::to_string(search::kMaxQueryLength) + " bytes");
  }
  search::search_request request;
  request.words = search::words(*text);
  if (request.words.empty()) fail("q", "must contain a letter or a digit");
  if (request.words.size() > search::kMaxQueryWords) {
    fail("q", "must have at most " + std::to_string(search::kMaxQueryWords) + " words");
  }
  request.kinds = read_kinds(scope, q);
  request.limit = q.limit(search::kDefaultHits, search::kMaxHits);
  request.only_team = scope.only_team();
  const auto fingerprint = search::search_fingerprint(request);
  if (const auto cursor = q.text("cursor")) {
    const auto c = search::decode_search_cursor(*cursor);
    if (!c) fail("cursor", "is not a cursor this API gave out");
    if (c->fingerprint != fingerprint) {
      fail("cursor", "belongs to another search; send the same q and kinds as the first page");
    }
    request.offset = c->offset;
  }
  const auto page = search::run_search(db, request);
  json_out out;
  out.begin_object().key("items").begin_array();
  for (const auto& h : page.items) {
    out.begin_object();
    out.key("kind").string(h.kind);
    out.key("id").string(h.id);
    out.key("title").string(h.title);
    out.key("subtitle").string(h.subtitle);
    out.key("rank").integer(h.rank);
    out.end_object();
  }
  out.end_array();
  out.key("next_cursor");
  if (page.more) {
    out.string(search::encode_search_cursor(request.offset + request.limit, fingerprint));
  } else {
    out.null();
  }
  out.key("truncated").boolean(page.truncated);
  out.key("position").integer(page.position);
  out.end_object();
  return http_response::json(200, out.take());
}

}  // namespace

void add_search_routes(router& routes, crm_services& services) {
  add_read_route(
      routes, services, "/api/search", "search.query", auth::permission::contact_view,
      "Search contacts, companies, deals and leads by the starts of words (q, kinds, limit, "
      "cursor)",
      page_schema(R"("kind":{"type":"string","enum":["contact","company","deal","lead"]},)"
                  R"("id":{"type":"string"},"title":{"type":"string"},)"
                  R"("subtitle":{"type":"string"},"rank":{"type":"integer"})",
                  R"("truncated":{"type":"boolean"})"),
      {std::string(search::kProjectionName)}, run_search);
}

}  // namespace realmkit::api::crm
