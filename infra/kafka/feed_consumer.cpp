#include "infra/kafka/feed_consumer.hpp"

#include <librdkafka/rdkafka.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include "infra/event_envelope.hpp"

namespace realmkit::infra::kafka {
namespace {

struct partition_list_deleter {
  void operator()(rd_kafka_topic_partition_list_t* l) const noexcept {
    rd_kafka_topic_partition_list_destroy(l);
  }
};
using partition_list = std::unique_ptr<rd_kafka_topic_partition_list_t, partition_list_deleter>;

struct message_deleter {
  void operator()(rd_kafka_message_t* m) const noexcept { rd_kafka_message_destroy(m); }
};
using message_ptr = std::unique_ptr<rd_kafka_message_t, message_deleter>;

struct handle_deleter {
  void operator()(rd_kafka_t* rk) const noexcept { rd_kafka_destroy(rk); }
};
using handle_ptr = std::unique_ptr<rd_kafka_t, handle_deleter>;

constexpr std::string_view kInsert =
    "INSERT INTO projector_feed (global_position, event_id, stream_id, stream_version, type, "
    "schema_version, recorded_at_us, data, metadata) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) "
    "ON CONFLICT (global_position) DO NOTHING";

}  // namespace

class feed_consumer::impl {
 public:
  impl(sql::database& db, feed_consumer_options options) : db_(db), options_(std::move(options)) {
    if (auto* m = options_.metrics) {
      consumed_metric_ = &m->counter_for("realmkit_feed_consumed_total",
                                         "Events the projector group's consumer wrote to the feed");
      stale_metric_ = &m->counter_for(
          "realmkit_feed_stale_batches_total",
          "Batches refused because another group member moved the partition's offset");
      refused_metric_ = &m->counter_for("realmkit_feed_refused_total",
                                        "Messages of the events topic that are not envelopes");
      partitions_metric_ = &m->gauge_for("realmkit_feed_partitions",
                                         "Partitions of the events topic assigned to this process");
    }
    // Built here so that bad settings are refused at start-up, not on the thread.
    conf_ = make_conf(options_.settings,
                      {{"auto.offset.reset", "earliest"},
                       {"session.timeout.ms", "10000"},
                       {"heartbeat.interval.ms", "1000"},
                       {"fetch.wait.max.ms", "10"},
                       {"partition.assignment.strategy", "range,roundrobin"}},
                      {{"group.id", options_.group},
                       {"enable.auto.commit", "false"},
                       {"enable.auto.offset.store", "false"},
                       {"enable.partition.eof", "false"}});
  }

  ~impl() { stop(); }

  void start() {
    std::lock_guard lock(mutex_);
    if (thread_.joinable()) return;
    stopping_ = false;
    thread_ = std::thread([this] { run(); });
  }

  void stop() {
    stopping_ = true;
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

  feed_consumer_status status() const {
    std::lock_guard lock(mutex_);
    return status_;
  }

 private:
  struct pending_event {
    int partition = 0;
    std::int64_t offset = 0;
    std::optional<recorded_event> event;  // nullopt: not an envelope, skipped
  };

  void run() {
    while (!stopping_) {
      try {
        consume();
      } catch (const std::exception& e) {
        spdlog::error("projector feed: the consumer failed (retrying in {} ms): {}",
                      options_.retry_delay.count(), e.what());
        set_error(e.what());
        pause(options_.retry_delay);
      }
    }
  }

  void consume() {
    auto conf = options_.settings.brokers.empty() ? nullptr : rd_kafka_conf_dup(conf_.get());
    if (!conf) throw kafka_error("no Kafka brokers are configured");
    rd_kafka_conf_set_rebalance_cb(conf, &impl::on_rebalance);
    rd_kafka_conf_set_opaque(conf, this);
    char reason[512] = "";
    handle_ptr rk(rd_kafka_new(RD_KAFKA_CONSUMER, conf, reason, sizeof reason));
    if (!rk) {
      rd_kafka_conf_destroy(conf);
      throw kafka_error(std::string("cannot create the Kafka consumer: ") + reason);
    }
    rd_kafka_poll_set_consumer(rk.get());
    partition_list topics(rd_kafka_topic_partition_list_new(1));
    rd_kafka_topic_partition_list_add(topics.get(), options_.settings.topic.c_str(),
                                      RD_KAFKA_PARTITION_UA);
    if (const auto err = rd_kafka_subscribe(rk.get(), topics.get()); err) {
      throw kafka_error("cannot subscribe to " + options_.settings.topic + ": " +
                        rd_kafka_err2str(err));
    }
    spdlog::info("projector feed: consuming {} as group {}", options_.settings.topic,
                 options_.group);
    auto last_prune = std::chrono::steady_clock::now();
    try {
      while (!stopping_) {
        gather(rk.get());
        if (!batch_.empty()) flush(rk.get());
        if (const auto now = std::chrono::steady_clock::now();
            now - last_prune >= options_.prune_every) {
          last_prune = now;
          prune();
        }
      }
    } catch (...) {
      batch_.clear();
      rd_kafka_consumer_close(rk.get());
      throw;
    }
    // Leaving the group hands the partitions over at once instead of after the session timeout.
    rd_kafka_consumer_close(rk.get());
  }

  // Polls until the batch is full or batch_wait has passed since its first message.
  void gather(rd_kafka_t* rk) {
    const auto started = std::chrono::steady_clock::now();
    while (!stopping_ && batch_.size() < options_.batch_messages) {
      const auto waited = std::chrono::steady_clock::now() - started;
      int timeout_ms = 100;
      if (!batch_.empty()) {
        const auto left = options_.batch_wait - waited;
        if (left <= std::chrono::milliseconds{0}) break;
        timeout_ms =
            static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(left).count());
      }
      message_ptr m(rd_kafka_consumer_poll(rk, timeout_ms));
      if (!m) {
        if (!batch_.empty()) break;
        continue;
      }
      if (m->err) {
        spdlog::warn("projector feed: {}", rd_kafka_message_errstr(m.get()));
        continue;
      }
      const auto next = next_.find(m->partition);
      if (next == next_.end() || m->offset < next->second) continue;  // not ours, or seen
      pending_event p{m->partition, m->offset, std::nullopt};
      try {
        p.event = decode_envelope(std::string_view(static_cast<const char*>(m->payload), m->len));
      } catch (const std::exception& e) {
        spdlog::error("projector feed: partition {} offset {} is not an event envelope: {}",
                      m->partition, m->offset, e.what());
      }
      batch_.push_back(std::move(p));
    }
  }

