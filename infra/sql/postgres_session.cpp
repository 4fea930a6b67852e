// The read-model database on PostgreSQL: sessions in the event store's schema, statements
// prepared once per session, bulk writes as one round trip per few megabytes.
#include <charconv>
#include <pqxx/pqxx>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "infra/event_store.hpp"
#include "infra/postgres/postgres_connection.hpp"
#include "infra/sql/sql_detail.hpp"

namespace realmkit::infra::sql {
namespace {

// Column type oids (pg_type.h) of the values that come back as integers.
constexpr pqxx::oid kBoolOid = 16;
constexpr pqxx::oid kInt8Oid = 20;
constexpr pqxx::oid kInt2Oid = 21;
constexpr pqxx::oid kInt4Oid = 23;

// execute_many sends its statements in messages of about this size: big enough that the round
// trips vanish, small enough not to hold a large buffer on either side.
constexpr std::size_t kBatchBytes = 4u << 20;
// An INSERT with an array form (bulk_form) runs it from this many rows on, this many rows per
// execution: larger arrays were slower, not faster, when measured.
constexpr std::size_t kBulkMinRows = 16;
constexpr std::size_t kBulkRows = 2'000;

constexpr std::string_view kParameterTypes =
    "SELECT t::text FROM pg_catalog.pg_prepared_statements, "
    "unnest(parameter_types) WITH ORDINALITY AS p(t, n) WHERE name = $1 ORDER BY n";

struct text_hash {
  using is_transparent = void;
  std::size_t operator()(std::string_view text) const noexcept {
    return std::hash<std::string_view>{}(text);
  }
};

// Failures a retry of the unit of work may get past: connection exceptions (08), serialization
// failures and deadlocks (40), insufficient resources (53), operator intervention such as a
// server shutdown (57P), lock timeouts (55P03) and system errors (58).
bool transient_sqlstate(std::string_view state) {
  return state.starts_with("08") || state.starts_with("40") || state.starts_with("53") ||
         state.starts_with("57P") || state == "55P03" || state.starts_with("58");
}

std::string rollback_sqlstate(const pqxx::transaction_rollback& e) {
  if (dynamic_cast<const pqxx::serialization_failure*>(&e)) return "40001";
  if (dynamic_cast<const pqxx::deadlock_detected*>(&e)) return "40P01";
  if (dynamic_cast<const pqxx::statement_completion_unknown*>(&e)) return "40003";
  return "40000";
}

// A plan cached for a prepared statement whose result columns changed under it (a view
// replaced by a rebuild's switch).
bool stale_plan(const pqxx::sql_error& e) {
  return e.sqlstate() == "0A000" &&
         std::string_view(e.what()).find("cached plan must not change result type") !=
             std::string_view::npos;
}

// A quoted literal; the session runs with standard_conforming_strings on, so only quotes double.
void append_literal(std::string& out, const value& v) {
  if (const auto* n = std::get_if<std::int64_t>(&v)) {
    char digits[24];
    const auto end = std::to_chars(digits, digits + sizeof digits, *n).ptr;
    out += '\'';
    out.append(digits, end);
    out += '\'';
  } else if (const auto* s = std::get_if<std::string>(&v)) {
    out += '\'';
    std::size_t from = 0;
    for (auto quote = s->find('\''); quote != std::string::npos; quote = s->find('\'', from)) {
      out.append(*s, from, quote + 1 - from);
      out += '\'';
      from = quote + 1;
    }
    out.append(*s, from);
    out += '\'';
  } else {
    out += "NULL";
  }
}

// Appends a value to a key that tells values apart by type and content (NULL counts as a value:
// a unique index may treat NULLs as equal).
void append_key(std::string& key, const value& v) {
  if (const auto* n = std::get_if<std::int64_t>(&v)) {
    key += 'i';
    key += std::to_string(*n);
    key += ';';
  } else if (const auto* s = std::get_if<std::string>(&v)) {
    key += 's';
    key += std::to_string(s->size());
    key += ':';
    key += *s;
  } else {
    key += 'n';
  }
}

// An element of an array literal: "text" with quotes and backslashes escaped, or NULL.
void append_array_element(std::string& out, const value& v) {
  if (const auto* n = std::get_if<std::int64_t>(&v)) {
    char digits[24];
    out.append(digits, std::to_chars(digits, digits + sizeof digits, *n).ptr);
  } else if (const auto* s = std::get_if<std::string>(&v)) {
    out += '"';
    for (char c : *s) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  } else {
    out += "NULL";
  }
}

class postgres_session final : public detail::pooled_session {
 public:
  explicit postgres_session(const postgres_options& options) {
    postgres_store_options store_options;
    store_options.url = options.url;
    store_options.schema = options.schema;
    store_options.connect_timeout = options.connect_timeout;
    try {
      connection_ = postgres_detail::open_connection(store_options, "read-models");
      // append_literal relies on it (the server default since 9.1, set in case a role changed it).
      connection_->set_variable("standard_conforming_strings", "on");
      // The session's one libpqxx transaction object: it sends statements as they are, so this
      // class opens and ends transactions with BEGIN and COMMIT and knows their state.
      tx_ = std::make_unique<pqxx::nontransaction>(*connection_, "read-models");
    } catch (const store_unavailable& e) {
      throw error(e.what(), true);
    } catch (const std::exception& e) {
      throw error(std::string("cannot open a PostgreSQL session: ") + e.what(), true);
    }
  }

