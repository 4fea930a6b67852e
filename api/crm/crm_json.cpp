#include "api/crm/crm_json.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "infra/event_codec.hpp"
#include "infra/json/json_time.hpp"

namespace realmkit::api::crm {

struct json_out::impl {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer{buffer};
};

json_out::json_out() : impl_(std::make_unique<impl>()) {}
json_out::~json_out() = default;

json_out& json_out::key(std::string_view name) {
  impl_->writer.Key(name.data(), static_cast<rapidjson::SizeType>(name.size()));
  return *this;
}
json_out& json_out::begin_object() {
  impl_->writer.StartObject();
  return *this;
}
json_out& json_out::end_object() {
  impl_->writer.EndObject();
  return *this;
}
json_out& json_out::begin_array() {
  impl_->writer.StartArray();
  return *this;
}
json_out& json_out::end_array() {
  impl_->writer.EndArray();
  return *this;
}
json_out& json_out::string(std::string_view value) {
  impl_->writer.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
  return *this;
}
json_out& json_out::integer(std::int64_t value) {
  impl_->writer.Int64(value);
  return *this;
}
json_out& json_out::number(double value) {
  impl_->writer.Double(value);
  return *this;
}
json_out& json_out::boolean(bool value) {
  impl_->writer.Bool(value);
  return *this;
}
json_out& json_out::null() {
  impl_->writer.Null();
  return *this;
}
json_out& json_out::time(domain::timestamp value) {
  const auto text = infra::format_timestamp(value);
  return text ? string(*text) : null();
}
json_out& json_out::day(domain::date value) {
  const auto text = infra::format_date(value);
  return text ? string(*text) : null();
}
json_out& json_out::money(const domain::money& value) {
  begin_object();
  key("amount_minor").integer(value.amount_minor);
  key("currency").string(value.currency);
  return end_object();
}
json_out& json_out::raw(std::string_view json) {
  impl_->writer.RawValue(json.data(), json.size(), rapidjson::kObjectType);
  return *this;
}
std::string json_out::take() {
  return std::string(impl_->buffer.GetString(), impl_->buffer.GetSize());
}

namespace {

void strings(json_out& out, const std::vector<std::string>& values) {
  out.begin_array();
  for (const auto& v : values) out.string(v);
  out.end_array();
}

template <class Id>
void ids(json_out& out, const Id& values) {
  out.begin_array();
  for (const auto& v : values) out.string(v.value);
  out.end_array();
}

template <class T>
void optional_time(json_out& out, const std::optional<T>& value) {
  if (value) {
    out.time(*value);
  } else {
    out.null();
  }
}

void meta(json_out& out, const view_meta& m) {
  out.key("version").integer(m.version);
  out.key("created_at").time(m.created_at);
  out.key("updated_at").time(m.updated_at);
}

}  // namespace

void write(json_out& out, const user_view& v) {
  const auto& s = v.state;
  out.begin_object();
  out.key("id").string(v.meta.id);
  out.key("email").string(s.email);
  out.key("display_name").string(s.display_name);
  out.key("role").string(to_string(s.role));
  out.key("team_id").optional_string(s.team);
  out.key("active").boolean(s.active);
  out.key("has_password").boolean(!s.password_hash.empty());
  meta(out, v.meta);
  out.end_object();
}

void write(json_out& out, const team_view& v) {
  const auto& s = v.state;
  out.begin_object();
  out.key("id").string(v.meta.id);
  out.key("name").string(s.name);
  out.key("manager_id").optional_string(s.manager);
  out.key("member_ids");
  ids(out, s.members);
  out.key("archived").boolean(s.archived);
  meta(out, v.meta);
  out.end_object();
}

void write(json_out& out, const company_view& v) {
  const auto& s = v.state;
  out.begin_object();
  out.key("id").string(v.meta.id);
  out.key("name").string(s.name);
  out.key("domain").string(s.domain);
  out.key("industry").string(s.industry);
  out.key("size").string(to_string(s.size));
  out.key("phone").string(s.phone);
  out.key("address").raw(infra::to_json(s.address));
  out.key("owner_id").string(s.owner.value);
  out.key("tags");
  strings(out, s.tags);
  out.key("archived").boolean(s.archived);
  meta(out, v.meta);
  out.end_object();
}

void write(json_out& out, const contact_view& v) {
  const auto& s = v.state;
  out.begin_object();
  out.key("id").string(v.meta.id);
  out.key("first_name").string(s.first_name);
  out.key("last_name").string(s.last_name);
  out.key("emails").begin_array();
  for (const auto& e : s.emails) out.raw(infra::to_json(e));
  out.end_array();
  out.key("phones").begin_array();
  for (const auto& p : s.phones) out.raw(infra::to_json(p));
  out.end_array();
  out.key("company_id").optional_string(s.company);
  out.key("title").string(s.title);
  out.key("owner_id").string(s.owner.value);
  out.key("tags");
  strings(out, s.tags);
  out.key("consents").begin_object();
  for (auto channel :
       {domain::consent_channel::email_marketing, domain::consent_channel::sms_marketing,
        domain::consent_channel::phone_calls}) {
    const auto& c = s.consent(channel);
    out.key(to_string(channel)).begin_object();
    out.key("granted").boolean(c.granted);
    out.key("at");
    optional_time(out, c.at);
    out.key("source").string(c.source);
    out.end_object();
  }
  out.end_object();
  out.key("archived").boolean(s.archived);
  out.key("merged_into").optional_string(s.merged_into);
  out.key("erased").boolean(s.erased);
  meta(out, v.meta);
  out.end_object();
}

void write(json_out& out, const lead_view& v) {
  const auto& s = v.state;
  out.begin_object();
  out.key("id").string(v.meta.id);
  out.key("name").string(s.name);
  out.key("email").string(s.email);
  out.key("phone").string(s.phone);
  out.key("company_name").string(s.company_name);
  out.key("source").string(to_string(s.source));
  out.key("owner_id").string(s.owner.value);
  out.key("status").string(to_string(s.status));
  out.key("disqualified_reason").string(s.disqualified_reason);
  out.key("erased").boolean(s.erased);
  out.key("score");
  if (s.score) {
    out.integer(*s.score);
  } else {
    out.null();
  }
  out.key("score_reason").string(s.score_reason);
  out.key("score_model").string(s.score_model);
  out.key("converted_contact_id").optional_string(s.converted_contact);
  out.key("converted_company_id").optional_string(s.converted_company);
  out.key("converted_deal_id").optional_string(s.converted_deal);
  out.key("converted_at");
  optional_time(out, s.converted_at);
  meta(out, v.meta);
  out.end_object();
}

void write_stages(json_out& out, const std::vector<domain::pipeline_stage>& stages) {
  out.begin_array();
  for (const auto& stage : stages) out.raw(infra::to_json(stage));
  out.end_array();
}

void write(json_out& out, const pipeline_view& v) {
  const auto& s = v.state;
  out.begin_object();
  out.key("id").string(v.meta.id);
  out.key("name").string(s.name);
  out.key("stages");
  write_stages(out, s.stages);
  out.key("archived").boolean(s.archived);
  meta(out, v.meta);
  out.end_object();
}

void write(json_out& out, const deal_view& v) {
  const auto& s = v.state;
  out.begin_object();
  out.key("id").string(v.meta.id);
  out.key("title").string(s.title);
  out.key("value").money(s.value);
  out.key("pipeline_id").string(s.pipeline.value);
  out.key("stage_id").string(s.stage.value);
  out.key("stage_entered_at").time(s.stage_entered_at);
  out.key("owner_id").string(s.owner.value);
  out.key("company_id").optional_string(s.company);
  out.key("contact_ids");
  ids(out, s.contacts);
  out.key("expected_close_date");
  if (s.expected_close_date) {
    out.day(*s.expected_close_date);
  } else {
    out.null();
  }
  out.key("status").string(to_string(s.status));
  out.key("lost_reason").string(s.lost_reason);
  out.key("closed_at");
  optional_time(out, s.closed_at);
  out.key("archived").boolean(s.archived);
  meta(out, v.meta);
  out.end_object();
}

void write(json_out& out, const activity_view& v) {
  const auto& s = v.state;
  out.begin_object();
  out.key("id").string(v.meta.id);
  out.key("type").string(to_string(s.type));
  out.key("subject").raw(infra::to_json(s.subject));
  out.key("summary").string(s.summary);
  out.key("body").string(s.body);
  out.key("occurred_at").time(s.occurred_at);
  out.key("duration_minutes");
  if (s.duration_minutes) {
    out.integer(*s.duration_minutes);
  } else {
    out.null();
  }
  out.key("owner_id").string(s.owner.value);
  meta(out, v.meta);
  out.end_object();
}

void write(json_out& out, const task_view& v) {
  const auto& s = v.state;
  out.begin_object();
  out.key("id").string(v.meta.id);
  out.key("title").string(s.title);
  out.key("description").string(s.description);
  out.key("assignee_id").string(s.assignee.value);
  out.key("due_at");
  optional_time(out, s.due_at);
  out.key("link");
  if (s.link) {
    out.raw(infra::to_json(*s.link));
  } else {
    out.null();
  }
  out.key("priority").string(to_string(s.priority));
  out.key("status").string(s.done ? "done" : "open");
  out.key("completed_at");
  optional_time(out, s.completed_at);
  out.key("reminder_minutes_before");
  if (s.reminder_minutes) {
    out.integer(*s.reminder_minutes);
  } else {
    out.null();
  }
  out.key("recurrence");
  if (s.recurrence) {
    out.raw(infra::to_json(*s.recurrence));
  } else {
    out.null();
  }
  out.key("series_id");
  if (s.series.value.empty()) {
    out.null();
  } else {
    out.string(s.series.value);
  }
  out.key("occurrence").integer(s.occurrence);
  meta(out, v.meta);
  out.end_object();
}

}  // namespace realmkit::api::crm
