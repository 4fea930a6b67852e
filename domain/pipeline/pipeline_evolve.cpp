#include <algorithm>

#include "domain/pipeline/pipeline_state.hpp"

namespace realmkit::domain {

const pipeline_stage* pipeline_state::find_stage(const stage_id& stage) const {
  auto it = std::find_if(stages.begin(), stages.end(),
                         [&](const pipeline_stage& s) { return s.id == stage; });
  return it == stages.end() ? nullptr : &*it;
}

pipeline_state evolve(pipeline_state state, const pipeline_event& event) {
  auto stage_at = [&state](const stage_id& id) {
    return std::find_if(state.stages.begin(), state.stages.end(),
                        [&](const pipeline_stage& s) { return s.id == id; });
  };
  std::visit(
      overloaded{
          [&](const pipeline_created& e) {
            state.exists = true;
            state.id = e.pipeline;
            state.name = e.name;
            state.stages = e.stages;
          },
          [&](const pipeline_renamed& e) { state.name = e.name; },
          [&](const pipeline_stage_added& e) {
            const auto pos = std::clamp<std::ptrdiff_t>(
                e.position, 0, static_cast<std::ptrdiff_t>(state.stages.size()));
            state.stages.insert(state.stages.begin() + pos, e.stage);
          },
          [&](const pipeline_stage_renamed& e) {
            if (auto it = stage_at(e.stage); it != state.stages.end()) it->name = e.name;
          },
          [&](const pipeline_stage_probability_changed& e) {
            if (auto it = stage_at(e.stage); it != state.stages.end())
              it->probability = e.probability;
          },
          [&](const pipeline_stages_reordered& e) {
            std::vector<pipeline_stage> ordered;
            ordered.reserve(state.stages.size());
            for (const auto& id : e.stage_ids) {
              if (auto it = stage_at(id); it != state.stages.end()) ordered.push_back(*it);
            }
            // evolve never fails: stages the event does not name keep their relative order at the
            // end.
            for (const auto& s : state.stages) {
              if (std::find(e.stage_ids.begin(), e.stage_ids.end(), s.id) == e.stage_ids.end()) {
                ordered.push_back(s);
              }
            }
            state.stages = std::move(ordered);
          },
          [&](const pipeline_stage_removed& e) {
            if (auto it = stage_at(e.stage); it != state.stages.end()) state.stages.erase(it);
          },
          [&](const pipeline_archived&) { state.archived = true; },
      },
      event);
  return state;
}

}  // namespace realmkit::domain
