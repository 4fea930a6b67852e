// The dialect-independent parts of the read-model database: rows, identifiers, placeholder
// scanning and the session pool.
#include "infra/sql/sql_database.hpp"

#include <algorithm>
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
  if (owner_ && session_) owner_->release(std::move(session_), holder_);
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
  const auto me = std::this_thread::get_id();
  std::unique_ptr<session> idle;
  {
    std::unique_lock lock(mutex_);
    // New sessions are opened a few at a time: a burst of callers on a cold pool would otherwise
    // open dozens of connections at once, and on a loaded machine PostgreSQL's postmaster starts
    // them so slowly that some time out; the others are served by sessions coming back.
    const auto may_take = [&] {
      return !idle_.empty() || (holders_.size() < max_sessions_ && opening_ < kMaxOpening) ||
             std::find(holders_.begin(), holders_.end(), me) != holders_.end();
    };
    if (!returned_.wait_for(lock, acquire_timeout_, may_take)) {
      throw error("all " + std::to_string(max_sessions_) + " database sessions stayed in use for " +
                      std::to_string(acquire_timeout_.count()) + " ms",
                  true);
    }
    if (!idle_.empty()) {
      idle = std::move(idle_.back());
      idle_.pop_back();
    }
    holders_.push_back(me);
    if (!idle) ++opening_;
  }
  // Checked outside the lock: on PostgreSQL it asks the socket whether the server hung up.
  if (idle && static_cast<pooled_session&>(*idle).reusable()) return lease(this, std::move(idle));
  if (idle) {
    idle.reset();
    std::lock_guard lock(mutex_);
    ++opening_;
  }
  try {
    auto opened = open_session();
    {
      std::lock_guard lock(mutex_);
      --opening_;
    }
    returned_.notify_all();
    return lease(this, std::move(opened));
  } catch (...) {
    {
      std::lock_guard lock(mutex_);
      --opening_;
      forget(me);
    }
    returned_.notify_all();
    throw;
  }
}

void pooled_database::forget(std::thread::id holder) {
  if (auto it = std::find(holders_.begin(), holders_.end(), holder); it != holders_.end()) {
    holders_.erase(it);
  } else if (!holders_.empty()) {
    holders_.pop_back();  // unreachable: every lease was counted under its holder
  }
}

void pooled_database::release(std::unique_ptr<session> s, std::thread::id holder) noexcept {
  auto* pooled = dynamic_cast<pooled_session*>(s.get());
  const bool keep = pooled != nullptr && pooled->reusable();
  std::unique_ptr<session> closing;
  {
    std::lock_guard lock(mutex_);
    forget(holder);
    // Sessions lent beyond the bound (nested leases) are closed rather than kept.
    if (keep && idle_.size() + holders_.size() < max_sessions_) {
      idle_.push_back(std::move(s));
    } else {
      closing = std::move(s);
    }
  }
  returned_.notify_one();
  // Leaving the scope closes a session not kept (and rolls back a transaction it left open).
}

}  // namespace detail
}  // namespace realmkit::infra::sql
