// Fires task reminders at their time: a thread in the projector role that reads what is owed
// from the reminders read model (projections/reminders) and issues remind_task for every reminder
// whose time has come, then sleeps until the next one (or a short while, since a task created
// meanwhile may be due sooner). The events it records reach the assignee's user:<id> room like
// any other task event.
//
// It keeps no state of its own: a reminder is owed until the read model has applied its
// task.reminded event, and remind_task records nothing for a reminder already sent, so a
// restart, a crash between the command and the read model, or several projector processes fire
// each reminder exactly once. A reminder whose time passed while no scheduler ran fires on start.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <thread>

#include "commands/command_handler.hpp"
#include "infra/metrics.hpp"
#include "infra/sql/sql_database.hpp"
#include "projections/projector.hpp"

namespace realmkit::app {

struct reminder_scheduler_options {
  // The longest sleep between looks: how late a reminder of a task created while the scheduler
  // slept can be at most.
  std::chrono::milliseconds max_sleep{std::chrono::seconds{1}};
  std::size_t batch = 200;                   // reminders fired per look, at most
  std::function<domain::timestamp()> clock;  // the system clock when empty
  infra::metrics_registry* metrics = nullptr;
};

class reminder_scheduler {
 public:
  // Everything must outlive the scheduler. Nothing runs before start().
  reminder_scheduler(commands::command_handler& commands, infra::sql::database& db,
                     const projections::projector& projector,
                     reminder_scheduler_options options = {});
  ~reminder_scheduler();
  reminder_scheduler(const reminder_scheduler&) = delete;
  reminder_scheduler& operator=(const reminder_scheduler&) = delete;

  void start();  // idempotent
  void stop();   // after the look in progress; idempotent

  // One look: fires every reminder due by now and waits until the read model has applied them.
  // Returns how many were recorded (the others had been sent already or were no longer owed).
  std::size_t run_once();

 private:
  void run();
  domain::timestamp now() const;
  // How long to sleep before the next look.
  std::chrono::milliseconds pause();

  commands::command_handler& commands_;
  infra::sql::database& db_;
  const projections::projector& projector_;
  reminder_scheduler_options options_;
  infra::counter* fired_ = nullptr;
  infra::counter* failures_ = nullptr;
  infra::histogram* lateness_ = nullptr;

  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace realmkit::app
