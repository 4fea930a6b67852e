// The dialect-independent parts of the read-model database: rows, identifiers, placeholder
// scanning and the session pool.
#include "infra/sql/sql_database.hpp"

#include <charconv>
#include <utility>

#include "infra/sql/sql_detail.hpp"

namespace realmkit::infra::sql {
namespace {

const value& column(const std::vector<value>& columns, std::size_t i) {
  if (i >= columns.size()) {
    throw error("column " + std::to_string(i) + " out of range: the row has " +
                    std::to_string(columns.size()) + " columns",
                false);
  }
  return columns[i];
}

}  // namespace

bool row::is_null(std::size_t i) const {
  return std::holds_alternative<std::monostate>(column(columns_, i));
}

std::int64_t row::integer(std::size_t i) const {
  const auto& v = column(columns_, i);
  if (const auto* n = std::get_if<std::int64_t>(&v)) return *n;
  if (const auto* s = std::get_if<std::string>(&v)) {
    std::int64_t n = 0;
    const char* end = s->data() + s->size();
    const auto [ptr, ec] = std::from_chars(s->data(), end, n);
    if (ec == std::errc() && ptr == end && !s->empty()) return n;
    throw error("column " + std::to_string(i) + " is not an integer: '" + s->substr(0, 40) + "'",
                false);
  }
  throw error("column " + std::to_string(i) + " is NULL, not an integer", false);
}

std::optional<std::int64_t> row::optional_integer(std::size_t i) const {
  if (is_null(i)) return std::nullopt;
  return integer(i);
}

std::string row::text(std::size_t i) const {
  const auto& v = column(columns_, i);
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  if (const auto* n = std::get_if<std::int64_t>(&v)) return std::to_string(*n);
  return {};
}

std::optional<std::string> row::optional_text(std::size_t i) const {
  if (is_null(i)) return std::nullopt;
  return text(i);
}

std::string identifier(std::string_view name) {
  bool valid = !name.empty() && name.size() <= 63 && !(name.front() >= '0' && name.front() <= '9');
  for (char c : name) {
    valid = valid && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_');
  }
  if (!valid) {
    throw std::invalid_argument("invalid SQL identifier '" + std::string(name.substr(0, 80)) +
                                "': expected [a-z_][a-z0-9_]*, at most 63 characters");
  }
  std::string quoted;
  quoted.reserve(name.size() + 2);
  quoted += '"';
  quoted += name;
  quoted += '"';
  return quoted;
}

database::lease::~lease() {
  if (owner_ && session_) owner_->release(std::move(session_));
}

namespace detail {
void check_parameter_count(std::string_view name, std::size_t expected, std::size_t given) {
  if (expected == given) return;
  throw error(std::string(name) + ": the statement has " + std::to_string(expected) +
                  " parameters, " + std::to_string(given) + " values were given",
              false);
}

void check_text(std::string_view name, std::string_view text) {
  if (text.find('\0') != std::string_view::npos) {
    throw error(std::string(name) + ": a text value contains a NUL byte", false);
  }
}

database::lease pooled_database::acquire() {
  std::unique_ptr<session> idle;
  {
    std::lock_guard lock(mutex_);
    if (!idle_.empty()) {
      idle = std::move(idle_.back());
      idle_.pop_back();
    }
  }
  // Checked outside the lock: on PostgreSQL it asks the socket whether the server hung up.
  if (idle && static_cast<pooled_session&>(*idle).reusable()) return lease(this, std::move(idle));
  idle.reset();
  return lease(this, open_session());
}

void pooled_database::release(std::unique_ptr<session> s) noexcept {
  auto* pooled = dynamic_cast<pooled_session*>(s.get());
  if (pooled != nullptr && pooled->reusable()) {
    std::lock_guard lock(mutex_);
    if (idle_.size() < max_pooled_) {
      idle_.push_back(std::move(s));
      return;
    }
  }
  // Leaving the scope closes the session (and rolls back a transaction it left open).
}

}  // namespace detail
}  // namespace realmkit::infra::sql
