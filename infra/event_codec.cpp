#include "infra/event_codec.hpp"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <mutex>
#include <shared_mutex>

#include "infra/json/event_upcasters.hpp"
#include "infra/json/json_time.hpp"

namespace realmkit::infra {

json_error::json_error(std::string field, std::string reason)
    : std::runtime_error(field.empty() ? reason : field + ": " + reason),
      field_(std::move(field)),
      reason_(std::move(reason)) {}

namespace {

// Untrusted text quoted in an error message is cut short, so a corrupt megabyte-long value does
// not become a megabyte-long log line.
std::string quoted(std::string_view text) {
  constexpr std::size_t kMax = 64;
  std::string out = "\"";
  out.append(text.substr(0, kMax));
  if (text.size() > kMax) out.append("...");
  out.push_back('"');
  return out;
}

// The upcasting steps, keyed by old type. Read on every decode of an old event, written only when
// a step is registered.
class upcaster_registry {
 public:
  struct step {
    std::string new_type;
    upcaster fn;
  };

  upcaster_registry() {
    for (auto& builtin : detail::builtin_upcasters()) {
      add(std::move(builtin.old_type), std::move(builtin.new_type), std::move(builtin.fn));
    }
  }

  void add(std::string old_type, std::string new_type, upcaster fn) {
    const int old_version = schema_version_of(old_type);
    const int new_version = schema_version_of(new_type);
    if (old_version == 0) {
      throw std::invalid_argument("upcaster: " + quoted(old_type) +
                                  " is not a versioned event type name");
    }
    if (new_version == 0) {
      throw std::invalid_argument("upcaster: " + quoted(new_type) +
                                  " is not a versioned event type name");
    }
    if (new_version <= old_version) {
      throw std::invalid_argument("upcaster: " + new_type + " must have a higher version than " +
                                  old_type);
    }
    if (!fn) throw std::invalid_argument("upcaster: no function for " + old_type);
    std::unique_lock lock(mutex_);
    if (steps_.contains(old_type)) {
      throw std::invalid_argument("upcaster: " + old_type + " already has an upcaster");
    }
    steps_.emplace(std::move(old_type), step{std::move(new_type), std::move(fn)});
  }

  // A copy, so the step runs without the lock held.
  std::optional<step> find(std::string_view old_type) const {
    std::shared_lock lock(mutex_);
    const auto it = steps_.find(old_type);
    if (it == steps_.end()) return std::nullopt;
    return it->second;
  }

