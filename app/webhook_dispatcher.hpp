// Outgoing webhooks at work, in the projector role: an enqueuer that follows the event log and a
// few senders that deliver what it enqueued (docs/webhooks.md).
//
// The enqueuer reads the log (personal fields opened, as the API shows them) after each active
// subscription's position and, per subscription, inserts a delivery for every matching event and
// moves the position in one transaction, guarded by the position it read: each event is enqueued
// once per subscription, also with several projector processes or after a crash. Senders claim
// due deliveries under a lease, build the body from the log at that moment (so a person erased
// meanwhile goes out erased), check the target again, sign, POST, and record the attempt: a
// delivery is at least once (a crash between the POST and its record sends it again), and its
// id lets receivers drop a repeat.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "app/webhook_sender.hpp"
#include "infra/event_store.hpp"
#include "infra/metrics.hpp"
#include "infra/webhooks/webhook_retry.hpp"
#include "infra/webhooks/webhook_store.hpp"
#include "infra/webhooks/webhook_target.hpp"

namespace realmkit::app {

struct webhook_dispatcher_options {
  // The longest the enqueuer and idle senders wait before looking again (appends in this process
  // and enqueued deliveries wake them sooner).
  std::chrono::milliseconds poll_interval{500};
  std::size_t batch = 500;  // events examined per subscription and round
  std::size_t senders = 4;  // deliveries in flight at once
  infra::webhooks::retry_options retry;
  infra::webhooks::target_policy targets;
  webhook_sender_options http;
  // How long a claimed delivery is held by its sender: longer than an attempt can take.
  std::chrono::milliseconds lease{std::chrono::minutes(2)};
  // Finished deliveries (delivered or failed) and their attempts are forgotten this long after
  // they finished, looked for every prune_interval; zero: kept until their subscription is
  // deleted.
  std::chrono::hours keep_finished{24 * 30};
  std::chrono::milliseconds prune_interval{std::chrono::hours(1)};
  std::function<infra::timestamp()> clock;  // the system clock when empty
  std::function<double()> random;           // [0, 1) for the jitter; libsodium's when empty
  infra::metrics_registry* metrics = nullptr;
};

class webhook_dispatcher {
 public:
  // `log` is the event log as the API reads it; both must outlive the dispatcher. Nothing runs
  // before start().
  webhook_dispatcher(infra::event_store& log, infra::webhooks::webhook_store& store,
                     webhook_dispatcher_options options = {});
  ~webhook_dispatcher();
  webhook_dispatcher(const webhook_dispatcher&) = delete;
  webhook_dispatcher& operator=(const webhook_dispatcher&) = delete;

  void start();  // idempotent
  void stop();   // after the attempts in progress; idempotent

  // One round of the enqueuer: every active subscription moves ahead by at most one batch.
  // Returns the deliveries enqueued.
  std::size_t enqueue_once();
  // One round of a sender: claims up to `max` due deliveries and attempts each. Returns how many
  // were attempted.
  std::size_t deliver_once(std::size_t max = 1);
  // Forgets the deliveries finished longer than keep_finished ago. Returns how many.
  std::size_t prune_once();

 private:
  std::size_t enqueue_round(bool& advanced);
  void run_enqueuer();
  void run_sender();
  void attempt(const infra::webhooks::claimed_delivery& claimed);
  infra::timestamp now() const;
  // Waits up to `pause`, or until stopping or woken; true when stopping.
  bool pause(std::chrono::milliseconds pause);

  infra::event_store& log_;
  infra::webhooks::webhook_store& store_;
  webhook_dispatcher_options options_;
  webhook_sender sender_;
  infra::counter* enqueued_ = nullptr;
  infra::counter* delivered_ = nullptr;
  infra::counter* retried_ = nullptr;
  infra::counter* failed_ = nullptr;
  infra::counter* refused_ = nullptr;
  infra::counter* errors_ = nullptr;
  infra::histogram* duration_ = nullptr;
  infra::gauge* pending_ = nullptr;
  infra::counter* pruned_ = nullptr;

  std::mutex mutex_;  // guards stopping_ and generation_
  std::condition_variable wake_;
  bool stopping_ = false;
  std::uint64_t generation_ = 0;  // bumped when deliveries were enqueued: senders look at once
  std::vector<std::thread> threads_;
};

}  // namespace realmkit::app
