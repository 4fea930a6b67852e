// A digest of a relation's whole content, independent of row order: what "row for row equal"
// compares between a read model and its rebuild.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include "infra/sql/sql_database.hpp"

namespace realmkit::testing {

// Every row as text (columns joined by a unit separator, NULL spelled apart from ""), sorted,
// then joined: equal digests mean equal multisets of rows. Kept as plain text so a failing
// comparison shows the difference.
inline std::string table_digest(infra::sql::session& db, const std::string& relation) {
  std::vector<std::string> rows;
  for (const auto& r : db.query("SELECT * FROM " + infra::sql::identifier(relation))) {
    std::string line;
    for (std::size_t i = 0; i < r.size(); ++i) {
      if (i) line += '\x1f';
      line += r.is_null(i) ? std::string("\x01NULL") : r.text(i);
    }
    rows.push_back(std::move(line));
  }
  std::sort(rows.begin(), rows.end());
  std::string out = std::to_string(rows.size()) + " rows\n";
  for (const auto& line : rows) {
    out += line;
    out += '\n';
  }
  return out;
}

}  // namespace realmkit::testing
