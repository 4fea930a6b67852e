#include "projections/registry.hpp"

#include "projections/analytics/analytics_projection.hpp"
#include "projections/board/board_projection.hpp"
#include "projections/duplicates/duplicates_projection.hpp"
#include "projections/inbox/inbox_projection.hpp"
#include "projections/merges/merge_links_projection.hpp"
#include "projections/records/records_projection.hpp"
#include "projections/reminders/reminders_projection.hpp"
#include "projections/rooms/rooms_projection.hpp"
#include "projections/search/search_projection.hpp"
#include "projections/timeline/timeline_projection.hpp"

namespace realmkit::projections {

std::vector<std::shared_ptr<const projection>> all_projections(
    const projection_services& services) {
  std::vector<std::shared_ptr<const projection>> out;
  // One line per read model; each lives in its own folder under projections/.
  out.push_back(std::make_shared<records::records_projection>());
  out.push_back(analytics::make_analytics_projection());
  out.push_back(std::make_shared<rooms_projection>(
      rooms_options{.retention = services.room_retention, .bus = services.rooms}));
  out.push_back(std::make_shared<board::board_projection>());
  out.push_back(std::make_shared<search::search_projection>());
  out.push_back(std::make_shared<timeline::timeline_projection>());
  out.push_back(std::make_shared<inbox::inbox_projection>());
  out.push_back(std::make_shared<duplicates::duplicates_projection>());
  out.push_back(std::make_shared<merges::merge_links_projection>());
  out.push_back(std::make_shared<reminders::reminders_projection>());
  return out;
}

}  // namespace realmkit::projections
