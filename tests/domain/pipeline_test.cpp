#include "domain/pipeline/pipeline_state.hpp"
#include "tests/support/decider_spec.hpp"

using namespace realmkit::domain;
using realmkit::testing::decider_spec;
using realmkit::testing::test_context;

namespace {

decider_spec<pipeline_aggregate> spec() {
  return decider_spec<pipeline_aggregate>([](const pipeline_command& c, const pipeline_state& s) {
    return decide(c, s, test_context());
  });
}

const pipeline_id kPipeline{"p1"};
const pipeline_stage kLead{stage_id{"s1"}, "Lead", 10};
const pipeline_stage kProposal{stage_id{"s2"}, "Proposal", 50};
const pipeline_stage kNegotiation{stage_id{"s3"}, "Negotiation", 80};

pipeline_event created() {
  return pipeline_created{kPipeline, "Sales", {kLead, kProposal, kNegotiation}};
}

}  // namespace

TEST_SUITE("pipeline") {
  TEST_CASE("creating a pipeline records its stages in order, names trimmed") {
    spec()
        .when(create_pipeline{kPipeline, "  Sales ", {kLead, {stage_id{"s2"}, " Proposal ", 50}}})
        .then({pipeline_created{kPipeline, "Sales", {kLead, kProposal}}});
  }

  TEST_CASE("a pipeline needs a name and at least one stage") {
    spec()
        .when(create_pipeline{kPipeline, "  ", {kLead}})
        .then_rejected(rejection_code::invalid, "name");
    spec()
        .when(create_pipeline{kPipeline, "Sales", {}})
        .then_rejected(rejection_code::invalid, "stages");
  }

  TEST_CASE("stage names are unique regardless of case and spacing") {
    spec()
        .when(create_pipeline{kPipeline, "Sales", {kLead, {stage_id{"s2"}, " lead", 20}}})
        .then_rejected(rejection_code::invalid, "stages/1.name");
    spec()
        .given({created()})
        .when(add_pipeline_stage{kPipeline, {stage_id{"s4"}, "PROPOSAL", 60}, std::nullopt})
        .then_rejected(rejection_code::invalid, "stage.name");
    spec()
        .given({created()})
        .when(rename_pipeline_stage{kPipeline, stage_id{"s1"}, "negotiation"})
        .then_rejected(rejection_code::invalid, "name");
  }

  TEST_CASE("probabilities lie between 0 and 100") {
    spec()
        .when(create_pipeline{kPipeline, "Sales", {{stage_id{"s1"}, "Lead", 101}}})
        .then_rejected(rejection_code::invalid, "stages/0.probability");
    spec()
        .given({created()})
        .when(change_stage_probability{kPipeline, stage_id{"s2"}, -1})
        .then_rejected(rejection_code::invalid, "probability");
    spec()
        .given({created()})
        .when(change_stage_probability{kPipeline, stage_id{"s2"}, 60})
        .then({pipeline_stage_probability_changed{kPipeline, stage_id{"s2"}, 60}});
  }

  TEST_CASE("a pipeline is created once") {
    spec()
        .given({created()})
        .when(create_pipeline{kPipeline, "Again", {kLead}})
        .then_rejected(rejection_code::already_exists, "");
  }

  TEST_CASE("commands on a missing pipeline are not found") {
    spec().when(rename_pipeline{kPipeline, "New"}).then_rejected(rejection_code::not_found, "");
  }

  TEST_CASE("adding a stage at a position") {
    const pipeline_stage qualified{stage_id{"s4"}, "Qualified", 25};
    auto s = spec();
    s.given({created()})
        .when(add_pipeline_stage{kPipeline, qualified, 1})
        .then({pipeline_stage_added{kPipeline, qualified, 1}});
    s.given({created(), pipeline_stage_added{kPipeline, qualified, 1}});
    CHECK(s.state().stages[1] == qualified);
    CHECK(s.state().stages[2] == kProposal);
    spec()
        .given({created()})
        .when(add_pipeline_stage{kPipeline, qualified, 9})
        .then_rejected(rejection_code::invalid, "position");
  }

  TEST_CASE("reordering must name every stage once") {
    spec()
        .given({created()})
        .when(reorder_pipeline_stages{kPipeline, {stage_id{"s3"}, stage_id{"s1"}, stage_id{"s2"}}})
        .then({pipeline_stages_reordered{kPipeline,
                                         {stage_id{"s3"}, stage_id{"s1"}, stage_id{"s2"}}}});
    spec()
        .given({created()})
        .when(reorder_pipeline_stages{kPipeline, {stage_id{"s3"}, stage_id{"s1"}}})
        .then_rejected(rejection_code::invalid, "stage_ids");
    spec()
        .given({created()})
        .when(reorder_pipeline_stages{kPipeline, {stage_id{"s3"}, stage_id{"s3"}, stage_id{"s2"}}})
        .then_rejected(rejection_code::invalid, "stage_ids/1");
    spec()
        .given({created()})
        .when(reorder_pipeline_stages{kPipeline, {stage_id{"s1"}, stage_id{"s2"}, stage_id{"s3"}}})
        .then({});
  }

  TEST_CASE("only an empty stage can be removed, and never the last one") {
    spec()
        .given({created()})
        .when(remove_pipeline_stage{kPipeline, stage_id{"s2"}, 3})
        .then_rejected(rejection_code::invalid_state, "stage_id");
    spec()
        .given({created()})
        .when(remove_pipeline_stage{kPipeline, stage_id{"s2"}, 0})
        .then({pipeline_stage_removed{kPipeline, stage_id{"s2"}}});
    spec()
        .given({pipeline_created{kPipeline, "Solo", {kLead}}})
        .when(remove_pipeline_stage{kPipeline, stage_id{"s1"}, 0})
        .then_rejected(rejection_code::invalid_state, "stage_id");
    spec()
        .given({created()})
        .when(remove_pipeline_stage{kPipeline, stage_id{"nope"}, 0})
        .then_rejected(rejection_code::invalid, "stage_id");
  }

  TEST_CASE("an archived pipeline cannot change, and archiving twice is a no-op") {
    spec()
        .given({created(), pipeline_archived{kPipeline}})
        .when(rename_pipeline{kPipeline, "New"})
        .then_rejected(rejection_code::invalid_state, "");
    spec()
        .given({created(), pipeline_archived{kPipeline}})
        .when(archive_pipeline{kPipeline})
        .then({});
  }

  TEST_CASE("renaming to the same name changes nothing") {
    spec().given({created()}).when(rename_pipeline{kPipeline, "Sales "}).then({});
  }
}
