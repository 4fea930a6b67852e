// A merge leaves nothing behind on the duplicates: every activity, task and deal that named one
// names the survivor, exactly once, however the relinker is interrupted or duplicated, on both
// backends.
#include "app/merge_relinker.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <vector>

#include "commands/crm_commands.hpp"
#include "infra/event_metadata.hpp"
#include "projections/merges/merge_links_projection.hpp"
#include "projections/timeline/timeline_projection.hpp"
#include "tests/infra/store_backends.hpp"
#include "tests/projections/projection_env.hpp"

using namespace realmkit;
using namespace realmkit::domain;
using namespace std::chrono_literals;
using realmkit::testing::postgres_backend;
using realmkit::testing::projection_env;
using realmkit::testing::sqlite_backend;

namespace {

const timestamp kNow =
    std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());

commands::command_metadata by(const std::string& actor, const std::string& correlation = "") {
  commands::command_metadata meta;
  meta.actor = user_id{actor};
  meta.now = kNow;
  meta.correlation_id = correlation.empty() ? infra::new_uuid_v7() : correlation;
  return meta;
}

void create_contact_named(commands::command_handler& handler, const std::string& id) {
  create_contact c;
  c.contact = contact_id{id};
  c.last_name = "Person " + id;
  c.owner = user_id{"rep"};
  REQUIRE(commands::execute(handler, contact_command{c}, by("rep")).ok());
}

deal_created deal_with(const std::string& id, std::vector<contact_id> contacts) {
  deal_created e;
  e.deal = deal_id{id};
  e.pipeline = pipeline_id{"p1"};
  e.stage = stage_id{"s1"};
  e.title = "Deal " + id;
  e.value = {100, "EUR"};
  e.owner = user_id{"rep"};
  e.contacts = std::move(contacts);
  e.at = kNow;
  return e;
}

activity_logged activity_about(const std::string& id, const std::string& contact) {
  activity_logged a;
  a.activity = activity_id{id};
  a.type = activity_type::call;
  a.subject = {entity_kind::contact, contact};
  a.summary = "Call " + id;
  a.occurred_at = kNow - std::chrono::hours(1);
  a.owner = user_id{"rep"};
  return a;
}

task_created task_about(const std::string& id, const std::string& contact) {
  task_created t;
  t.task = task_id{id};
  t.title = "Task " + id;
  t.assignee = user_id{"rep"};
  t.link = entity_ref{entity_kind::contact, contact};
  return t;
}

template <class Backend>
struct merge_fixture {
  projection_env<Backend> env;
  commands::command_handler handler{env.store()};
  std::unique_ptr<projections::projector> projector =
      env.start({std::make_shared<projections::merges::merge_links_projection>(),
                 std::make_shared<projections::timeline::timeline_projection>()});

  app::merge_relinker relinker(app::merge_relinker_options options = {}) {
    return app::merge_relinker(handler, env.db(), *projector, std::move(options));
  }

  std::int64_t owed() {
    env.catch_up(*projector);
    auto session = env.db().acquire();
    return static_cast<std::int64_t>(projections::merges::pending_relinks(*session, 1000).size());
  }

  // Every event of the given type in the store.
  std::vector<infra::recorded_event> events_of(std::string_view type) {
    std::vector<infra::recorded_event> out;
    for (const auto& e : env.store().read_all(0, 100'000)) {
      if (e.type == type) out.push_back(e);
    }
    return out;
  }

  std::vector<std::string> timeline_items(const std::string& contact) {
    std::vector<std::string> out;
    for (const auto& r :
         env.query("SELECT entry, item_id FROM rm_timeline WHERE entity_kind = 'contact' AND "
                   "entity_id = $1 AND entry <> 'event' ORDER BY item_id",
                   {contact})) {
      out.push_back(r.text(0) + ":" + r.text(1));
    }
    return out;
  }
};

}  // namespace

