// The pipeline board read model on every backend: given events, then the board's rows and the
// board as read (order, counts, totals per currency, weighted values, paging, team scope).
#include <doctest/doctest.h>

#include "domain/company/company_events.hpp"
#include "domain/deal/deal_events.hpp"
#include "domain/pipeline/pipeline_events.hpp"
#include "domain/user/user_events.hpp"
#include "projections/board/board_projection.hpp"
#include "projections/board/board_query.hpp"
#include "projections/catalog.hpp"
#include "tests/projections/projection_env.hpp"

namespace realmkit::testing {
namespace {

using namespace domain;
namespace board = projections::board;

timestamp at_hour(int h) {
  return timestamp{std::chrono::sys_days{std::chrono::year{2026} / 1 / 5}} + std::chrono::hours(h);
}

money eur(std::int64_t minor) {
  return {minor, "EUR"};
}

// A pipeline "p1" with stages s1 (10 %), s2 (50 %), s3 (90 %); users a1, a2 in team-a, b1 in
// team-b, n1 in no team.
template <class Env>
void given_organisation(Env& env) {
  env.append("pipeline-p1", pipeline_created{pipeline_id{"p1"},
                                             "Sales",
                                             {{stage_id{"s1"}, "Lead", 10},
                                              {stage_id{"s2"}, "Proposal", 50},
                                              {stage_id{"s3"}, "Closing", 90}}});
  env.append("user-a1", user_registered{user_id{"a1"}, "a1@x.io", "Ann A", user_role::sales_rep,
                                        team_id{"team-a"}});
  env.append("user-a2", user_registered{user_id{"a2"}, "a2@x.io", "Al A", user_role::sales_rep,
                                        team_id{"team-a"}});
  env.append("user-b1", user_registered{user_id{"b1"}, "b1@x.io", "Bo B", user_role::sales_rep,
                                        team_id{"team-b"}});
  env.append("user-n1", user_registered{user_id{"n1"}, "n1@x.io", "Nat N", user_role::sales_rep,
                                        std::nullopt});
}

deal_created deal(const std::string& id, const std::string& stage, money value,
                  const std::string& owner, int hour) {
  deal_created e;
  e.deal = deal_id{id};
  e.pipeline = pipeline_id{"p1"};
  e.stage = stage_id{stage};
  e.title = "Deal " + id;
  e.value = std::move(value);
  e.owner = user_id{owner};
  e.at = at_hour(hour);
  return e;
}

// Every row of a relation as text, sorted: equal digests, equal rows.
std::string digest(infra::sql::session& db, const std::string& relation) {
  std::vector<std::string> rows;
  for (const auto& r : db.query("SELECT * FROM " + infra::sql::identifier(relation))) {
    std::string line;
    for (std::size_t i = 0; i < r.size(); ++i) line += (r.is_null(i) ? "<null>" : r.text(i)) + "|";
    rows.push_back(std::move(line));
  }
  std::sort(rows.begin(), rows.end());
  std::string out;
  for (const auto& line : rows) out += line + "\n";
  return out;
}

board::board_view read(infra::sql::database& db, board::board_request request) {
  auto session = db.acquire();
  auto view = board::read_board(*session, request);
  REQUIRE(view.has_value());
  return std::move(*view);
}

board::board_request everyone(std::size_t limit = board::kDefaultCardsPerStage) {
  board::board_request r;
  r.pipeline_id = "p1";
  r.limit = limit;
  return r;
}

std::vector<std::string> ids(const board::column& c) {
  std::vector<std::string> out;
  for (const auto& k : c.deals) out.push_back(k.id);
  return out;
}

using strings = std::vector<std::string>;

TEST_CASE_TEMPLATE(
    "board: open deals per stage in the order they entered, with counts, totals "
    "per currency and weighted values",
    B, sqlite_backend, postgres_backend) {
  projection_env<B> env;
  given_organisation(env);
  env.append(
      "company-c1",
      company_created{company_id{"c1"}, "Acme", "acme.io", "", {}, "", {}, user_id{"a1"}, {}});
  auto d1 = deal("d1", "s1", eur(10'000), "a1", 3);
  d1.company = company_id{"c1"};
  d1.expected_close_date = std::chrono::sys_days{std::chrono::year{2026} / 3 / 31};
  env.append("deal-d1", d1);
  env.append("deal-d2", deal("d2", "s1", eur(5'055), "b1", 1));
  env.append("deal-d3", deal("d3", "s1", money{7'000, "USD"}, "a2", 2));
  env.append("deal-d4", deal("d4", "s1", eur(1), "a1", 4),
             deal_stage_moved{deal_id{"d4"}, pipeline_id{"p1"}, stage_id{"s1"}, stage_id{"s2"},
                              at_hour(9)});
  env.append("deal-d5", deal("d5", "s2", eur(300), "a1", 5), deal_won{deal_id{"d5"}, at_hour(6)});
  env.append("deal-d6", deal("d6", "s2", eur(400), "a1", 5), deal_archived{deal_id{"d6"}});
  env.append("deal-d7", deal("d7", "s3", eur(999), "b1", 5),
             deal_lost{deal_id{"d7"}, "budget", at_hour(6)},
             deal_reopened{deal_id{"d7"}, stage_id{"s2"}, at_hour(8)});
  env.append("deal-d2", deal_value_changed{deal_id{"d2"}, eur(5'055), eur(5'050)},
             deal_renamed{deal_id{"d2"}, "Renamed"});
  auto p = env.start({std::make_shared<board::board_projection>()});
  env.catch_up(*p);

  const auto view = read(env.db(), everyone());
  CHECK(view.name == "Sales");
  CHECK(view.position == env.store().head_position());
  REQUIRE(view.stages.size() == 3);
  const auto& lead = view.stages[0];
  CHECK(lead.id == "s1");
  CHECK(lead.name == "Lead");
  CHECK(ids(lead) == strings{"d2", "d3", "d1"});
  CHECK(lead.count == 3);
  CHECK(lead.total == std::vector<money>{eur(15'050), money{7'000, "USD"}});
  // 10 % of 150.50 EUR is 15.05; of 70.00 USD 7.00.
  CHECK(lead.weighted == std::vector<money>{eur(1'505), money{700, "USD"}});
  CHECK(lead.deals[0].title == "Renamed");
  CHECK(lead.deals[0].value == eur(5'050));
  CHECK(lead.deals[0].version == 3);
  CHECK(lead.deals[0].owner_name == std::optional<std::string>("Bo B"));
  CHECK(lead.deals[2].company_name == std::optional<std::string>("Acme"));
  CHECK(lead.deals[2].expected_close_date == std::optional<std::string>("2026-03-31"));
  CHECK(lead.deals[2].stage_entered_at == at_hour(3));
  CHECK_FALSE(lead.next_cursor);

  // Won and archived deals leave the board; a moved one enters its stage at the move; a reopened
  // one enters the stage it was reopened in.
  const auto& proposal = view.stages[1];
  CHECK(ids(proposal) == strings{"d7", "d4"});
  CHECK(proposal.deals[1].stage_entered_at == at_hour(9));
  CHECK(proposal.count == 2);
  CHECK(proposal.total == std::vector<money>{eur(1'000)});
  CHECK(proposal.weighted == std::vector<money>{eur(500)});
  CHECK(view.stages[2].count == 0);
  CHECK(view.stages[2].total.empty());
  CHECK(view.stages[2].deals.empty());

  // The rows behind it: totals per owner and currency, only for cards on the board.
  const auto totals = env.query(
      "SELECT stage_id, owner_id, currency, deals, total FROM rm_board_totals ORDER BY stage_id, "
      "owner_id, currency");
  REQUIRE(totals.size() == 5);
  CHECK(totals[0].text(0) == "s1");
  CHECK(totals[0].text(1) == "a1");
  CHECK(totals[0].integer(4) == 10'000);
  const auto off_board = env.query(
      "SELECT deal_id, status, archived, on_board FROM rm_board_deals WHERE on_board = 0 "
      "ORDER BY deal_id");
  REQUIRE(off_board.size() == 2);
  CHECK(off_board[0].text(1) == "won");
  CHECK(off_board[1].integer(2) == 1);

  // An unknown pipeline has no board.
  auto session = env.db().acquire();
  board::board_request unknown;
  unknown.pipeline_id = "nope";
  CHECK_FALSE(board::read_board(*session, unknown));
}

TEST_CASE_TEMPLATE(
    "board: a team sees only its owners' cards, counts and totals, and a user who "
    "changes teams takes their cards along",
    B, sqlite_backend, postgres_backend) {
  projection_env<B> env;
  given_organisation(env);
  env.append("deal-d1", deal("d1", "s1", eur(100), "a1", 1));
  env.append("deal-d2", deal("d2", "s1", eur(200), "b1", 2));
  env.append("deal-d3", deal("d3", "s1", eur(400), "a2", 3));
  env.append("deal-d4", deal("d4", "s1", eur(800), "n1", 4));
  auto p = env.start({std::make_shared<board::board_projection>()});
  env.catch_up(*p);

  auto scoped = [&](std::optional<std::string> team) {
    auto r = everyone();
    r.only_team = team;
    return read(env.db(), r).stages[0];
  };
  auto a = scoped("team-a");
  CHECK(ids(a) == strings{"d1", "d3"});
  CHECK(a.count == 2);
  CHECK(a.total == std::vector<money>{eur(500)});
  auto b = scoped("team-b");
  CHECK(ids(b) == strings{"d2"});
  CHECK(b.total == std::vector<money>{eur(200)});
  // No team: no team-owned records at all, not even those of owners without a team.
  auto none = scoped(std::nullopt);
  CHECK(none.deals.empty());
  CHECK(none.count == 0);
  CHECK(none.total.empty());
  // Asking for another team than one's own shows nothing; one's own team is fine.
  auto r = everyone();
  r.only_team = std::optional<std::string>("team-a");
  r.team = "team-b";
  CHECK(read(env.db(), r).stages[0].count == 0);
  r.team = "team-a";
  CHECK(read(env.db(), r).stages[0].count == 2);
  // Owner filter, with and without a scope.
  auto by_owner = everyone();
  by_owner.owner = "a2";
  CHECK(ids(read(env.db(), by_owner).stages[0]) == strings{"d3"});
  CHECK(read(env.db(), by_owner).stages[0].total == std::vector<money>{eur(400)});
  by_owner.only_team = std::optional<std::string>("team-b");
  CHECK(read(env.db(), by_owner).stages[0].count == 0);
  // Everyone (admins) sees all four.
  CHECK(read(env.db(), everyone()).stages[0].count == 4);

  // a2 moves to team B: the card and its total move with them; the deal given to a1 moves back.
  env.append("user-a2", user_team_changed{user_id{"a2"}, team_id{"team-a"}, team_id{"team-b"}});
  env.append("deal-d2", deal_owner_assigned{deal_id{"d2"}, user_id{"b1"}, user_id{"a1"}});
  env.catch_up(*p);
  a = scoped("team-a");
  CHECK(ids(a) == strings{"d1", "d2"});
  CHECK(a.total == std::vector<money>{eur(300)});
  b = scoped("team-b");
  CHECK(ids(b) == strings{"d3"});
  CHECK(b.total == std::vector<money>{eur(400)});
}

TEST_CASE_TEMPLATE("board: cards carry their owner's and company's current names", B,
                   sqlite_backend, postgres_backend) {
  projection_env<B> env;
  given_organisation(env);
  env.append("company-c1",
             company_created{company_id{"c1"}, "Acme", "", "", {}, "", {}, user_id{"a1"}, {}});
  env.append("company-c2",
             company_created{company_id{"c2"}, "Globex", "", "", {}, "", {}, user_id{"a1"}, {}});
  auto d1 = deal("d1", "s1", eur(100), "a1", 1);
  d1.company = company_id{"c1"};
  env.append("deal-d1", d1);
  env.append("deal-d2", deal("d2", "s1", eur(100), "a2", 2));
  auto p = env.start({std::make_shared<board::board_projection>()});
  env.catch_up(*p);
  auto cards = read(env.db(), everyone()).stages[0].deals;
  REQUIRE(cards.size() == 2);
  CHECK(cards[0].owner_name == std::optional<std::string>("Ann A"));
  CHECK(cards[0].company_name == std::optional<std::string>("Acme"));
  CHECK_FALSE(cards[1].company_id);

  env.append("user-a1", user_renamed{user_id{"a1"}, "Ann Again"});
  company_updated renamed;
  renamed.company = company_id{"c1"};
  renamed.name = "Acme Corp";
  env.append("company-c1", renamed);
  env.append("deal-d2", deal_company_linked{deal_id{"d2"}, company_id{"c2"}});
  env.catch_up(*p);
  cards = read(env.db(), everyone()).stages[0].deals;
  CHECK(cards[0].owner_name == std::optional<std::string>("Ann Again"));
  CHECK(cards[0].company_name == std::optional<std::string>("Acme Corp"));
  CHECK(cards[1].company_name == std::optional<std::string>("Globex"));
  env.append("deal-d1", deal_company_unlinked{deal_id{"d1"}, company_id{"c1"}});
  env.catch_up(*p);
  cards = read(env.db(), everyone()).stages[0].deals;
  CHECK_FALSE(cards[0].company_id);
  CHECK_FALSE(cards[0].company_name);
}

TEST_CASE_TEMPLATE("board: a stage pages with its own cursor", B, sqlite_backend,
                   postgres_backend) {
  projection_env<B> env;
  given_organisation(env);
  for (int i = 1; i <= 5; ++i) {
    env.append("deal-d" + std::to_string(i),
               deal("d" + std::to_string(i), "s1", eur(i), "a1", 10 - i));
  }
  env.append("deal-d9", deal("d9", "s2", eur(9), "a1", 1));
  auto p = env.start({std::make_shared<board::board_projection>()});
  env.catch_up(*p);

  const auto first = read(env.db(), everyone(2));
  CHECK(ids(first.stages[0]) == strings{"d5", "d4"});
  CHECK(first.stages[0].count == 5);
  REQUIRE(first.stages[0].next_cursor);
  CHECK(ids(first.stages[1]) == strings{"d9"});
  CHECK_FALSE(first.stages[1].next_cursor);

  auto next = everyone(2);
  next.after = board::decode_board_cursor(*first.stages[0].next_cursor);
  REQUIRE(next.after);
  const auto second = read(env.db(), next);
  REQUIRE(second.stages.size() == 1);  // a cursor pages its stage alone
  CHECK(ids(second.stages[0]) == strings{"d3", "d2"});
  CHECK(second.stages[0].count == 5);  // the stage's count, whatever the page
  next.after = board::decode_board_cursor(*second.stages[0].next_cursor);
  const auto last = read(env.db(), next);
  CHECK(ids(last.stages[0]) == strings{"d1"});
  CHECK_FALSE(last.stages[0].next_cursor);

  // One stage without a cursor.
  auto only = everyone();
  only.stage = "s2";
  const auto s2 = read(env.db(), only);
  REQUIRE(s2.stages.size() == 1);
  CHECK(s2.stages[0].count == 1);

  CHECK_FALSE(board::decode_board_cursor("garbage"));
  CHECK_FALSE(board::decode_board_cursor("b1.%%%"));
  CHECK_FALSE(board::decode_board_cursor(""));
}

TEST_CASE_TEMPLATE(
    "board: stages follow the pipeline: added, renamed, reordered, reweighted, "
    "removed",
    B, sqlite_backend, postgres_backend) {
  projection_env<B> env;
  given_organisation(env);
  env.append("deal-d1", deal("d1", "s2", eur(1'000), "a1", 1));
  env.append(
      "pipeline-p1", pipeline_stage_added{pipeline_id{"p1"}, {stage_id{"s0"}, "New", 5}, 0},
      pipeline_stage_renamed{pipeline_id{"p1"}, stage_id{"s2"}, "Offer"},
      pipeline_stage_probability_changed{pipeline_id{"p1"}, stage_id{"s2"}, 33},
      pipeline_stages_reordered{pipeline_id{"p1"},
                                {stage_id{"s0"}, stage_id{"s2"}, stage_id{"s1"}, stage_id{"s3"}}},
      pipeline_stage_removed{pipeline_id{"p1"}, stage_id{"s3"}},
      pipeline_renamed{pipeline_id{"p1"}, "Enterprise"});
  auto p = env.start({std::make_shared<board::board_projection>()});
  env.catch_up(*p);
  const auto view = read(env.db(), everyone());
  CHECK(view.name == "Enterprise");
  REQUIRE(view.stages.size() == 3);
  CHECK(view.stages[0].id == "s0");
  CHECK(view.stages[1].id == "s2");
  CHECK(view.stages[1].name == "Offer");
  CHECK(view.stages[1].probability == 33);
  CHECK(view.stages[1].weighted == std::vector<money>{eur(330)});
  CHECK(view.stages[2].id == "s1");
}

TEST_CASE("board: weighted amounts round half up and never overflow") {
  CHECK(board::weighted_amount(15'050, 10) == 1'505);
  CHECK(board::weighted_amount(5, 10) == 1);    // 0.5 → 1
  CHECK(board::weighted_amount(4, 10) == 0);    // 0.4 → 0
  CHECK(board::weighted_amount(-5, 10) == -1);  // half away from zero
  CHECK(board::weighted_amount(999, 0) == 0);
  CHECK(board::weighted_amount(999, 100) == 999);
  constexpr auto kMax = std::numeric_limits<std::int64_t>::max();
  CHECK(board::weighted_amount(kMax, 100) == kMax);
  CHECK(board::weighted_amount(kMax, 50) == kMax / 2 + 1);
}

TEST_CASE_TEMPLATE("board: a rebuild writes exactly the rows live projection wrote", B,
                   sqlite_backend, postgres_backend) {
  projection_env<B> env;
  given_organisation(env);
  projections::projector_options small_batches;
  small_batches.live_batch_events = 3;
  auto p = env.start({std::make_shared<board::board_projection>()}, small_batches);
  // Live, in small batches, with the writer's cache holding what it wrote.
  for (int i = 0; i < 30; ++i) {
    const auto id = "d" + std::to_string(i);
    env.append("deal-" + id, deal(id, i % 2 ? "s1" : "s2", money{i * 100, i % 3 ? "EUR" : "USD"},
                                  i % 3 ? "a1" : "b1", i));
    if (i % 4 == 0) {
      env.append("deal-" + id,
                 deal_stage_moved{deal_id{id}, pipeline_id{"p1"}, stage_id{i % 2 ? "s1" : "s2"},
                                  stage_id{"s3"}, at_hour(40 + i)});
    }
    if (i % 5 == 0) env.append("deal-" + id, deal_won{deal_id{id}, at_hour(50)});
    if (i % 7 == 0)
      env.append("deal-" + id, deal_owner_assigned{deal_id{id}, user_id{"a1"}, user_id{"a2"}});
    if (i == 15) {
      env.append("user-a1", user_team_changed{user_id{"a1"}, team_id{"team-a"}, team_id{"team-b"}});
    }
  }
  env.catch_up(*p);
  const std::vector<std::string> relations = board::board_projection().relations();
  std::map<std::string, std::string> live;
  {
    auto session = env.db().acquire();
    for (const auto& r : relations) live[r] = digest(*session, r);
  }
  REQUIRE(live["rm_board_deals"].size() > 30 * 20);
  {
    // The per-stage rollup is the sum of the per-owner totals.
    const auto rollup = env.query(
        "SELECT pipeline_id, stage_id, currency, deals, total FROM rm_board_stage_totals ORDER BY "
        "pipeline_id, stage_id, currency");
    const auto summed = env.query(
        "SELECT pipeline_id, stage_id, currency, SUM(deals), SUM(total) FROM rm_board_totals "
        "GROUP BY pipeline_id, stage_id, currency ORDER BY pipeline_id, stage_id, currency");
    REQUIRE(rollup.size() == summed.size());
    REQUIRE(rollup.size() >= 4);
    for (std::size_t i = 0; i < rollup.size(); ++i) {
      CHECK(rollup[i].text(1) == summed[i].text(1));
      CHECK(rollup[i].integer(3) == summed[i].integer(3));
      CHECK(rollup[i].integer(4) == summed[i].integer(4));
    }
  }
  REQUIRE(live["rm_board_totals"].size() > 4 * 10);
  const auto generation = p->rebuild("board");
  REQUIRE(p->wait_for_rebuild("board", 20s));
  auto session = env.db().acquire();
  REQUIRE(projections::live_generation(*session, "board")->generation == generation);
  for (const auto& r : relations) {
    INFO(r);
    CHECK(digest(*session, r) == live[r]);
  }
}

}  // namespace
}  // namespace realmkit::testing
