// Commands of the pipeline aggregate.
#pragma once

#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "domain/pipeline/pipeline_events.hpp"

namespace realmkit::domain {

struct create_pipeline {
  pipeline_id pipeline;
  std::string name;
  std::vector<pipeline_stage> stages;  // ids are assigned by the caller
};

struct rename_pipeline {
  pipeline_id pipeline;
  std::string name;
};

struct add_pipeline_stage {
  pipeline_id pipeline;
  pipeline_stage stage;
  std::optional<int> position;  // append at the end when absent
};

struct rename_pipeline_stage {
  pipeline_id pipeline;
  stage_id stage;
  std::string name;
};

struct change_stage_probability {
  pipeline_id pipeline;
  stage_id stage;
  int probability = 0;
};

struct reorder_pipeline_stages {
  pipeline_id pipeline;
  std::vector<stage_id> stage_ids;
};

struct remove_pipeline_stage {
  pipeline_id pipeline;
  stage_id stage;
  // Deals live in their own streams, so the caller states how many open deals sit in the stage
  // (from the board read model); a stage that still holds deals cannot be removed.
  std::int64_t open_deals_in_stage = 0;
};

struct archive_pipeline {
  pipeline_id pipeline;
};

using pipeline_command =
    std::variant<create_pipeline, rename_pipeline, add_pipeline_stage, rename_pipeline_stage,
                 change_stage_probability, reorder_pipeline_stages, remove_pipeline_stage,
                 archive_pipeline>;

}  // namespace realmkit::domain
