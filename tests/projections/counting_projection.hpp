// A small projection for the runtime's tests: per stream, how many events it applied and the sum of
// their positions (a skipped or doubled event changes the sum), with the usual writer shape —
// a cache loaded on miss, dirty rows upserted in flush, everything dropped on discard.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "infra/sql/sql_database.hpp"
#include "projections/projection.hpp"

namespace realmkit::testing {

struct counting_options {
  std::string name = "counting";
  int version = 1;
  // Applying an event of this type throws (a projection bug, or data it cannot handle).
  std::string poison_type;
  // Counts every apply call, across writers.
  std::shared_ptr<std::atomic<std::int64_t>> applied =
      std::make_shared<std::atomic<std::int64_t>>();
};

class counting_projection final : public projections::projection {
 public:
  explicit counting_projection(counting_options options = {}) : options_(std::move(options)) {}

  std::string_view name() const override { return options_.name; }
  int version() const override { return options_.version; }
  std::vector<std::string> relations() const override { return {relation()}; }
  void create(infra::sql::session& db, const projections::relation_names& names) const override {
    db.exec_script("CREATE TABLE " + infra::sql::identifier(names(relation())) +
                   " (stream_id TEXT PRIMARY KEY, events BIGINT NOT NULL, position_sum BIGINT NOT "
                   "NULL, last_position BIGINT NOT NULL, version BIGINT NOT NULL)");
  }
  bool handles(std::string_view) const override { return true; }
  std::unique_ptr<projections::projection_writer> open(
      const projections::relation_names& names) const override {
    return std::make_unique<writer>(*this, names(relation()));
  }

  std::string relation() const { return "rm_test_" + options_.name; }

 private:
  struct row {
    std::int64_t events = 0;
    std::int64_t position_sum = 0;
    std::int64_t last_position = 0;
  };

  class writer final : public projections::projection_writer {
   public:
    writer(const counting_projection& owner, std::string table)
        : owner_(owner), table_(infra::sql::identifier(table)) {}

    void apply(const infra::recorded_event& e, projections::apply_context& ctx) override {
      owner_.options_.applied->fetch_add(1);
      if (!owner_.options_.poison_type.empty() && e.type == owner_.options_.poison_type) {
        throw std::runtime_error("poisoned event");
      }
      auto it = cache_.find(e.stream_id);
      if (it == cache_.end()) {
        row r;
        if (!ctx.fresh) {
          const infra::sql::value key[] = {e.stream_id};
          const auto rows = ctx.db.query(
              "SELECT events, position_sum, last_position FROM " + table_ + " WHERE stream_id = $1",
              key);
          if (!rows.empty()) {
            r = {rows[0].integer(0), rows[0].integer(1), rows[0].integer(2)};
          }
        }
        it = cache_.emplace(e.stream_id, r).first;
      }
      if (e.global_position <= it->second.last_position) {
        throw std::logic_error("event applied twice: position " +
                               std::to_string(e.global_position));
      }
      it->second.events += 1;
      it->second.position_sum += e.global_position;
      it->second.last_position = e.global_position;
      dirty_.insert(e.stream_id);
    }

    void flush(projections::apply_context& ctx) override {
      std::vector<std::vector<infra::sql::value>> rows;
      for (const auto& id : dirty_) {
        const auto& r = cache_.at(id);
        rows.push_back({id, r.events, r.position_sum, r.last_position, r.events});
      }
      ctx.db.execute_many("INSERT INTO " + table_ +
                              " (stream_id, events, position_sum, last_position, version) VALUES "
                              "($1, $2, $3, $4, $5) ON CONFLICT (stream_id) DO UPDATE SET events = "
                              "excluded.events, position_sum = excluded.position_sum, "
                              "last_position = excluded.last_position, version = excluded.version",
                          rows);
      dirty_.clear();
    }

    void discard() noexcept override {
      cache_.clear();
      dirty_.clear();
    }

   private:
    const counting_projection& owner_;
    std::string table_;
    std::map<std::string, row> cache_;
    std::set<std::string> dirty_;
  };

  counting_options options_;
};

}  // namespace realmkit::testing
