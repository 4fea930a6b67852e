#include "infra/log_pages.hpp"

#include <algorithm>

namespace realmkit::infra {

log_pages::log_pages(event_store& store, std::int64_t after, std::int64_t upto, std::size_t page,
                     std::size_t depth)
    : store_(store),
      upto_(upto),
      page_(static_cast<std::int64_t>(std::max<std::size_t>(page, 1))),
      ahead_(depth > 0),
      depth_(std::clamp<std::size_t>(store.concurrent_reads(), 1, std::max<std::size_t>(depth, 1))),
      delivered_(after),
      requested_(after) {
  top_up();
}

log_pages::~log_pages() {
  drain();
}

void log_pages::drain() {
  // A page not read ahead is read only when asked for: there is nothing to wait for.
  if (ahead_) {
    for (auto& p : in_flight_) {
      if (p.events.valid()) p.events.wait();
    }
  }
  in_flight_.clear();
}

void log_pages::top_up() {
  while (in_flight_.size() < depth_ && requested_ < upto_) {
    const auto after = requested_;
    const auto count = std::min(page_, upto_ - after);
    requested_ = after + count;
    in_flight_.push_back({after, count,
                          std::async(ahead_ ? std::launch::async : std::launch::deferred,
                                     [&store = store_, after, count] {
                                       return store.read_all(after,
                                                             static_cast<std::size_t>(count));
                                     })});
  }
}

std::vector<recorded_event> log_pages::next() {
  top_up();  // after a failed read, the page it was for is asked for again
  if (in_flight_.empty()) return {};
  auto p = std::move(in_flight_.front());
  in_flight_.pop_front();
  std::vector<recorded_event> events;
  try {
    events = p.events.get();
  } catch (...) {
    drain();
    requested_ = delivered_;
    throw;
  }
  while (!events.empty() && events.back().global_position > upto_) events.pop_back();
  const bool whole = static_cast<std::int64_t>(events.size()) == p.count &&
                     events.front().global_position == p.after + 1 &&
                     events.back().global_position == p.after + p.count;
  if (!events.empty()) delivered_ = events.back().global_position;
  if (!whole) {
    // The log ended early or its positions are not what they should be: the pages asked for
    // after this one started from assumed positions, so they are dropped, and the reading goes
    // on one page at a time from where this one ended (the caller judges what it got).
    drain();
    depth_ = 1;
    requested_ = events.empty() ? upto_ : delivered_;
  }
  top_up();
  return events;
}

}  // namespace realmkit::infra