 private:
  mutable std::shared_mutex mutex_;  // guards steps_
  std::map<std::string, step, std::less<>> steps_;
};

upcaster_registry& registry() {
  static upcaster_registry instance;
  return instance;
}

const detail::decode_entry* find_entry(std::string_view type,
                                       std::span<const detail::decode_entry> table) {
  for (const auto& entry : table) {
    if (entry.type == type) return &entry;
  }
  return nullptr;
}

const rapidjson::Value& as_value(const void* value) {
  return *static_cast<const rapidjson::Value*>(value);
}

std::string_view type_name(const rapidjson::Value& v) {
  switch (v.GetType()) {
    case rapidjson::kNullType:
      return "null";
    case rapidjson::kFalseType:
    case rapidjson::kTrueType:
      return "a boolean";
    case rapidjson::kObjectType:
      return "an object";
    case rapidjson::kArrayType:
      return "an array";
    case rapidjson::kStringType:
      return "a string";
    case rapidjson::kNumberType:
      return v.IsDouble() ? "a non-integer or too large number" : "a number";
  }
  return "an unknown value";
}

[[noreturn]] void fail_type(const detail::json_path& path, std::string_view expected,
                            const rapidjson::Value& got) {
  detail::fail(path, "expected " + std::string(expected) + ", got " + std::string(type_name(got)));
}

}  // namespace

void register_upcaster(std::string old_type, std::string new_type, upcaster step) {
  registry().add(std::move(old_type), std::move(new_type), std::move(step));
}

upcast_event upcast(std::string type, std::string data) {
  while (auto step = registry().find(type)) {
    data = step->fn(data);
    type = std::move(step->new_type);
  }
  return {std::move(type), std::move(data)};
}

namespace detail {

std::string render(const json_path& path) {
  std::vector<const json_path*> frames;
  for (const json_path* p = &path; p && p->parent; p = p->parent) frames.push_back(p);
  std::string out;
  for (auto it = frames.rbegin(); it != frames.rend(); ++it) {
    const json_path& frame = **it;
    if (frame.is_index) {
      if (!out.empty()) out.push_back('/');
      out.append(std::to_string(frame.index));
    } else {
      if (!out.empty()) out.push_back('.');
      out.append(frame.key);
    }
  }
  return out;
}

void fail(const json_path& path, std::string reason) {
  throw json_error(render(path), std::move(reason));
}

void fail_unknown_value(const json_path& path, std::string_view value) {
  fail(path, "unknown value " + quoted(value));
}

void fail_encoding(std::string_view type, const json_error& error) {
  throw json_error(error.field(), "cannot encode " + std::string(type) + ": " + error.reason());
}

// ---- json_sink

struct json_sink::impl {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer, rapidjson::UTF8<>, rapidjson::UTF8<>,
                    rapidjson::CrtAllocator, rapidjson::kWriteValidateEncodingFlag>
      writer{buffer};
};

json_sink::json_sink() : impl_(std::make_unique<impl>()) {}
json_sink::~json_sink() = default;

void json_sink::begin_object() {
  impl_->writer.StartObject();
}
void json_sink::end_object() {
  impl_->writer.EndObject();
}
void json_sink::key(std::string_view name, const json_path& path) {
  if (!impl_->writer.Key(name.data(), static_cast<rapidjson::SizeType>(name.size()))) {
    fail(path, "member name is not valid UTF-8");
  }
}
void json_sink::begin_array() {
  impl_->writer.StartArray();
}
void json_sink::end_array() {
  impl_->writer.EndArray();
}
void json_sink::null_value() {
  impl_->writer.Null();
}
void json_sink::bool_value(bool value) {
  impl_->writer.Bool(value);
}
void json_sink::int_value(std::int64_t value) {
  impl_->writer.Int64(value);
}
void json_sink::uint_value(std::uint64_t value) {
  impl_->writer.Uint64(value);
}
void json_sink::string_value(std::string_view value, const json_path& path) {
  if (value.size() > std::numeric_limits<rapidjson::SizeType>::max()) fail(path, "is too long");
  if (!impl_->writer.String(value.data(), static_cast<rapidjson::SizeType>(value.size()))) {
    fail(path, "is not valid UTF-8");
  }
}
void json_sink::timestamp_value(domain::timestamp value, const json_path& path) {
  const auto text = format_timestamp(value);
  if (!text) fail(path, "timestamp lies outside the years 0000-9999");
  string_value(*text, path);
}
void json_sink::date_value(domain::date value, const json_path& path) {
  const auto text = format_date(value);
  if (!text) fail(path, "date lies outside the years 0000-9999");
  string_value(*text, path);
}
std::string json_sink::take() {
  return std::string(impl_->buffer.GetString(), impl_->buffer.GetSize());
}

// ---- json_document and json_node

namespace {

// Room for a parsed event: its tree and the parser's stack. An event's data is a few hundred
// bytes. The allocator's defaults (a first pool chunk of 64 KiB, a parser stack from malloc,
// freed after every parse) cost large allocations per event decoded, and each one made malloc
// consolidate its free lists: a fifth of a whole-log replay.
struct parse_room {
  alignas(8) char values[4096];
  alignas(8) char stack[1024];
  bool in_use = false;
};

thread_local parse_room thread_room;

// The thread's room when it is free (the usual case); a document parsed while another one of
// the same thread is alive gets a room of its own.
class room_lease {
 public:
  room_lease() {
    if (thread_room.in_use) {
      own_ = std::make_unique<parse_room>();
      room_ = own_.get();
    } else {
      room_ = &thread_room;
    }
    room_->in_use = true;
  }
  ~room_lease() { room_->in_use = false; }
  room_lease(const room_lease&) = delete;
  room_lease& operator=(const room_lease&) = delete;
  parse_room& operator*() const { return *room_; }

