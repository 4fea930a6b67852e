#include "api/audit/past_read_model.hpp"

#include <stdexcept>
#include <system_error>

#include "api/audit/log_reader.hpp"
#include "infra/ids.hpp"
#include "infra/migrations.hpp"
#include "projections/catalog.hpp"

namespace realmkit::api::audit {

namespace sql = infra::sql;

struct past_read_model::part {
  std::shared_ptr<const projections::projection> projection;
  projections::relation_names names;
  std::unique_ptr<projections::projection_writer> writer;
};

namespace {

// Events folded in memory before their rows are written: a rebuild's batch size.
constexpr std::size_t kBatchEvents = 50'000;

void create_catalog(sql::session& db) {
  for (const auto& m : infra::migrations_for(infra::backend::sqlite)) {
    if (m.name.find("projections") != std::string_view::npos) {
      db.exec_script(m.sql);
      return;
    }
  }
  throw std::logic_error("no SQLite migration creates the projections' catalog");
}

}  // namespace

past_read_model::past_read_model(
    infra::event_store& store,
    std::vector<std::shared_ptr<const projections::projection>> projections)
    : store_(store),
      dir_(std::filesystem::temp_directory_path() / ("realmkit-past-" + infra::new_uuid_v7())) {
  std::filesystem::create_directories(dir_);
  try {
    sql::sqlite_options options;
    options.path = dir_ / "past.db";
    options.max_sessions = 1;
    options.checkpoint_pages = 0;
    db_ = sql::open_sqlite_database(options);
    session_ = db_->open_session();
    // Thrown away after the request: durability buys nothing here.
    session_->exec_script("PRAGMA synchronous = OFF");
    sql::transaction tx(*session_);
    create_catalog(*session_);
    for (auto& p : projections) {
      const auto g =
          projections::create_generation(*session_, *p, projections::generation_state::live);
      projections::relation_names names(g.generation);
      auto writer = p->open(names);
      parts_.push_back(part{std::move(p), names, std::move(writer)});
    }
    tx.commit();
  } catch (...) {
    parts_.clear();
    session_.reset();
    db_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
    throw;
  }
}

past_read_model::~past_read_model() {
  parts_.clear();
  session_.reset();
  db_.reset();
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

void past_read_model::advance_to(std::int64_t position) {
  if (position < position_) {
    throw std::invalid_argument("a past read model only moves forward");
  }
  auto& db = *session_;
  while (position_ < position) {
    const auto end = std::min<std::int64_t>(position, position_ + kBatchEvents);
    sql::transaction tx(db);
    std::vector<projections::apply_context> contexts;
    contexts.reserve(parts_.size());
    for (auto& p : parts_) {
      contexts.push_back({db, p.names, projections::apply_mode::rebuild, true});
      if (!projections::claim_batch(db, p.projection->name(), p.names.generation(),
                                    projections::generation_state::live, position_)) {
        throw std::logic_error("a past read model's catalog moved under it");
      }
    }
    const auto reached =
        scan_log_ahead(store_, position_, end, [&](const infra::recorded_event& e) {
          for (std::size_t i = 0; i < parts_.size(); ++i) {
            if (!parts_[i].projection->handles(e.type)) continue;
            parts_[i].writer->apply(e, contexts[i]);
            ++applied_;
          }
          return true;
        });
    if (reached < end) {
      throw infra::corrupt_event("the log ends at position " + std::to_string(reached) +
                                 ", before " + std::to_string(end));
    }
    for (std::size_t i = 0; i < parts_.size(); ++i) {
      parts_[i].writer->flush(contexts[i]);
      projections::advance(db, parts_[i].projection->name(), parts_[i].names.generation(), end);
    }
    tx.commit();
    position_ = end;
  }
}

}  // namespace realmkit::api::audit
