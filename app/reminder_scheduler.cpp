#include "app/reminder_scheduler.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <exception>

#include "commands/crm_commands.hpp"
#include "projections/reminders/reminders_projection.hpp"

namespace realmkit::app {
namespace {

using namespace std::chrono_literals;

constexpr std::array<double, 8> kLatenessBuckets{0.01, 0.05, 0.1, 0.5, 1, 5, 60, 3600};

}  // namespace

reminder_scheduler::reminder_scheduler(commands::command_handler& commands,
                                       infra::sql::database& db,
                                       const projections::projector& projector,
                                       reminder_scheduler_options options)
    : commands_(commands), db_(db), projector_(projector), options_(std::move(options)) {
  if (auto* m = options_.metrics) {
    fired_ = &m->counter_for("realmkit_task_reminders_total", "Task reminders recorded");
    failures_ = &m->counter_for("realmkit_reminder_scheduler_failures_total",
                                "Looks for due reminders that failed (database or store errors)");
    lateness_ =
        &m->histogram_for("realmkit_task_reminder_lateness_seconds",
                          "How long after its time a reminder was recorded", kLatenessBuckets);
  }
}

reminder_scheduler::~reminder_scheduler() {
  stop();
}

void reminder_scheduler::start() {
  std::lock_guard lock(mutex_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { run(); });
}

void reminder_scheduler::stop() {
  {
    std::lock_guard lock(mutex_);
    if (!thread_.joinable()) return;
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

domain::timestamp reminder_scheduler::now() const {
  if (options_.clock) return options_.clock();
  return std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
}

std::size_t reminder_scheduler::run_once() {
  const auto at = now();
  std::vector<projections::reminders::due_reminder> due;
  {
    auto session = db_.acquire();
    due = projections::reminders::due_reminders(*session, at.time_since_epoch().count(),
                                                options_.batch);
  }
  std::size_t fired = 0;
  std::int64_t last_position = 0;
  for (const auto& r : due) {
    domain::reminder_kind kind{};
    if (!domain::from_string(r.kind, kind)) continue;  // written by this version: cannot happen
    const domain::timestamp due_at{std::chrono::microseconds{r.due_at_us}};
    commands::command_metadata meta;
    meta.actor = domain::user_id{"system"};
    meta.now = at;
    // One correlation per reminder: the audit trail groups every attempt at it.
    meta.correlation_id =
        "reminder:" + r.task_id + ":" + r.kind + ":" + std::to_string(r.due_at_us);
    const auto result = commands::execute(
        commands_, domain::task_command{domain::remind_task{{r.task_id}, kind, due_at}}, meta);
    if (!result.ok()) {
      spdlog::warn("reminder scheduler: task {}: {} ({})", r.task_id, result.error().reason,
                   result.error().field);
      continue;
    }
    last_position = std::max(last_position, result.result().position);
    if (result.result().streams.empty()) continue;
    ++fired;
    if (fired_) fired_->inc();
    if (lateness_) {
      const domain::timestamp fire_at{std::chrono::microseconds{r.fire_at_us}};
      lateness_->observe(std::chrono::duration<double>(at - fire_at).count());
    }
  }
  // The read model must have seen these before the next look, or it would still list them.
  if (last_position > 0) {
    const std::array<std::string, 1> names{std::string(projections::reminders::kProjectionName)};
    projector_.wait_for(last_position, 10s, names);
  }
  return fired;
}

std::chrono::milliseconds reminder_scheduler::pause() {
  std::optional<std::int64_t> next;
  {
    auto session = db_.acquire();
    next = projections::reminders::next_fire_time(*session);
  }
  if (!next) return options_.max_sleep;
  const auto until = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::microseconds{*next} - now().time_since_epoch());
  return std::clamp(until, std::chrono::milliseconds{0}, options_.max_sleep);
}

void reminder_scheduler::run() {
  std::chrono::milliseconds wait{0};
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      if (wake_.wait_for(lock, wait, [&] { return stopping_; })) return;
    }
    try {
      const auto fired = run_once();
      const auto next = pause();
      // Due reminders of which none could be recorded (refused, or a read model behind): look
      // again later rather than at once, or the loop would spin on them.
      wait = fired == 0 && next == std::chrono::milliseconds{0} ? options_.max_sleep : next;
    } catch (const std::exception& e) {
      spdlog::warn("reminder scheduler: {}", e.what());
      if (failures_) failures_->inc();
      wait = std::max(options_.max_sleep, std::chrono::milliseconds(2s));
    }
  }
}

}  // namespace realmkit::app