TEST_CASE_TEMPLATE(
    "merge relinker: every activity, task and deal of a duplicate moves to the "
    "survivor, once, under the merge's correlation",
    B, sqlite_backend, postgres_backend) {
  merge_fixture<B> f;
  for (const auto* id : {"keep", "dup1", "dup2", "other"}) create_contact_named(f.handler, id);
  f.env.append("deal-d1", deal_with("d1", {contact_id{"dup1"}}));
  f.env.append("deal-d2", deal_with("d2", {contact_id{"dup1"}, contact_id{"keep"}}));
  f.env.append("deal-d3", deal_with("d3", {contact_id{"dup2"}, contact_id{"other"}}),
               deal_lost{deal_id{"d3"}, "Price", kNow}, deal_archived{deal_id{"d3"}});
  f.env.append("deal-d4", deal_with("d4", {}),
               deal_contact_linked{deal_id{"d4"}, contact_id{"dup2"}},
               deal_contact_unlinked{deal_id{"d4"}, contact_id{"dup2"}});
  f.env.append("activity-a1", activity_about("a1", "dup1"));
  f.env.append("activity-a2", activity_about("a2", "dup2"));
  f.env.append("activity-a3", activity_about("a3", "dup1"), activity_deleted{activity_id{"a3"}});
  f.env.append("activity-a4", activity_about("a4", "other"));
  f.env.append("task-t1", task_about("t1", "dup1"));
  f.env.append("task-t2", task_about("t2", "dup2"), task_completed{task_id{"t2"}, kNow});
  CHECK(f.owed() == 0);

  // dup2 into dup1 first, then dup1 into keep: dup2's items go straight to keep.
  REQUIRE(commands::merge_contacts(f.handler,
                                   merge_contacts{contact_id{"dup1"}, {contact_id{"dup2"}}},
                                   by("manager", "merge-1"))
              .ok());
  REQUIRE(commands::merge_contacts(f.handler,
                                   merge_contacts{contact_id{"keep"}, {contact_id{"dup1"}}},
                                   by("manager", "merge-2"))
              .ok());
  CHECK(f.owed() == 8);  // a1 a3 t1 d1 d2 (dup1); a2 t2 d3 (dup2) — d4 no longer names dup2

  // Two relinkers at once (two projector processes) and a second look move nothing twice.
  auto first = f.relinker();
  auto second = f.relinker();
  std::size_t moved_by_other = 0;
  std::thread other([&] { moved_by_other = second.run_once(); });
  const auto moved = first.run_once();
  other.join();
  CHECK(moved + moved_by_other == 8);  // the loser of a race reloads and finds nothing to do
  CHECK(f.owed() == 0);
  CHECK(first.run_once() == 0);

  const auto survivor = entity_ref{entity_kind::contact, "keep"};
  for (const auto* a : {"a1", "a2", "a3"}) {
    CAPTURE(a);
    CHECK(f.handler.template load<activity_aggregate>(a).state.subject == survivor);
  }
  CHECK(f.handler.template load<activity_aggregate>("a3").state.deleted);
  CHECK(f.handler.template load<activity_aggregate>("a4").state.subject ==
        entity_ref{entity_kind::contact, "other"});
  for (const auto* t : {"t1", "t2"}) {
    CAPTURE(t);
    CHECK(f.handler.template load<task_aggregate>(t).state.link == survivor);
  }
  CHECK(f.handler.template load<task_aggregate>("t2").state.done);
  using contacts = std::set<contact_id>;
  CHECK(f.handler.template load<deal_aggregate>("d1").state.contacts == contacts{{"keep"}});
  CHECK(f.handler.template load<deal_aggregate>("d2").state.contacts == contacts{{"keep"}});
  CHECK(f.handler.template load<deal_aggregate>("d3").state.contacts ==
        contacts{{"keep"}, {"other"}});
  CHECK(f.handler.template load<deal_aggregate>("d3").state.archived);
  CHECK(f.handler.template load<deal_aggregate>("d4").state.contacts.empty());

  // One relink event per item, each on behalf of whoever merged, caused by the merge that made
  // the item owed: dup2's items by the first merge (then on to keep, where dup1 went).
  const auto merges = f.events_of("contact.merged_into.v1");
  REQUIRE(merges.size() == 2);
  const std::set<std::string> owed_by_first{"activity-a2", "task-t2", "deal-d3"};
  std::size_t relinks = 0;
  for (const auto* type :
       {"activity.relinked.v1", "task.relinked.v1", "deal.contact_relinked.v1"}) {
    for (const auto& e : f.events_of(type)) {
      CAPTURE(e.stream_id);
      ++relinks;
      const bool first_merge = owed_by_first.contains(e.stream_id);
      const auto meta = infra::decode_metadata(e.metadata);
      CHECK(meta.actor == "manager");
      CHECK(meta.correlation_id == (first_merge ? "merge-1" : "merge-2"));
      CHECK(meta.causation_id == merges[first_merge ? 0 : 1].event_id);
    }
  }
  CHECK(relinks == 8);

  // The survivor's timeline holds what was logged about either duplicate; theirs hold only
  // their own history.
  CHECK(f.timeline_items("keep") ==
        std::vector<std::string>{"activity:a1", "activity:a2", "task:t1", "task:t2"});
  CHECK(f.timeline_items("dup1").empty());
  CHECK(f.timeline_items("dup2").empty());
  CHECK_FALSE(f.env
                  .query("SELECT 1 FROM rm_timeline WHERE entity_kind = 'contact' AND entity_id "
                         "= 'dup1' AND entry = 'event'")
                  .empty());
}

