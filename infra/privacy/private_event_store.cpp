#include "infra/privacy/private_event_store.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <unordered_map>
#include <vector>

namespace realmkit::infra::privacy {
namespace {

// A personal field: where it sits in the event's data. "*" stands for every element of an array.
// The path is also the field's name in the seal's associated data, so a sealed value cannot be
// moved to another field unnoticed.
struct personal_field {
  std::string_view type;
  std::string_view path;
};

constexpr std::array kFields{
    personal_field{"contact.created.v1", "first_name"},
    personal_field{"contact.created.v1", "last_name"},
    personal_field{"contact.created.v1", "title"},
    personal_field{"contact.created.v1", "emails/*/address"},
    personal_field{"contact.created.v1", "phones/*/number"},
    personal_field{"contact.updated.v1", "first_name"},
    personal_field{"contact.updated.v1", "last_name"},
    personal_field{"contact.updated.v1", "title"},
    personal_field{"contact.email_added.v1", "email/address"},
    personal_field{"contact.email_removed.v1", "address"},
    personal_field{"contact.primary_email_changed.v1", "from"},
    personal_field{"contact.primary_email_changed.v1", "to"},
    personal_field{"contact.phone_added.v1", "phone/number"},
    personal_field{"contact.phone_removed.v1", "number"},
    personal_field{"contact.merged.v1", "emails/*/address"},
    personal_field{"contact.merged.v1", "phones/*/number"},
    personal_field{"contact.consent_given.v1", "source"},
    personal_field{"contact.consent_withdrawn.v1", "source"},
    personal_field{"lead.created.v1", "name"},
    personal_field{"lead.created.v1", "email"},
    personal_field{"lead.created.v1", "phone"},
    personal_field{"lead.updated.v1", "name"},
    personal_field{"lead.updated.v1", "email"},
    personal_field{"lead.updated.v1", "phone"},
};

constexpr std::string_view kSubjectPrefixes[] = {"contact-", "lead-"};

// "contact.created.v1" and "contact.created" name the same kind of event.
std::string_view kind_of(std::string_view type) {
  const auto v = type.rfind(".v");
  if (v == std::string_view::npos || v + 2 >= type.size()) return type;
  for (auto c : type.substr(v + 2)) {
    if (c < '0' || c > '9') return type;
  }
  return type.substr(0, v);
}

// Calls fn(value) for each string at `path` (segments split on '/') under `node`.
template <class Fn>
void each_string(rapidjson::Value& node, std::string_view path, Fn&& fn) {
  const auto slash = path.find('/');
  const auto head = path.substr(0, slash);
  const auto rest = slash == std::string_view::npos ? std::string_view{} : path.substr(slash + 1);
  auto visit = [&](rapidjson::Value& child) {
    if (rest.empty()) {
      if (child.IsString()) fn(child);
    } else {
      each_string(child, rest, fn);
    }
  };
  if (head == "*") {
    if (!node.IsArray()) return;
    for (auto& element : node.GetArray()) visit(element);
    return;
  }
  if (!node.IsObject()) return;
  const auto it =
      node.FindMember(rapidjson::Value(head.data(), static_cast<rapidjson::SizeType>(head.size())));
  if (it != node.MemberEnd()) visit(it->value);
}

std::string_view text_of(const rapidjson::Value& v) {
  return {v.GetString(), v.GetStringLength()};
}

// Rewrites each personal string of the data with fn(path, text) (nullopt: left as it is).
template <class Fn>
std::string rewrite(std::string_view type, std::string_view data, Fn&& fn) {
  rapidjson::Document doc;
  doc.Parse(data.data(), data.size());
  if (doc.HasParseError() || !doc.IsObject()) {
    throw corrupt_event("the data of a " + std::string(type) + " event is not a JSON object");
  }
  bool changed = false;
  for (const auto& f : kFields) {
    if (kind_of(f.type) != kind_of(type)) continue;
    each_string(doc, f.path, [&](rapidjson::Value& v) {
      auto replaced = fn(f.path, text_of(v));
      if (!replaced) return;
      v.SetString(replaced->data(), static_cast<rapidjson::SizeType>(replaced->size()),
                  doc.GetAllocator());
      changed = true;
    });
  }
  if (!changed) return std::string(data);
  rapidjson::StringBuffer out;
  rapidjson::Writer<rapidjson::StringBuffer> writer(out);
  doc.Accept(writer);
  return std::string(out.GetString(), out.GetSize());
}

}  // namespace

std::string_view subject_of(std::string_view stream_id) {
  for (const auto prefix : kSubjectPrefixes) {
    if (stream_id.size() > prefix.size() && stream_id.starts_with(prefix)) return stream_id;
  }
  return {};
}

bool has_personal_fields(std::string_view type) {
  return std::any_of(kFields.begin(), kFields.end(),
                     [&](const personal_field& f) { return kind_of(f.type) == kind_of(type); });
}

std::string erase_personal_fields(std::string_view type, std::string_view data) {
  if (!has_personal_fields(type)) return std::string(data);
  return rewrite(type, data,
                 [](std::string_view, std::string_view text) -> std::optional<std::string> {
                   if (text.empty() || text == kErasedText) return std::nullopt;
                   return std::string(kErasedText);
                 });
}

std::string seal_personal_fields(std::string_view type, std::string_view data,
                                 const subject_key& key, std::string_view subject) {
  if (!has_personal_fields(type)) return std::string(data);
  return rewrite(type, data,
                 [&](std::string_view path, std::string_view text) -> std::optional<std::string> {
                   if (text.empty()) return std::nullopt;
                   return seal(key, subject, path, text);
                 });
}

std::string open_personal_fields(std::string_view type, std::string_view data,
                                 const subject_key* key, std::string_view subject) {
  if (!has_personal_fields(type)) return std::string(data);
  return rewrite(type, data,
                 [&](std::string_view path, std::string_view text) -> std::optional<std::string> {
                   if (!is_sealed(text)) return std::nullopt;
                   if (!key) return std::string(kErasedText);
                   auto plain = open_sealed(*key, subject, path, text);
                   if (!plain) {
                     throw corrupt_event("the sealed field " + std::string(path) + " of a " +
                                         std::string(type) + " event of " + std::string(subject) +
                                         " does not open with its key");
                   }
                   return plain;
                 });
}

private_event_store::private_event_store(event_store& inner, subject_key_store& keys, clock now)
    : inner_(inner), keys_(keys), now_(std::move(now)) {
  if (!now_) {
    now_ = [] {
      return std::chrono::time_point_cast<std::chrono::microseconds>(
          std::chrono::system_clock::now());
    };
  }
}

append_result private_event_store::append(std::span<const stream_write> writes,
                                          const std::optional<idempotency_key>& key) {
  const bool personal = std::any_of(writes.begin(), writes.end(), [](const stream_write& w) {
    return !subject_of(w.stream_id).empty() &&
           std::any_of(w.events.begin(), w.events.end(),
                       [](const new_event& e) { return has_personal_fields(e.type); });
  });
  if (!personal) return inner_.append(writes, key);
  // The store refuses malformed writes itself; checking first keeps a key from being made for one.
  validate_writes(writes);
  std::vector<stream_write> sealed(writes.begin(), writes.end());
  std::unordered_map<std::string, subject_key> made;
  for (auto& w : sealed) {
    const auto subject = subject_of(w.stream_id);
    if (subject.empty()) continue;
    for (auto& e : w.events) {
      if (!has_personal_fields(e.type)) continue;
      auto it = made.find(std::string(subject));
      if (it == made.end()) {
        it = made.emplace(std::string(subject), keys_.key_for(subject, now_())).first;
      }
      e.data = seal_personal_fields(e.type, e.data, it->second, subject);
    }
  }
  // A sealed field is longer than its text: the limits apply to what is stored.
  validate_writes(sealed);
  return inner_.append(sealed, key);
}

std::optional<append_result> private_event_store::find_idempotent(const idempotency_key& key) {
  return inner_.find_idempotent(key);
}

std::vector<recorded_event> private_event_store::read_stream(std::string_view stream_id,
                                                             std::int64_t from_version,
                                                             std::size_t max) {
  auto events = inner_.read_stream(stream_id, from_version, max);
  open(events);
  return events;
}

std::int64_t private_event_store::stream_version(std::string_view stream_id) {
  return inner_.stream_version(stream_id);
}

std::vector<recorded_event> private_event_store::read_all(std::int64_t after_position,
                                                          std::size_t max) {
  auto events = inner_.read_all(after_position, max);
  open(events);
  return events;
}

std::int64_t private_event_store::head_position() {
  return inner_.head_position();
}

void private_event_store::wait_for_append(std::int64_t position,
                                          std::chrono::milliseconds timeout) {
  inner_.wait_for_append(position, timeout);
}

void private_event_store::open(std::vector<recorded_event>& events) {
  // One lookup for the batch: an erasure shows in the next read, in every process.
  std::vector<std::string> subjects;
  for (const auto& e : events) {
    const auto subject = subject_of(e.stream_id);
    if (subject.empty() || !has_personal_fields(e.type)) continue;
    if (e.data.find("sealed:v1:") == std::string::npos) continue;
    subjects.emplace_back(subject);
  }
  if (subjects.empty()) return;
  std::sort(subjects.begin(), subjects.end());
  subjects.erase(std::unique(subjects.begin(), subjects.end()), subjects.end());
  const auto keys = keys_.lookup(subjects);
  for (auto& e : events) {
    const auto subject = subject_of(e.stream_id);
    if (subject.empty() || !has_personal_fields(e.type)) continue;
    if (e.data.find("sealed:v1:") == std::string::npos) continue;
    const auto it = keys.find(std::string(subject));
    if (it == keys.end()) {
      throw corrupt_event(
          "event " + e.event_id + " of " + e.stream_id +
          " holds sealed fields, but no key or erasure of its subject is on record");
    }
    e.data = open_personal_fields(e.type, e.data, it->second ? &*it->second : nullptr, subject);
  }
}

}  // namespace realmkit::infra::privacy
