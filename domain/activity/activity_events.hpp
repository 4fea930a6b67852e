// Events of the activity aggregate: a call, e-mail, meeting, note or SMS on the timeline of a
// contact, company, deal or lead.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "domain/common/entity_ref.hpp"
#include "domain/common/types.hpp"

namespace realmkit::domain {

enum class activity_type { call, email, meeting, note, sms };

constexpr std::string_view to_string(activity_type type) {
  switch (type) {
    case activity_type::call:
      return "call";
    case activity_type::email:
      return "email";
    case activity_type::meeting:
      return "meeting";
    case activity_type::note:
      return "note";
    case activity_type::sms:
      return "sms";
  }
  return {};  // only for a value outside the enum, which decide rejects
}

constexpr bool from_string(std::string_view text, activity_type& out) {
  return parse_enum(text, out,
                    {activity_type::call, activity_type::email, activity_type::meeting,
                     activity_type::note, activity_type::sms});
}

// Only calls and meetings take time worth reporting on.
constexpr bool has_duration(activity_type type) {
  return type == activity_type::call || type == activity_type::meeting;
}

struct activity_logged {
  static constexpr std::string_view kType = "activity.logged.v1";
  activity_id activity;
  activity_type type = activity_type::note;
  entity_ref subject;   // the record whose timeline shows the activity
  std::string summary;  // one line: an e-mail's subject, a call's topic
  std::string body;
  timestamp occurred_at{};
  std::optional<int> duration_minutes;  // calls and meetings only
  user_id owner;

  bool operator==(const activity_logged&) const = default;
  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("activity_id", self.activity);
    v("type", self.type);
    v("subject", self.subject);
    v("summary", self.summary);
    v("body", self.body);
    v("occurred_at", self.occurred_at);
    v("duration_minutes", self.duration_minutes);
    v("owner_id", self.owner);
  }
};

// Carries every editable field with its new value, so a read model applies it without merging.
struct activity_edited {
  static constexpr std::string_view kType = "activity.edited.v1";
  activity_id activity;
  std::string summary;
  std::string body;
  timestamp occurred_at{};
  std::optional<int> duration_minutes;

  bool operator==(const activity_edited&) const = default;
  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("activity_id", self.activity);
    v("summary", self.summary);
    v("body", self.body);
    v("occurred_at", self.occurred_at);
    v("duration_minutes", self.duration_minutes);
  }
};

// A soft delete: the activity leaves timelines, its history stays for audit.
struct activity_deleted {
  static constexpr std::string_view kType = "activity.deleted.v1";
  activity_id activity;

  bool operator==(const activity_deleted&) const = default;
  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("activity_id", self.activity);
  }
};

// The activity now belongs to another record's timeline: the record it was about was merged into
// that one. Recorded on deleted activities too, so every trace of the duplicate points onwards.
struct activity_relinked {
  static constexpr std::string_view kType = "activity.relinked.v1";
  activity_id activity;
  entity_ref from;
  entity_ref subject;

  bool operator==(const activity_relinked&) const = default;
  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("activity_id", self.activity);
    v("from_subject", self.from);
    v("subject", self.subject);
  }
};

using activity_event =
    std::variant<activity_logged, activity_edited, activity_deleted, activity_relinked>;

}  // namespace realmkit::domain
