#include "api/openapi.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <vector>

namespace realmkit::api {
namespace {

using rapidjson::Value;
using allocator = rapidjson::Document::AllocatorType;

constexpr const char* kProblemSchema = R"json({
  "type": "object",
  "description": "Problem details (RFC 9457); docs/http.md lists every type",
  "required": ["type", "title", "status"],
  "properties": {
    "type": {"type": "string", "description": "urn:realmkit:problem:<kind>"},
    "title": {"type": "string"},
    "status": {"type": "integer"},
    "detail": {"type": "string"},
    "instance": {"type": "string", "description": "the request id (X-Request-Id)"},
    "field": {"type": "string", "description": "the input at fault, e.g. value.currency"},
    "errors": {
      "type": "array",
      "items": {
        "type": "object",
        "required": ["field", "pointer", "reason"],
        "properties": {
          "field": {"type": "string"},
          "pointer": {"type": "string", "description": "JSON pointer (RFC 6901)"},
          "reason": {"type": "string"}
        }
      }
    },
    "current_version": {"type": "integer", "description": "conflicts: the version to expect"}
  }
})json";

Value str(std::string_view s, allocator& a) {
  return Value(s.data(), static_cast<rapidjson::SizeType>(s.size()), a);
}

Value parse_schema(std::string_view text, const std::string& what, allocator& a) {
  rapidjson::Document d;
  d.Parse(text.data(), text.size());
  if (d.HasParseError() || !d.IsObject()) {
    throw std::invalid_argument("OpenAPI: " + what + " is not a JSON object");
  }
  return Value(d, a);  // deep copy into the document's allocator
}

Value ref(std::string_view target, allocator& a) {
  Value v(rapidjson::kObjectType);
  v.AddMember("$ref", str(target, a), a);
  return v;
}

Value json_content(Value schema, allocator& a, std::string_view type = "application/json") {
  Value media(rapidjson::kObjectType);
  media.AddMember("schema", schema, a);
  Value content(rapidjson::kObjectType);
  content.AddMember(str(type, a), media, a);
  return content;
}

std::vector<std::string> path_parameters(std::string_view pattern) {
  std::vector<std::string> out;
  for (std::size_t open = pattern.find('{'); open != std::string_view::npos;
       open = pattern.find('{', open + 1)) {
    const auto close = pattern.find('}', open);
    if (close == std::string_view::npos) break;
    out.emplace_back(pattern.substr(open + 1, close - open - 1));
  }
  return out;
}

bool has_body(std::string_view method) {
  return method == "POST" || method == "PUT" || method == "PATCH";
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return out;
}

const char* reason_of(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    default:
      return "Success";
  }
}

Value operation(const route& r, allocator& a) {
  Value op(rapidjson::kObjectType);
  op.AddMember("operationId", str(r.name, a), a);
  if (!r.summary.empty()) op.AddMember("summary", str(r.summary, a), a);
  Value tags(rapidjson::kArrayType);
  tags.PushBack(str(r.name.substr(0, r.name.find('.')), a), a);
  op.AddMember("tags", tags, a);

  Value security(rapidjson::kArrayType);
  if (!r.anonymous) {
    for (const char* scheme : {"bearer", "cookie"}) {
      Value requirement(rapidjson::kObjectType);
      requirement.AddMember(str(scheme, a), Value(rapidjson::kArrayType), a);
      security.PushBack(requirement, a);
    }
  }
  op.AddMember("security", security, a);  // [] states "no authentication" explicitly
  if (!r.permission.empty()) op.AddMember("x-realmkit-permission", str(r.permission, a), a);

  if (!r.request_schema.empty() || has_body(r.method)) {
    Value schema = r.request_schema.empty()
                       ? Value(rapidjson::kObjectType)
                       : parse_schema(r.request_schema, "request_schema of " + r.name, a);
    if (r.request_schema.empty()) schema.AddMember("type", "object", a);
    Value body(rapidjson::kObjectType);
    body.AddMember("required", !r.request_schema.empty(), a);
    body.AddMember("content", json_content(std::move(schema), a), a);
    op.AddMember("requestBody", body, a);
  }

  Value responses(rapidjson::kObjectType);
  Value success(rapidjson::kObjectType);
  success.AddMember("description", str(reason_of(r.success_status), a), a);
  if (r.success_status != 204) {
    Value schema = r.response_schema.empty()
                       ? Value(rapidjson::kObjectType)
                       : parse_schema(r.response_schema, "response_schema of " + r.name, a);
    success.AddMember("content", json_content(std::move(schema), a), a);
  }
  responses.AddMember(str(std::to_string(r.success_status), a), success, a);
  std::vector<const char*> errors{"400"};
  if (!r.anonymous) errors.push_back("401");
  if (!r.permission.empty()) errors.push_back("403");
  errors.push_back("404");
  if (has_body(r.method)) errors.push_back("422");
  errors.push_back("429");
  errors.push_back("default");
  for (const char* status : errors) {
    responses.AddMember(str(status, a), ref("#/components/responses/problem", a), a);
  }
  op.AddMember("responses", responses, a);
  return op;
}

}  // namespace