  ~postgres_session() override {
    // The transaction object goes first; closing the connection rolls back anything left open.
    tx_.reset();
  }

  sql::dialect dialect() const override { return sql::dialect::postgres; }

  void exec_script(std::string_view sql) override {
    guarded(sql, [&] { tx_->exec(std::string(sql)); });
  }

  std::vector<row> query(std::string_view sql, std::span<const value> params) override {
    return to_rows(run(sql, params));
  }

  std::int64_t execute(std::string_view sql, std::span<const value> params) override {
    return static_cast<std::int64_t>(run(sql, params).affected_rows());
  }

  void execute_many(std::string_view sql, std::span<const std::vector<value>> rows) override {
    if (rows.empty()) return;
    const bool own = !in_transaction();
    if (own) begin();
    try {
      guarded(sql, [&] {
        auto& s = statement(sql);
        // Checked before anything is sent, so bad input changes nothing.
        for (const auto& params : rows) {
          detail::check_parameter_count(s.first_line, s.parameters, params.size());
          for (const auto& p : params) {
            if (const auto* t = std::get_if<std::string>(&p)) detail::check_text(s.first_line, *t);
          }
        }
        if (rows.size() >= kBulkMinRows && bulk_form(sql, s)) {
          insert_from_arrays(s.bulk_sql, s.parameters, s.bulk_key, rows);
        } else {
          execute_each(s.name, rows);
        }
      });
      if (own) commit();
    } catch (...) {
      if (own) rollback();
      throw;
    }
  }

  void begin() override {
    if (in_transaction_) throw error("begin: a transaction is already open", false);
    guarded("BEGIN", [&] { tx_->exec("BEGIN"); });
    in_transaction_ = true;
    failed_ = false;
  }

  void commit() override {
    if (!in_transaction_) throw error("commit: no transaction is open", false);
    if (failed_) {
      rollback();
      throw error("commit: a statement of the transaction failed, so it was rolled back", false);
    }
    // Whatever COMMIT answers, the transaction is over (a lost connection discards the session).
    // Every failed statement passed through guarded(), so the server is not about to answer a
    // silent ROLLBACK for an aborted transaction.
    in_transaction_ = false;
    guarded("COMMIT", [&] { tx_->exec("COMMIT"); });
  }

  void rollback() noexcept override {
    if (!in_transaction_) return;
    in_transaction_ = false;
    failed_ = false;
    if (lost_ || !postgres_detail::still_connected(*connection_)) {
      lost_ = true;  // closing the connection rolls back
      return;
    }
    try {
      tx_->exec("ROLLBACK");
    } catch (...) {
      // The connection is gone, which ends the transaction too; the pool discards the session.
      lost_ = true;
    }
  }

