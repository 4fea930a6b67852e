// Turns domain events into stored envelopes and back. The codec walks each event's describe(), so
// an aggregate with new events needs no codec code; the wire format is pinned in docs/events.md.
#pragma once

#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "domain/common/types.hpp"
#include "infra/event_store.hpp"

namespace realmkit::infra {

// A JSON text that does not have the shape its C++ type needs, or a value that cannot be written
// as JSON. field() is the path to the offending value, spelled like rejection fields
// ("stages/1.name"); empty when the document as a whole is at fault.
class json_error : public std::runtime_error {
 public:
  json_error(std::string field, std::string reason);
  const std::string& field() const { return field_; }
  const std::string& reason() const { return reason_; }

 private:
  std::string field_;
  std::string reason_;
};

// ---- Event type names: "<aggregate>.<past_tense>.v<N>"
// -------------------------------------------

namespace detail {
constexpr bool is_name_segment(std::string_view s) {
  if (s.empty() || s.front() < 'a' || s.front() > 'z') return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}
}  // namespace detail

// N of a well-formed type name, 0 for anything else. Both names start with a lowercase letter and
// hold lowercase letters, digits and '_'; N is a positive integer without leading zeros.
constexpr int schema_version_of(std::string_view type) {
  const auto first = type.find('.');
  const auto last = type.rfind('.');
  if (first == std::string_view::npos || first == last) return 0;
  if (!detail::is_name_segment(type.substr(0, first)) ||
      !detail::is_name_segment(type.substr(first + 1, last - first - 1))) {
    return 0;
  }
  const std::string_view version = type.substr(last + 1);
  if (version.size() < 2 || version.size() > 7 || version[0] != 'v' || version[1] == '0') return 0;
  int n = 0;
  for (char c : version.substr(1)) {
    if (c < '0' || c > '9') return 0;
    n = n * 10 + (c - '0');
  }
  return n;
}

constexpr bool is_valid_event_type(std::string_view type) {
  return schema_version_of(type) > 0;
}

// The name without its version, "deal.stage_moved" for "deal.stage_moved.v1": what a consumer that
// does not care about the schema (a room message's "kind") shows.
constexpr std::string_view event_kind(std::string_view type) {
  return is_valid_event_type(type) ? type.substr(0, type.rfind('.')) : type;
}

// ---- Upcasting
// -----------------------------------------------------------------------------------

// Rewrites the data of a stored event of an old type into the data of the next type, as JSON
// object texts. Throws (anything derived from std::exception) when the old data does not fit.
using upcaster = std::function<std::string(std::string_view data)>;

// Registers the step old_type -> new_type. The new type's schema version must be higher than the
// old one's, which keeps chains finite; each old type has at most one step. Throws
// std::invalid_argument otherwise. Thread-safe; the built-in steps live in
// infra/json/event_upcasters.cpp and are registered before first use.
void register_upcaster(std::string old_type, std::string new_type, upcaster step);

struct upcast_event {
  std::string type;
  std::string data;
};

// Applies registered steps until none is registered for the type: the newest form of a stored
// event, for readers of raw JSON (audit, export). Throws what a step throws.
upcast_event upcast(std::string type, std::string data);

// ---- The describe walk
// ---------------------------------------------------------------------------

namespace detail {

// Where a value sits in the document, as a chain of stack frames so that the happy path
// allocates nothing; rendered only for an error.
struct json_path {
  const json_path* parent = nullptr;
  std::string_view key;
  std::size_t index = 0;
  bool is_index = false;

  json_path child(std::string_view name) const { return {this, name, 0, false}; }
  json_path at(std::size_t i) const { return {this, {}, i, true}; }
};
std::string render(const json_path& path);
[[noreturn]] void fail(const json_path& path, std::string reason);
[[noreturn]] void fail_unknown_value(const json_path& path, std::string_view value);

// Writes one JSON text (RapidJSON behind the wall, so this header stays light).
class json_sink {
 public:
  json_sink();
  ~json_sink();
  json_sink(const json_sink&) = delete;
  json_sink& operator=(const json_sink&) = delete;

  void begin_object();
  void end_object();
  void key(std::string_view name, const json_path& path);  // path: for an error
  void begin_array();
  void end_array();
  void null_value();
  void bool_value(bool value);
  void int_value(std::int64_t value);
  void uint_value(std::uint64_t value);
  void string_value(std::string_view value, const json_path& path);  // refuses invalid UTF-8
  void timestamp_value(domain::timestamp value, const json_path& path);
  void date_value(domain::date value, const json_path& path);
  std::string take();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

// A read-only handle on a value of a json_document; a default one stands for a missing member.
// The getters throw json_error naming the path when the value has another JSON type.
class json_node {
 public:
  json_node() = default;

