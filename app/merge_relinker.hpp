// After a contact merge, moves every activity, task and deal that still names a duplicate to its
// survivor: a thread in the projector role that reads the relinks owed from the merge_links read
// model (projections/merges) and issues the relink commands, on behalf of whoever merged and
// under the merge's correlation id, so the audit trail shows them as the merge's consequences.
//
// It keeps no state of its own. A relink is owed until the read model has applied its event, and
// relinking is idempotent by state, so a crash at any point, a second projector process doing the
// same, or a restart in the middle of a merge moves each item exactly once.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "commands/command_handler.hpp"
#include "infra/metrics.hpp"
#include "infra/sql/sql_database.hpp"
#include "projections/projector.hpp"

namespace realmkit::app {

struct merge_relinker_options {
  std::chrono::milliseconds interval{500};  // between looks when nothing is owed
  std::size_t batch = 200;                  // relinks read per look
  // How long an item whose relink was refused is left alone before it is tried again.
  std::chrono::milliseconds refused_backoff{std::chrono::minutes{1}};
  std::function<domain::timestamp()> clock;  // the system clock when empty
  infra::metrics_registry* metrics = nullptr;
};

class merge_relinker {
 public:
  // Everything must outlive the relinker. Nothing runs before start().
  merge_relinker(commands::command_handler& commands, infra::sql::database& db,
                 const projections::projector& projector, merge_relinker_options options = {});
  ~merge_relinker();
  merge_relinker(const merge_relinker&) = delete;
  merge_relinker& operator=(const merge_relinker&) = delete;

  void start();  // idempotent
  void stop();   // after the relink in progress; idempotent

  // One look: issues the relinks owed now and waits until the read model has applied them.
  // Returns how many moved an item (the others were no-ops or refused).
  std::size_t run_once();

 private:
  void run();

  commands::command_handler& commands_;
  infra::sql::database& db_;
  const projections::projector& projector_;
  merge_relinker_options options_;
  infra::counter* relinked_ = nullptr;
  infra::counter* refused_ = nullptr;
  infra::counter* failures_ = nullptr;
  // Items whose relink was refused, and until when they are skipped.
  std::map<std::string, std::chrono::steady_clock::time_point> refused_until_;

  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace realmkit::app
