// The pipeline aggregate: its folded state, evolve and decide.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "domain/pipeline/pipeline_commands.hpp"
#include "domain/pipeline/pipeline_events.hpp"

namespace realmkit::domain {

struct pipeline_state {
  bool exists = false;
  pipeline_id id;
  std::string name;
  std::vector<pipeline_stage> stages;  // in board order
  bool archived = false;

  const pipeline_stage* find_stage(const stage_id& stage) const;

  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("exists", self.exists);
    v("id", self.id);
    v("name", self.name);
    v("stages", self.stages);
    v("archived", self.archived);
  }
};

inline constexpr std::size_t kMaxPipelineStages = 50;

pipeline_state evolve(pipeline_state state, const pipeline_event& event);
decision<pipeline_event> decide(const pipeline_command& command, const pipeline_state& state,
                                const command_context& context);

struct pipeline_aggregate {
  using state = pipeline_state;
  using event = pipeline_event;
  using command = pipeline_command;
  static constexpr std::string_view kCategory = "pipeline";
};

}  // namespace realmkit::domain
