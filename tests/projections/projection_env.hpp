// What projection tests stand on: a fresh event store and read-model database per backend (the
// read models live beside the events: the same SQLite file, the same PostgreSQL schema), domain
// events appended as the command path would, and a projector run until it has caught up.
#pragma once

#include <doctest/doctest.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "infra/event_codec.hpp"
#include "infra/event_metadata.hpp"
#include "infra/ids.hpp"
#include "infra/sql/sql_database.hpp"
#include "projections/projector.hpp"
#include "tests/infra/store_backends.hpp"

namespace realmkit::testing {

using namespace std::chrono_literals;

template <class Backend>
class projection_env {
 public:
  projection_env() : env_(Backend::make_store_and_database()) {}

  infra::event_store& store() { return *env_.store; }
  infra::sql::database& db() { return *env_.db; }

  // Appends domain events (of one aggregate's variant, or single event structs) to a stream as
  // the command path would: encoded by the codec, with metadata naming the actor. Returns the
  // position of the last one.
  template <class... Events>
  std::int64_t append(const std::string& stream_id, const Events&... events) {
    return append_as("user-test", stream_id, events...);
  }
  template <class... Events>
  std::int64_t append_as(const std::string& actor, const std::string& stream_id,
                         const Events&... events) {
    infra::event_metadata metadata;
    metadata.actor = actor;
    metadata.correlation_id = infra::new_uuid_v7();
    const auto meta = infra::encode_metadata(metadata);
    infra::stream_write write{stream_id, std::nullopt, {}};
    (write.events.push_back(infra::encode_event(events, infra::new_uuid_v7(), meta)), ...);
    return store().append(write).position;
  }

  // A projector over the given projections, started.
  std::unique_ptr<projections::projector> start(
      std::vector<std::shared_ptr<const projections::projection>> list,
      projections::projector_options options = {}) {
    if (options.idle_wait > 50ms) options.idle_wait = 50ms;
    if (options.retry_delay > 100ms) options.retry_delay = 100ms;
    auto p = std::make_unique<projections::projector>(store(), db(), std::move(list),
                                                      std::move(options));
    p->start();
    return p;
  }

  // Waits until every projection of the projector has applied the store's head.
  void catch_up(projections::projector& p, std::chrono::milliseconds timeout = 20s) {
    const auto head = store().head_position();
    const bool reached = p.wait_for(head, timeout);
    if (!reached) {
      for (const auto& s : p.status()) {
        MESSAGE(s.name << ": " << to_string(s.state) << " at " << s.checkpoint << " of " << head
                       << (s.error ? " — " + *s.error : std::string()));
      }
    }
    REQUIRE(reached);
  }

  // Rows of a query on a pooled session.
  std::vector<infra::sql::row> query(std::string_view sql,
                                     std::vector<infra::sql::value> params = {}) {
    auto session = db().acquire();
    return session->query(sql, params);
  }

 private:
  store_and_database env_;
};

}  // namespace realmkit::testing