std::string openapi_document(const router& routes, const openapi_info& info) {
  rapidjson::Document doc(rapidjson::kObjectType);
  auto& a = doc.GetAllocator();
  doc.AddMember("openapi", "3.1.0", a);
  doc.AddMember("jsonSchemaDialect", "https://json-schema.org/draft/2020-12/schema", a);
  Value meta(rapidjson::kObjectType);
  meta.AddMember("title", str(info.title, a), a);
  meta.AddMember("version", str(info.version, a), a);
  meta.AddMember("description", str(info.description, a), a);
  doc.AddMember("info", meta, a);

  // Paths in the order their first route was added, methods grouped under them.
  std::vector<std::string> order;
  std::map<std::string, std::vector<const route*>> by_path;
  for (const auto& r : routes.routes()) {
    auto& list = by_path[r.pattern];
    if (list.empty()) order.push_back(r.pattern);
    list.push_back(&r);
  }
  Value paths(rapidjson::kObjectType);
  for (const auto& pattern : order) {
    Value item(rapidjson::kObjectType);
    const auto params = path_parameters(pattern);
    if (!params.empty()) {
      Value list(rapidjson::kArrayType);
      for (const auto& name : params) {
        Value p(rapidjson::kObjectType);
        p.AddMember("name", str(name, a), a);
        p.AddMember("in", "path", a);
        p.AddMember("required", true, a);
        Value schema(rapidjson::kObjectType);
        schema.AddMember("type", "string", a);
        p.AddMember("schema", schema, a);
        list.PushBack(p, a);
      }
      item.AddMember("parameters", list, a);
    }
    for (const auto* r : by_path[pattern]) {
      item.AddMember(str(lower(r->method), a), operation(*r, a), a);
    }
    paths.AddMember(str(pattern, a), item, a);
  }
  doc.AddMember("paths", paths, a);

  Value components(rapidjson::kObjectType);
  Value schemes(rapidjson::kObjectType);
  {
    Value bearer(rapidjson::kObjectType);
    bearer.AddMember("type", "http", a);
    bearer.AddMember("scheme", "bearer", a);
    bearer.AddMember("bearerFormat", "JWT", a);
    bearer.AddMember("description", "the access_token of POST /api/auth/login", a);
    schemes.AddMember("bearer", bearer, a);
    Value cookie(rapidjson::kObjectType);
    cookie.AddMember("type", "apiKey", a);
    cookie.AddMember("in", "cookie", a);
    cookie.AddMember("name", "realmkit_access", a);
    cookie.AddMember("description",
                     "browser sessions (login with \"cookie\": true); writes need a trusted Origin "
                     "or X-Requested-With",
                     a);
    schemes.AddMember("cookie", cookie, a);
  }
  components.AddMember("securitySchemes", schemes, a);
  Value schemas(rapidjson::kObjectType);
  schemas.AddMember("problem", parse_schema(kProblemSchema, "the problem schema", a), a);
  components.AddMember("schemas", schemas, a);
  Value responses(rapidjson::kObjectType);
  Value problem(rapidjson::kObjectType);
  problem.AddMember("description", "An error, as problem+json", a);
  problem.AddMember(
      "content",
      json_content(ref("#/components/schemas/problem", a), a, "application/problem+json"), a);
  responses.AddMember("problem", problem, a);
  components.AddMember("responses", responses, a);
  doc.AddMember("components", components, a);

  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  doc.Accept(writer);
  return buffer.GetString();
}

void add_openapi_route(router& routes, openapi_info info) {
  struct cache {
    std::once_flag once;
    std::string document;
  };
  auto c = std::make_shared<cache>();
  route r;
  r.method = "GET";
  r.pattern = "/api/openapi.json";
  r.name = "ops.openapi";
  r.anonymous = true;
  r.blocking = false;  // generated once, then a copy of a string
  r.summary = "This document: OpenAPI 3.1, generated from the route table";
  r.response_schema = R"({"type": "object", "required": ["openapi", "info", "paths"]})";
  const router* table = &routes;
  r.handle = [c, table, info = std::move(info)](const http_request&) {
    std::call_once(c->once, [&] { c->document = openapi_document(*table, info); });
    return http_response::json(200, c->document);
  };
  routes.add(std::move(r));
}

}  // namespace realmkit::api
