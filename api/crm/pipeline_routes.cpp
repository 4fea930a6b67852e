// /api/pipelines: the named, ordered stages deals move through.
#include <limits>

#include "api/crm/route_groups.hpp"
#include "api/crm/route_support.hpp"

namespace realmkit::api::crm {
namespace {

using namespace domain;
using perm = auth::permission;

pipeline_id pipeline_of(const request_scope& scope) {
  return pipeline_id{path_id(scope.request())};
}

int read_probability(const json_object& o, std::string_view name) {
  return static_cast<int>(
      o.int64(name, std::numeric_limits<int>::min(), std::numeric_limits<int>::max()));
}

// Pipeline answers carry the stages as they stand after the command, read back from the stream,
// so that new stage ids are known (also to a replayed request).
http_response pipeline_reply(request_scope& scope, const commands::outcome& o, int status = 200) {
  if (!o.ok()) return command_reply(o);
  const auto id = aggregate_id_of(o.result().stream_id);
  const auto current = scope.services().handler.load<pipeline_aggregate>(id);
  return command_reply(
      o, status,
      [&](json_out& out) {
        out.key("name").string(current.state.name);
        out.key("stages");
        write_stages(out, current.state.stages);
      },
      status == 201 ? "/api/pipelines/" : "");
}

http_response run(request_scope& scope, std::vector<pipeline_command> commands,
                  std::optional<std::int64_t> expected) {
  return pipeline_reply(scope, execute_on_record(scope, std::move(commands), expected));
}

http_response create(request_scope& scope) {
  const auto body = body_of(scope.request());
  const auto o = body.root();
  o.allow_only({"name", "stages"});
  create_pipeline c;
  c.pipeline = pipeline_id{scope.services().new_id()};
  c.name = o.string("name");
  const auto stages = o.array("stages", kMaxPipelineStages + 1);
  for (std::size_t i = 0; i < stages.size(); ++i) {
    const auto s = stages.object(i);
    s.allow_only({"name", "probability"});
    c.stages.push_back({stage_id{scope.services().new_id()}, s.string("name"),
                        read_probability(s, "probability")});
  }
  return pipeline_reply(
      scope, commands::execute(scope.services().handler, pipeline_command{c}, scope.metadata()),
      201);
}

http_response add_stage(request_scope& scope) {
  const auto body = body_of(scope.request());
  const auto o = body.root();
  allow_with_version(o, {"name", "probability", "position"});
  add_pipeline_stage c;
  c.pipeline = pipeline_of(scope);
  c.stage = {stage_id{scope.services().new_id()}, o.string("name"),
             read_probability(o, "probability")};
  if (auto position = o.optional_int64("position", 0, std::numeric_limits<int>::max())) {
    c.position = static_cast<int>(*position);
  }
  return run(scope, {c}, expected_version(scope.request(), o));
}

http_response update_stage(request_scope& scope) {
  const auto body = body_of(scope.request());
  const auto o = body.root();
  allow_with_version(o, {"name", "probability"});
  const auto id = pipeline_of(scope);
  const stage_id stage{std::string(scope.request().path_param("stage_id"))};
  std::vector<pipeline_command> commands;
  if (auto name = o.optional_string("name")) {
    commands.push_back(rename_pipeline_stage{id, stage, *name});
  }
  if (o.has("probability") && !o.is_null("probability")) {
    commands.push_back(change_stage_probability{id, stage, read_probability(o, "probability")});
  }
  return run(scope, std::move(commands), expected_version(scope.request(), o));
}

}  // namespace

void add_pipeline_routes(router& routes, crm_services& services) {
  add_route(routes, services, "GET", "/api/pipelines", "pipelines.list", perm::pipeline_view,
            "List pipelines (filter: updated_since)", [](request_scope& scope) {
              await_min_position(scope);
              const auto q = list_params(scope, {"updated_since"}, false);
              return list_reply(scope.services().queries.list_pipelines(q));
            });
  add_route(routes, services, "POST", "/api/pipelines", "pipelines.create", perm::pipeline_edit,
            "Create a pipeline with its stages", create);
  add_route(routes, services, "GET", "/api/pipelines/{id}", "pipelines.get", perm::pipeline_view,
            "Get a pipeline with its stages", [](request_scope& scope) {
              await_min_position(scope);
              const auto id = path_id(scope.request());
              return view_reply(
                  scope,
                  visible_or_404(scope, scope.services().queries.find_pipeline(id), "pipeline"));
            });
  add_route(routes, services, "PATCH", "/api/pipelines/{id}", "pipelines.update",
            perm::pipeline_edit, "Rename a pipeline", [](request_scope& scope) {
              const auto body = body_of(scope.request());
              const auto o = body.root();
              allow_with_version(o, {"name"});
              std::vector<pipeline_command> commands;
              if (auto name = o.optional_string("name")) {
                commands.push_back(rename_pipeline{pipeline_of(scope), *name});
              }
              return run(scope, std::move(commands), expected_version(scope.request(), o));
            });
  add_route(routes, services, "DELETE", "/api/pipelines/{id}", "pipelines.archive",
            perm::pipeline_edit, "Archive a pipeline", [](request_scope& scope) {
              return run(scope, {archive_pipeline{pipeline_of(scope)}},
                         bodyless_expected_version(scope.request()));
            });
  add_route(routes, services, "POST", "/api/pipelines/{id}/stages", "pipelines.add_stage",
            perm::pipeline_edit, "Add a stage to a pipeline", add_stage);
  add_route(
      routes, services, "PUT", "/api/pipelines/{id}/stages", "pipelines.reorder_stages",
      perm::pipeline_edit, "Put a pipeline's stages in a new order", [](request_scope& scope) {
        const auto body = body_of(scope.request());
        const auto o = body.root();
        allow_with_version(o, {"stage_ids"});
        return run(
            scope,
            {reorder_pipeline_stages{pipeline_of(scope),
                                     read_ids<stage_id>(o, "stage_ids", kMaxPipelineStages + 1)}},
            expected_version(scope.request(), o));
      });
  add_route(routes, services, "PATCH", "/api/pipelines/{id}/stages/{stage_id}",
            "pipelines.update_stage", perm::pipeline_edit,
            "Rename a stage or change its win probability", update_stage);
  add_route(routes, services, "DELETE", "/api/pipelines/{id}/stages/{stage_id}",
            "pipelines.remove_stage", perm::pipeline_edit,
            "Remove a stage that holds no open deals", [](request_scope& scope) {
              const auto id = pipeline_of(scope);
              const stage_id stage{std::string(scope.request().path_param("stage_id"))};
              const auto open = scope.services().queries.open_deals_in_stage(id.value, stage.value);
              return run(scope, {remove_pipeline_stage{id, stage, open}},
                         bodyless_expected_version(scope.request()));
            });
}

}  // namespace realmkit::api::crm
