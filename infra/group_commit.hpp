// The hand-off between callers of append() and a store's single writer thread (group commit),
// shared by the SQLite and PostgreSQL stores. On a 2-core machine with dozens of concurrent
// writers the hand-off itself costs as much as the database work unless it is cheap: callers
// push onto a lock-free stack instead of queueing on a mutex, and the writer wakes only one
// caller per batch, each woken caller waking two more (a binary tree), instead of making one
// wake-up system call per caller on the thread every append waits for.
#pragma once

#include <semaphore.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <ctime>
#include <span>
#include <vector>

namespace realmkit::infra {

// A POSIX semaphore used as a one-shot wake-up. Unlike std::binary_semaphore (which spins with
// sched_yield before sleeping, starving the writer when dozens of callers wait) it sleeps at once,
// and it may be destroyed as soon as wait() returns, while post() may still be finishing.
class wake_signal {
 public:
  wake_signal() { ::sem_init(&sem_, 0, 0); }
  ~wake_signal() { ::sem_destroy(&sem_); }
  wake_signal(const wake_signal&) = delete;
  wake_signal& operator=(const wake_signal&) = delete;
  void post() { ::sem_post(&sem_); }
  void wait() {
    while (::sem_wait(&sem_) != 0 && errno == EINTR) {
    }
  }
  // False when `deadline` (CLOCK_REALTIME, as sem_timedwait wants) passed first.
  bool wait_until(const timespec& deadline) {
    for (;;) {
      if (::sem_timedwait(&sem_, &deadline) == 0) return true;
      if (errno != EINTR) return false;
    }
  }

 private:
  sem_t sem_;
};

// One caller waiting for the writer. It lives on the caller's stack (as the base of the store's
// own request type): the caller blocks in wait_turn() until the writer has answered it, so the
// writer may use every field until then.
struct group_commit_waiter {
  group_commit_waiter* next = nullptr;  // the link in the incoming stack
  wake_signal done;
  std::array<group_commit_waiter*, 2> wake_next{};  // set by the writer before `done` is posted

  // Blocks until the writer has answered, then passes the wake-up on down the tree. The two
  // callers this one wakes are still blocked, so they still exist.
  void wait_answer() {
    done.wait();
    for (auto* n : wake_next) {
      if (n != nullptr) n->done.post();
    }
  }
};

// Requests waiting for the writer: a lock-free stack (newest first) that the writer empties in
// one exchange.
class group_commit_queue {
 public:
  // Pushes the caller's request; wakes the writer only if it may be asleep (the stack was empty:
  // otherwise it has work it has not taken yet).
  void push(group_commit_waiter& request) {
    auto* head = incoming_.load(std::memory_order_relaxed);
    do {
      request.next = head;
    } while (!incoming_.compare_exchange_weak(head, &request, std::memory_order_release,
                                              std::memory_order_relaxed));
    waiting_.fetch_add(1, std::memory_order_relaxed);
    if (head == nullptr) writer_.post();
  }

  // Everything pushed so far, appended to `out` oldest first.
  template <typename Request>
  void take(std::vector<Request*>& out) {
    const auto from = out.size();
    for (auto* r = incoming_.exchange(nullptr, std::memory_order_acquire); r != nullptr;
         r = r->next) {
      out.push_back(static_cast<Request*>(r));
    }
    std::reverse(out.begin() + static_cast<std::ptrdiff_t>(from), out.end());
    waiting_.fetch_sub(out.size() - from, std::memory_order_relaxed);
  }

  // Requests pushed and not yet taken (a gauge: it may briefly lag a push).
  std::size_t size() const {
    const auto n = waiting_.load(std::memory_order_relaxed);
    return n < 0 ? 0 : static_cast<std::size_t>(n);
  }

  // The writer sleeps here when it has taken everything; wake_writer() also wakes it to stop.
  void wait_for_work() { writer_.wait(); }
  // Like wait_for_work(), for at most `timeout`; false when it ran out.
  bool wait_for_work(std::chrono::microseconds timeout) {
    timespec deadline{};
    ::clock_gettime(CLOCK_REALTIME, &deadline);
    const auto ns = deadline.tv_nsec + std::chrono::nanoseconds(timeout).count();
    deadline.tv_sec += static_cast<time_t>(ns / 1'000'000'000);
    deadline.tv_nsec = static_cast<long>(ns % 1'000'000'000);
    return writer_.wait_until(deadline);
  }
  void wake_writer() { writer_.post(); }

 private:
  std::atomic<group_commit_waiter*> incoming_{nullptr};
  std::atomic<std::ptrdiff_t> waiting_{0};  // may dip below zero between a push and its count
  wake_signal writer_;
};

// Answers a batch: the writer wakes the first caller, and each caller wakes two more.
template <typename Request>
void wake_as_tree(std::span<Request* const> batch) {
  for (std::size_t i = 0; i < batch.size(); ++i) {
    for (std::size_t c = 0; c < 2; ++c) {
      const auto child = 2 * i + 1 + c;
      batch[i]->wake_next[c] = child < batch.size() ? batch[child] : nullptr;
    }
  }
  if (!batch.empty()) batch.front()->done.post();
}

}  // namespace realmkit::infra
