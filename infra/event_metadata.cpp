#include "infra/event_metadata.hpp"

#include <array>

#include "infra/event_codec.hpp"

namespace realmkit::infra {
namespace {

// Length of the well-formed UTF-8 sequence starting at s[i] (RFC 3629 table 3-7), 0 if none.
std::size_t utf8_sequence_length(std::string_view s, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const auto in = [&](std::size_t k, unsigned lo, unsigned hi) {
    return k < s.size() && byte(k) >= lo && byte(k) <= hi;
  };
  const unsigned b = byte(i);
  if (b < 0x80) return 1;
  if (b >= 0xC2 && b <= 0xDF) return in(i + 1, 0x80, 0xBF) ? 2 : 0;
  if (b >= 0xE0 && b <= 0xEF) {
    const unsigned lo = b == 0xE0 ? 0xA0 : 0x80;
    const unsigned hi = b == 0xED ? 0x9F : 0xBF;  // no surrogates
    return in(i + 1, lo, hi) && in(i + 2, 0x80, 0xBF) ? 3 : 0;
  }
  if (b >= 0xF0 && b <= 0xF4) {
    const unsigned lo = b == 0xF0 ? 0x90 : 0x80;
    const unsigned hi = b == 0xF4 ? 0x8F : 0xBF;  // nothing above U+10FFFF
    return in(i + 1, lo, hi) && in(i + 2, 0x80, 0xBF) && in(i + 3, 0x80, 0xBF) ? 4 : 0;
  }
  return 0;
}

std::string valid_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t n = utf8_sequence_length(s, i);
    if (n == 0) {
      out.append("\xEF\xBF\xBD");  // U+FFFD REPLACEMENT CHARACTER
      ++i;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
  return out;
}

struct metadata_field {
  std::string_view name;
  std::string event_metadata::*member;
};

constexpr std::array<metadata_field, 5> kFields{{
    {"actor", &event_metadata::actor},
    {"correlation_id", &event_metadata::correlation_id},
    {"causation_id", &event_metadata::causation_id},
    {"idempotency_key", &event_metadata::idempotency_key},
    {"ip", &event_metadata::ip},
}};

}  // namespace

std::string encode_metadata(const event_metadata& metadata) {
  detail::json_sink out;
  const detail::json_path root;
  out.begin_object();
  for (const auto& field : kFields) {
    const detail::json_path path = root.child(field.name);
    out.key(field.name, path);
    const std::string& value = metadata.*field.member;
    if (value.empty()) {
      out.null_value();
    } else {
      out.string_value(valid_utf8(value), path);
    }
  }
  out.end_object();
  return out.take();
}

event_metadata decode_metadata(std::string_view json) {
  try {
    const detail::json_document document(json);
    const detail::json_node root = document.root();
    const detail::json_path path;
    root.object_size(path);
    event_metadata metadata;
    for (const auto& field : kFields) {
      const detail::json_node node = root.member(field.name);
      if (node.absent() || node.is_null()) continue;
      metadata.*field.member = std::string(node.get_string(path.child(field.name)));
    }
    return metadata;
  } catch (const json_error& error) {
    throw corrupt_event("event metadata: " + std::string(error.what()));
  }
}

}  // namespace realmkit::infra
