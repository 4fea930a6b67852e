#include "infra/webhooks/webhook_events.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <variant>

#include "domain/activity/activity_events.hpp"
#include "domain/company/company_events.hpp"
#include "domain/contact/contact_events.hpp"
#include "domain/deal/deal_events.hpp"
#include "domain/lead/lead_events.hpp"
#include "domain/pipeline/pipeline_events.hpp"
#include "domain/task/task_events.hpp"
#include "domain/team/team_events.hpp"
#include "domain/user/user_events.hpp"
#include "infra/event_codec.hpp"
#include "infra/event_envelope.hpp"
#include "infra/event_metadata.hpp"

namespace realmkit::infra::webhooks {
namespace {

template <class... Events>
void add_kinds(std::vector<std::string>& out, std::variant<Events...>*) {
  (out.emplace_back(event_kind(Events::kType)), ...);
}

std::vector<std::string> collect_kinds() {
  std::vector<std::string> kinds;
  add_kinds(kinds, static_cast<domain::activity_event*>(nullptr));
  add_kinds(kinds, static_cast<domain::company_event*>(nullptr));
  add_kinds(kinds, static_cast<domain::contact_event*>(nullptr));
  add_kinds(kinds, static_cast<domain::deal_event*>(nullptr));
  add_kinds(kinds, static_cast<domain::lead_event*>(nullptr));
  add_kinds(kinds, static_cast<domain::pipeline_event*>(nullptr));
  add_kinds(kinds, static_cast<domain::task_event*>(nullptr));
  add_kinds(kinds, static_cast<domain::team_event*>(nullptr));
  add_kinds(kinds, static_cast<domain::user_event*>(nullptr));
  std::sort(kinds.begin(), kinds.end());
  kinds.erase(std::unique(kinds.begin(), kinds.end()), kinds.end());
  return kinds;
}

bool is_known_kind(std::string_view kind) {
  const auto kinds = known_event_kinds();
  return std::binary_search(kinds.begin(), kinds.end(), kind);
}

bool is_known_aggregate(std::string_view aggregate) {
  for (const auto& kind : known_event_kinds()) {
    if (kind.size() > aggregate.size() && kind.starts_with(aggregate) &&
        kind[aggregate.size()] == '.') {
      return true;
    }
  }
  return false;
}

bool is_name(std::string_view s) {
  if (s.empty() || s.size() > 64 || s[0] < 'a' || s[0] > 'z') return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

}  // namespace

std::span<const std::string> known_event_kinds() {
  static const std::vector<std::string> kinds = collect_kinds();
  return kinds;
}

std::optional<std::string> check_pattern(std::string_view pattern) {
  if (pattern == "*") return std::nullopt;
  const auto dot = pattern.find('.');
  if (dot == std::string_view::npos) {
    return "must be \"*\", \"<aggregate>.*\" or an event kind such as \"deal.stage_moved\"";
  }
  const auto aggregate = pattern.substr(0, dot);
  const auto name = pattern.substr(dot + 1);
  if (!is_name(aggregate) || (name != "*" && !is_name(name))) {
    return "must be \"*\", \"<aggregate>.*\" or an event kind such as \"deal.stage_moved\" "
           "(without the schema version)";
  }
  if (!is_known_aggregate(aggregate)) return "names no aggregate whose events are offered";
  if (name != "*" && !is_known_kind(pattern)) return "is not a kind of event that is recorded";
  return std::nullopt;
}

bool matches(std::span<const std::string> patterns, std::string_view event_type) {
  const auto kind = event_kind(event_type);
  if (!is_known_kind(kind)) return false;
  const auto aggregate = kind.substr(0, kind.find('.'));
  for (const auto& p : patterns) {
    if (p == "*" || p == kind) return true;
    if (p.size() == aggregate.size() + 2 && p.ends_with(".*") && p.starts_with(aggregate)) {
      return true;
    }
  }
  return false;
}

std::string webhook_payload(const recorded_event& event) {
  auto shown = event;
  try {
    auto metadata = decode_metadata(event.metadata);
    metadata.ip.clear();
    metadata.idempotency_key.clear();
    shown.metadata = encode_metadata(metadata);
  } catch (const std::exception&) {
    shown.metadata = encode_metadata({});  // unreadable metadata goes out empty, not as stored
  }
  if (event.type.starts_with("user.password_changed.")) {
    rapidjson::Document data;
    data.Parse(event.data.data(), event.data.size());
    if (data.IsObject() && data.HasMember("password_hash")) {
      data["password_hash"].SetString("[redacted]", data.GetAllocator());
    }
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
    data.Accept(writer);
    shown.data.assign(buffer.GetString(), buffer.GetSize());
  }
  return encode_envelope(shown);
}

}  // namespace realmkit::infra::webhooks
