// GET /api/integrations/unmatched: inbound messages (e-mails, meetings, SMS, calls) that no
// contact's address or number matched, newest first, for an admin to follow up. The webhooks that
// record them are api/integrations/; the messages name people who are nobody's contacts, and no
// team's records, so only admins see them.
#include "api/crm/read_model_support.hpp"
#include "api/crm/route_groups.hpp"
#include "api/integrations/inbound_log.hpp"

namespace realmkit::api::crm {
namespace {

namespace integrations = api::integrations;

constexpr std::size_t kDefaultUnmatched = 50;
constexpr std::size_t kMaxUnmatched = 200;

const std::string kItemProperties =
    R"("provider":{"type":"string"},"message_id":{"type":"string"},)"
    R"("kind":{"type":"string","enum":["email","meeting","sms","call"]},)"
    R"("addresses":{"type":"array","items":{"type":"string"}},)"
    R"("phones":{"type":"array","items":{"type":"string"}},"summary":{"type":"string"},)"
    R"("received_at":{"type":"string","format":"date-time"},)"
    R"("occurred_at":{"type":["string","null"],"format":"date-time"})";

void write_strings(json_out& out, const std::vector<std::string>& items) {
  out.begin_array();
  for (const auto& i : items) out.string(i);
  out.end_array();
}

http_response list_unmatched(request_scope& scope, infra::sql::session& db) {
  const query_reader q(scope.request(), {"limit", "cursor"});
  const auto limit = q.limit(kDefaultUnmatched, kMaxUnmatched);
  const auto cursor = q.text("cursor");
  integrations::unmatched_page page;
  try {
    page = integrations::list_unmatched(db, limit, cursor);
  } catch (const std::invalid_argument&) {
    fail("cursor", "is not a cursor this API gave out");
  }
  json_out out;
  out.begin_object().key("items").begin_array();
  for (const auto& m : page.items) {
    out.begin_object();
    out.key("provider").string(m.provider);
    out.key("message_id").string(m.message_id);
    out.key("kind").string(to_string(m.kind));
    out.key("addresses");
    write_strings(out, m.addresses);
    out.key("phones");
    write_strings(out, m.phones);
    out.key("summary").string(m.summary);
    out.key("received_at").string(infra::format_timestamp(m.received_at).value_or(""));
    out.key("occurred_at");
    if (m.occurred_at) {
      out.string(infra::format_timestamp(*m.occurred_at).value_or(""));
    } else {
      out.null();
    }
    out.end_object();
  }
  out.end_array();
  out.key("next_cursor").optional_string(page.next_cursor);
  out.end_object();
  return http_response::json(200, out.take());
}

}  // namespace

void add_inbound_routes(router& routes, crm_services& services) {
  add_read_route(routes, services, "/api/integrations/unmatched", "integrations.unmatched",
                 auth::permission::admin_access,
                 "Inbound messages no contact matched (kept 30 days), newest first",
                 R"({"type":"object","required":["items","next_cursor"],"properties":{)"
                 R"("items":{"type":"array","items":{"type":"object","properties":{)" +
                     kItemProperties + R"(}}},"next_cursor":{"type":["string","null"]}}})",
                 {}, list_unmatched);
}

}  // namespace realmkit::api::crm
