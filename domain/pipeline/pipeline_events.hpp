// Events of the pipeline aggregate: a named, ordered list of stages with win probabilities.
#pragma once

#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "domain/common/types.hpp"

namespace realmkit::domain {

struct pipeline_stage {
  stage_id id;
  std::string name;
  int probability = 0;  // chance of winning a deal in this stage, 0–100

  bool operator==(const pipeline_stage&) const = default;
  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("id", self.id);
    v("name", self.name);
    v("probability", self.probability);
  }
};

struct pipeline_created {
  static constexpr std::string_view kType = "pipeline.created.v1";
  pipeline_id pipeline;
  std::string name;
  std::vector<pipeline_stage> stages;

  bool operator==(const pipeline_created&) const = default;
  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("pipeline_id", self.pipeline);
    v("name", self.name);
    v("stages", self.stages);
  }
};

struct pipeline_renamed {
  static constexpr std::string_view kType = "pipeline.renamed.v1";
  pipeline_id pipeline;
  std::string name;

  bool operator==(const pipeline_renamed&) const = default;
  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("pipeline_id", self.pipeline);
    v("name", self.name);
  }
};

struct pipeline_stage_added {
  static constexpr std::string_view kType = "pipeline.stage_added.v1";
  pipeline_id pipeline;
  pipeline_stage stage;
  int position = 0;  // zero-based index the stage was inserted at

  bool operator==(const pipeline_stage_added&) const = default;
  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("pipeline_id", self.pipeline);
    v("stage", self.stage);
    v("position", self.position);
  }
};

struct pipeline_stage_renamed {
  static constexpr std::string_view kType = "pipeline.stage_renamed.v1";
  pipeline_id pipeline;
  stage_id stage;
  std::string name;

  bool operator==(const pipeline_stage_renamed&) const = default;
  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("pipeline_id", self.pipeline);
    v("stage_id", self.stage);
    v("name", self.name);
  }
};

struct pipeline_stage_probability_changed {
  static constexpr std::string_view kType = "pipeline.stage_probability_changed.v1";
  pipeline_id pipeline;
  stage_id stage;
  int probability = 0;

  bool operator==(const pipeline_stage_probability_changed&) const = default;
  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("pipeline_id", self.pipeline);
    v("stage_id", self.stage);
    v("probability", self.probability);
  }
};

struct pipeline_stages_reordered {
  static constexpr std::string_view kType = "pipeline.stages_reordered.v1";
  pipeline_id pipeline;
  std::vector<stage_id> stage_ids;  // every stage, in the new order

  bool operator==(const pipeline_stages_reordered&) const = default;
  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("pipeline_id", self.pipeline);
    v("stage_ids", self.stage_ids);
  }
};

struct pipeline_stage_removed {
  static constexpr std::string_view kType = "pipeline.stage_removed.v1";
  pipeline_id pipeline;
  stage_id stage;

  bool operator==(const pipeline_stage_removed&) const = default;
  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("pipeline_id", self.pipeline);
    v("stage_id", self.stage);
  }
};

struct pipeline_archived {
  static constexpr std::string_view kType = "pipeline.archived.v1";
  pipeline_id pipeline;

  bool operator==(const pipeline_archived&) const = default;
  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("pipeline_id", self.pipeline);
  }
};

using pipeline_event =
    std::variant<pipeline_created, pipeline_renamed, pipeline_stage_added, pipeline_stage_renamed,
                 pipeline_stage_probability_changed, pipeline_stages_reordered,
                 pipeline_stage_removed, pipeline_archived>;

}  // namespace realmkit::domain
