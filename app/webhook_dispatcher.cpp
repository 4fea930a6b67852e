#include "app/webhook_dispatcher.hpp"

#include <sodium.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>

#include "infra/crypto/random.hpp"
#include "infra/ids.hpp"
#include "infra/webhooks/webhook_events.hpp"
#include "infra/webhooks/webhook_signature.hpp"

namespace realmkit::app {
namespace {

namespace wh = infra::webhooks;
using namespace std::chrono_literals;

double sodium_unit_random() {
  infra::crypto::ensure_sodium();
  return static_cast<double>(randombytes_uniform(1'000'000)) / 1'000'000.0;
}

std::int64_t unix_seconds(infra::timestamp t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

}  // namespace

webhook_dispatcher::webhook_dispatcher(infra::event_store& log, wh::webhook_store& store,
                                       webhook_dispatcher_options options)
    : log_(log), store_(store), options_(std::move(options)), sender_(options_.http) {
  if (options_.senders == 0) options_.senders = 1;
  if (auto* m = options_.metrics) {
    enqueued_ = &m->counter_for("realmkit_webhook_deliveries_enqueued_total",
                                "Webhook deliveries enqueued for matching events");
    const auto attempts = [m](const char* outcome) {
      return &m->counter_for("realmkit_webhook_attempts_total",
                             "Webhook delivery attempts, by what followed", {{"outcome", outcome}});
    };
    delivered_ = attempts("delivered");
    retried_ = attempts("retry");
    failed_ = attempts("failed");
    refused_ = &m->counter_for("realmkit_webhook_targets_refused_total",
                               "Webhook attempts refused because the target resolved to a "
                               "private or reserved address");
    errors_ = &m->counter_for("realmkit_webhook_dispatcher_failures_total",
                              "Rounds of the webhook enqueuer or senders that failed (database "
                              "or store errors)");
    duration_ = &m->histogram_for("realmkit_webhook_attempt_duration_seconds",
                                  "Time from connecting to a webhook receiver to its answer",
                                  infra::latency_buckets());
    pending_ = &m->gauge_for("realmkit_webhook_deliveries_pending",
                             "Webhook deliveries waiting for their next attempt");
    pruned_ = &m->counter_for("realmkit_webhook_deliveries_pruned_total",
                              "Finished webhook deliveries forgotten after the retention period");
  }
}

webhook_dispatcher::~webhook_dispatcher() {
  stop();
}

void webhook_dispatcher::start() {
  std::lock_guard lock(mutex_);
  if (!threads_.empty()) return;
  stopping_ = false;
  threads_.emplace_back([this] { run_enqueuer(); });
  for (std::size_t i = 0; i < options_.senders; ++i) {
    threads_.emplace_back([this] { run_sender(); });
  }
}

void webhook_dispatcher::stop() {
  {
    std::lock_guard lock(mutex_);
    if (threads_.empty()) return;
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& t : threads_) t.join();
  threads_.clear();
}

infra::timestamp webhook_dispatcher::now() const {
  if (options_.clock) return options_.clock();
  return std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
}

bool webhook_dispatcher::pause(std::chrono::milliseconds pause) {
  std::unique_lock lock(mutex_);
  const auto seen = generation_;
  return wake_.wait_for(lock, pause, [&] { return stopping_ || generation_ != seen; }) && stopping_;
}

std::size_t webhook_dispatcher::enqueue_once() {
  bool advanced = false;
  return enqueue_round(advanced);
}

std::size_t webhook_dispatcher::enqueue_round(bool& advanced) {
  auto cursors = store_.active_cursors();  // ordered by position
  std::size_t enqueued = 0;
  // Subscriptions at the same position (the usual case: all of them at the head) share one read.
  std::map<std::int64_t, std::vector<infra::recorded_event>> read;
  for (const auto& cursor : cursors) {
    auto it = read.find(cursor.position);
    if (it == read.end()) {
      it = read.emplace(cursor.position, log_.read_all(cursor.position, options_.batch)).first;
    }
    const auto& events = it->second;
    if (events.empty()) continue;
    std::vector<wh::new_delivery> deliveries;
    for (const auto& e : events) {
      if (wh::matches(cursor.event_types, e.type)) deliveries.push_back({{}, &e});
    }
    // UUIDv7s of one millisecond are not ordered among themselves; sorted, they follow the log,
    // so a subscription's deliveries list (newest first, by id) shows one batch in log order.
    std::vector<std::string> ids(deliveries.size());
    for (auto& id : ids) id = infra::new_uuid_v7();
    std::sort(ids.begin(), ids.end());
    for (std::size_t i = 0; i < ids.size(); ++i) deliveries[i].id = std::move(ids[i]);
    // Lost to a replay, a deactivation or another dispatcher: the next round reads it afresh.
    if (!store_.enqueue(cursor, events.back().global_position, deliveries, now())) continue;
    advanced = true;
    enqueued += deliveries.size();
  }
  if (enqueued > 0) {
    if (enqueued_) enqueued_->inc(enqueued);
    {
      std::lock_guard lock(mutex_);
      ++generation_;
    }
    wake_.notify_all();
  }
  return enqueued;
}

std::size_t webhook_dispatcher::deliver_once(std::size_t max) {
  const auto claimed = store_.claim_due(now(), options_.lease, max);
  for (const auto& c : claimed) attempt(c);
  if (pending_) pending_->set(static_cast<double>(store_.pending_count()));
  return claimed.size();
}

void webhook_dispatcher::attempt(const wh::claimed_delivery& claimed) {
  const auto& d = claimed.delivery;
  wh::attempt a;
  a.number = d.attempts + 1;
  a.at = now();
  std::optional<std::chrono::seconds> retry_after;
  bool permanent = false;  // no retry, whatever the policy says

  // The event as the log shows it now, and the checked addresses of the target now.
  std::optional<infra::recorded_event> event;
  if (auto found = log_.read_all(d.event_position - 1, 1);
      !found.empty() && found[0].event_id == d.event_id) {
    event = std::move(found[0]);
  }
  std::string why;
  const auto url = wh::parse_target_url(claimed.url, why);
  if (!event) {
    a.error = "the event is not in the log";
    permanent = true;
  } else if (!url) {
    a.error = "the subscription's URL " + why;
    permanent = true;
  } else {
    std::vector<wh::ip_address> addresses;
    try {
      addresses = wh::checked_addresses(*url, options_.targets);
    } catch (const wh::target_refused& e) {
      a.error = std::string("refused: ") + e.what();
      permanent = true;
      if (refused_) refused_->inc();
      spdlog::warn("webhook delivery {} (subscription {}): {}", d.id, d.subscription_id, *a.error);
    } catch (const wh::target_unresolvable& e) {
      a.error = e.what();
    }
    if (!addresses.empty()) {
      webhook_post post;
      post.url = *url;
      post.addresses = std::move(addresses);
      post.body = wh::webhook_payload(*event);
      // Signed at the moment of sending: the receiver's tolerance counts from this attempt.
      const auto signed_at = unix_seconds(now());
      post.headers = {
          {std::string(wh::kSignatureHeader),
           wh::signature_header(claimed.secrets, signed_at, post.body)},
          {"RealmKit-Delivery", d.id},
          {"RealmKit-Event-Id", d.event_id},
          {"RealmKit-Event-Type", d.event_type},
          {"RealmKit-Attempt", std::to_string(a.number)},
      };
      a.at = now();  // the attempt is the POST: reading the event and the DNS come before it
      const auto answer = sender_.post(post);
      a.duration = answer.duration;
      a.status_code = answer.status;
      if (!answer.error.empty()) a.error = answer.error;
      if (answer.retry_after) retry_after = wh::parse_retry_after(*answer.retry_after, a.at);
      if (duration_) duration_->observe(std::chrono::duration<double>(answer.duration).count());
    }
  }

  const auto verdict = permanent                   ? wh::answer_verdict::fail
                       : a.error && !a.status_code ? wh::answer_verdict::retry
                                                   : wh::judge(a.status_code);
  std::optional<infra::timestamp> retry_at;
  if (verdict == wh::answer_verdict::delivered) {
    a.outcome = wh::attempt_outcome::delivered;
  } else if (verdict == wh::answer_verdict::retry && a.number < options_.retry.max_attempts) {
    a.outcome = wh::attempt_outcome::retry;
    const double r = options_.random ? options_.random() : sodium_unit_random();
    // Counted from the end of this attempt, so the receiver gets the whole wait.
    retry_at = now() + std::chrono::duration_cast<std::chrono::microseconds>(
                           wh::retry_delay(options_.retry, a.number, r, retry_after));
  } else {
    a.outcome = wh::attempt_outcome::failed;
    if (!a.error && a.status_code) {
      a.error = verdict == wh::answer_verdict::retry
                    ? "gave up after " + std::to_string(a.number) + " attempts"
                    : "the receiver answered " + std::to_string(*a.status_code);
    } else if (a.error && verdict == wh::answer_verdict::retry) {
      *a.error += " (gave up after " + std::to_string(a.number) + " attempts)";
    }
  }
  const bool recorded = store_.record_attempt(d.id, a, retry_at);
  auto* counted = a.outcome == wh::attempt_outcome::delivered ? delivered_
                  : a.outcome == wh::attempt_outcome::retry   ? retried_
                                                              : failed_;
  if (counted) counted->inc();
  const auto level =
      a.outcome == wh::attempt_outcome::delivered ? spdlog::level::info : spdlog::level::warn;
  spdlog::log(
      level, "webhook delivery {} (subscription {}, event {} at {}): attempt {} {}{}{} in {} ms{}",
      d.id, d.subscription_id, d.event_type, d.event_position, a.number, wh::to_string(a.outcome),
      a.status_code ? ", status " + std::to_string(*a.status_code) : std::string(),
      a.error ? ", " + *a.error : std::string(),
      std::chrono::duration_cast<std::chrono::milliseconds>(a.duration).count(),
      recorded ? std::string() : " (not recorded: the delivery changed meanwhile)");
}

std::size_t webhook_dispatcher::prune_once() {
  if (options_.keep_finished.count() <= 0) return 0;
  constexpr std::size_t kBatch = 1'000;
  const auto before = now() - options_.keep_finished;
  std::size_t total = 0;
  for (;;) {
    const auto n = store_.prune_finished(before, kBatch);
    total += n;
    if (n < kBatch) break;
    std::lock_guard lock(mutex_);
    if (stopping_) break;
  }
  if (pruned_) pruned_->inc(total);
  if (total > 0)
    spdlog::info("webhooks: forgot {} deliveries finished before the retention", total);
  return total;
}

void webhook_dispatcher::run_enqueuer() {
  auto last_prune = std::chrono::steady_clock::time_point{};
  for (;;) {
    std::int64_t head = 0;
    try {
      if (std::chrono::steady_clock::now() - last_prune >= options_.prune_interval) {
        last_prune = std::chrono::steady_clock::now();
        prune_once();
      }
      head = log_.head_position();
      bool advanced = false;
      enqueue_round(advanced);
      if (advanced) continue;  // a batch was taken: more may follow at once
    } catch (const std::exception& e) {
      spdlog::warn("webhook enqueuer: {}", e.what());
      if (errors_) errors_->inc();
      if (pause(std::max(options_.poll_interval, std::chrono::milliseconds(2s)))) return;
      continue;
    }
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
    }
    // New events, in this process at once; or a new subscription or replay, within the interval.
    log_.wait_for_append(head, options_.poll_interval);
    std::lock_guard lock(mutex_);
    if (stopping_) return;
  }
}

void webhook_dispatcher::run_sender() {
  for (;;) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
    }
    std::chrono::milliseconds wait = options_.poll_interval;
    try {
      if (deliver_once(1) > 0) continue;
      // Nothing due now: sleep until the next retry falls due, or the interval passes.
      if (const auto due = store_.next_due()) {
        const auto until = std::chrono::duration_cast<std::chrono::milliseconds>(*due - now());
        wait = std::clamp(until, std::chrono::milliseconds(1), options_.poll_interval);
      }
    } catch (const std::exception& e) {
      spdlog::warn("webhook sender: {}", e.what());
      if (errors_) errors_->inc();
      wait = std::max(options_.poll_interval, std::chrono::milliseconds(2s));
    }
    if (pause(wait)) return;
  }
}

}  // namespace realmkit::app
