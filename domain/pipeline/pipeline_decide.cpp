#include <algorithm>
#include <set>

#include "domain/pipeline/pipeline_state.hpp"

namespace realmkit::domain {
namespace {

std::optional<rejection> check_probability(std::string_view field, int probability) {
  if (probability < 0 || probability > 100) {
    return invalid(std::string(field), "must be between 0 and 100");
  }
  return std::nullopt;
}

// Stage names are compared trimmed and case-insensitively: "Won" and " won" confuse a board.
std::string stage_key(std::string_view name) {
  return rules::folded(name);
}

bool name_taken(const pipeline_state& state, std::string_view name, const stage_id& except) {
  return std::any_of(state.stages.begin(), state.stages.end(), [&](const pipeline_stage& s) {
    return s.id != except && stage_key(s.name) == stage_key(name);
  });
}

std::optional<rejection> check_stage(std::string_view field, const pipeline_stage& stage) {
  if (auto r = rules::check_id(std::string(field) + ".id", stage.id.value)) return r;
  if (auto r = rules::check_name(std::string(field) + ".name", stage.name)) return r;
  return check_probability(std::string(field) + ".probability", stage.probability);
}

std::optional<rejection> require_open(const pipeline_state& state) {
  if (!state.exists) return not_found("pipeline does not exist");
  if (state.archived) return invalid_state("", "pipeline is archived");
  return std::nullopt;
}

decision<pipeline_event> decide_create(const create_pipeline& c, const pipeline_state& state) {
  if (state.exists) return already_exists("pipeline already exists");
  if (auto r = rules::check_id("id", c.pipeline.value)) return *r;
  if (auto r = rules::check_name("name", c.name)) return *r;
  if (c.stages.empty()) return invalid("stages", "a pipeline needs at least one stage");
  if (c.stages.size() > kMaxPipelineStages) {
    return invalid("stages",
                   "a pipeline has at most " + std::to_string(kMaxPipelineStages) + " stages");
  }
  std::set<std::string> names;
  std::set<stage_id> ids;
  std::vector<pipeline_stage> stages;
  for (std::size_t i = 0; i < c.stages.size(); ++i) {
    const std::string field = "stages/" + std::to_string(i);
    if (auto r = check_stage(field, c.stages[i])) return *r;
    if (!names.insert(stage_key(c.stages[i].name)).second) {
      return invalid(field + ".name", "duplicate stage name");
    }
    if (!ids.insert(c.stages[i].id).second) return invalid(field + ".id", "duplicate stage id");
    stages.push_back({c.stages[i].id, rules::trimmed(c.stages[i].name), c.stages[i].probability});
  }
  return pipeline_event{pipeline_created{c.pipeline, rules::trimmed(c.name), std::move(stages)}};
}

}  // namespace

decision<pipeline_event> decide(const pipeline_command& command, const pipeline_state& state,
                                const command_context&) {
  return std::visit(
      overloaded{
          [&](const create_pipeline& c) { return decide_create(c, state); },
          [&](const rename_pipeline& c) -> decision<pipeline_event> {
            if (auto r = require_open(state)) return *r;
            if (auto r = rules::check_name("name", c.name)) return *r;
            const auto name = rules::trimmed(c.name);
            if (name == state.name) return std::vector<pipeline_event>{};
            return pipeline_event{pipeline_renamed{state.id, name}};
          },
          [&](const add_pipeline_stage& c) -> decision<pipeline_event> {
            if (auto r = require_open(state)) return *r;
            if (auto r = check_stage("stage", c.stage)) return *r;
            if (state.stages.size() >= kMaxPipelineStages) {
              return invalid("stage", "a pipeline has at most " +
                                          std::to_string(kMaxPipelineStages) + " stages");
            }
            if (state.find_stage(c.stage.id)) return invalid("stage.id", "duplicate stage id");
            if (name_taken(state, c.stage.name, c.stage.id)) {
              return invalid("stage.name", "duplicate stage name");
            }
            const int size = static_cast<int>(state.stages.size());
            const int position = c.position.value_or(size);
            if (position < 0 || position > size) {
              return invalid("position", "must be between 0 and " + std::to_string(size));
            }
            return pipeline_event{pipeline_stage_added{
                state.id,
                {c.stage.id, rules::trimmed(c.stage.name), c.stage.probability},
                position}};
          },
          [&](const rename_pipeline_stage& c) -> decision<pipeline_event> {
            if (auto r = require_open(state)) return *r;
            const auto* stage = state.find_stage(c.stage);
            if (!stage) return invalid("stage_id", "is not a stage of this pipeline");
            if (auto r = rules::check_name("name", c.name)) return *r;
            if (name_taken(state, c.name, c.stage)) return invalid("name", "duplicate stage name");
            const auto name = rules::trimmed(c.name);
            if (name == stage->name) return std::vector<pipeline_event>{};
            return pipeline_event{pipeline_stage_renamed{state.id, c.stage, name}};
          },
          [&](const change_stage_probability& c) -> decision<pipeline_event> {
            if (auto r = require_open(state)) return *r;
            const auto* stage = state.find_stage(c.stage);
            if (!stage) return invalid("stage_id", "is not a stage of this pipeline");
            if (auto r = check_probability("probability", c.probability)) return *r;
            if (stage->probability == c.probability) return std::vector<pipeline_event>{};
            return pipeline_event{
                pipeline_stage_probability_changed{state.id, c.stage, c.probability}};
          },
          [&](const reorder_pipeline_stages& c) -> decision<pipeline_event> {
            if (auto r = require_open(state)) return *r;
            if (c.stage_ids.size() != state.stages.size()) {
              return invalid("stage_ids", "must name every stage of the pipeline exactly once");
            }
            std::set<stage_id> seen;
            for (std::size_t i = 0; i < c.stage_ids.size(); ++i) {
              if (!state.find_stage(c.stage_ids[i]) || !seen.insert(c.stage_ids[i]).second) {
                return invalid("stage_ids/" + std::to_string(i),
                               "must name every stage of the pipeline exactly once");
              }
            }
            const bool same =
                std::equal(c.stage_ids.begin(), c.stage_ids.end(), state.stages.begin(),
                           [](const stage_id& a, const pipeline_stage& b) { return a == b.id; });
            if (same) return std::vector<pipeline_event>{};
            return pipeline_event{pipeline_stages_reordered{state.id, c.stage_ids}};
          },
          [&](const remove_pipeline_stage& c) -> decision<pipeline_event> {
            if (auto r = require_open(state)) return *r;
            if (!state.find_stage(c.stage))
              return invalid("stage_id", "is not a stage of this pipeline");
            if (state.stages.size() == 1) {
              return invalid_state("stage_id", "the last stage of a pipeline cannot be removed");
            }
            if (c.open_deals_in_stage > 0) {
              return invalid_state("stage_id", "the stage still holds " +
                                                   std::to_string(c.open_deals_in_stage) +
                                                   " open deals; move them first");
            }
            return pipeline_event{pipeline_stage_removed{state.id, c.stage}};
          },
          [&](const archive_pipeline&) -> decision<pipeline_event> {
            if (!state.exists) return not_found("pipeline does not exist");
            if (state.archived) return std::vector<pipeline_event>{};
            return pipeline_event{pipeline_archived{state.id}};
          },
      },
      command);
}

}  // namespace realmkit::domain