  bool in_transaction() const override { return in_transaction_; }

  bool reusable() noexcept override {
    if (lost_ || in_transaction_) return false;
    lost_ = !postgres_detail::still_connected(*connection_);
    return !lost_;
  }

 private:
  enum class bulk_state { unknown, none, arrays };
  struct cached_statement {
    std::string name;  // of the prepared statement: "rk_<n>"
    std::size_t parameters = 0;
    std::string first_line;
    bulk_state bulk = bulk_state::unknown;  // for execute_many
    std::string bulk_sql;                   // the array form, when there is one
    std::vector<std::size_t> bulk_key;      // see detail::bulk_insert::conflict_key
  };

  cached_statement& statement(std::string_view sql) {
    if (auto it = statements_.find(sql); it != statements_.end()) return it->second;
    if (statements_.size() >= detail::kMaxCachedStatements && !in_transaction_) {
      for (const auto& [text, s] : statements_) connection_->unprepare(s.name);
      statements_.clear();
    }
    cached_statement s;
    s.parameters = detail::scan_placeholders(sql, sql::dialect::postgres).parameters;
    s.first_line = detail::first_line(sql);
    s.name = "rk_" + std::to_string(++prepared_count_);
    connection_->prepare(s.name, std::string(sql));
    return statements_.emplace(std::string(sql), std::move(s)).first->second;
  }

  // Whether the statement has an equivalent that takes its rows as arrays (see
  // detail::as_bulk_insert), worked out once per statement: the arrays are typed as the server
  // typed the statement's parameters, so every value is read as a one-by-one execution reads it.
  bool bulk_form(std::string_view sql, cached_statement& s) {
    if (s.bulk == bulk_state::unknown) {
      s.bulk = bulk_state::none;
      const auto form = detail::as_bulk_insert(sql);
      if (!form || s.parameters == 0) return false;
      const std::string name = s.name;
      const std::size_t parameters = s.parameters;
      connection_->prepare_now(name);
      const auto types = to_rows(run(kParameterTypes, std::vector<value>{value(name)}));
      if (types.size() != parameters) return false;
      std::string arrays;
      std::string columns;
      for (std::size_t i = 0; i < parameters; ++i) {
        const auto type = types[i].text(0);
        // An array parameter would be flattened by unnest.
        if (type.ends_with("[]") || type == "unknown") return false;
        if (i) {
          arrays += ", ";
          columns += ", ";
        }
        const auto n = std::to_string(i + 1);
        arrays.append("$").append(n).append("::").append(type).append("[]");
        columns.append("p").append(n);
      }
      auto& cached = statements_.find(sql)->second;  // run() may have added statements
      cached.bulk_sql = form->head + "SELECT " + form->row + " FROM unnest(" + arrays +
                        ") AS rk_rows(" + columns + ")" +
                        (form->tail.empty() ? "" : " " + form->tail);
      cached.bulk_key = form->conflict_key;
      cached.bulk = bulk_state::arrays;
      return true;
    }
    return s.bulk == bulk_state::arrays;
  }

  // Runs the array form: a few thousand rows per execution, one array per parameter. With a
  // conflict key, a row whose key is already in the execution being built starts the next one.
  void insert_from_arrays(const std::string& bulk_sql, std::size_t parameters,
                          const std::vector<std::size_t>& key,
                          std::span<const std::vector<value>> rows) {
    const std::string name = statement(bulk_sql).name;
    std::vector<std::string> arrays(parameters);
    std::unordered_set<std::string> keys;
    std::string row_key;
    std::size_t bytes = 0;
    std::size_t count = 0;
    auto flush = [&] {
      for (auto& a : arrays) a += '}';
      tx_->exec_prepared(name, pqxx::prepare::make_dynamic_params(arrays));
      for (auto& a : arrays) a.clear();
      keys.clear();
      bytes = 0;
      count = 0;
    };
    for (const auto& params : rows) {
      if (!key.empty()) {
        row_key.clear();
        for (auto k : key) append_key(row_key, params[k]);
        if (keys.contains(row_key)) flush();
        keys.insert(row_key);
      }
      for (std::size_t i = 0; i < parameters; ++i) {
        auto& a = arrays[i];
        const auto before = a.size();
        a += count == 0 ? '{' : ',';
        append_array_element(a, params[i]);
        bytes += a.size() - before;
      }
      if (++count >= kBulkRows || bytes >= kBatchBytes) flush();
    }
    if (count > 0) flush();
  }

