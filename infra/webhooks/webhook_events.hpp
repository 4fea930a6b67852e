// Which events a webhook subscription receives, and the body each delivery carries.
//
// A subscription lists patterns: an event's kind ("deal.stage_moved", its type without the
// schema version), every kind of one aggregate ("deal.*"), or every kind ("*"). Only the CRM's
// public aggregates are offered (activity, company, contact, deal, lead, pipeline, task, team,
// user); the log's internal bookkeeping streams (the e-mail reservations) are never sent.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "infra/event_store.hpp"

namespace realmkit::infra::webhooks {

// Every kind a subscription may name, sorted ("activity.deleted", …, "user.team_changed").
std::span<const std::string> known_event_kinds();

// Why a pattern is not acceptable (malformed, an unknown aggregate or kind); nullopt when it is.
std::optional<std::string> check_pattern(std::string_view pattern);

// True when the stored event type ("deal.stage_moved.v1") is one of the public kinds and matches
// one of the patterns.
bool matches(std::span<const std::string> patterns, std::string_view event_type);

// The JSON body of a delivery: the event envelope of docs/events.md, as the audit feed shows it
// (personal fields as the reader of `event` sees them, a password hash redacted), with metadata
// reduced to actor, correlation_id and causation_id: the client's IP address and its
// Idempotency-Key are not the receiver's business.
std::string webhook_payload(const recorded_event& event);

}  // namespace realmkit::infra::webhooks
