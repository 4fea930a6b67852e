#include "infra/flush_pipeline.hpp"

#include <pthread.h>

#include <algorithm>

namespace realmkit::infra {

flush_pipeline::flush_pipeline(std::string thread_name,
                               std::function<void(std::int64_t head)> flush)
    : flush_(std::move(flush)) {
  thread_ = std::thread([this, name = std::move(thread_name)] {
    ::pthread_setname_np(::pthread_self(), name.c_str());  // for top -H and profilers
    run();
  });
}

flush_pipeline::~flush_pipeline() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  handed_over_.notify_one();
  thread_.join();
}

void flush_pipeline::hand_over(std::span<flush_waiter* const> batch, std::int64_t head) {
  {
    std::lock_guard lock(mutex_);
    waiting_.insert(waiting_.end(), batch.begin(), batch.end());
    head_ = std::max(head_, head);
  }
  handed_over_.notify_one();
}

void flush_pipeline::run() {
  std::vector<flush_waiter*> round;
  for (;;) {
    std::int64_t head = 0;
    round.clear();
    {
      std::unique_lock lock(mutex_);
      handed_over_.wait(lock, [&] { return stopping_ || !waiting_.empty(); });
      if (waiting_.empty()) return;  // stopping, and everything handed over is answered
      round.swap(waiting_);
      head = head_;
    }
    try {
      flush_(head);
    } catch (...) {
      const auto failure = std::current_exception();
      for (auto* waiter : round) {
        if (!waiter->error) waiter->error = failure;
      }
    }
    wake_as_tree(std::span<flush_waiter* const>(round));
  }
}

}  // namespace realmkit::infra
