// Encoding writes the stored data/metadata texts raw; decoding reads with RapidJSON's SAX reader so
// it can hand those two objects back as the exact bytes they had, which a DOM would re-format.
#include "infra/event_envelope.hpp"

#include <rapidjson/encodedstream.h>
#include <rapidjson/error/en.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <array>
#include <cstdint>
#include <limits>
#include <optional>

#include "infra/json/json_time.hpp"

namespace realmkit::infra {

envelope_error::envelope_error(std::string field, const std::string& reason)
    : std::runtime_error(field.empty() ? "event envelope: " + reason
                                       : "event envelope: " + field + ": " + reason),
      field_(std::move(field)) {}

namespace {

// The cheap check RawValue needs: the texts come from the store, which already refused anything
// that is not a JSON object, so a full parse here would only cost time.
bool looks_like_object(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  const auto last = text.find_last_not_of(" \t\r\n");
  return first != std::string_view::npos && text[first] == '{' && text[last] == '}';
}

// A Writer writing straight into the caller's std::string.
class string_output {
 public:
  using Ch = char;
  explicit string_output(std::string& out) : out_(out) {}
  void Put(char c) { out_.push_back(c); }
  void Flush() {}

 private:
  std::string& out_;
};

enum member : std::size_t {
  kEventId,
  kStreamId,
  kStreamVersion,
  kGlobalPosition,
  kType,
  kSchemaVersion,
  kRecordedAt,
  kData,
  kMetadata,
  kMemberCount,
  kUnknown = kMemberCount,
};

constexpr std::array<std::string_view, kMemberCount> kMemberNames = {
    "event_id",       "stream_id",   "stream_version", "global_position", "type",
    "schema_version", "recorded_at", "data",           "metadata"};

member member_of(std::string_view key) {
  for (std::size_t i = 0; i < kMemberCount; ++i) {
    if (kMemberNames[i] == key) return static_cast<member>(i);
  }
  return kUnknown;
}

using input_stream = rapidjson::EncodedInputStream<rapidjson::UTF8<>, rapidjson::MemoryStream>;

// Collects the top-level members; remembers where data and metadata start and end in the text.
// Returning false stops the reader; error_ then says why.
class envelope_handler {
 public:
  envelope_handler(std::string_view text, const rapidjson::MemoryStream& stream)
      : text_(text), stream_(stream) {}

  std::optional<envelope_error> error_;
  recorded_event event_;
  std::array<bool, kMemberCount> seen_{};

  bool Null() { return scalar("null"); }
  bool Bool(bool) { return scalar("a boolean"); }
  bool Int(int i) { return integer(i); }
  bool Uint(unsigned u) { return integer(u); }
  bool Int64(std::int64_t i) { return integer(i); }
  bool Uint64(std::uint64_t u) {
    if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      if (depth_ == 0) return fail_document("is not a JSON object");
      if (depth_ != 1 || current_ == kUnknown) return true;
      return fail("out of range");
    }
    return integer(static_cast<std::int64_t>(u));
  }
  bool Double(double) { return scalar("a fraction"); }
  bool RawNumber(const char*, rapidjson::SizeType, bool) { return scalar("a number"); }
  bool String(const char* s, rapidjson::SizeType length, bool) {
    if (depth_ == 0) return fail_document("is not a JSON object");
    if (depth_ != 1) return true;
    const std::string_view value(s, length);
    if (value.empty() && (current_ == kEventId || current_ == kStreamId || current_ == kType)) {
      return fail("must not be empty");
    }
    switch (current_) {
      case kEventId:
        event_.event_id = value;
        return true;
      case kStreamId:
        event_.stream_id = value;
        return true;
      case kType:
        event_.type = value;
        return true;
      case kRecordedAt: {
        const auto t = parse_timestamp(value);
        if (!t) return fail("is not an RFC 3339 date-time");
        event_.recorded_at = *t;
        return true;
      }
      case kUnknown:
        return true;
      default:
        return fail("must be " + expected(current_) + ", not a string");
    }
  }
  bool StartObject() {
    ++depth_;
    if (depth_ == 1) return true;
    if (depth_ == 2) {
      if (current_ != kData && current_ != kMetadata) {
        return current_ == kUnknown || fail("must be " + expected(current_) + ", not an object");
      }
      object_start_ = stream_.Tell() - 1;  // the reader has just taken the '{'
    }
    return true;
  }
  bool Key(const char* s, rapidjson::SizeType length, bool) {
    if (depth_ != 1) return true;
    const std::string_view key(s, length);
    current_ = member_of(key);
    if (current_ == kUnknown) return true;
    if (seen_[current_]) return fail("appears twice");
    seen_[current_] = true;
    return true;
  }
  bool EndObject(rapidjson::SizeType) {
    if (depth_ == 2 && (current_ == kData || current_ == kMetadata)) {
      const auto raw = text_.substr(object_start_, stream_.Tell() - object_start_);
      (current_ == kData ? event_.data : event_.metadata).assign(raw);
    }
    --depth_;
    return true;
  }
  bool StartArray() {
    if (depth_ == 0) return fail_document("is not a JSON object");
    if (depth_ == 1 && current_ != kUnknown) {
      return fail("must be " + expected(current_) + ", not an array");
    }
    ++depth_;
    return true;
  }
  bool EndArray(rapidjson::SizeType) {
    --depth_;
    return true;
  }

