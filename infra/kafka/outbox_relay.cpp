// The relay's thread: stand by for the advisory lock, then read → produce → track delivery reports
// → checkpoint the acknowledged prefix, replacing the producer when it fails.
#include "infra/kafka/outbox_relay.hpp"

#include <librdkafka/rdkafka.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "infra/event_envelope.hpp"

namespace realmkit::infra::kafka {

std::string_view to_string(relay_state state) {
  switch (state) {
    case relay_state::stopped:
      return "stopped";
    case relay_state::standby:
      return "standby";
    case relay_state::active:
      return "active";
    case relay_state::retrying:
      return "retrying";
  }
  return "unknown";
}

namespace {

using clock = std::chrono::steady_clock;

constexpr relay_state kStates[] = {relay_state::stopped, relay_state::standby, relay_state::active,
                                   relay_state::retrying};

// Session-level, so it lasts exactly as long as the relay's connection: a relay that dies or
// loses its connection releases it, and a standby's next try takes over. Keyed by schema and
// name so relays of different stores in one database do not exclude each other.
constexpr std::string_view kTryLock =
    "SELECT pg_try_advisory_lock(hashtextextended('realmkit.relay/' || current_schema() || '/' || "
    "$1, 0))";
constexpr std::string_view kReadCheckpoint =
    "SELECT position FROM relay_checkpoints WHERE name = $1";
// Never moves back: a checkpoint only ever covers acknowledged events.
constexpr std::string_view kWriteCheckpoint =
    "INSERT INTO relay_checkpoints (name, position, updated_at) VALUES ($1, $2, now()) "
    "ON CONFLICT (name) DO UPDATE SET position = EXCLUDED.position, updated_at = now() "
    "WHERE relay_checkpoints.position < EXCLUDED.position";
// Notices a lost session while there is nothing to checkpoint.
constexpr std::string_view kHeartbeat = "SELECT 1";

// Envelopes can carry 1 MiB of data plus metadata, above Kafka's default 1 MB message limit.
constexpr std::string_view kMaxMessageBytes = "4194304";

void log_error(rd_kafka_t*, int err, const char* reason, void*) {
  // librdkafka retries transport errors and has logged them through the log callback already;
  // fatal ones are acted on where rd_kafka_fatal_error is checked.
  const auto code = static_cast<rd_kafka_resp_err_t>(err);
  if (code == RD_KAFKA_RESP_ERR__FATAL) {
    spdlog::error("kafka producer: fatal: {}", reason);
  } else {
    spdlog::debug("kafka producer: {}: {}", rd_kafka_err2name(code), reason);
  }
}

struct relay_metrics {
  counter* produced = nullptr;
  counter* failures = nullptr;
  counter* restarts = nullptr;
  gauge* checkpoint = nullptr;
  gauge* lag = nullptr;
  gauge* states[std::size(kStates)] = {};
};

}  // namespace

class outbox_relay::impl {
 public:
  impl(event_store& store, sql::database& db, outbox_relay_options options)
      : store_(store), db_(db), options_(std::move(options)) {
    options_.read_batch = std::max<std::size_t>(options_.read_batch, 1);
    options_.max_in_flight = std::max(options_.max_in_flight, options_.read_batch);
    make_producer_conf();  // refuses bad properties now rather than on the relay's thread
    if (auto* registry = options_.metrics) {
      const metric_labels labels = {{"relay", options_.name}};
      metrics_.produced = &registry->counter_for("realmkit_relay_events_produced_total",
                                                 "Events Kafka acknowledged", labels);
      metrics_.failures = &registry->counter_for(
          "realmkit_relay_delivery_failures_total",
          "Events whose delivery failed after the producer's retries", labels);
      metrics_.restarts = &registry->counter_for(
          "realmkit_relay_producer_restarts_total",
          "Producers replaced after a fatal error or a failed delivery", labels);
      metrics_.checkpoint = &registry->gauge_for(
          "realmkit_relay_checkpoint_position",
          "Global position up to which every event is acknowledged by Kafka", labels);
      metrics_.lag = &registry->gauge_for(
          "realmkit_relay_lag_events", "Events in the store beyond the relay's checkpoint", labels);
      for (std::size_t i = 0; i < std::size(kStates); ++i) {
        metrics_.states[i] = &registry->gauge_for(
            "realmkit_relay_state", "1 for the relay's current state",
            {{"relay", options_.name}, {"state", std::string(to_string(kStates[i]))}});
      }
      set_state(relay_state::stopped);
    }
  }

  ~impl() { stop(); }

