// The generic command path against every store backend: decide → append with the expected
// version, cache honesty, bounded retries, client expected versions, idempotency keys, and
// multi-stream commands that commit all or nothing.
#include <doctest/doctest.h>

#include <atomic>
#include <thread>

#include "commands/crm_commands.hpp"
#include "infra/event_codec.hpp"
#include "infra/ids.hpp"
#include "tests/infra/store_backends.hpp"
#include "tests/support/decider_spec.hpp"

using namespace realmkit;
using namespace realmkit::domain;
using commands::command_handler;
using commands::command_metadata;
using testing::postgres_backend;
using testing::sqlite_backend;

namespace {

command_metadata meta(std::string key = "", std::string fingerprint = "") {
  command_metadata m;
  m.actor = user_id{"user-1"};
  m.now = testing::test_context().now;
  m.correlation_id = "corr-1";
  m.idempotency_key = std::move(key);
  m.idempotency_fingerprint = std::move(fingerprint);
  m.ip = "127.0.0.1";
  return m;
}

const pipeline_id kPipeline{"pipe-1"};
const stage_id kLead{"s-lead"}, kProposal{"s-proposal"}, kWon{"s-negotiation"};

commands::outcome create_pipeline_cmd(command_handler& h) {
  return commands::execute(
      h,
      pipeline_command{create_pipeline{
          kPipeline,
          "Sales",
          {{kLead, "Lead", 10}, {kProposal, "Proposal", 50}, {kWon, "Negotiation", 80}}}},
      meta());
}

commands::outcome create_deal_cmd(command_handler& h, const std::string& id) {
  create_deal c;
  c.deal = deal_id{id};
  c.pipeline = kPipeline;
  c.stage = kLead;
  c.title = "Big deal";
  c.value = money{100'000, "EUR"};
  return commands::execute(h, deal_command{c}, meta());
}

commands::outcome move(command_handler& h, const std::string& id, const stage_id& stage,
                       std::optional<std::int64_t> expected = {}, command_metadata m = meta()) {
  return commands::execute(h, deal_command{move_deal_stage{deal_id{id}, stage}}, m, expected);
}

}  // namespace

TEST_CASE_TEMPLATE("a command appends its events and answers with stream, version and position", B,
                   sqlite_backend, postgres_backend) {
  auto store = B::make_store();
  command_handler handler(*store);
  REQUIRE(create_pipeline_cmd(handler).ok());
  auto created = create_deal_cmd(handler, "d1");
  REQUIRE(created.ok());
  CHECK(created.result().stream_id == "deal-d1");
  CHECK(created.result().version == 1);
  CHECK(created.result().position == store->head_position());

  auto moved = move(handler, "d1", kProposal, 1);
  REQUIRE(moved.ok());
  CHECK(moved.result().version == 2);

  const auto events = store->read_stream("deal-d1");
  REQUIRE(events.size() == 2);
  CHECK(events[1].type == "deal.stage_moved.v1");
  const auto metadata = infra::decode_metadata(events[1].metadata);
  CHECK(metadata.actor == "user-1");
  CHECK(metadata.correlation_id == "corr-1");
  CHECK(metadata.ip == "127.0.0.1");
  const auto decoded = infra::decode_event<deal_event>(events[1]);
  CHECK(std::get<deal_stage_moved>(decoded).to_stage == kProposal);
}

TEST_CASE_TEMPLATE("a rejected or no-op command appends nothing", B, sqlite_backend,
                   postgres_backend) {
  auto store = B::make_store();
  command_handler handler(*store);
  REQUIRE(create_pipeline_cmd(handler).ok());
  REQUIRE(create_deal_cmd(handler, "d1").ok());
  const auto head = store->head_position();

  auto unknown_stage = move(handler, "d1", stage_id{"nope"});
  REQUIRE_FALSE(unknown_stage.ok());
  CHECK(unknown_stage.error().code == rejection_code::invalid);
  CHECK(unknown_stage.error().field == "stage_id");

  auto same_stage = move(handler, "d1", kLead);
  REQUIRE(same_stage.ok());
  CHECK(same_stage.result().version == 1);
  // The position of the deal's last event: a read at that min_position shows this state.
  CHECK(same_stage.result().position == head);

  auto missing = move(handler, "ghost", kLead);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().code == rejection_code::not_found);

  CHECK(store->head_position() == head);
}