 private:
  static std::string expected(member m) {
    switch (m) {
      case kStreamVersion:
      case kGlobalPosition:
      case kSchemaVersion:
        return "a positive integer";
      case kData:
      case kMetadata:
        return "a JSON object";
      default:
        return "a string";
    }
  }

  bool integer(std::int64_t value) {
    if (depth_ == 0) return fail_document("is not a JSON object");
    if (depth_ != 1 || current_ == kUnknown) return true;
    if (current_ != kStreamVersion && current_ != kGlobalPosition && current_ != kSchemaVersion) {
      return fail("must be " + expected(current_) + ", not a number");
    }
    if (value < 1) return fail("must be at least 1");
    if (current_ == kStreamVersion) {
      event_.stream_version = value;
    } else if (current_ == kGlobalPosition) {
      event_.global_position = value;
    } else {
      if (value > std::numeric_limits<int>::max()) return fail("out of range");
      event_.schema_version = static_cast<int>(value);
    }
    return true;
  }

  bool scalar(const std::string& what) {
    if (depth_ == 0) return fail_document("is not a JSON object");
    if (depth_ != 1 || current_ == kUnknown) return true;
    return fail("must be " + expected(current_) + ", not " + what);
  }

  bool fail(const std::string& reason) {
    error_.emplace(std::string(kMemberNames[current_]), reason);
    return false;
  }
  bool fail_document(const std::string& reason) {
    error_.emplace("", reason);
    return false;
  }

  std::string_view text_;
  const rapidjson::MemoryStream& stream_;
  int depth_ = 0;
  member current_ = kUnknown;
  std::size_t object_start_ = 0;
};

}  // namespace

void encode_envelope(const recorded_event& event, std::string& out) {
  if (!looks_like_object(event.data)) throw envelope_error("data", "is not a JSON object");
  if (!looks_like_object(event.metadata)) throw envelope_error("metadata", "is not a JSON object");
  const auto recorded_at = format_timestamp(event.recorded_at);
  if (!recorded_at) throw envelope_error("recorded_at", "outside the years RFC 3339 can write");

  out.reserve(out.size() + event.data.size() + event.metadata.size() + 256);
  string_output stream(out);
  rapidjson::Writer<string_output> writer(stream);
  writer.StartObject();
  writer.Key("event_id");
  writer.String(event.event_id);
  writer.Key("stream_id");
  writer.String(event.stream_id);
  writer.Key("stream_version");
  writer.Int64(event.stream_version);
  writer.Key("global_position");
  writer.Int64(event.global_position);
  writer.Key("type");
  writer.String(event.type);
  writer.Key("schema_version");
  writer.Int(event.schema_version);
  writer.Key("recorded_at");
  writer.String(*recorded_at);
  writer.Key("data");
  writer.RawValue(event.data.data(), event.data.size(), rapidjson::kObjectType);
  writer.Key("metadata");
  writer.RawValue(event.metadata.data(), event.metadata.size(), rapidjson::kObjectType);
  writer.EndObject();
}

std::string encode_envelope(const recorded_event& event) {
  std::string out;
  encode_envelope(event, out);
  return out;
}

recorded_event decode_envelope(std::string_view text) {
  rapidjson::MemoryStream memory(text.data(), text.size());
  input_stream stream(memory);
  envelope_handler handler(text, memory);
  rapidjson::Reader reader;
  const auto result = reader.Parse<rapidjson::kParseValidateEncodingFlag>(stream, handler);
  if (handler.error_) throw *handler.error_;
  if (result.IsError()) {
    throw envelope_error("", std::string("invalid JSON at offset ") +
                                 std::to_string(result.Offset()) + ": " +
                                 rapidjson::GetParseError_En(result.Code()));
  }
  for (std::size_t i = 0; i < kMemberCount; ++i) {
    if (!handler.seen_[i]) throw envelope_error(std::string(kMemberNames[i]), "is missing");
  }
  return std::move(handler.event_);
}

}  // namespace realmkit::infra
