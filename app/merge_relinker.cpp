#include "app/merge_relinker.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <exception>

#include "commands/crm_commands.hpp"
#include "projections/merges/merge_links_projection.hpp"

namespace realmkit::app {
namespace {

using namespace std::chrono_literals;

commands::outcome relink(commands::command_handler& handler,
                         const projections::merges::pending_relink& r,
                         const commands::command_metadata& meta) {
  const domain::entity_ref from{domain::entity_kind::contact, r.from_contact};
  const domain::entity_ref to{domain::entity_kind::contact, r.to_contact};
  if (r.item_kind == "activity") {
    return commands::execute(
        handler, domain::activity_command{domain::relink_activity{{r.item_id}, from, to}}, meta);
  }
  if (r.item_kind == "task") {
    return commands::execute(
        handler, domain::task_command{domain::relink_task{{r.item_id}, from, to}}, meta);
  }
  if (r.item_kind == "deal") {
    return commands::execute(handler,
                             domain::deal_command{domain::relink_deal_contact{
                                 {r.item_id}, {r.from_contact}, {r.to_contact}}},
                             meta);
  }
  return domain::invalid("item_kind", "no relink for a " + r.item_kind);
}

}  // namespace

merge_relinker::merge_relinker(commands::command_handler& commands, infra::sql::database& db,
                               const projections::projector& projector,
                               merge_relinker_options options)
    : commands_(commands), db_(db), projector_(projector), options_(std::move(options)) {
  if (auto* m = options_.metrics) {
    relinked_ = &m->counter_for("realmkit_merge_relinks_total",
                                "Activities, tasks and deals moved to a merge's survivor");
    refused_ = &m->counter_for("realmkit_merge_relinks_refused_total",
                               "Relinks a merge owed that the command refused");
    failures_ = &m->counter_for("realmkit_merge_relinker_failures_total",
                                "Looks for owed relinks that failed (database or store errors)");
  }
}

merge_relinker::~merge_relinker() {
  stop();
}

void merge_relinker::start() {
  std::lock_guard lock(mutex_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { run(); });
}

void merge_relinker::stop() {
  {
    std::lock_guard lock(mutex_);
    if (!thread_.joinable()) return;
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

std::size_t merge_relinker::run_once() {
  std::vector<projections::merges::pending_relink> owed;
  {
    auto session = db_.acquire();
    owed = projections::merges::pending_relinks(*session, options_.batch);
  }
  const auto now = std::chrono::steady_clock::now();
  std::erase_if(refused_until_, [&](const auto& entry) { return entry.second <= now; });
  std::size_t moved = 0;
  std::int64_t last_position = 0;
  for (const auto& r : owed) {
    const auto key = r.item_kind + '\n' + r.item_id + '\n' + r.from_contact;
    if (refused_until_.contains(key)) continue;
    commands::command_metadata meta;
    meta.actor = domain::user_id{r.actor_id.empty() ? std::string("system") : r.actor_id};
    meta.now = options_.clock ? options_.clock()
                              : std::chrono::time_point_cast<std::chrono::microseconds>(
                                    std::chrono::system_clock::now());
    meta.correlation_id = r.correlation_id;
    meta.causation_id = r.merge_event_id;
    const auto result = relink(commands_, r, meta);
    if (!result.ok()) {
      // Not a transient failure: the item's own rules refuse it. Others must not wait behind it.
      spdlog::warn("merge relinker: the {} {} still names merged contact {}: {} ({})", r.item_kind,
                   r.item_id, r.from_contact, result.error().reason, result.error().field);
      if (refused_) refused_->inc();
      refused_until_[key] = now + options_.refused_backoff;
      continue;
    }
    // A no-op answers with the item's last position: the relink someone else made, which the
    // read model must have seen too before it stops owing it.
    last_position = std::max(last_position, result.result().position);
    if (!result.result().streams.empty()) {
      ++moved;
      if (relinked_) relinked_->inc();
    }
  }
  // The read model must have seen these relinks before the next look, or it would owe them again.
  if (last_position > 0) {
    const std::array<std::string, 1> names{std::string(projections::merges::kProjectionName)};
    projector_.wait_for(last_position, 10s, names);
  }
  return moved;
}

void merge_relinker::run() {
  auto pause = options_.interval;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      if (wake_.wait_for(lock, pause, [&] { return stopping_; })) return;
    }
    try {
      pause = run_once() > 0 ? 0ms : options_.interval;
    } catch (const std::exception& e) {
      spdlog::warn("merge relinker: {}", e.what());
      if (failures_) failures_->inc();
      pause = std::max(options_.interval, std::chrono::milliseconds(2s));
    }
  }
}

}  // namespace realmkit::app