  // Any other statement: each row becomes EXECUTE name('v1', ...) of the statement prepared
  // here; a simple-query message carries thousands of them, and the server plans it once.
  void execute_each(const std::string& name, std::span<const std::vector<value>> rows) {
    connection_->prepare_now(name);
    std::string batch;
    batch.reserve(std::min(kBatchBytes + 4096, rows.size() * 64));
    for (const auto& params : rows) {
      batch += "EXECUTE ";
      batch += name;
      if (!params.empty()) {
        batch += '(';
        for (std::size_t i = 0; i < params.size(); ++i) {
          if (i) batch += ',';
          append_literal(batch, params[i]);
        }
        batch += ')';
      }
      batch += ";\n";
      if (batch.size() >= kBatchBytes) {
        tx_->exec(batch);
        batch.clear();
      }
    }
    if (!batch.empty()) tx_->exec(batch);
  }

  void forget(std::string_view sql) {
    if (auto it = statements_.find(sql); it != statements_.end()) {
      const auto name = it->second.name;
      statements_.erase(it);
      try {
        connection_->unprepare(name);
      } catch (const pqxx::broken_connection&) {
        throw;
      } catch (const std::exception&) {
        // An aborted transaction refuses DEALLOCATE: the statement stays on the server, unused,
        // until the session closes.
      }
    }
  }

  pqxx::result run(std::string_view sql, std::span<const value> params) {
    pqxx::result r;
    guarded(sql, [&] {
      auto& s = statement(sql);
      detail::check_parameter_count(s.first_line, s.parameters, params.size());
      std::vector<std::optional<std::string>> texts;
      texts.reserve(params.size());
      for (const auto& p : params) {
        if (const auto* n = std::get_if<std::int64_t>(&p)) {
          texts.emplace_back(std::to_string(*n));
        } else if (const auto* t = std::get_if<std::string>(&p)) {
          detail::check_text(s.first_line, *t);
          texts.emplace_back(*t);
        } else {
          texts.emplace_back(std::nullopt);
        }
      }
      try {
        r = tx_->exec_prepared(s.name, pqxx::prepare::make_dynamic_params(texts));
      } catch (const pqxx::sql_error& e) {
        if (!stale_plan(e)) throw;
        // Prepared anew it plans against the new columns; outside a transaction nothing was
        // done yet, so it runs again, inside one the transaction is lost: retry the unit of work.
        forget(sql);
        if (in_transaction_) {
          throw error(detail::first_line(sql) +
                          ": its result columns changed (a view was replaced); " +
                          "the transaction must be retried",
                      true);
        }
        auto& fresh = statement(sql);
        r = tx_->exec_prepared(fresh.name, pqxx::prepare::make_dynamic_params(texts));
      }
    });
    return r;
  }

