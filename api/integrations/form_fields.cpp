#include "api/integrations/form_fields.hpp"

#include "api/error_mapping.hpp"
#include "api/http_types.hpp"
#include "api/problem.hpp"

namespace realmkit::api::integrations {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The value of `name` among a header's "; name=value" parameters, unquoted; nullopt if absent.
std::optional<std::string> parameter(std::string_view header, std::string_view name) {
  std::size_t at = header.find(';');
  while (at != std::string_view::npos) {
    header.remove_prefix(at + 1);
    const auto next = header.find(';');
    auto item = trim(header.substr(0, next));
    const auto eq = item.find('=');
    if (eq != std::string_view::npos && iequals(trim(item.substr(0, eq)), name)) {
      auto value = trim(item.substr(eq + 1));
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
        value = value.substr(1, value.size() - 2);
      }
      return std::string(value);
    }
    at = next;
  }
  return std::nullopt;
}

std::string_view media_type(std::string_view content_type) {
  return trim(content_type.substr(0, content_type.find(';')));
}

}  // namespace

std::optional<std::string> form_fields::get(std::string_view name) const {
  for (const auto& [n, v] : fields_) {
    if (n == name) return v;
  }
  return std::nullopt;
}

std::string form_fields::require(std::string_view name) const {
  auto value = get(name);
  if (!value || value->empty()) {
    throw problem_error(make_problem(problem_kind::validation, "is required", std::string(name)));
  }
  return std::move(*value);
}

std::optional<form_fields> parse_urlencoded(std::string_view body) {
  std::vector<form_fields::field> out;
  while (!body.empty()) {
    const auto amp = body.find('&');
    const auto pair = body.substr(0, amp);
    if (!pair.empty()) {
      const auto eq = pair.find('=');
      auto name = percent_decode(pair.substr(0, eq), true);
      auto value = eq == std::string_view::npos ? std::optional<std::string>(std::string())
                                                : percent_decode(pair.substr(eq + 1), true);
      if (!name || !value) return std::nullopt;
      out.emplace_back(std::move(*name), std::move(*value));
    }
    if (amp == std::string_view::npos) break;
    body.remove_prefix(amp + 1);
  }
  return form_fields(std::move(out));
}

std::optional<form_fields> parse_multipart(std::string_view body, std::string_view boundary) {
  if (boundary.empty() || boundary.size() > 70) return std::nullopt;  // RFC 2046 §5.1.1
  const std::string first = "--" + std::string(boundary);
  const std::string delimiter = "\r\n" + first;
  // The preamble before the first delimiter is ignored (RFC 2046).
  std::size_t at = body.starts_with(first) ? 0 : body.find(delimiter);
  if (at == std::string_view::npos) return std::nullopt;
  at += body.starts_with(first) && at == 0 ? first.size() : delimiter.size();
  std::vector<form_fields::field> out;
  while (true) {
    if (body.substr(at, 2) == "--") return form_fields(std::move(out));  // the close delimiter
    if (body.substr(at, 2) != "\r\n") return std::nullopt;
    at += 2;
    const auto headers_end = body.find("\r\n\r\n", at);
    if (headers_end == std::string_view::npos) return std::nullopt;
    const auto headers = body.substr(at, headers_end - at);
    const auto content_start = headers_end + 4;
    const auto next = body.find(delimiter, content_start);
    if (next == std::string_view::npos) return std::nullopt;
    std::optional<std::string> name;
    bool is_file = false;
    std::size_t line_start = 0;
    while (line_start <= headers.size()) {
      const auto line_end = headers.find("\r\n", line_start);
      const auto line = headers.substr(line_start, line_end - line_start);
      const auto colon = line.find(':');
      if (colon != std::string_view::npos &&
          iequals(trim(line.substr(0, colon)), "Content-Disposition")) {
        const auto value = line.substr(colon + 1);
        name = parameter(value, "name");
        is_file = parameter(value, "filename").has_value();
      }
      if (line_end == std::string_view::npos) break;
      line_start = line_end + 2;
    }
    if (!name) return std::nullopt;
    // Attachments are not kept: an activity holds text.
    if (!is_file)
      out.emplace_back(std::move(*name), body.substr(content_start, next - content_start));
    at = next + delimiter.size();
  }
}

form_fields parse_form(std::string_view content_type, std::string_view body) {
  const auto type = media_type(content_type);
  std::optional<form_fields> fields;
  if (iequals(type, "application/x-www-form-urlencoded")) {
    fields = parse_urlencoded(body);
  } else if (iequals(type, "multipart/form-data")) {
    const auto boundary = parameter(content_type, "boundary");
    if (boundary) fields = parse_multipart(body, *boundary);
  } else {
    throw problem_error(make_problem(
        problem_kind::unsupported_media_type,
        "send application/x-www-form-urlencoded or multipart/form-data", "Content-Type"));
  }
  if (!fields) {
    throw problem_error(
        make_problem(problem_kind::malformed_request, "the form body is malformed", "body"));
  }
  return std::move(*fields);
}

}  // namespace realmkit::api::integrations
