// Reading the event log for auditors, on the event store's own interface: where a point in time
// falls in the global order, pages of the log filtered by type, actor, stream prefix and
// correlation, and every event a request caused.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "infra/event_metadata.hpp"
#include "infra/event_store.hpp"

namespace realmkit::api::audit {

// The position of the last event recorded at or before `t` (0: none). recorded_at is read from
// the clock under the store's write lock, so it does not decrease along the global order and a
// binary search over positions finds the boundary in O(log n) single-event reads.
std::int64_t position_at(infra::event_store& store, infra::timestamp t);

struct feed_filter {
  std::optional<std::string> type;  // "deal.stage_moved.v1", or without version: every version
  std::optional<std::string> actor;
  std::optional<std::string> stream_prefix;
  std::optional<std::string> correlation_id;
  std::optional<std::string> causation_id;

  bool empty() const {
    return !type && !actor && !stream_prefix && !correlation_id && !causation_id;
  }
  // Whether the event passes; `meta` is decoded only when a metadata filter is set.
  bool matches(const infra::recorded_event& e) const;
};

struct feed_request {
  std::int64_t after = 0;  // positions after this one
  std::int64_t upto = 0;   // up to and including this one (the head, or a time bound)
  feed_filter filter;
  std::size_t limit = 100;
  // A filter that matches little would otherwise read the whole log for one page: a page reads
  // at most this many events and tells the caller where it stopped.
  std::size_t max_scanned = 50'000;
};

struct feed_page {
  std::vector<infra::recorded_event> items;
  std::int64_t scanned_to = 0;  // every event up to here was looked at
  bool complete = false;        // scanned_to reached `upto`
};

feed_page read_feed(infra::event_store& store, const feed_request& request);

// Calls `each` with every event after `after` up to `upto` in global order, reading `batch`
// events at a time (constant memory whatever the log's length). Stops early when `each` answers
// false. Returns the position of the last event handed over.
std::int64_t scan_log(infra::event_store& store, std::int64_t after, std::int64_t upto,
                      const std::function<bool(const infra::recorded_event&)>& each,
                      std::size_t batch = 2'000);

// The same, with the next batches read on other threads while `each` works through this one
// (infra::log_pages): for long scans (whole-log replays, read models as of a past time), where
// reading and folding cost about the same.
std::int64_t scan_log_ahead(infra::event_store& store, std::int64_t after, std::int64_t upto,
                            const std::function<bool(const infra::recorded_event&)>& each,
                            std::size_t batch = 5'000);

// The same, a page at a time: for consumers that work on a page as a whole (log_replayer folds
// one on several threads). Stops early when `each` answers false.
std::int64_t scan_log_pages(infra::event_store& store, std::int64_t after, std::int64_t upto,
                            const std::function<bool(std::span<const infra::recorded_event>)>& each,
                            std::size_t batch = 5'000);

}  // namespace realmkit::api::audit