  // Writes the batch and the partitions' next offsets in one transaction.
  void flush(rd_kafka_t* rk) {
    std::map<int, std::int64_t> reached;
    std::vector<std::vector<sql::value>> rows;
    rows.reserve(batch_.size());
    std::uint64_t refused = 0;
    for (const auto& p : batch_) {
      reached[p.partition] = p.offset + 1;
      if (!p.event) {
        ++refused;
        continue;
      }
      const auto& e = *p.event;
      rows.push_back({e.global_position, e.event_id, e.stream_id, e.stream_version, e.type,
                      static_cast<std::int64_t>(e.schema_version),
                      static_cast<std::int64_t>(e.recorded_at.time_since_epoch().count()), e.data,
                      e.metadata});
    }
    const auto consumed = rows.size();
    bool stale = false;
    {
      auto session = db_.acquire();
      sql::transaction txn(*session);
      for (const auto& [partition, offset] : reached) {
        const sql::value params[] = {options_.group, options_.settings.topic,
                                     static_cast<std::int64_t>(partition), offset,
                                     next_.at(partition)};
        if (session->execute("UPDATE projector_offsets SET next_offset = $4 WHERE consumer_group "
                             "= $1 AND topic = $2 AND partition = $3 AND next_offset = $5",
                             params) != 1) {
          stale = true;
          break;
        }
      }
      if (!stale) {
        session->execute_many(kInsert, rows);
        txn.commit();
      }
    }
    batch_.clear();
    if (stale) {
      // Another member moved an offset: it owns the partition now, or owned it meanwhile. Start
      // again from what the database says.
      spdlog::warn("projector feed: a batch was refused, another member moved its offsets");
      if (stale_metric_) stale_metric_->inc();
      {
        std::lock_guard lock(mutex_);
        ++status_.stale;
      }
      reseek(rk);
      return;
    }
    for (const auto& [partition, offset] : reached) next_[partition] = offset;
    if (consumed_metric_) consumed_metric_->inc(consumed);
    if (refused_metric_) refused_metric_->inc(refused);
    {
      std::lock_guard lock(mutex_);
      status_.consumed += consumed;
      status_.refused += refused;
      status_.error.reset();
    }
    if (options_.on_commit) options_.on_commit();
  }

  // The partitions' offsets as the database has them, creating rows for new partitions.
  std::map<int, std::int64_t> load_offsets(const std::vector<int>& partitions) {
    std::map<int, std::int64_t> out;
    auto session = db_.acquire();
    sql::transaction txn(*session);
    for (const int p : partitions) {
      const sql::value params[] = {options_.group, options_.settings.topic,
                                   static_cast<std::int64_t>(p)};
      session->execute(
          "INSERT INTO projector_offsets (consumer_group, topic, partition, next_offset) VALUES "
          "($1, $2, $3, 0) ON CONFLICT DO NOTHING",
          params);
      const auto rows = session->query(
          "SELECT next_offset FROM projector_offsets WHERE consumer_group = $1 AND topic = $2 "
          "AND partition = $3",
          params);
      out[p] = rows.at(0).integer(0);
    }
    txn.commit();
    return out;
  }