  bool absent() const { return value_ == nullptr; }
  bool is_null() const;
  bool get_bool(const json_path& path) const;
  std::int64_t get_int(const json_path& path, std::int64_t min, std::int64_t max) const;
  std::uint64_t get_uint(const json_path& path, std::uint64_t max) const;
  std::string_view get_string(const json_path& path) const;
  domain::timestamp get_timestamp(const json_path& path) const;
  domain::date get_date(const json_path& path) const;

  std::size_t array_size(const json_path& path) const;  // throws unless an array
  json_node element(std::size_t i) const;
  std::size_t object_size(const json_path& path) const;  // throws unless an object
  std::string_view member_name(std::size_t i) const;
  json_node member_value(std::size_t i) const;
  json_node member(std::string_view name) const;  // absent when there is no such member

 private:
  friend class json_document;
  explicit json_node(const void* value) : value_(value) {}
  const void* value_ = nullptr;
};

// A parsed JSON text. Parsing is iterative (no recursion, whatever the nesting), validates UTF-8
// and refuses trailing text; throws json_error.
class json_document {
 public:
  explicit json_document(std::string_view text);
  ~json_document();
  json_document(const json_document&) = delete;
  json_document& operator=(const json_document&) = delete;
  json_node root() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

template <class T>
struct is_optional : std::false_type {};
template <class T>
struct is_optional<std::optional<T>> : std::true_type {};
template <class T>
struct is_vector : std::false_type {};
template <class T, class A>
struct is_vector<std::vector<T, A>> : std::true_type {};
template <class T>
struct is_set : std::false_type {};
template <class T, class C, class A>
struct is_set<std::set<T, C, A>> : std::true_type {};
template <class T>
struct is_string_map : std::false_type {};
template <class T, class C, class A>
struct is_string_map<std::map<std::string, T, C, A>> : std::true_type {};
template <class T>
struct is_id : std::false_type {};
template <class Tag>
struct is_id<domain::id<Tag>> : std::true_type {};
template <class T>
struct is_variant : std::false_type {};
template <class... Ts>
struct is_variant<std::variant<Ts...>> : std::true_type {};
template <class T>
inline constexpr bool kUnsupported = false;

struct describe_probe {
  template <class U>
  void operator()(std::string_view, U&) {}
};

template <class T>
concept describable = requires(T& t, describe_probe& p) {
  T::describe(t, p);
};

template <class T>
concept wire_integer = std::integral<T> && !std::same_as<T, bool> && !std::same_as<T, char> &&
                       !std::same_as<T, wchar_t> && !std::same_as<T, char8_t> &&
                       !std::same_as<T, char16_t> && !std::same_as<T, char32_t>;

// Enums travel as their names; the aggregate declares both functions next to the enum, found by
// argument-dependent lookup.
template <class T>
concept named_enum = std::is_enum_v<T> && requires(T e, std::string_view s) {
  { to_string(e) } -> std::convertible_to<std::string_view>;
  { from_string(s, e) } -> std::same_as<bool>;
};

template <class T>
void write_value(json_sink& out, const T& value, const json_path& path);

struct member_writer {
  json_sink& out;
  const json_path& path;
  template <class U>
  void operator()(std::string_view name, const U& value) {
    const json_path here = path.child(name);
    out.key(name, here);
    write_value(out, value, here);
  }
};

template <class T>
void write_value(json_sink& out, const T& value, const json_path& path) {
  if constexpr (std::is_same_v<T, bool>) {
    out.bool_value(value);
  } else if constexpr (wire_integer<T>) {
    if constexpr (std::is_signed_v<T>) {
      out.int_value(static_cast<std::int64_t>(value));
    } else {
      out.uint_value(static_cast<std::uint64_t>(value));
    }
  } else if constexpr (std::is_same_v<T, std::string>) {
    out.string_value(value, path);
  } else if constexpr (is_id<T>::value) {
    out.string_value(value.value, path);
  } else if constexpr (std::is_same_v<T, domain::money>) {
    out.begin_object();
    const json_path currency = path.child("currency");
    out.key("amount_minor", path);
    out.int_value(value.amount_minor);
    out.key("currency", path);
    out.string_value(value.currency, currency);
    out.end_object();
  } else if constexpr (std::is_same_v<T, domain::timestamp>) {
    out.timestamp_value(value, path);
  } else if constexpr (std::is_same_v<T, domain::date>) {
    out.date_value(value, path);
  } else if constexpr (is_optional<T>::value) {
    if (value) {
      write_value(out, *value, path);
    } else {
      out.null_value();
    }
  } else if constexpr (is_vector<T>::value || is_set<T>::value) {
    out.begin_array();
    std::size_t i = 0;
    for (const auto& element : value) {
      write_value(out, element, path.at(i++));
    }
    out.end_array();
  } else if constexpr (is_string_map<T>::value) {
    out.begin_object();
    for (const auto& [name, element] : value) {
      const json_path here = path.child(name);
      out.key(name, here);
      write_value(out, element, here);
    }
    out.end_object();
  } else if constexpr (named_enum<T>) {
    out.string_value(std::string_view(to_string(value)), path);
  } else if constexpr (describable<T>) {
    out.begin_object();
    member_writer writer{out, path};
    T::describe(value, writer);
    out.end_object();
  } else {
    static_assert(kUnsupported<T>,
                  "event codec: no JSON form for this field type; give it describe(), or for an "
                  "enum to_string/from_string, or use a supported type (see docs/events.md)");
  }
}

template <class T>
void read_value(json_node node, T& value, const json_path& path);

// A missing member is an error unless the field is optional; null counts as missing for those.
template <class T>
void read_member(json_node node, T& value, const json_path& path) {
  if constexpr (is_optional<T>::value) {
    if (node.absent() || node.is_null()) {
      value.reset();
      return;
    }
  } else {
    if (node.absent()) fail(path, "is missing");
  }
  read_value(node, value, path);
}

struct member_reader {
  json_node object;
  const json_path& path;
  template <class U>
  void operator()(std::string_view name, U& value) {
    const json_path here = path.child(name);
    read_member(object.member(name), value, here);
  }
};

template <class T>
void read_value(json_node node, T& value, const json_path& path) {
  if constexpr (std::is_same_v<T, bool>) {
    value = node.get_bool(path);
  } else if constexpr (wire_integer<T>) {
    if constexpr (std::is_signed_v<T>) {
      value = static_cast<T>(
          node.get_int(path, std::numeric_limits<T>::min(), std::numeric_limits<T>::max()));
    } else {
      value = static_cast<T>(node.get_uint(path, std::numeric_limits<T>::max()));
    }
  } else if constexpr (std::is_same_v<T, std::string>) {
    value = std::string(node.get_string(path));
  } else if constexpr (is_id<T>::value) {
    value.value = std::string(node.get_string(path));
  } else if constexpr (std::is_same_v<T, domain::money>) {
    node.object_size(path);
    const json_path amount = path.child("amount_minor");
    const json_path currency = path.child("currency");
    read_member(node.member("amount_minor"), value.amount_minor, amount);
    read_member(node.member("currency"), value.currency, currency);
  } else if constexpr (std::is_same_v<T, domain::timestamp>) {
    value = node.get_timestamp(path);
  } else if constexpr (std::is_same_v<T, domain::date>) {
    value = node.get_date(path);
  } else if constexpr (is_optional<T>::value) {
    if (node.is_null()) {
      value.reset();
    } else {
      typename T::value_type inner{};
      read_value(node, inner, path);
      value = std::move(inner);
    }
  } else if constexpr (is_vector<T>::value) {
    const std::size_t n = node.array_size(path);
    value.clear();
    value.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      typename T::value_type element{};
      read_value(node.element(i), element, path.at(i));
      value.push_back(std::move(element));
    }
  } else if constexpr (is_set<T>::value) {
    const std::size_t n = node.array_size(path);
    value.clear();
    for (std::size_t i = 0; i < n; ++i) {
      typename T::value_type element{};
      read_value(node.element(i), element, path.at(i));
      if (!value.insert(std::move(element)).second) fail(path.at(i), "is a duplicate element");
    }
  } else if constexpr (is_string_map<T>::value) {
    const std::size_t n = node.object_size(path);
    value.clear();
    for (std::size_t i = 0; i < n; ++i) {
      const std::string_view name = node.member_name(i);
      const json_path here = path.child(name);
      typename T::mapped_type element{};
      read_value(node.member_value(i), element, here);
      if (!value.emplace(std::string(name), std::move(element)).second) {
        fail(here, "is a duplicate member");
      }
    }
  } else if constexpr (named_enum<T>) {
    const std::string_view name = node.get_string(path);
    if (!from_string(name, value)) fail_unknown_value(path, name);
  } else if constexpr (describable<T>) {
    node.object_size(path);
    member_reader reader{node, path};
    T::describe(value, reader);
  } else {
    static_assert(kUnsupported<T>,
                  "event codec: no JSON form for this field type; give it describe(), or for an "
                  "enum to_string/from_string, or use a supported type (see docs/events.md)");
  }
}

// One row of a variant's type table: the stored type name and how to decode its data into the
// variant (out is a std::optional<Variant>*).
struct decode_entry {
  std::string_view type;
  void (*decode)(json_node root, void* out);
};

// Finds the entry for the event's type, upcasting first when needed, parses and decodes; every
// failure becomes corrupt_event naming the event, its type, position and field.
void decode_recorded(const recorded_event& event, std::span<const decode_entry> table, void* out);
bool resolves_to_table(std::string_view type, std::span<const decode_entry> table);
[[noreturn]] void fail_encoding(std::string_view type, const json_error& error);

template <class T>
concept event = describable<T> && requires {
  { T::kType } -> std::convertible_to<std::string_view>;
};

template <class Variant, class Alternative>
void decode_alternative(json_node root, void* out) {
  Alternative value{};
  read_value(root, value, json_path{});
  static_cast<std::optional<Variant>*>(out)->emplace(std::move(value));
}

template <std::size_t N>
constexpr bool all_distinct(const std::array<std::string_view, N>& names) {
  for (std::size_t i = 0; i < N; ++i) {
    for (std::size_t j = i + 1; j < N; ++j) {
      if (names[i] == names[j]) return false;
    }
  }
  return true;
}

template <class Variant>
struct event_table;

template <class... Events>
struct event_table<std::variant<Events...>> {
  static_assert((event<Events> && ...),
                "every event needs `static constexpr std::string_view kType` and describe()");
  static_assert((is_valid_event_type(Events::kType) && ...),
                "event kType must read \"<aggregate>.<past_tense>.v<N>\"");
  static_assert(all_distinct(std::array<std::string_view, sizeof...(Events)>{Events::kType...}),
                "two events of one variant share a kType");

