// What the search read model knows of one contact, company, deal or lead: the fields its text is
// made of, the title and subtitle a hit shows, and the normalized terms both backends index.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace realmkit::projections::search {

struct document {
  std::string kind;  // contact, company, deal, lead
  std::string id;
  std::string owner;
  bool archived = false;
  bool merged = false;  // a contact merged into another

  // contact
  std::string first_name, last_name, job_title;
  std::vector<std::string> emails;  // the primary address first
  std::vector<std::string> phones;
  std::vector<std::string> tags;
  // company (and a lead's company name)
  std::string name, domain, industry, city, country, phone;
  // deal
  std::string title;
  std::int64_t amount_minor = 0;
  std::string currency;
  // deal (open, won, lost) or lead (new, contacted, ...)
  std::string status;
  // lead
  std::string email, company_name;

  bool operator==(const document&) const = default;
  // Archived and merged records are kept (a restore brings them back) but not indexed.
  bool indexed() const { return !archived && !merged; }
};

// What a hit shows: the record's name, and a line of what else identifies it.
std::string title_of(const document& d);
std::string subtitle_of(const document& d);
// The indexed text: the name (ranked highest) and everything else, normalized.
std::string name_terms(const document& d);
std::string other_terms(const document& d);

// Every distinct start of 1 to kIndexedPrefix characters (not bytes) of the words of `terms`:
// on PostgreSQL a short query word is one of these, matched exactly, which costs a fraction of
// GIN's prefix matching (partial match) over a large index.
inline constexpr std::size_t kIndexedPrefix = 4;
std::string prefix_terms(std::string_view terms);
// The number of characters of a UTF-8 word.
std::size_t characters(std::string_view word);

// The words that scope a document for SQLite's index: "k<kind>" and "t<team hash>" ("tnone"
// without a team), so kinds and teams filter inside the index, before the candidate limit.
// A hash collision could only add candidates, which the query filters on owner_team again.
std::string team_token(const std::optional<std::string>& team);
std::string scope_terms(std::string_view kind, const std::optional<std::string>& team);

// Lowercase ASCII letters and digits, other ASCII characters as separators, bytes of UTF-8
// sequences kept as they are; words separated by one space. Documents and queries go through the
// same function, so "anna.schmidt@example.com" is found by "schmidt" and by the whole address on
// either backend.
std::string normalize(std::string_view text);
// The words of normalize(text).
std::vector<std::string> words(std::string_view text);

// The stored form of a document's fields (JSON), and back; throws std::runtime_error for text
// to_source did not write.
std::string to_source(const document& d);
document from_source(std::string_view kind, std::string_view id, std::string_view owner,
                     std::string_view source);

}  // namespace realmkit::projections::search