  void reseek(rd_kafka_t* rk) {
    std::vector<int> partitions;
    for (const auto& [p, _] : next_) partitions.push_back(p);
    const auto offsets = load_offsets(partitions);
    partition_list list(rd_kafka_topic_partition_list_new(static_cast<int>(offsets.size())));
    for (const auto& [p, offset] : offsets) {
      rd_kafka_topic_partition_list_add(list.get(), options_.settings.topic.c_str(), p)->offset =
          offset;
      next_[p] = offset;
    }
    if (auto* error = rd_kafka_seek_partitions(rk, list.get(), 5'000)) {
      const std::string what = rd_kafka_error_string(error);
      rd_kafka_error_destroy(error);
      throw kafka_error("cannot seek to the stored offsets: " + what);
    }
  }

  static void on_rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                           rd_kafka_topic_partition_list_t* partitions, void* opaque) {
    auto* self = static_cast<impl*>(opaque);
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
      self->assign(rk, partitions);
    } else {
      self->revoke(rk);
    }
  }

  void assign(rd_kafka_t* rk, rd_kafka_topic_partition_list_t* partitions) {
    std::vector<int> wanted;
    for (int i = 0; i < partitions->cnt; ++i) wanted.push_back(partitions->elems[i].partition);
    // Without the stored offsets the consumer cannot know where to start: it keeps trying, and
    // takes nothing meanwhile (the group sees it as slow, not as consuming from a guess).
    for (;;) {
      try {
        const auto offsets = load_offsets(wanted);
        for (int i = 0; i < partitions->cnt; ++i) {
          partitions->elems[i].offset = offsets.at(partitions->elems[i].partition);
        }
        next_ = offsets;
        break;
      } catch (const std::exception& e) {
        spdlog::error("projector feed: cannot read the offsets of the assigned partitions: {}",
                      e.what());
        set_error(e.what());
        if (stopping_) {
          next_.clear();
          rd_kafka_assign(rk, nullptr);
          return;
        }
        pause(options_.retry_delay);
      }
    }
    rd_kafka_assign(rk, partitions);
    {
      std::lock_guard lock(mutex_);
      status_.partitions = wanted;
    }
    if (partitions_metric_) partitions_metric_->set(static_cast<double>(wanted.size()));
    spdlog::info("projector feed: assigned {} partitions of {}", wanted.size(),
                 options_.settings.topic);
  }

  void revoke(rd_kafka_t* rk) {
    // What was consumed from the partitions being handed over is committed first; if that
    // fails, it is dropped and the next owner consumes it again from the stored offsets.
    if (!batch_.empty()) {
      try {
        flush(rk);
      } catch (const std::exception& e) {
        spdlog::warn("projector feed: the last batch before a rebalance was not committed: {}",
                     e.what());
        batch_.clear();
      }
    }
    next_.clear();
    rd_kafka_assign(rk, nullptr);
    {
      std::lock_guard lock(mutex_);
      status_.partitions.clear();
    }
    if (partitions_metric_) partitions_metric_->set(0);
  }

  // Drops feed rows every projection generation has applied (less a margin), so the feed stays
  // small; older history is read from the event store.
  void prune() {
    try {
      auto session = db_.acquire();
      const auto rows = session->query(
          "SELECT min(position) FROM projection_generations WHERE state IN ('live', 'building')");
      if (rows.empty() || !rows[0].optional_integer(0)) return;
      const auto floor = *rows[0].optional_integer(0) - options_.prune_keep;
      if (floor <= 0) return;
      sql::transaction txn(*session);
      const sql::value params[] = {floor};
      session->execute("UPDATE projector_feed_pruned SET through = greatest(through, $1)", params);
      session->execute("DELETE FROM projector_feed WHERE global_position <= $1", params);
      txn.commit();
    } catch (const std::exception& e) {
      spdlog::warn("projector feed: pruning failed (tried again later): {}", e.what());
    }
  }

  void pause(std::chrono::milliseconds delay) {
    std::unique_lock lock(mutex_);
    wake_.wait_for(lock, delay, [this] { return stopping_.load(); });
  }

  void set_error(const std::string& what) {
    std::lock_guard lock(mutex_);
    status_.error = what;
  }

  sql::database& db_;
  feed_consumer_options options_;
  conf_ptr conf_;
  counter* consumed_metric_ = nullptr;
  counter* stale_metric_ = nullptr;
  counter* refused_metric_ = nullptr;
  gauge* partitions_metric_ = nullptr;

  // Owned by the consumer thread (the rebalance callback runs on it too).
  std::vector<pending_event> batch_;
  std::map<int, std::int64_t> next_;  // assigned partition → next offset to consume

  std::atomic<bool> stopping_{false};
  mutable std::mutex mutex_;  // guards status_
  std::condition_variable wake_;
  feed_consumer_status status_;
  std::thread thread_;
};

feed_consumer::feed_consumer(sql::database& db, feed_consumer_options options)
    : impl_(std::make_unique<impl>(db, std::move(options))) {}

feed_consumer::~feed_consumer() = default;

void feed_consumer::start() {
  impl_->start();
}

void feed_consumer::stop() {
  impl_->stop();
}

feed_consumer_status feed_consumer::status() const {
  return impl_->status();
}

}  // namespace realmkit::infra::kafka
