#include "api/audit/log_reader.hpp"

#include <algorithm>

#include "infra/event_codec.hpp"
#include "infra/log_pages.hpp"

namespace realmkit::api::audit {

std::int64_t position_at(infra::event_store& store, infra::timestamp t) {
  std::int64_t low = 0;  // recorded at or before t (0 stands for "before the first event")
  std::int64_t high = store.head_position() + 1;  // recorded after t
  while (high - low > 1) {
    const auto mid = low + (high - low) / 2;
    const auto events = store.read_all(mid - 1, 1);
    if (events.empty() || events.front().global_position != mid) {
      throw infra::corrupt_event("the log has no event at position " + std::to_string(mid));
    }
    if (events.front().recorded_at <= t) {
      low = mid;
    } else {
      high = mid;
    }
  }
  return low;
}

bool feed_filter::matches(const infra::recorded_event& e) const {
  if (type && e.type != *type && infra::event_kind(e.type) != *type) return false;
  if (stream_prefix && !e.stream_id.starts_with(*stream_prefix)) return false;
  if (!actor && !correlation_id && !causation_id) return true;
  const auto meta = infra::decode_metadata(e.metadata);
  if (actor && meta.actor != *actor) return false;
  if (correlation_id && meta.correlation_id != *correlation_id) return false;
  if (causation_id && meta.causation_id != *causation_id) return false;
  return true;
}

std::int64_t scan_log(infra::event_store& store, std::int64_t after, std::int64_t upto,
                      const std::function<bool(const infra::recorded_event&)>& each,
                      std::size_t batch) {
  std::int64_t at = after;
  while (at < upto) {
    const auto want = std::min<std::int64_t>(static_cast<std::int64_t>(batch), upto - at);
    const auto events = store.read_all(at, static_cast<std::size_t>(want));
    if (events.empty()) break;
    for (const auto& e : events) {
      if (e.global_position > upto) return at;
      at = e.global_position;
      if (!each(e)) return at;
    }
  }
  return at;
}

std::int64_t scan_log_pages(infra::event_store& store, std::int64_t after, std::int64_t upto,
                            const std::function<bool(std::span<const infra::recorded_event>)>& each,
                            std::size_t batch) {
  std::int64_t at = after;
  if (at >= upto) return at;
  infra::log_pages pages(store, after, upto, batch);
  for (auto events = pages.next(); !events.empty(); events = pages.next()) {
    at = events.back().global_position;
    if (!each(events)) return at;
  }
  return at;
}

std::int64_t scan_log_ahead(infra::event_store& store, std::int64_t after, std::int64_t upto,
                            const std::function<bool(const infra::recorded_event&)>& each,
                            std::size_t batch) {
  std::int64_t at = after;
  scan_log_pages(
      store, after, upto,
      [&](std::span<const infra::recorded_event> events) {
        for (const auto& e : events) {
          at = e.global_position;
          if (!each(e)) return false;
        }
        return true;
      },
      batch);
  return at;
}

feed_page read_feed(infra::event_store& store, const feed_request& request) {
  feed_page page;
  page.items.reserve(std::min<std::size_t>(request.limit, 1'000));
  const auto budget = static_cast<std::int64_t>(request.max_scanned);
  const auto upto = std::min(request.upto, request.after + budget);
  // A page ends at its limit or its scan budget, whichever comes first.
  page.scanned_to = scan_log(store, request.after, upto, [&](const infra::recorded_event& e) {
    if (request.filter.matches(e)) page.items.push_back(e);
    return page.items.size() < request.limit;
  });
  page.complete = page.scanned_to >= request.upto;
  return page;
}

}  // namespace realmkit::api::audit