  static constexpr std::array<decode_entry, sizeof...(Events)> kEntries{
      decode_entry{Events::kType, &decode_alternative<std::variant<Events...>, Events>}...};
};

}  // namespace detail

// ---- Public codec
// --------------------------------------------------------------------------------

// The JSON text of any describable value (an event's data, a nested struct), as stored.
template <class T>
std::string to_json(const T& value) {
  detail::json_sink out;
  detail::write_value(out, value, detail::json_path{});
  return out.take();
}

// The value of a JSON text; unknown members are ignored, missing required ones are an error.
// Throws json_error naming the field.
template <class T>
T from_json(std::string_view text) {
  detail::json_document document(text);
  T value{};
  detail::read_value(document.root(), value, detail::json_path{});
  return value;
}

// The stored type name of an event, or of the alternative a variant holds.
template <class Event>
std::string_view event_type(const Event& event) {
  if constexpr (detail::is_variant<Event>::value) {
    return std::visit([](const auto& e) { return event_type(e); }, event);
  } else {
    static_assert(detail::event<Event>, "not an event: needs kType and describe()");
    static_assert(is_valid_event_type(Event::kType),
                  "event kType must read \"<aggregate>.<past_tense>.v<N>\"");
    return Event::kType;
  }
}

// The envelope to append for an event (or a variant of events). metadata_json is the text of
// encode_metadata (infra/event_metadata.hpp); empty stands for "{}". Throws json_error when a
// field cannot be written (invalid UTF-8, a time outside the years 0000-9999).
template <class Event>
new_event encode_event(const Event& event, std::string event_id, std::string metadata_json) {
  if constexpr (detail::is_variant<Event>::value) {
    return std::visit(
        [&](const auto& e) {
          return encode_event(e, std::move(event_id), std::move(metadata_json));
        },
        event);
  } else {
    const std::string_view type = event_type(event);
    new_event out;
    out.event_id = std::move(event_id);
    out.type = std::string(type);
    out.schema_version = schema_version_of(type);
    try {
      out.data = to_json(event);
    } catch (const json_error& error) {
      detail::fail_encoding(type, error);
    }
    out.metadata = metadata_json.empty() ? std::string("{}") : std::move(metadata_json);
    return out;
  }
}

// The event of a stored envelope, after upcasting an old schema to the one the variant holds.
// Throws corrupt_event when the type is unknown to the variant, the JSON is invalid, a required
// field is missing or a value has the wrong type or range; the message names the event id, type,
// stream, position and field. Unknown members are ignored (older code reading newer data).
template <class Variant>
Variant decode_event(const recorded_event& event) {
  std::optional<Variant> out;
  detail::decode_recorded(event, detail::event_table<Variant>::kEntries, &out);
  return std::move(*out);
}

// Whether decode_event<Variant> knows this stored type (directly or through upcasters): how a
// reader of the whole log picks the events of one aggregate.
template <class Variant>
bool can_decode(std::string_view type) {
  return detail::resolves_to_table(type, detail::event_table<Variant>::kEntries);
}

}  // namespace realmkit::infra