TEST_CASE_TEMPLATE("a stale client expected version is a conflict with the current version", B,
                   sqlite_backend, postgres_backend) {
  auto store = B::make_store();
  command_handler handler(*store);
  REQUIRE(create_pipeline_cmd(handler).ok());
  REQUIRE(create_deal_cmd(handler, "d1").ok());
  REQUIRE(move(handler, "d1", kProposal, 1).ok());
  const auto head = store->head_position();

  auto stale = move(handler, "d1", kWon, 1);
  REQUIRE_FALSE(stale.ok());
  CHECK(stale.error().code == rejection_code::conflict);
  CHECK(stale.error().field == "expected_version");
  REQUIRE(stale.current_version.has_value());
  CHECK(*stale.current_version == 2);
  CHECK(store->head_position() == head);
}

TEST_CASE_TEMPLATE("a stale cache is caught by the expected version and the command retried", B,
                   sqlite_backend, postgres_backend) {
  auto store = B::make_store();
  // Two handlers on one store stand for two processes, each with its own cache.
  command_handler first(*store);
  command_handler second(*store);
  REQUIRE(create_pipeline_cmd(first).ok());
  REQUIRE(create_deal_cmd(first, "d1").ok());
  REQUIRE(move(first, "d1", kProposal).ok());  // first's cache: version 2

  REQUIRE(move(second, "d1", kWon).ok());  // the store moves to version 3 behind first's back
  // first decides on its cached version 2, the append conflicts, first reloads and decides again.
  auto back = move(first, "d1", kLead);
  REQUIRE(back.ok());
  CHECK(back.result().version == 4);
  const auto events = store->read_stream("deal-d1");
  REQUIRE(events.size() == 4);
  const auto last = std::get<deal_stage_moved>(infra::decode_event<deal_event>(events[3]));
  CHECK(last.from_stage == kWon);  // decided on the fresh state, not the stale cache
  CHECK(last.to_stage == kLead);

  // A client who read version 3 (from the store) is right even though first's cache said 2 before.
  auto with_expectation = move(second, "d1", kProposal, 4);
  CHECK(with_expectation.ok());
}

TEST_CASE_TEMPLATE("the cache spares reads of a hot aggregate", B, sqlite_backend,
                   postgres_backend) {
  auto store = B::make_store();
  command_handler handler(*store);
  REQUIRE(create_pipeline_cmd(handler).ok());
  REQUIRE(create_deal_cmd(handler, "d1").ok());
  const auto misses = handler.cache().misses();
  for (int i = 0; i < 10; ++i) REQUIRE(move(handler, "d1", i % 2 ? kLead : kProposal).ok());
  CHECK(handler.cache().misses() == misses);  // every load came from the cache
  CHECK(handler.load<deal_aggregate>("d1").version == 11);
}

