// The search read model on every backend: given events, then what a search finds, in what order,
// for whom — and the same after a rebuild switches to a new generation.
#include <doctest/doctest.h>

#include <algorithm>
#include <span>

#include "domain/company/company_events.hpp"
#include "domain/contact/contact_events.hpp"
#include "domain/deal/deal_events.hpp"
#include "domain/lead/lead_events.hpp"
#include "domain/user/user_events.hpp"
#include "projections/catalog.hpp"
#include "projections/search/search_document.hpp"
#include "projections/search/search_projection.hpp"
#include "projections/search/search_query.hpp"
#include "tests/projections/projection_env.hpp"

namespace realmkit::testing {
namespace {

using namespace domain;
namespace search = projections::search;
using strings = std::vector<std::string>;

template <class Env>
void given_users(Env& env) {
  env.append("user-a1", user_registered{user_id{"a1"}, "a1@x.io", "Ann A", user_role::sales_rep,
                                        team_id{"team-a"}});
  env.append("user-b1", user_registered{user_id{"b1"}, "b1@x.io", "Bo B", user_role::sales_rep,
                                        team_id{"team-b"}});
}

contact_created contact(const std::string& id, const std::string& first, const std::string& last,
                        const std::string& owner = "a1") {
  contact_created e;
  e.contact = contact_id{id};
  e.first_name = first;
  e.last_name = last;
  e.owner = user_id{owner};
  return e;
}

search::search_page find(infra::sql::database& db, const std::string& q,
                         strings kinds = {"contact", "company", "deal", "lead"},
                         std::optional<std::optional<std::string>> only_team = std::nullopt,
                         std::size_t limit = 20, std::size_t offset = 0) {
  search::search_request r;
  r.words = search::words(q);
  r.kinds = std::move(kinds);
  r.only_team = std::move(only_team);
  r.limit = limit;
  r.offset = offset;
  auto session = db.acquire();
  return search::run_search(*session, r);
}

strings found(const search::search_page& page) {
  strings out;
  for (const auto& h : page.items) out.push_back(h.kind + ":" + h.id);
  return out;
}

strings sorted(strings s) {
  std::sort(s.begin(), s.end());
  return s;
}

TEST_CASE("search: documents and queries normalize to the same words") {
  CHECK(search::normalize("Anna.Schmidt@Example.COM") == "anna schmidt example com");
  CHECK(search::normalize("  +49 (30) 123-456 ") == "49 30 123 456");
  CHECK(search::normalize("Müller") == "m\xc3\xbcller");
  CHECK(search::words("O'Brien & Sons") == strings{"o", "brien", "sons"});
  CHECK(search::words("!!!").empty());
  CHECK(search::prefix_terms("anna schmidt ann") == "a an ann anna s sc sch schm");
  CHECK(search::prefix_terms("m\xc3\xbcller") == "m m\xc3\xbc m\xc3\xbcl m\xc3\xbcll");
  CHECK(search::characters("m\xc3\xbcller") == 6);
  search::document d;
  d.kind = "contact";
  d.first_name = "Anna";
  d.last_name = "Schmidt";
  d.job_title = "CTO";
  d.emails = {"anna@acme.io"};
  d.phones = {"+49 30 123"};
  CHECK(search::title_of(d) == "Anna Schmidt");
  CHECK(search::subtitle_of(d) == "CTO · anna@acme.io");
  CHECK(search::other_terms(d) == "cto anna acme io 49 30 123 4930123");
  search::document deal;
  deal.kind = "deal";
  deal.title = "Renewal";
  deal.status = "open";
  deal.amount_minor = 250'005;
  deal.currency = "EUR";
  CHECK(search::subtitle_of(deal) == "open · 2500.05 EUR");
  deal.currency = "JPY";
  CHECK(search::subtitle_of(deal) == "open · 250005 JPY");
  d.archived = true;
  CHECK(search::from_source("contact", "", "", search::to_source(d)) == [&] {
    auto copy = d;
    copy.id = "";
    copy.owner = "";
    return copy;
  }());
}

TEST_CASE_TEMPLATE("search: every word matches a word's start, names rank first, kinds filter", B,
                   sqlite_backend, postgres_backend) {
  projection_env<B> env;
  given_users(env);
  auto anna = contact("c1", "Anna", "Schmidt");
  anna.emails = {{"anna.schmidt@acme.io", true}};
  anna.title = "Head of Sales";
  env.append("contact-c1", anna);
  env.append("contact-c2", contact("c2", "Hannah", "Annerl"));
  env.append("contact-c3", contact("c3", "Bob", "M\xc3\xbcller"));
  auto c4 = contact("c4", "Carl", "Meyer");
  c4.emails = {{"carl@annapurna.io", true}};
  env.append("contact-c4", c4);
  env.append("company-k1", company_created{company_id{"k1"},
                                           "Annapurna Ltd",
                                           "annapurna.io",
                                           "Travel",
                                           {},
                                           "",
                                           {},
                                           user_id{"a1"},
                                           {}});
  deal_created deal;
  deal.deal = deal_id{"d1"};
  deal.pipeline = pipeline_id{"p1"};
  deal.stage = stage_id{"s1"};
  deal.title = "Renewal for Anna";
  deal.value = {100, "EUR"};
  deal.owner = user_id{"a1"};
  env.append("deal-d1", deal);
  env.append("lead-l1", lead_created{lead_id{"l1"}, "Annika Berg", "annika@berg.io", "", "Berg AG",
                                     lead_source::web, user_id{"a1"}});
  auto p = env.start({std::make_shared<search::search_projection>()});
  env.catch_up(*p);

  const auto ann = find(env.db(), "ann");
  CHECK(ann.position == env.store().head_position());
  CHECK(sorted(found(ann)) ==
        strings{"company:k1", "contact:c1", "contact:c2", "contact:c4", "deal:d1", "lead:l1"});
  // A name match outranks a match in an e-mail address.
  const auto hits = found(ann);
  const auto pos = [&](const std::string& k) {
    return std::find(hits.begin(), hits.end(), k) - hits.begin();
  };
  CHECK(pos("contact:c1") < pos("contact:c4"));
  CHECK(ann.items.front().rank >= ann.items.back().rank);

  CHECK(found(find(env.db(), "anna sch")) == strings{"contact:c1"});
  CHECK(found(find(env.db(), "ANNA.SCHMIDT@acme.io")) == strings{"contact:c1"});
  CHECK(found(find(env.db(), "hannah")) == strings{"contact:c2"});
  CHECK(found(find(env.db(), "nna")).empty());  // prefixes, not substrings
  CHECK(found(find(env.db(), "m\xc3\xbcl")) == strings{"contact:c3"});
  CHECK(found(find(env.db(), "bob m\xc3\xbcller")) == strings{"contact:c3"});
  CHECK(sorted(found(find(env.db(), "ann", {"contact", "lead"}))) ==
        strings{"contact:c1", "contact:c2", "contact:c4", "lead:l1"});
  CHECK(found(find(env.db(), "renewal", {"deal"})) == strings{"deal:d1"});
  CHECK(found(find(env.db(), "travel")) == strings{"company:k1"});
  CHECK(found(find(env.db(), "berg ag")) == strings{"lead:l1"});

  const auto c1 = find(env.db(), "schmidt").items.at(0);
  CHECK(c1.title == "Anna Schmidt");
  CHECK(c1.subtitle == "Head of Sales · anna.schmidt@acme.io");
  const auto d1 = find(env.db(), "renewal").items.at(0);
  CHECK(d1.subtitle == "open · 1.00 EUR");
}

TEST_CASE_TEMPLATE("search: changes, archives, merges and restores reach the index", B,
                   sqlite_backend, postgres_backend) {
  projection_env<B> env;
  given_users(env);
  env.append("contact-c1", contact("c1", "Anna", "Schmidt"));
  env.append("contact-c2", contact("c2", "Zoe", "Quint"));
  env.append("contact-c3", contact("c3", "Yuri", "Vance"));
  auto p = env.start({std::make_shared<search::search_projection>()});
  env.catch_up(*p);
  CHECK(found(find(env.db(), "schmidt")) == strings{"contact:c1"});

  env.append("contact-c1",
             contact_updated{contact_id{"c1"}, std::nullopt, std::string("Meyer"), std::nullopt},
             contact_email_added{contact_id{"c1"}, {"anna@neu.io", true}},
             contact_tagged{contact_id{"c1"}, {"vip"}});
  env.append("contact-c2", contact_archived{contact_id{"c2"}});
  env.append("contact-c3",
             contact_phone_added{contact_id{"c3"}, {"+1 555 0100", phone_label::work}},
             contact_merged_into{contact_id{"c3"}, contact_id{"c1"}});
  env.append("contact-c1", contact_merged{contact_id{"c1"},
                                          {contact_id{"c3"}},
                                          {{"yuri@old.io", false}},
                                          {{"+1 555 0100", phone_label::work}},
                                          {}});
  env.catch_up(*p);
  CHECK(found(find(env.db(), "schmidt")).empty());
  CHECK(found(find(env.db(), "anna meyer")) == strings{"contact:c1"});
  CHECK(found(find(env.db(), "neu")) == strings{"contact:c1"});
  CHECK(found(find(env.db(), "vip")) == strings{"contact:c1"});
  CHECK(found(find(env.db(), "zoe")).empty());
  CHECK(found(find(env.db(), "yuri")) == strings{"contact:c1"});  // the survivor, by the address
  CHECK(found(find(env.db(), "15550100")) == strings{"contact:c1"});
  CHECK(found(find(env.db(), "vance")).empty());

  env.append("contact-c2", contact_restored{contact_id{"c2"}});
  env.append("contact-c1", contact_email_removed{contact_id{"c1"}, "anna@neu.io"},
             contact_untagged{contact_id{"c1"}, {"vip"}});
  env.catch_up(*p);
  CHECK(found(find(env.db(), "zoe")) == strings{"contact:c2"});
  CHECK(found(find(env.db(), "neu")).empty());
  CHECK(found(find(env.db(), "vip")).empty());
}

TEST_CASE_TEMPLATE(
    "search: a team finds only its owners' records, and they follow a user who "
    "changes teams",
    B, sqlite_backend, postgres_backend) {
  projection_env<B> env;
  given_users(env);
  env.append("contact-c1", contact("c1", "Anna", "A", "a1"));
  env.append("contact-c2", contact("c2", "Anna", "B", "b1"));
  auto p = env.start({std::make_shared<search::search_projection>()});
  env.catch_up(*p);
  const strings all{"contact", "company", "deal", "lead"};
  CHECK(found(find(env.db(), "anna", all, std::optional<std::string>("team-a"))) ==
        strings{"contact:c1"});
  CHECK(found(find(env.db(), "anna", all, std::optional<std::string>("team-b"))) ==
        strings{"contact:c2"});
  CHECK(found(find(env.db(), "anna", all, std::optional<std::string>())).empty());
  CHECK(found(find(env.db(), "anna")).size() == 2);

  env.append("user-b1", user_team_changed{user_id{"b1"}, team_id{"team-b"}, team_id{"team-a"}});
  env.append("contact-c1", contact_owner_assigned{contact_id{"c1"}, user_id{"a1"}, user_id{"b1"}});
  env.catch_up(*p);
  CHECK(sorted(found(find(env.db(), "anna", all, std::optional<std::string>("team-a")))) ==
        strings{"contact:c1", "contact:c2"});
  CHECK(found(find(env.db(), "anna", all, std::optional<std::string>("team-b"))).empty());
}

TEST_CASE_TEMPLATE(
    "search: a broad search ranks a bounded set of candidates, after the team "
    "and kind filters",
    B, sqlite_backend, postgres_backend) {
  projection_env<B> env;
  given_users(env);
  env.append("contact-old", contact("old", "Anna", "Oldest", "a1"));
  // More Annas of team B than the search ranks, all newer than team A's.
  const auto many = search::kCandidates + 5;
  std::vector<infra::stream_write> writes;
  for (std::size_t i = 0; i < many; ++i) {
    const auto id = "b" + std::to_string(i);
    writes.push_back({"contact-" + id,
                      std::nullopt,
                      {infra::encode_event(contact("b" + std::to_string(i), "Anna",
                                                   "Many" + std::to_string(i), "b1"),
                                           infra::new_uuid_v7(), R"({"actor":"b1"})")}});
    if (writes.size() == 500 || i + 1 == many) {
      env.store().append(std::span<const infra::stream_write>(writes), std::nullopt);
      writes.clear();
    }
  }
  auto p = env.start({std::make_shared<search::search_projection>()});
  env.catch_up(*p);
  const auto broad = find(env.db(), "anna");
  CHECK(broad.truncated);
  CHECK(broad.items.size() == 20);
  CHECK(broad.more);
  // Precise words still find a record outside any broad candidate set.
  const auto precise = find(env.db(), "anna oldest");
  CHECK_FALSE(precise.truncated);
  CHECK(found(precise) == strings{"contact:old"});
  // The team filter applies before the limit: team A's one Anna is found among 1,000 others.
  const strings all{"contact", "company", "deal", "lead"};
  const auto a = find(env.db(), "anna", all, std::optional<std::string>("team-a"));
  CHECK_FALSE(a.truncated);
  CHECK(found(a) == strings{"contact:old"});
  // And the kinds filter too.
  CHECK(found(find(env.db(), "anna", {"deal", "lead"})).empty());
}

TEST_CASE_TEMPLATE("search: pages by offset, and a rebuild answers from its new generation", B,
                   sqlite_backend, postgres_backend) {
  projection_env<B> env;
  given_users(env);
  for (int i = 0; i < 7; ++i) {
    env.append("contact-c" + std::to_string(i),
               contact("c" + std::to_string(i), "Anna", "Page" + std::to_string(i)));
  }
  auto p = env.start({std::make_shared<search::search_projection>()});
  env.catch_up(*p);
  const auto first = find(env.db(), "anna", {"contact"}, std::nullopt, 3);
  CHECK(first.items.size() == 3);
  CHECK(first.more);
  const auto second = find(env.db(), "anna", {"contact"}, std::nullopt, 3, 3);
  const auto third = find(env.db(), "anna", {"contact"}, std::nullopt, 3, 6);
  CHECK(third.items.size() == 1);
  CHECK_FALSE(third.more);
  strings all = found(first);
  for (const auto& h : found(second)) all.push_back(h);
  all.push_back(found(third).at(0));
  CHECK(sorted(all).size() == 7);
  CHECK(std::unique(all.begin(), all.end()) == all.end());

  const auto before = found(find(env.db(), "anna"));
  const auto generation = p->rebuild("search");
  REQUIRE(p->wait_for_rebuild("search", 20s));
  {
    auto session = env.db().acquire();
    REQUIRE(projections::live_generation(*session, "search")->generation == generation);
    // The retired generation is gone, its FTS5 table with it.
    const auto left = session->dialect() == infra::sql::dialect::sqlite
                          ? session->query(
                                "SELECT name FROM sqlite_master WHERE name LIKE "
                                "'rm\\_search%\\_g1' ESCAPE '\\'")
                          : session->query(
                                "SELECT table_name FROM information_schema.tables WHERE "
                                "table_schema = current_schema() AND table_name LIKE "
                                "'rm\\_search%\\_g1'");
    CHECK(left.empty());
    const auto now = session->dialect() == infra::sql::dialect::sqlite
                         ? session->query(
                               "SELECT name FROM sqlite_master WHERE name = "
                               "'rm_search_fts_g2'")
                         : session->query("SELECT 1");
    CHECK(now.size() == 1);
  }
  env.append("contact-c9", contact("c9", "Anna", "Late"));
  env.catch_up(*p);
  auto after = found(find(env.db(), "anna"));
  CHECK(after.size() == before.size() + 1);
  CHECK(found(find(env.db(), "late")) == strings{"contact:c9"});

  const auto cursor = search::encode_search_cursor(20, "abc");
  const auto decoded = search::decode_search_cursor(cursor);
  REQUIRE(decoded);
  CHECK(decoded->offset == 20);
  CHECK(decoded->fingerprint == "abc");
  CHECK_FALSE(search::decode_search_cursor("s1.xyz"));
  CHECK_FALSE(search::decode_search_cursor(search::encode_search_cursor(5000, "abc")));
}

}  // namespace
}  // namespace realmkit::testing