 private:
  std::unique_ptr<parse_room> own_;
  parse_room* room_;
};

}  // namespace

struct json_document::impl {
  room_lease room;  // first: the allocators below use it until they are gone
  // (A pool's buffer also holds its bookkeeping, hence the stack's smaller first capacity.)
  rapidjson::MemoryPoolAllocator<> value_allocator{(*room).values, sizeof(parse_room::values),
                                                   16 * 1024};
  rapidjson::MemoryPoolAllocator<> stack_allocator{(*room).stack, sizeof(parse_room::stack),
                                                   4 * 1024};
  rapidjson::GenericDocument<rapidjson::UTF8<>, rapidjson::MemoryPoolAllocator<>,
                             rapidjson::MemoryPoolAllocator<>>
      document{&value_allocator, 256, &stack_allocator};
};

json_document::json_document(std::string_view text) : impl_(std::make_unique<impl>()) {
  // Iterative parsing keeps hostile nesting depth off the call stack; the pool allocator frees
  // the tree without recursion either.
  constexpr unsigned kFlags =
      rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag;
  impl_->document.Parse<kFlags>(text.data(), text.size());
  if (impl_->document.HasParseError()) {
    throw json_error("", "invalid JSON at offset " +
                             std::to_string(impl_->document.GetErrorOffset()) + ": " +
                             rapidjson::GetParseError_En(impl_->document.GetParseError()));
  }
}
json_document::~json_document() = default;

json_node json_document::root() const {
  return json_node(static_cast<const rapidjson::Value*>(&impl_->document));
}

bool json_node::is_null() const {
  return as_value(value_).IsNull();
}

bool json_node::get_bool(const json_path& path) const {
  const auto& v = as_value(value_);
  if (!v.IsBool()) fail_type(path, "a boolean", v);
  return v.GetBool();
}

std::int64_t json_node::get_int(const json_path& path, std::int64_t min, std::int64_t max) const {
  const auto& v = as_value(value_);
  if (!v.IsNumber()) fail_type(path, "an integer", v);
  if (!v.IsInt64() || v.GetInt64() < min || v.GetInt64() > max) {
    fail(path, "expected an integer from " + std::to_string(min) + " to " + std::to_string(max));
  }
  return v.GetInt64();
}

std::uint64_t json_node::get_uint(const json_path& path, std::uint64_t max) const {
  const auto& v = as_value(value_);
  if (!v.IsNumber()) fail_type(path, "an integer", v);
  if (!v.IsUint64() || v.GetUint64() > max) {
    fail(path, "expected an integer from 0 to " + std::to_string(max));
  }
  return v.GetUint64();
}

std::string_view json_node::get_string(const json_path& path) const {
  const auto& v = as_value(value_);
  if (!v.IsString()) fail_type(path, "a string", v);
  return {v.GetString(), v.GetStringLength()};
}

domain::timestamp json_node::get_timestamp(const json_path& path) const {
  const std::string_view text = get_string(path);
  const auto t = parse_timestamp(text);
  if (!t) {
    fail(path, "expected an RFC 3339 timestamp like \"2026-11-27T12:00:00.000000Z\", got " +
                   quoted(text));
  }
  return *t;
}

domain::date json_node::get_date(const json_path& path) const {
  const std::string_view text = get_string(path);
  const auto d = parse_date(text);
  if (!d) fail(path, "expected a date like \"2026-11-27\", got " + quoted(text));
  return *d;
}

std::size_t json_node::array_size(const json_path& path) const {
  const auto& v = as_value(value_);
  if (!v.IsArray()) fail_type(path, "an array", v);
  return v.Size();
}

json_node json_node::element(std::size_t i) const {
  return json_node(&as_value(value_)[static_cast<rapidjson::SizeType>(i)]);
}

std::size_t json_node::object_size(const json_path& path) const {
  const auto& v = as_value(value_);
  if (!v.IsObject()) fail_type(path, "an object", v);
  return v.MemberCount();
}

std::string_view json_node::member_name(std::size_t i) const {
  const auto& name = (as_value(value_).MemberBegin() + static_cast<std::ptrdiff_t>(i))->name;
  return {name.GetString(), name.GetStringLength()};
}

json_node json_node::member_value(std::size_t i) const {
  return json_node(&(as_value(value_).MemberBegin() + static_cast<std::ptrdiff_t>(i))->value);
}

json_node json_node::member(std::string_view name) const {
  const auto& v = as_value(value_);
  for (auto it = v.MemberBegin(); it != v.MemberEnd(); ++it) {
    if (std::string_view(it->name.GetString(), it->name.GetStringLength()) == name) {
      return json_node(&it->value);
    }
  }
  return json_node();
}

// ---- decoding envelopes

bool resolves_to_table(std::string_view type, std::span<const decode_entry> table) {
  std::string current(type);
  while (!find_entry(current, table)) {
    auto step = registry().find(current);
    if (!step) return false;
    current = std::move(step->new_type);
  }
  return true;
}

void decode_recorded(const recorded_event& event, std::span<const decode_entry> table, void* out) {
  const auto where = [&] {
    return "event " + quoted(event.event_id) + " (type " + quoted(event.type) + ", stream " +
           quoted(event.stream_id) + " version " + std::to_string(event.stream_version) +
           ", position " + std::to_string(event.global_position) + ")";
  };
  const int version = schema_version_of(event.type);
  if (version == 0) throw corrupt_event(where() + ": the type is not a versioned event name");
  if (version != event.schema_version) {
    throw corrupt_event(where() + ": schema_version " + std::to_string(event.schema_version) +
                        " does not match the type");
  }

  const decode_entry* entry = find_entry(event.type, table);
  std::string type = event.type;
  std::optional<std::string> upcast_data;
  while (!entry) {
    auto step = registry().find(type);
    if (!step) {
      throw corrupt_event(where() + ": unknown event type for this stream" +
                          (upcast_data ? " (upcast to " + type + ")" : std::string()));
    }
    try {
      upcast_data = step->fn(upcast_data ? *upcast_data : event.data);
    } catch (const std::exception& error) {
      throw corrupt_event(where() + ": upcasting " + type + " to " + step->new_type +
                          " failed: " + error.what());
    }
    type = std::move(step->new_type);
    entry = find_entry(type, table);
  }

  try {
    const json_document document(upcast_data ? *upcast_data : event.data);
    entry->decode(document.root(), out);
  } catch (const json_error& error) {
    throw corrupt_event(where() + (upcast_data ? " upcast to " + type : std::string()) + ": " +
                        (error.field().empty() ? "data" : "field " + error.field()) + ": " +
                        error.reason());
  }
}

}  // namespace detail
}  // namespace realmkit::infra