  void start() {
    std::lock_guard lock(mutex_);
    if (thread_.joinable()) return;
    stopping_ = false;
    thread_ = std::thread([this] { run(); });
  }

  void stop() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
    set_state(relay_state::stopped);
  }

  relay_status status() const {
    relay_status s;
    s.state = state_.load();
    s.checkpoint = checkpoint_.load();
    s.head = std::max(head_.load(), s.checkpoint);
    s.lag = s.head - s.checkpoint;
    s.produced = produced_.load();
    s.in_flight = in_flight_.load();
    s.delivery_failures = failures_.load();
    s.producer_restarts = restarts_.load();
    std::lock_guard lock(mutex_);
    s.last_error = last_error_;
    return s;
  }

 private:
  // What one producer has in flight, in produce order. Delivery reports arrive on the relay's
  // thread (from poll and flush), so it needs no lock.
  struct delivery_tracker {
    impl* owner = nullptr;
    std::deque<std::int64_t> positions;
    std::deque<bool> delivered;
    std::uint64_t first_seq = 0;  // sequence number of positions.front()
    std::uint64_t next_seq = 0;
    std::int64_t acknowledged = 0;  // every event up to here is acknowledged
    bool failed = false;
    bool abandoned = false;  // replaced: reports of purged messages mean nothing
    std::string failure;
  };

  struct producer {
    struct topic_deleter {
      void operator()(rd_kafka_topic_t* t) const noexcept { rd_kafka_topic_destroy(t); }
    };
    struct handle_deleter {
      void operator()(rd_kafka_t* rk) const noexcept { rd_kafka_destroy(rk); }
    };
    delivery_tracker tracker;  // outlives the handle, whose destruction may still report
    std::unique_ptr<rd_kafka_t, handle_deleter> handle;
    std::unique_ptr<rd_kafka_topic_t, topic_deleter> topic;  // destroyed before the handle

    ~producer() {
      tracker.abandoned = true;
      topic.reset();
      if (handle) {
        rd_kafka_purge(handle.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        rd_kafka_poll(handle.get(), 0);  // serves the purged messages' reports, ignored above
      }
    }
  };

  static void on_delivery(rd_kafka_t*, const rd_kafka_message_t* message, void* opaque) {
    auto& t = *static_cast<delivery_tracker*>(opaque);
    if (t.abandoned) return;
    const auto seq = reinterpret_cast<std::uintptr_t>(message->_private);
    if (seq < t.first_seq || seq - t.first_seq >= t.delivered.size()) return;
    if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR ||
        rd_kafka_message_status(message) != RD_KAFKA_MSG_STATUS_PERSISTED) {
      t.owner->failures_.fetch_add(1);
      if (t.owner->metrics_.failures) t.owner->metrics_.failures->inc();
      if (!t.failed) {
        t.failed = true;
        t.failure = std::string("delivery of position ") +
                    std::to_string(t.positions[seq - t.first_seq]) +
                    " failed: " + rd_kafka_err2str(message->err);
      }
      return;
    }
    t.owner->produced_.fetch_add(1, std::memory_order_relaxed);
    if (t.owner->metrics_.produced) t.owner->metrics_.produced->inc();
    t.delivered[seq - t.first_seq] = true;
    while (!t.delivered.empty() && t.delivered.front()) {
      t.acknowledged = t.positions.front();
      t.positions.pop_front();
      t.delivered.pop_front();
      ++t.first_seq;
    }
  }

