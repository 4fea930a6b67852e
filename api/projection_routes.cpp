#include "api/projection_routes.hpp"

#include "api/auth/permissions.hpp"
#include "api/crm/crm_json.hpp"
#include "api/error_mapping.hpp"
#include "api/problem.hpp"
#include "projections/projector.hpp"

namespace realmkit::api {
namespace {

using projections::projection_status;

void write_status(crm::json_out& out, const projection_status& s) {
  out.begin_object();
  out.key("name").string(s.name);
  out.key("version").integer(s.version);
  out.key("generation").integer(s.generation);
  out.key("state").string(projections::to_string(s.state));
  out.key("checkpoint").integer(s.checkpoint);
  out.key("head").integer(s.head);
  out.key("lag").begin_object();
  out.key("events").integer(s.lag_events);
  out.key("seconds").raw(std::to_string(s.lag_seconds));
  out.end_object();
  out.key("events_applied").integer(static_cast<std::int64_t>(s.events_applied));
  out.key("error");
  if (s.error) {
    out.string(*s.error);
  } else {
    out.null();
  }
  out.key("rebuild");
  if (s.rebuild) {
    out.begin_object();
    out.key("generation").integer(s.rebuild->generation);
    out.key("checkpoint").integer(s.rebuild->checkpoint);
    out.key("error");
    if (s.rebuild->error) {
      out.string(*s.rebuild->error);
    } else {
      out.null();
    }
    out.end_object();
  } else {
    out.null();
  }
  out.end_object();
}

const std::string& name_param(const http_request& request) {
  return request.path_params.at("name");
}

[[noreturn]] void unknown(const std::string& name) {
  throw problem_error(
      make_problem(problem_kind::not_found, "no projection is named '" + name + "'", "name"));
}

constexpr std::string_view kStatusSchema = R"({"type":"object","required":["name","version",
"generation","state","checkpoint","head","lag"],"properties":{"name":{"type":"string"},
"version":{"type":"integer"},"generation":{"type":"integer"},"state":{"enum":["starting",
"catching_up","live","retrying","failed","stopped"]},"checkpoint":{"type":"integer"},
"head":{"type":"integer"},"lag":{"type":"object","properties":{"events":{"type":"integer"},
"seconds":{"type":"number"}}},"events_applied":{"type":"integer"},"error":{"type":["string",
"null"]},"rebuild":{"type":["object","null"]}}})";

}  // namespace

void add_projection_routes(router& routes, projections::projector& projector) {
  const std::string view = std::string(auth::to_string(auth::permission::analytics_view));
  const std::string admin = std::string(auth::to_string(auth::permission::admin_access));

  route list;
  list.method = "GET";
  list.pattern = "/api/projections";
  list.name = "projections.list";
  list.permission = view;
  list.blocking = false;
  list.summary = "Every read model's checkpoint, lag and state";
  list.response_schema = R"({"type":"object","required":["projections"],"properties":{
"projections":{"type":"array","items":)" +
                         std::string(kStatusSchema) + "}}}";
  list.handle = [&projector](const http_request&) {
    crm::json_out out;
    out.begin_object().key("projections").begin_array();
    for (const auto& s : projector.status()) write_status(out, s);
    out.end_array().end_object();
    return http_response::json(200, out.take());
  };
  routes.add(std::move(list));

  route one;
  one.method = "GET";
  one.pattern = "/api/projections/{name}";
  one.name = "projections.get";
  one.permission = view;
  one.blocking = false;
  one.summary = "One read model's checkpoint, lag and state";
  one.response_schema = std::string(kStatusSchema);
  one.handle = [&projector](const http_request& request) {
    const auto& name = name_param(request);
    const auto status = projector.status(name);
    if (!status) unknown(name);
    crm::json_out out;
    write_status(out, *status);
    return http_response::json(200, out.take());
  };
  routes.add(std::move(one));

  route rebuild;
  rebuild.method = "POST";
  rebuild.pattern = "/api/projections/{name}/rebuild";
  rebuild.name = "projections.rebuild";
  rebuild.permission = admin;
  rebuild.summary =
      "Rebuild a read model beside the live one from the first event; it replaces the live one "
      "once caught up";
  rebuild.success_status = 202;
  rebuild.response_schema = std::string(kStatusSchema);
  rebuild.handle = [&projector](const http_request& request) {
    const auto& name = name_param(request);
    if (!projector.status(name)) unknown(name);
    projector.rebuild(name);
    crm::json_out out;
    write_status(out, *projector.status(name));
    auto response = http_response::json(202, out.take());
    response.headers["Location"] = "/api/projections/" + name;
    return response;
  };
  routes.add(std::move(rebuild));
}

}  // namespace realmkit::api
