#include "api/json_body.hpp"

#include <rapidjson/error/en.h>
#include <rapidjson/reader.h>

#include "api/error_mapping.hpp"

namespace realmkit::api {
namespace {

constexpr unsigned kParseFlags =
    rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag;

// Forwards SAX events to the document, refusing to open a container beyond the depth limit. The
// iterative parser keeps its own stack on the heap; this bound keeps that stack (and the time to
// fail) small.
class depth_limited_handler {
 public:
  depth_limited_handler(rapidjson::Document& document, std::size_t max_depth)
      : document_(document), max_depth_(max_depth) {}

  bool Null() { return document_.Null(); }
  bool Bool(bool b) { return document_.Bool(b); }
  bool Int(int i) { return document_.Int(i); }
  bool Uint(unsigned i) { return document_.Uint(i); }
  bool Int64(std::int64_t i) { return document_.Int64(i); }
  bool Uint64(std::uint64_t i) { return document_.Uint64(i); }
  bool Double(double d) { return document_.Double(d); }
  bool RawNumber(const char* s, rapidjson::SizeType n, bool copy) {
    return document_.RawNumber(s, n, copy);
  }
  bool String(const char* s, rapidjson::SizeType n, bool copy) {
    return document_.String(s, n, copy);
  }
  bool Key(const char* s, rapidjson::SizeType n, bool copy) { return document_.Key(s, n, copy); }
  bool StartObject() { return enter() && document_.StartObject(); }
  bool EndObject(rapidjson::SizeType n) {
    --depth_;
    return document_.EndObject(n);
  }
  bool StartArray() { return enter() && document_.StartArray(); }
  bool EndArray(rapidjson::SizeType n) {
    --depth_;
    return document_.EndArray(n);
  }

  bool too_deep() const { return too_deep_; }

 private:
  bool enter() {
    if (++depth_ > max_depth_) {
      too_deep_ = true;
      return false;
    }
    return true;
  }