  conf_ptr make_producer_conf() const {
    const kafka_properties defaults = {
        {"linger.ms", "5"},
        {"batch.size", "1000000"},
        {"batch.num.messages", "10000"},
        {"queue.buffering.max.messages",
         std::to_string(std::max<std::size_t>(options_.max_in_flight * 2, 100'000))},
        {"queue.buffering.max.kbytes", "1048576"},
        {"compression.type", "lz4"},
        {"message.max.bytes", std::string(kMaxMessageBytes)},
        // Java clients' default: a consumer in another language computes the same partition.
        {"partitioner", "murmur2_random"},
    };
    const kafka_properties required = {{"enable.idempotence", "true"}, {"acks", "all"}};
    return make_conf(options_.kafka, defaults, required);
  }

  std::unique_ptr<producer> make_producer() {
    auto p = std::make_unique<producer>();
    p->tracker.owner = this;
    auto conf = make_producer_conf();
    rd_kafka_conf_set_opaque(conf.get(), &p->tracker);
    rd_kafka_conf_set_dr_msg_cb(conf.get(), on_delivery);
    rd_kafka_conf_set_error_cb(conf.get(), log_error);
    char reason[512] = "";
    p->handle.reset(rd_kafka_new(RD_KAFKA_PRODUCER, conf.get(), reason, sizeof reason));
    if (!p->handle) throw kafka_error(std::string("cannot create the Kafka producer: ") + reason);
    conf.release();  // rd_kafka_new took it
    // Before the topic handle: its first metadata request would auto-create a missing topic with
    // the broker's default partition count.
    if (options_.create_topic && !topic_checked_) {
      ensure_topic(p->handle.get());
      topic_checked_ = true;
    }
    p->topic.reset(rd_kafka_topic_new(p->handle.get(), options_.kafka.topic.c_str(), nullptr));
    if (!p->topic) {
      throw kafka_error("cannot create the topic handle " + options_.kafka.topic + ": " +
                        rd_kafka_err2str(rd_kafka_last_error()));
    }
    if (options_.on_producer) options_.on_producer(p->handle.get());
    return p;
  }

  // Creates the topic with the configured partitions when the cluster does not list it. Failures
  // are logged, not thrown: the topic may be auto-created or made by an operator, and producing
  // reports it if it never appears.
  void ensure_topic(rd_kafka_t* rk) {
    const auto& topic = options_.kafka.topic;
    const int timeout_ms = static_cast<int>(options_.topic_create_timeout.count());
    const rd_kafka_metadata_t* metadata = nullptr;
    // All topics: asking for one by name could auto-create it with the broker's defaults.
    auto err = rd_kafka_metadata(rk, 1, nullptr, &metadata, timeout_ms);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      spdlog::warn("relay {}: cannot list topics: {}", options_.name, rd_kafka_err2str(err));
      return;
    }
    bool exists = false;
    for (int i = 0; i < metadata->topic_cnt; ++i) {
      if (topic == metadata->topics[i].topic && metadata->topics[i].err == 0) exists = true;
    }
    rd_kafka_metadata_destroy(metadata);
    if (exists) return;

    char reason[512] = "";
    rd_kafka_NewTopic_t* new_topic =
        rd_kafka_NewTopic_new(topic.c_str(), options_.kafka.partitions,
                              options_.kafka.replication_factor, reason, sizeof reason);
    if (!new_topic) {
      spdlog::warn("relay {}: cannot create topic {}: {}", options_.name, topic, reason);
      return;
    }
    rd_kafka_NewTopic_set_config(new_topic, "max.message.bytes", kMaxMessageBytes.data());
    rd_kafka_AdminOptions_t* admin = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    rd_kafka_AdminOptions_set_operation_timeout(admin, timeout_ms, reason, sizeof reason);
    rd_kafka_queue_t* queue = rd_kafka_queue_new(rk);
    rd_kafka_CreateTopics(rk, &new_topic, 1, admin, queue);
    rd_kafka_event_t* event = rd_kafka_queue_poll(queue, timeout_ms + 1'000);
    std::string outcome = "timed out";
    if (event) {
      err = rd_kafka_event_error(event);
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        std::size_t count = 0;
        const auto* results =
            rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(event), &count);
        err = count > 0 ? rd_kafka_topic_result_error(results[0]) : RD_KAFKA_RESP_ERR_NO_ERROR;
      }
      outcome = err == RD_KAFKA_RESP_ERR_NO_ERROR || err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS
                    ? ""
                    : rd_kafka_err2str(err);
      rd_kafka_event_destroy(event);
    }
    rd_kafka_queue_destroy(queue);
    rd_kafka_AdminOptions_destroy(admin);
    rd_kafka_NewTopic_destroy(new_topic);
    if (outcome.empty()) {
      spdlog::info("relay {}: topic {} ready with {} partitions", options_.name, topic,
                   options_.kafka.partitions);
    } else {
      spdlog::warn("relay {}: creating topic {} failed: {}", options_.name, topic, outcome);
    }
  }

  void run() {
    while (!stopping()) {
      std::unique_ptr<sql::session> session;
      try {
        session = db_.open_session();
        if (!take_lock(*session)) continue;  // stopping
        spdlog::info("relay {}: active from position {}", options_.name, checkpoint_.load());
        run_active(*session);
      } catch (const std::exception& e) {
        fail(std::string("relay stopped producing: ") + e.what());
        in_flight_.store(0);
        session.reset();  // ends the connection, so the lock goes to a standby at once
        wait_for_stop(options_.retry_backoff);
      }
    }
  }

  // Stands by until the lock is ours (true) or the relay stops (false).
  bool take_lock(sql::session& session) {
    const std::vector<sql::value> name = {options_.name};
    bool announced = false;
    while (!stopping()) {
      if (session.query(kTryLock, name).at(0).integer(0) == 1) {
        const auto rows = session.query(kReadCheckpoint, name);
        set_checkpoint(rows.empty() ? 0 : rows.front().integer(0));
        observe_head(store_.head_position());
        set_state(relay_state::active);
        return true;
      }
      if (state_.load() != relay_state::standby) set_state(relay_state::standby);
      if (!announced) {
        spdlog::info("relay {}: standing by, another relay is active", options_.name);
        announced = true;
      }
      // A standby's view of the checkpoint, so its status shows how far the active one is.
      const auto rows = session.query(kReadCheckpoint, name);
      if (!rows.empty()) set_checkpoint(rows.front().integer(0));
      observe_head(store_.head_position());
      wait_for_stop(options_.standby_retry);
    }
    return false;
  }

  void run_active(sql::session& session) {
    auto p = make_producer();
    p->tracker.acknowledged = checkpoint_.load();
    std::int64_t read_from = p->tracker.acknowledged;
    auto last_write = clock::now();
    auto last_contact = clock::now();
    std::string value;

    while (!stopping()) {
      char reason[512] = "";
      const auto fatal = rd_kafka_fatal_error(p->handle.get(), reason, sizeof reason);
      if (fatal != RD_KAFKA_RESP_ERR_NO_ERROR || p->tracker.failed) {
        const auto why = fatal != RD_KAFKA_RESP_ERR_NO_ERROR
                             ? std::string("fatal producer error: ") + reason
                             : p->tracker.failure;
        // Everything up to `acknowledged` is safe; the rest is produced again by a new producer.
        write_checkpoint(session, p->tracker.acknowledged);
        read_from = p->tracker.acknowledged;
        p.reset();
        in_flight_.store(0);
        restarts_.fetch_add(1);
        if (metrics_.restarts) metrics_.restarts->inc();
        fail(why + "; replacing the producer and resuming after position " +
             std::to_string(read_from));
        set_state(relay_state::retrying);
        if (wait_for_stop(options_.retry_backoff)) return;
        p = make_producer();
        p->tracker.acknowledged = read_from;
        set_state(relay_state::active);
        last_write = last_contact = clock::now();
        continue;
      }

      rd_kafka_poll(p->handle.get(), 0);
      const std::size_t in_flight = p->tracker.positions.size();
      bool caught_up = false;
      if (in_flight < options_.max_in_flight) {
        const auto want = std::min(options_.read_batch, options_.max_in_flight - in_flight);
        const auto events = store_.read_all(read_from, want);
        for (const auto& e : events) {
          if (!produce(*p, e, value)) break;
          read_from = e.global_position;
        }
        if (events.size() < want) {
          caught_up = true;
          observe_head(read_from);
        }
      }

      in_flight_.store(p->tracker.positions.size());
      const auto now = clock::now();
      if (now - last_write >= options_.checkpoint_interval ||
          p->tracker.acknowledged - checkpoint_.load() >=
              static_cast<std::int64_t>(options_.checkpoint_events)) {
        if (p->tracker.acknowledged > checkpoint_.load()) {
          write_checkpoint(session, p->tracker.acknowledged);
          last_contact = now;
        } else if (now - last_contact >= options_.standby_retry) {
          session.query(kHeartbeat);
          last_contact = now;
        }
        observe_head(store_.head_position());
        last_write = now;
      }

      if (p->tracker.positions.size() >= options_.max_in_flight) {
        rd_kafka_poll(p->handle.get(), 10);
      } else if (caught_up) {
        if (!p->tracker.positions.empty()) {
          rd_kafka_poll(p->handle.get(), 10);  // deliveries to count; new events picked up soon
        } else {
          store_.wait_for_append(read_from, options_.idle_wait);
        }
      }
    }

    // Stopping: let in-flight deliveries finish (bounded) so the next relay repeats few events.
    rd_kafka_flush(p->handle.get(), static_cast<int>(options_.stop_timeout.count()));
    write_checkpoint(session, p->tracker.acknowledged);
    in_flight_.store(0);
    if (!p->tracker.positions.empty()) {
      spdlog::warn("relay {}: stopped with {} deliveries unconfirmed after position {}",
                   options_.name, p->tracker.positions.size(), p->tracker.acknowledged);
    }
  }

  // False when the producer failed and must be replaced before producing more.
  bool produce(producer& p, const recorded_event& e, std::string& value) {
    value.clear();
    encode_envelope(e, value);
    char position[24];
    const auto position_size = static_cast<ssize_t>(
        std::to_chars(position, position + sizeof position, e.global_position).ptr - position);
    const auto type_size = static_cast<ssize_t>(e.type.size());
    const auto seq = p.tracker.next_seq;
    p.tracker.positions.push_back(e.global_position);
    p.tracker.delivered.push_back(false);
    for (;;) {
      const auto err = rd_kafka_producev(
          p.handle.get(), RD_KAFKA_V_RKT(p.topic.get()),
          RD_KAFKA_V_KEY(e.stream_id.data(), e.stream_id.size()),
          RD_KAFKA_V_VALUE(value.data(), value.size()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
          RD_KAFKA_V_HEADER("type", e.type.data(), type_size),
          RD_KAFKA_V_HEADER("global_position", position, position_size),
          RD_KAFKA_V_OPAQUE(reinterpret_cast<void*>(static_cast<std::uintptr_t>(seq))),
          RD_KAFKA_V_END);
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        ++p.tracker.next_seq;
        return true;
      }
      if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL && !stopping()) {
        rd_kafka_poll(p.handle.get(), 50);
        continue;
      }
      p.tracker.positions.pop_back();
      p.tracker.delivered.pop_back();
      if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) return false;  // stopping
      failures_.fetch_add(1);
      if (metrics_.failures) metrics_.failures->inc();
      p.tracker.failed = true;
      p.tracker.failure = "producing position " + std::to_string(e.global_position) +
                          " failed: " + rd_kafka_err2str(err);
      return false;
    }
  }

  // On the lock's session: a relay whose session is gone cannot move the checkpoint.
  void write_checkpoint(sql::session& session, std::int64_t position) {
    if (position <= checkpoint_.load()) return;
    const std::vector<sql::value> params = {options_.name, position};
    session.execute(kWriteCheckpoint, params);
    set_checkpoint(position);
  }

  void set_checkpoint(std::int64_t position) {
    checkpoint_.store(position);
    if (metrics_.checkpoint) metrics_.checkpoint->set(static_cast<double>(position));
    update_lag();
  }

  void observe_head(std::int64_t head) {
    auto seen = head_.load();
    while (head > seen && !head_.compare_exchange_weak(seen, head)) {
    }
    update_lag();
  }

  void update_lag() {
    if (metrics_.lag) {
      metrics_.lag->set(
          static_cast<double>(std::max<std::int64_t>(head_.load() - checkpoint_.load(), 0)));
    }
  }

  void set_state(relay_state state) {
    state_.store(state);
    for (std::size_t i = 0; i < std::size(kStates); ++i) {
      if (metrics_.states[i]) metrics_.states[i]->set(kStates[i] == state ? 1 : 0);
    }
  }

  void fail(const std::string& why) {
    spdlog::error("relay {}: {}", options_.name, why);
    set_state(relay_state::retrying);
    std::lock_guard lock(mutex_);
    last_error_ = why;
  }

  bool stopping() const {
    std::lock_guard lock(mutex_);
    return stopping_;
  }

  // True when stopping.
  bool wait_for_stop(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return wake_.wait_for(lock, timeout, [this] { return stopping_; });
  }

  event_store& store_;
  sql::database& db_;
  outbox_relay_options options_;
  relay_metrics metrics_;
  bool topic_checked_ = false;  // relay thread only

  std::atomic<relay_state> state_{relay_state::stopped};
  std::atomic<std::int64_t> checkpoint_{0};
  std::atomic<std::int64_t> head_{0};
  std::atomic<std::uint64_t> produced_{0};
  std::atomic<std::uint64_t> in_flight_{0};
  std::atomic<std::uint64_t> failures_{0};
  std::atomic<std::uint64_t> restarts_{0};

  mutable std::mutex mutex_;  // guards stopping_ and last_error_
  std::condition_variable wake_;
  bool stopping_ = false;
  std::string last_error_;
  std::thread thread_;
};

outbox_relay::outbox_relay(event_store& store, sql::database& db, outbox_relay_options options)
    : impl_(std::make_unique<impl>(store, db, std::move(options))) {}

outbox_relay::~outbox_relay() = default;

void outbox_relay::start() {
  impl_->start();
}

void outbox_relay::stop() {
  impl_->stop();
}

relay_status outbox_relay::status() const {
  return impl_->status();
}

}  // namespace realmkit::infra::kafka
