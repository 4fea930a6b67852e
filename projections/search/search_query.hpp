// Full-text search over the search read model: every word of the query must match the start of a
// word of the record (prefix matching: "ann" finds "Anna"), found through PostgreSQL's GIN index
// on the tsvector or SQLite's FTS5 index, only records the caller may see, best matches first.
//
// The score is the same on both backends (search_query.cpp): a word that is a whole word of the
// record's name counts most, the start of a word of the name next, a match elsewhere (e-mail,
// phone, title, tags...) least. Scoring is bounded: at most kCandidates matching records (of the
// kinds asked, that the caller may see) are scored, so a one-letter search over a million
// contacts costs what a precise one does. Fewer matches are ranked exactly; with more, the
// candidates are the newest records on SQLite and the first found in storage order on
// PostgreSQL, and the answer says so (`truncated`), so a client can ask the user to type more.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "infra/sql/sql_database.hpp"

namespace realmkit::projections::search {

inline constexpr std::size_t kDefaultHits = 20;
inline constexpr std::size_t kMaxHits = 100;
inline constexpr std::size_t kCandidates = 1'000;
// Ranked results page by offset, within the candidates.
inline constexpr std::size_t kMaxOffset = kCandidates;
inline constexpr std::size_t kMaxQueryLength = 200;
inline constexpr std::size_t kMaxQueryWords = 8;

inline constexpr std::string_view kAllKinds[] = {"contact", "company", "deal", "lead"};

struct search_request {
  std::vector<std::string> words;  // normalized (search_document.hpp words()), 1..kMaxQueryWords
  std::vector<std::string> kinds;  // a non-empty subset of kAllKinds
  // The caller's record scope: unset sees every team; set, only this team (none: nothing).
  std::optional<std::optional<std::string>> only_team;
  std::size_t limit = kDefaultHits;
  std::size_t offset = 0;
};

struct search_hit {
  std::string kind;
  std::string id;
  std::string title;
  std::string subtitle;
  std::int64_t rank = 0;  // the score: higher is better
};

struct search_page {
  std::vector<search_hit> items;
  bool more = false;          // another page follows
  bool truncated = false;     // more records matched than were ranked
  std::int64_t position = 0;  // the search's checkpoint before the rows were read
};

search_page run_search(infra::sql::session& db, const search_request& request);

// Cursors carry the next offset and a fingerprint of the words and kinds they were made for.
std::string search_fingerprint(const search_request& request);
std::string encode_search_cursor(std::size_t offset, std::string_view fingerprint);
struct search_cursor {
  std::size_t offset = 0;
  std::string fingerprint;
};
std::optional<search_cursor> decode_search_cursor(std::string_view text);

}  // namespace realmkit::projections::search