  rapidjson::Document& document_;
  const std::size_t max_depth_;
  std::size_t depth_ = 0;
  bool too_deep_ = false;
};

[[noreturn]] void fail(std::string field, std::string reason) {
  throw problem_error(make_problem(problem_kind::validation, std::move(reason), std::move(field)));
}

std::string join(const std::string& path, std::string_view name) {
  if (path.empty()) return std::string(name);
  std::string out = path;
  out += '.';
  out += name;
  return out;
}

std::string index_field(const std::string& path, std::size_t i) {
  return path + "/" + std::to_string(i);
}

std::string read_string(const rapidjson::Value& v, const std::string& field) {
  if (!v.IsString()) fail(field, "must be a string");
  return {v.GetString(), v.GetStringLength()};
}

std::int64_t read_int64(const rapidjson::Value& v, const std::string& field, std::int64_t min,
                        std::int64_t max) {
  if (!v.IsNumber()) fail(field, "must be an integer");
  if (v.IsInt64()) {
    const auto n = v.GetInt64();
    if (n >= min && n <= max) return n;
  } else if (!v.IsUint64()) {
    fail(field, "must be an integer");
  }
  fail(field, "must be between " + std::to_string(min) + " and " + std::to_string(max));
}

json_array read_array(const rapidjson::Value& v, const std::string& field, std::size_t max_size) {
  if (!v.IsArray()) fail(field, "must be an array");
  if (v.Size() > max_size) {
    fail(field, "must have at most " + std::to_string(max_size) + " elements");
  }
  return json_array(v, field);
}

}  // namespace

// ---- json_object ----

const rapidjson::Value* json_object::find(std::string_view name) const {
  const auto it = value_->FindMember(rapidjson::Value(
      rapidjson::StringRef(name.data(), static_cast<rapidjson::SizeType>(name.size()))));
  if (it == value_->MemberEnd() || it->value.IsNull()) return nullptr;
  return &it->value;
}

const rapidjson::Value& json_object::require(std::string_view name) const {
  const auto* v = find(name);
  if (!v) fail(field(name), "is required");
  return *v;
}

bool json_object::has(std::string_view name) const {
  return value_->FindMember(rapidjson::Value(rapidjson::StringRef(
             name.data(), static_cast<rapidjson::SizeType>(name.size())))) != value_->MemberEnd();
}

bool json_object::is_null(std::string_view name) const {
  return has(name) && !find(name);
}

std::string json_object::field(std::string_view name) const {
  return join(path_, name);
}

std::string json_object::string(std::string_view name) const {
  return read_string(require(name), field(name));
}

std::optional<std::string> json_object::optional_string(std::string_view name) const {
  const auto* v = find(name);
  if (!v) return std::nullopt;
  return read_string(*v, field(name));
}

std::int64_t json_object::int64(std::string_view name, std::int64_t min, std::int64_t max) const {
  return read_int64(require(name), field(name), min, max);
}

std::optional<std::int64_t> json_object::optional_int64(std::string_view name, std::int64_t min,
                                                        std::int64_t max) const {
  const auto* v = find(name);
  if (!v) return std::nullopt;
  return read_int64(*v, field(name), min, max);
}

bool json_object::boolean(std::string_view name) const {
  const auto& v = require(name);
  if (!v.IsBool()) fail(field(name), "must be true or false");
  return v.GetBool();
}

std::optional<bool> json_object::optional_boolean(std::string_view name) const {
  if (!find(name)) return std::nullopt;
  return boolean(name);
}

json_object json_object::object(std::string_view name) const {
  const auto& v = require(name);
  if (!v.IsObject()) fail(field(name), "must be an object");
  return json_object(v, field(name));
}

std::optional<json_object> json_object::optional_object(std::string_view name) const {
  if (!find(name)) return std::nullopt;
  return object(name);
}

json_array json_object::array(std::string_view name, std::size_t max_size) const {
  return read_array(require(name), field(name), max_size);
}

std::optional<json_array> json_object::optional_array(std::string_view name,
                                                      std::size_t max_size) const {
  const auto* v = find(name);
  if (!v) return std::nullopt;
  return read_array(*v, field(name), max_size);
}

std::vector<std::string> json_object::strings(std::string_view name, std::size_t max_size) const {
  const auto a = array(name, max_size);
  std::vector<std::string> out;
  out.reserve(a.size());
  for (std::size_t i = 0; i < a.size(); ++i) out.push_back(a.string(i));
  return out;
}

std::optional<std::vector<std::string>> json_object::optional_strings(std::string_view name,
                                                                      std::size_t max_size) const {
  if (!find(name)) return std::nullopt;
  return strings(name, max_size);
}

void json_object::allow_only(std::initializer_list<std::string_view> allowed) const {
  for (auto it = value_->MemberBegin(); it != value_->MemberEnd(); ++it) {
    const std::string_view key(it->name.GetString(), it->name.GetStringLength());
    bool known = false;
    for (const auto a : allowed) known = known || a == key;
    if (!known) fail(field(key), "is not a field of this request");
  }
}

// ---- json_array ----

std::string json_array::field(std::size_t i) const {
  return index_field(path_, i);
}

std::string json_array::string(std::size_t i) const {
  return read_string(at(i), field(i));
}

std::int64_t json_array::int64(std::size_t i, std::int64_t min, std::int64_t max) const {
  return read_int64(at(i), field(i), min, max);
}

json_object json_array::object(std::size_t i) const {
  const auto& v = at(i);
  if (!v.IsObject()) fail(field(i), "must be an object");
  return json_object(v, field(i));
}

// ---- json_body ----

json_body json_body::parse(std::string_view text, const json_limits& limits) {
  auto document = std::make_unique<rapidjson::Document>();
  rapidjson::Reader reader;
  depth_limited_handler handler(*document, limits.max_depth);
  auto generate = [&](rapidjson::Document&) {
    rapidjson::MemoryStream memory(text.data(), text.size());
    rapidjson::EncodedInputStream<rapidjson::UTF8<>, rapidjson::MemoryStream> stream(memory);
    return !reader.Parse<kParseFlags>(stream, handler).IsError();
  };
  document->Populate(generate);
  if (reader.HasParseError()) {
    std::string detail;
    if (handler.too_deep()) {
      detail = "JSON nested deeper than " + std::to_string(limits.max_depth) + " levels";
    } else if (text.empty()) {
      detail = "the request body is empty";
    } else {
      detail = std::string(rapidjson::GetParseError_En(reader.GetParseErrorCode())) + " (at byte " +
               std::to_string(reader.GetErrorOffset()) + ")";
    }
    throw problem_error(make_problem(problem_kind::malformed_json, std::move(detail)));
  }
  if (!document->IsObject()) {
    throw problem_error(make_problem(problem_kind::validation, "the body must be a JSON object"));
  }
  return json_body(std::move(document));
}

json_body json_body::from_request(const http_request& request, const json_limits& limits) {
  const auto* type = request.header("Content-Type");
  if (!type || !is_json_content_type(*type)) {
    throw problem_error(make_problem(problem_kind::unsupported_media_type,
                                     "send the body with Content-Type: application/json"));
  }
  return parse(request.body, limits);
}

bool is_json_content_type(std::string_view content_type) {
  auto media = content_type.substr(0, content_type.find(';'));
  while (!media.empty() && (media.back() == ' ' || media.back() == '\t')) media.remove_suffix(1);
  while (!media.empty() && (media.front() == ' ' || media.front() == '\t')) media.remove_prefix(1);
  if (iequals(media, "application/json")) return true;
  constexpr std::string_view prefix = "application/";
  constexpr std::string_view suffix = "+json";
  return media.size() > prefix.size() + suffix.size() &&
         iequals(media.substr(0, prefix.size()), prefix) &&
         iequals(media.substr(media.size() - suffix.size()), suffix);
}

}  // namespace realmkit::api
