// Every schema change of a stored event adds one step here (docs/events.md, "Changing an event").
#include "infra/json/event_upcasters.hpp"

namespace realmkit::infra::detail {

std::vector<builtin_upcaster> builtin_upcasters() {
  // No event has changed its schema yet. A step looks like:
  //   {"deal.created.v1", "deal.created.v2", [](std::string_view data) {
  //      rapidjson::Document d; ...add "source": null...; return text(d); }},
  return {};
}

}  // namespace realmkit::infra::detail