  std::vector<row> to_rows(const pqxx::result& r) const {
    const auto columns = static_cast<std::size_t>(r.columns());
    std::vector<pqxx::oid> types(columns);
    for (std::size_t c = 0; c < columns; ++c) {
      types[c] = r.column_type(static_cast<pqxx::row::size_type>(c));
    }
    std::vector<row> rows;
    rows.reserve(r.size());
    for (const auto& source : r) {
      std::vector<value> values;
      values.reserve(columns);
      for (std::size_t c = 0; c < columns; ++c) {
        const auto field = source[static_cast<pqxx::row::size_type>(c)];
        if (field.is_null()) {
          values.emplace_back(std::monostate{});
        } else if (types[c] == kInt8Oid || types[c] == kInt4Oid || types[c] == kInt2Oid) {
          std::int64_t n = 0;
          std::from_chars(field.c_str(), field.c_str() + field.size(), n);
          values.emplace_back(n);
        } else if (types[c] == kBoolOid) {
          values.emplace_back(std::int64_t{field.c_str()[0] == 't' ? 1 : 0});
        } else {
          values.emplace_back(std::string(field.c_str(), field.size()));
        }
      }
      rows.emplace_back(std::move(values));
    }
    return rows;
  }

  // Runs f, translating libpqxx's failures into sql::error naming the statement's first line; a
  // failure inside a transaction leaves it only to roll back.
  template <class F>
  void guarded(std::string_view sql, F&& f) {
    if (lost_) {
      throw error(detail::first_line(sql) + ": the connection to PostgreSQL was lost", true);
    }
    // The server announces on the socket that it closes the connection (a restart, an idle
    // timeout, pg_terminate_backend): finding out here fails the call without sending it,
    // which also avoids libpqxx 6.4's error path for a query on a dead connection, which leaks
    // the query's result.
    if (!postgres_detail::still_connected(*connection_)) {
      lost(sql, "the server closed the connection");
    }
    try {
      f();
    } catch (const error&) {
      if (in_transaction_) failed_ = true;
      throw;
    } catch (const pqxx::broken_connection& e) {
      lost(sql, e.what());
    } catch (const pqxx::transaction_rollback& e) {
      // libpqxx 6.4 derives these from failure, not sql_error, so they carry no SQLSTATE.
      if (!connection_->is_open()) lost(sql, e.what());
      if (in_transaction_) failed_ = true;
      throw error(detail::first_line(sql) + " (SQLSTATE " + rollback_sqlstate(e) + "): " + e.what(),
                  true);
    } catch (const pqxx::sql_error& e) {
      if (!connection_->is_open()) lost(sql, e.what());
      if (in_transaction_) failed_ = true;
      throw error(detail::first_line(sql) + " (SQLSTATE " + e.sqlstate() + "): " + e.what(),
                  transient_sqlstate(e.sqlstate()));
    } catch (const std::exception& e) {
      if (!connection_->is_open()) lost(sql, e.what());
      if (in_transaction_) failed_ = true;
      throw error(detail::first_line(sql) + ": " + e.what(), false);
    }
  }

  [[noreturn]] void lost(std::string_view sql, std::string_view what) {
    lost_ = true;
    in_transaction_ = false;
    throw error(
        detail::first_line(sql) + ": lost the connection to PostgreSQL: " + std::string(what),
        true);
  }

  std::unique_ptr<pqxx::connection> connection_;
  std::unique_ptr<pqxx::nontransaction> tx_;
  std::unordered_map<std::string, cached_statement, text_hash, std::equal_to<>> statements_;
  std::uint64_t prepared_count_ = 0;
  bool in_transaction_ = false;
  bool failed_ = false;  // a statement failed in the open transaction
  bool lost_ = false;    // the connection broke: every call fails, the pool discards the session
};

class postgres_database final : public detail::pooled_database {
 public:
  explicit postgres_database(postgres_options options)
      : pooled_database(options.max_sessions, options.acquire_timeout), options_(std::move(options)) {}

  sql::dialect dialect() const override { return sql::dialect::postgres; }

  std::unique_ptr<session> open_session() override {
    return std::make_unique<postgres_session>(options_);
  }

 private:
  const postgres_options options_;
};

}  // namespace

std::unique_ptr<database> open_postgres_database(postgres_options options) {
  identifier(options.schema);  // throws std::invalid_argument for a bad name
  auto db = std::make_unique<postgres_database>(std::move(options));
  db->acquire();  // fails now if the server cannot be reached; the session stays in the pool
  return db;
}

}  // namespace realmkit::infra::sql
