#include "projections/search/search_query.hpp"

#include <cstdio>
#include <functional>

#include "projections/catalog.hpp"
#include "projections/search/search_document.hpp"
#include "projections/search/search_projection.hpp"
#include "projections/support/statement_batch.hpp"

namespace realmkit::projections::search {

namespace sql = infra::sql;

namespace {

constexpr std::string_view kCursorTag = "s1";

struct live_info {
  std::int64_t generation = 0;
  std::int64_t position = 0;
};

live_info live_of(sql::session& db) {
  const auto live = live_generation(db, kProjectionName);
  if (!live) return {};
  return {live->generation, live->position};
}

std::string paging(const search_request& request, std::vector<sql::value>& params) {
  params.emplace_back(static_cast<std::int64_t>(request.limit + 1));
  std::string out = " LIMIT $" + std::to_string(params.size());
  params.emplace_back(static_cast<std::int64_t>(request.offset));
  out += " OFFSET $" + std::to_string(params.size());
  return out;
}

bool all_kinds(const search_request& request) {
  return request.kinds.size() >= std::size(kAllKinds);
}

struct ranked {
  std::vector<search_hit> hits;
  bool truncated = false;
};

// The score of a candidate, the same on both backends: per query word 4 when the record's name
// has that word, 2 when a word of the name starts with it, 1 when it matched elsewhere; one more
// when the name starts with the first word. Ties: the shorter name (the closer match) first.
// Words are letters and digits only, so they need no LIKE escaping.
std::string score(const search_request& request, std::vector<sql::value>& params,
                  std::string_view names) {
  const std::string padded = "(' ' || " + std::string(names) + " || ' ')";
  const std::string leading = "(' ' || " + std::string(names) + ")";
  std::string out = "(";
  for (std::size_t i = 0; i < request.words.size(); ++i) {
    const auto& w = request.words[i];
    params.emplace_back("% " + w + " %");
    const auto exact = "$" + std::to_string(params.size());
    params.emplace_back("% " + w + "%");
    const auto prefix = "$" + std::to_string(params.size());
    out += (i ? " + " : "") + std::string("CASE WHEN ") + padded + " LIKE " + exact +
           " THEN 4 WHEN " + leading + " LIKE " + prefix + " THEN 2 ELSE 1 END";
  }
  params.emplace_back(" " + request.words.front() + "%");
  out +=
      " + CASE WHEN " + leading + " LIKE $" + std::to_string(params.size()) + " THEN 1 ELSE 0 END)";
  return out;
}

// Candidates: up to kCandidates + 1 matching records (one more tells that there were more),
// each scored, best first. Kinds come from a closed set, so they are written as literals.
ranked postgres_search(sql::session& db, const search_request& request) {
  // Short words match an indexed prefix exactly. A long word alone matches by GIN prefix
  // matching over the few words of the index that start with it. Next to other words, a long
  // word's first kIndexedPrefix characters join the exact part — one index scan that intersects
  // posting lists, far cheaper than intersecting two bitmaps — and the whole word is checked on
  // the candidates (COALESCE keeps that check out of the index).
  std::string exact, partial;
  for (const auto& w : request.words) {
    if (characters(w) <= kIndexedPrefix) {
      exact += (exact.empty() ? "" : " & ") + w;
      continue;
    }
    partial += (partial.empty() ? "" : " & ") + w + ":*";
    if (request.words.size() > 1) {
      std::size_t end = 0, chars = 0;
      while (end < w.size() && chars < kIndexedPrefix) {
        ++end;
        while (end < w.size() && (static_cast<unsigned char>(w[end]) & 0xC0) == 0x80) ++end;
        ++chars;
      }
      exact += (exact.empty() ? "" : " & ") + w.substr(0, end);
    }
  }
  std::vector<sql::value> params;
  std::string condition;
  if (!exact.empty()) {
    params.emplace_back(exact);
    condition = "tsp @@ to_tsquery('simple', $1)";
  }
  if (!partial.empty()) {
    params.emplace_back(partial);
    const auto match = "tsv @@ to_tsquery('simple', $" + std::to_string(params.size()) + ")";
    if (condition.empty()) {
      condition = match;
    } else {
      condition += " AND COALESCE(" + match + ", FALSE)";
    }
  }
  std::string candidates =
      "SELECT kind, id, title, subtitle, name_terms FROM rm_search WHERE " + condition;
  if (!all_kinds(request)) {
    candidates += " AND kind IN (";
    for (std::size_t i = 0; i < request.kinds.size(); ++i) {
      candidates += (i ? ", '" : "'") + request.kinds[i] + "'";
    }
    candidates += ")";
  }
  if (request.only_team) {
    params.emplace_back(**request.only_team);
    candidates += " AND owner_team = $" + std::to_string(params.size());
  }
  params.emplace_back(static_cast<std::int64_t>(kCandidates + 1));
  candidates += " LIMIT $" + std::to_string(params.size());
  const auto r = score(request, params, "c.name_terms");
  std::string text = "SELECT c.kind, c.id, c.title, c.subtitle, " + r +
                     " AS r, c.n FROM (SELECT x.*, COUNT(*) OVER () AS n FROM (" + candidates +
                     ") x) c ORDER BY r DESC, length(c.name_terms), c.kind, c.id";
  text += paging(request, params);
  ranked out;
  for (const auto& row : db.query(text, params)) {
    out.truncated = row.integer(5) > static_cast<std::int64_t>(kCandidates);
    out.hits.push_back({row.text(0), row.text(1), row.text(2), row.text(3), row.integer(4)});
  }
  return out;
}

ranked sqlite_search(sql::session& db, const search_request& request, std::int64_t generation) {
  const relation_names names(generation);
  const auto fts = sql::identifier(fts_table(names));
  const auto docs = sql::identifier(names("rm_search"));
  // The words match names and other text only, never the scope words; kinds and the team filter
  // inside the index, so the candidate limit counts only records the caller may get.
  std::string match = "{name_terms other_terms} : (";
  for (std::size_t i = 0; i < request.words.size(); ++i) {
    // Words hold no quote: normalize() keeps letters, digits and UTF-8 bytes only.
    match += (i ? " AND \"" : "\"") + request.words[i] + "\"*";
  }
  match += ")";
  if (!all_kinds(request)) {
    match += " AND scope : (";
    for (std::size_t i = 0; i < request.kinds.size(); ++i) {
      match += (i ? " OR k" : "k") + request.kinds[i];
    }
    match += ")";
  }
  if (request.only_team) match += " AND scope : " + team_token(*request.only_team);
  std::vector<sql::value> params{match};
  std::string team_filter;
  if (request.only_team) {
    params.emplace_back(**request.only_team);
    team_filter = " WHERE d.owner_team = $2";  // a hash collision adds no record
  }
  params.emplace_back(static_cast<std::int64_t>(kCandidates + 1));
  const auto limit = "$" + std::to_string(params.size());
  const auto r = score(request, params, "d.name_terms");
  // Newest first: the index walks rowids downwards, and stops at the limit.
  std::string text = "SELECT d.kind, d.id, d.title, d.subtitle, " + r +
                     " AS r, c.n FROM (SELECT doc_id, COUNT(*) OVER () AS n FROM (SELECT rowid AS "
                     "doc_id FROM " +
                     fts + " WHERE " + fts + " MATCH $1 ORDER BY rowid DESC LIMIT " + limit +
                     ")) c JOIN " + docs + " d ON d.doc_id = c.doc_id" + team_filter +
                     " ORDER BY r DESC, length(d.name_terms), d.kind, d.id";
  text += paging(request, params);
  ranked out;
  for (const auto& row : db.query(text, params)) {
    out.truncated = row.integer(5) > static_cast<std::int64_t>(kCandidates);
    out.hits.push_back({row.text(0), row.text(1), row.text(2), row.text(3), row.integer(4)});
  }
  return out;
}

}  // namespace

search_page run_search(sql::session& db, const search_request& request) {
  search_page page;
  if (request.kinds.empty() || (request.only_team && !*request.only_team)) {
    page.position = live_of(db).position;
    // No kind asked for, or a team-scoped caller without a team, who sees no team-owned record.
    return page;
  }
  ranked hits;
  if (db.dialect() == sql::dialect::postgres) {
    page.position = live_of(db).position;
    hits = postgres_search(db, request);
  } else {
    // FTS5 tables are reached by their physical name: the live generation's, looked up with the
    // checkpoint. A rebuild may switch generations and drop the old one between the two reads;
    // then the generation has changed and one more look finds the new table.
    auto live = live_of(db);
    page.position = live.position;
    if (live.generation == 0) return page;
    try {
      hits = sqlite_search(db, request, live.generation);
    } catch (const sql::error&) {
      const auto again = live_of(db);
      if (again.generation == live.generation || again.generation == 0) throw;
      page.position = again.position;
      hits = sqlite_search(db, request, again.generation);
    }
  }
  page.truncated = hits.truncated;
  if (hits.hits.size() > request.limit) {
    hits.hits.resize(request.limit);
    page.more = request.offset + request.limit < kMaxOffset;
  }
  page.items = std::move(hits.hits);
  return page;
}

std::string search_fingerprint(const search_request& request) {
  std::string text;
  for (const auto& w : request.words) text += w + ' ';
  text += '|';
  for (const auto& k : request.kinds) text += k + ' ';
  text += '|';
  if (request.only_team) text += request.only_team->value_or("-");
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016zx", std::hash<std::string>{}(text));
  return hex;
}

std::string encode_search_cursor(std::size_t offset, std::string_view fingerprint) {
  return support::encode_cursor(kCursorTag, {std::to_string(offset), std::string(fingerprint)});
}

std::optional<search_cursor> decode_search_cursor(std::string_view text) {
  const auto fields = support::decode_cursor(kCursorTag, text, 2);
  if (!fields) return std::nullopt;
  const auto offset = support::parse_int((*fields)[0]);
  if (!offset || *offset <= 0 || static_cast<std::size_t>(*offset) >= kMaxOffset) {
    return std::nullopt;
  }
  return search_cursor{static_cast<std::size_t>(*offset), (*fields)[1]};
}

}  // namespace realmkit::projections::search
