// How RealmKit tells that two contacts may be one person: the keys they are compared under (the
// mailbox an address reaches, the E.164 form of a number, a name without case, accents or
// punctuation) and a verdict on a pair, with the reasons for it.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace realmkit::domain {

// The mailbox `address` reaches: trimmed and lowercased, a "+tag" subaddress dropped, and for
// Gmail (which ignores them) the dots of the local part dropped, so "Ana.Lopez+crm@GMail.com" and
// "analopez@gmail.com" give one key. nullopt for something that is not an address.
std::optional<std::string> email_match_key(std::string_view address);

// `number` in E.164 ("+493012345678"). A number written with "+" or "00" carries its country
// code; a national one ("030 1234 5678", "(555) 010-0199") gets `default_country` (its calling
// code's digits, "49" or "1") in place of its trunk prefix. An extension ("x12", "ext. 12") is
// left out. nullopt when it cannot be a phone number: letters, or a length E.164 does not allow.
std::optional<std::string> e164_phone(std::string_view number, std::string_view default_country);

// The key two numbers are compared by, whatever the country their writer dialled from: the
// national significant number ("+49 30 1234567", "0049 30 1234567" and "030 1234567" all give
// "301234567"; "+1 415 555 0132" and "(415) 555-0132" give "4155550132"). The calling code of an
// international number is known from E.164's prefix-free code list; a national number loses its
// trunk prefix. nullopt for what cannot be a number.
std::optional<std::string> phone_match_key(std::string_view number);

// The words of a person's name in order, lowercase ASCII where the letter has an ASCII base
// ("José Müller-Ødegård" → {"jose", "muller", "odegard"}); other characters are kept as they are.
std::vector<std::string> name_words(std::string_view first_name, std::string_view last_name);

// How alike two names are, in [0, 1]: their words paired in the order that matches best, each pair
// compared by Jaro-Winkler similarity, weighted by length. "Anna Müller" and "Muller Anna" are 1,
// "Jon Smith" and "John Smyth" close to it; a word unlike every other ("Weber", "Meyer") makes 0.
double name_similarity(const std::vector<std::string>& a, const std::vector<std::string>& b);

// What is compared of a contact: its keys, as the functions above give them.
struct match_profile {
  std::vector<std::string> emails;
  std::vector<std::string> phones;  // phone_match_key
  std::vector<std::string> name;
  std::string company;  // empty: none
};

// The profile of a contact with these names, addresses, numbers and company (empty: none);
// addresses and numbers that give no key are left out.
match_profile make_match_profile(std::string_view first_name, std::string_view last_name,
                                 const std::vector<std::string>& email_addresses,
                                 const std::vector<std::string>& phone_numbers,
                                 std::string company);

// The keys under which a contact's candidates are looked up: "e:<mailbox>", "p:<national
// number>", and for a contact at a company "n:<company>:<first two letters>" of each name word.
// A pair match_contacts accepts shares one, unless typos changed how every word of a name
// begins.
std::vector<std::string> match_keys(const match_profile& profile);

enum class match_reason { same_email, same_phone, similar_name_same_company };

std::string_view to_string(match_reason reason);

struct duplicate_verdict {
  double score = 0;  // in (0, 1]: how sure the match is
  std::vector<match_reason> reasons;
};

// Names at least this alike, at the same company, make a candidate.
inline constexpr double kNameSimilarityThreshold = 0.9;

// nullopt when nothing says that `a` and `b` are one person: no shared mailbox or number, and not
// alike enough by name at one company.
std::optional<duplicate_verdict> match_contacts(const match_profile& a, const match_profile& b);

}  // namespace realmkit::domain
