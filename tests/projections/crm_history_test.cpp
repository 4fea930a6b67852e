// The generated CRM history the crash tests and the projection benchmark stand on: every command
// in it is accepted by the domain, it is the same for the same seed, and it covers the funnel.
#include <doctest/doctest.h>

#include <map>

#include "tests/projections/projection_env.hpp"
#include "tests/support/crm_history.hpp"

namespace realmkit::testing {

TEST_CASE("crm history: deterministic, and covers every kind of record and the deal lifecycle") {
  crm_history a;
  crm_history b;
  std::map<std::string, int> types;
  std::size_t events = 0;
  for (int round = 0; round < 20; ++round) {
    const auto wa = a.next(1'000);
    const auto wb = b.next(1'000);
    REQUIRE(wa.size() == wb.size());
    for (std::size_t i = 0; i < wa.size(); ++i) {
      CHECK(wa[i].stream_id == wb[i].stream_id);
      REQUIRE(wa[i].events.size() == wb[i].events.size());
      for (std::size_t j = 0; j < wa[i].events.size(); ++j) {
        CHECK(wa[i].events[j].data == wb[i].events[j].data);
        ++types[wa[i].events[j].type];
        ++events;
      }
    }
  }
  CHECK(events >= 20'000);
  CHECK(events == a.total_events());
  for (const char* type :
       {"team.created.v1", "user.registered.v1", "pipeline.created.v1", "company.created.v1",
        "contact.created.v1", "lead.created.v1", "lead.qualified.v1", "lead.disqualified.v1",
        "lead.converted.v1", "deal.created.v1", "deal.stage_moved.v1", "deal.value_changed.v1",
        "deal.close_date_changed.v1", "deal.won.v1", "deal.lost.v1", "deal.reopened.v1",
        "activity.logged.v1", "task.created.v1", "task.completed.v1"}) {
    INFO(std::string(type));
    CHECK(types[type] > 0);
  }
}

TEST_CASE_TEMPLATE("crm history: appends as large multi-stream writes", Backend, sqlite_backend,
                   postgres_backend) {
  projection_env<Backend> env;
  crm_history history;
  const auto head = history.append_to(env.store(), 5'000);
  CHECK(head >= 5'000);
  CHECK(static_cast<std::size_t>(head) == history.total_events());
}

}  // namespace realmkit::testing
