// The form bodies webhook providers post: application/x-www-form-urlencoded and
// multipart/form-data (text parts only: attachments are skipped, their names kept).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace realmkit::api::integrations {

// The fields in the order sent; a name may repeat.
class form_fields {
 public:
  using field = std::pair<std::string, std::string>;

  form_fields() = default;
  explicit form_fields(std::vector<field> fields) : fields_(std::move(fields)) {}

  // The first value of `name`, or nullopt.
  std::optional<std::string> get(std::string_view name) const;
  // The first value of `name`; throws a 422 problem naming it when absent or empty.
  std::string require(std::string_view name) const;
  const std::vector<field>& all() const { return fields_; }

 private:
  std::vector<field> fields_;
};

// Parses `body` by its Content-Type (either form type); throws a 4xx problem for a body that is
// neither, or malformed: 415 for another content type, 400 for a broken encoding.
form_fields parse_form(std::string_view content_type, std::string_view body);

// application/x-www-form-urlencoded alone; nullopt for a malformed escape.
std::optional<form_fields> parse_urlencoded(std::string_view body);

// multipart/form-data with this boundary; nullopt when the body does not follow it.
std::optional<form_fields> parse_multipart(std::string_view body, std::string_view boundary);

}  // namespace realmkit::api::integrations