TEST_CASE_TEMPLATE(
    "merge relinker: what names a duplicate after the merge follows it, and a "
    "restart owes nothing twice",
    B, sqlite_backend, postgres_backend) {
  merge_fixture<B> f;
  for (const auto* id : {"keep", "dup"}) create_contact_named(f.handler, id);
  REQUIRE(commands::merge_contacts(
              f.handler, merge_contacts{contact_id{"keep"}, {contact_id{"dup"}}}, by("manager"))
              .ok());
  {
    auto relinker = f.relinker({.interval = 20ms});
    relinker.start();
    // Logged against the duplicate by someone whose screen was stale.
    f.env.append("activity-late", activity_about("late", "dup"));
    f.env.append("deal-late", deal_with("late", {contact_id{"dup"}}));
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (f.owed() > 0 || f.events_of("deal.contact_relinked.v1").empty()) {
      REQUIRE(std::chrono::steady_clock::now() < deadline);
      std::this_thread::sleep_for(20ms);
    }
    relinker.stop();
  }
  CHECK(f.handler.template load<activity_aggregate>("late").state.subject ==
        entity_ref{entity_kind::contact, "keep"});
  CHECK(f.handler.template load<deal_aggregate>("late").state.contacts ==
        std::set<contact_id>{{"keep"}});

  // A relinker started afresh (a restarted process) finds nothing owed.
  const auto head = f.env.store().head_position();
  auto restarted = f.relinker();
  CHECK(restarted.run_once() == 0);
  CHECK(f.env.store().head_position() == head);
}

TEST_CASE_TEMPLATE("merge relinker: a refused relink is set aside and does not hold up the others",
                   B, sqlite_backend, postgres_backend) {
  merge_fixture<B> f;
  for (const auto* id : {"keep", "dup"}) create_contact_named(f.handler, id);
  // A damaged log: a task event filed under another task's stream, so the read model owes a
  // relink for a task whose own stream does not exist, which the command refuses (not found).
  f.env.append("task-stray", task_about("missing", "dup"));
  f.env.append("activity-ok", activity_about("ok", "dup"));
  REQUIRE(commands::merge_contacts(
              f.handler, merge_contacts{contact_id{"keep"}, {contact_id{"dup"}}}, by("manager"))
              .ok());
  infra::metrics_registry metrics;
  auto relinker = f.relinker({.metrics = &metrics});
  CHECK(f.owed() == 2);
  CHECK(relinker.run_once() == 1);
  CHECK(f.handler.template load<activity_aggregate>("ok").state.subject ==
        entity_ref{entity_kind::contact, "keep"});
  CHECK(f.owed() == 1);
  CHECK(relinker.run_once() == 0);  // set aside: not tried again at once
  CHECK(metrics
            .counter_for("realmkit_merge_relinks_refused_total",
                         "Relinks a merge owed that the command refused")
            .value() == 1);
}
