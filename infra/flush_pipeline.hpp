// The second half of a durable append, shared by both stores: the writer commits a batch without
// waiting for the disk and hands its callers over; this thread makes everything committed so far
// durable in one flush per round and only then answers them, while the writer goes on with the
// next batch. What a flush is differs per store (an fsync of SQLite's WAL, a synchronously
// committed transaction on PostgreSQL); the rounds, and what a failed one means, do not.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "infra/group_commit.hpp"

namespace realmkit::infra {

// A caller whose append's transaction has committed, waiting for the flush. `error` is set when the
// append was refused; a failed flush sets it for the others, since their appends may be lost.
struct flush_waiter : group_commit_waiter {
  std::exception_ptr error;
};

class flush_pipeline {
 public:
  // `flush(head)` makes every commit up to at least `head` (the highest handed over) durable and
  // runs before any caller of its round is answered; it throws the error those callers get.
  flush_pipeline(std::string thread_name, std::function<void(std::int64_t head)> flush);
  // Flushes and answers everything handed over, then stops the thread.
  ~flush_pipeline();
  flush_pipeline(const flush_pipeline&) = delete;
  flush_pipeline& operator=(const flush_pipeline&) = delete;

  // The callers of a batch whose transaction has committed up to position `head`.
  void hand_over(std::span<flush_waiter* const> batch, std::int64_t head);

 private:
  void run();

  std::function<void(std::int64_t)> flush_;
  std::mutex mutex_;  // guards waiting_, head_ and stopping_
  std::condition_variable handed_over_;
  std::vector<flush_waiter*> waiting_;
  std::int64_t head_ = 0;
  bool stopping_ = false;
  std::thread thread_;  // last: started once everything above exists
};

}  // namespace realmkit::infra