TEST_CASE_TEMPLATE("concurrent commands on one aggregate all land, each on a fresh state", B,
                   sqlite_backend, postgres_backend) {
  auto store = B::make_store();
  command_handler handler(*store, {.cache_capacity = 1000, .max_conflict_retries = 50});
  REQUIRE(create_pipeline_cmd(handler).ok());
  // Each thread adds its own contact to the same deal: all must land, none lost.
  REQUIRE(create_deal_cmd(handler, "d1").ok());
  constexpr int kThreads = 4, kPerThread = 10;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      command_handler own(*store, {.cache_capacity = 1000, .max_conflict_retries = 50});
      for (int i = 0; i < kPerThread; ++i) {
        auto r = commands::execute(
            own,
            deal_command{link_deal_contact{
                deal_id{"d1"}, contact_id{"c" + std::to_string(t) + "-" + std::to_string(i)}}},
            meta());
        if (!r.ok()) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(failures == 0);
  const auto deal = handler.load<deal_aggregate>("d1");
  CHECK(deal.state.contacts.size() == kThreads * kPerThread);
  CHECK(deal.version == 1 + kThreads * kPerThread);
}

TEST_CASE_TEMPLATE("the same idempotency key returns the first result and appends nothing", B,
                   sqlite_backend, postgres_backend) {
  auto store = B::make_store();
  command_handler handler(*store);
  REQUIRE(create_pipeline_cmd(handler).ok());
  REQUIRE(create_deal_cmd(handler, "d1").ok());

  auto first = move(handler, "d1", kProposal, {}, meta("key-1", "fp-1"));
  REQUIRE(first.ok());
  CHECK_FALSE(first.result().replayed);
  const auto head = store->head_position();

  // A retry of the same request: same answer, no new event, even from a handler with a cold cache.
  command_handler restarted(*store);
  auto retry = move(restarted, "d1", kProposal, {}, meta("key-1", "fp-1"));
  REQUIRE(retry.ok());
  CHECK(retry.result().replayed);
  CHECK(retry.result().version == first.result().version);
  CHECK(retry.result().position == first.result().position);
  CHECK(retry.result().stream_id == "deal-d1");
  CHECK(store->head_position() == head);

  // The same key for a different request is refused, not answered with the wrong result.
  CHECK_THROWS_AS(move(handler, "d1", kWon, {}, meta("key-1", "fp-2")),
                  infra::idempotency_key_reused);
  // Another actor's identical key is theirs alone.
  auto other_actor = meta("key-1", "fp-2");
  other_actor.actor = user_id{"user-2"};
  auto theirs = move(handler, "d1", kWon, {}, other_actor);
  REQUIRE(theirs.ok());
  CHECK_FALSE(theirs.result().replayed);
}

TEST_CASE_TEMPLATE("converting a lead writes lead, contact, company and deal atomically", B,
                   sqlite_backend, postgres_backend) {
  auto store = B::make_store();
  command_handler handler(*store);
  REQUIRE(create_pipeline_cmd(handler).ok());
  create_lead lead;
  lead.lead = lead_id{"l1"};
  lead.name = "Ada Lovelace";
  lead.email = "ada@example.com";
  lead.company_name = "Analytical Engines";
  REQUIRE(commands::execute(handler, lead_command{lead}, meta()).ok());
  REQUIRE(
      commands::execute(handler, lead_command{mark_lead_contacted{lead_id{"l1"}}}, meta()).ok());

  commands::convert_lead_request request;
  request.lead = lead_id{"l1"};
  request.contact = contact_id{"c1"};
  request.company = company_id{"co1"};
  request.deal = commands::convert_lead_request::deal_part{
      deal_id{"d1"}, kPipeline, kLead, "", money{5000, "GBP"}, std::nullopt};
  const auto head = store->head_position();

  SUBCASE("an unqualified lead converts nothing") {
    auto r = commands::convert_lead(handler, request, meta());
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == rejection_code::invalid_state);
    CHECK(store->head_position() == head);
  }
  SUBCASE("a failing part (unknown stage) converts nothing") {
    REQUIRE(commands::execute(handler, lead_command{qualify_lead{lead_id{"l1"}}}, meta()).ok());
    const auto qualified_head = store->head_position();
    request.deal->stage = stage_id{"nope"};
    auto r = commands::convert_lead(handler, request, meta());
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().field == "deal.stage_id");
    CHECK(store->head_position() == qualified_head);
    CHECK(store->stream_version("contact-c1") == 0);
  }
  SUBCASE("a qualified lead converts in one append, once") {
    REQUIRE(commands::execute(handler, lead_command{qualify_lead{lead_id{"l1"}}}, meta()).ok());
    auto r = commands::convert_lead(handler, request, meta("convert-1", "fp"));
    REQUIRE(r.ok());
    CHECK(r.result().streams.size() == 4);
    const auto contact = handler.load<contact_aggregate>("c1");
    CHECK(contact.state.first_name == "Ada");
    CHECK(contact.state.last_name == "Lovelace");
    CHECK(handler.load<company_aggregate>("co1").state.name == "Analytical Engines");
    const auto deal = handler.load<deal_aggregate>("d1");
    CHECK(deal.state.title == "Ada Lovelace");
    CHECK(deal.state.contacts.count(contact_id{"c1"}) == 1);
    CHECK(handler.load<lead_aggregate>("l1").state.status == lead_status::converted);

    const auto after = store->head_position();
    auto retry = commands::convert_lead(handler, request, meta("convert-1", "fp"));
    REQUIRE(retry.ok());
    CHECK(retry.result().replayed);
    CHECK(store->head_position() == after);
    // Without the key, a second conversion is refused by the lead itself.
    auto again = commands::convert_lead(handler, request, meta());
    CHECK_FALSE(again.ok());
    CHECK(store->head_position() == after);
  }
}

TEST_CASE_TEMPLATE("merging contacts marks every duplicate in the same append", B, sqlite_backend,
                   postgres_backend) {
  auto store = B::make_store();
  command_handler handler(*store);
  for (const auto* id : {"c1", "c2", "c3"}) {
    create_contact c;
    c.contact = contact_id{id};
    c.last_name = std::string("Name ") + id;
    c.emails.push_back({std::string(id) + "@example.com", true});
    REQUIRE(commands::execute(handler, contact_command{c}, meta()).ok());
  }
  auto merged = commands::merge_contacts(
      handler, merge_contacts{contact_id{"c1"}, {contact_id{"c2"}, contact_id{"c3"}}}, meta());
  REQUIRE(merged.ok());
  CHECK(merged.result().streams.size() == 3);
  const auto survivor = handler.load<contact_aggregate>("c1");
  CHECK(survivor.state.emails.size() == 3);
  CHECK(handler.load<contact_aggregate>("c2").state.merged_into == contact_id{"c1"});

  const auto head = store->head_position();
  auto missing = commands::merge_contacts(
      handler, merge_contacts{contact_id{"c1"}, {contact_id{"ghost"}}}, meta());
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().field == "duplicates/0");
  CHECK(store->head_position() == head);
}
