// Reading a long stretch of the global log ahead of its consumer. Positions are contiguous, so
// the pages to come are known before the current one arrives: the next ones are read while the
// consumer works, each on its own thread (on PostgreSQL, several at once, each on its own reader
// connection), and handed over in order. The server's scan, the decoding of rows and the
// consumer's work then overlap instead of adding up.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <future>
#include <vector>

#include "infra/event_store.hpp"

namespace realmkit::infra {

class log_pages {
 public:
  // The events after `after` up to and including `upto`, `page` at a time, at most `depth` pages
  // in flight (fewer when the store serves fewer reads at once: event_store::concurrent_reads).
  // Depth 0 reads each page on the caller's thread when it is asked for, for consumers whose
  // work per page costs less than handing pages between threads.
  log_pages(event_store& store, std::int64_t after, std::int64_t upto, std::size_t page,
            std::size_t depth = 2);
  // Waits for the reads still in flight: none outlives the object.
  ~log_pages();
  log_pages(const log_pages&) = delete;
  log_pages& operator=(const log_pages&) = delete;

  // The next page in global order; empty once `upto` is reached or the log ends before it. A
  // read's error (corrupt_event, a lost connection) is thrown here, in order; the next call reads
  // that page again.
  std::vector<recorded_event> next();
  // The last position handed over.
  std::int64_t position() const { return delivered_; }

 private:
  struct pending {
    std::int64_t after;
    std::int64_t count;
    std::future<std::vector<recorded_event>> events;
  };
  void top_up();
  void drain();

  event_store& store_;
  std::int64_t upto_;
  std::int64_t page_;
  bool ahead_;
  std::size_t depth_;
  std::int64_t delivered_;
  std::int64_t requested_;  // the end of the last page asked for
  std::deque<pending> in_flight_;
};

}  // namespace realmkit::infra
