#include "domain/contact/contact_matching.hpp"

#include <doctest/doctest.h>

#include <random>
#include <set>

using namespace realmkit::domain;

TEST_SUITE("contact matching") {
  TEST_CASE("an address's mailbox: case, a +tag and Gmail's dots do not matter") {
    CHECK(email_match_key(" Ana.Lopez@Example.COM ") == "ana.lopez@example.com");
    CHECK(email_match_key("ana+crm@example.com") == "ana@example.com");
    CHECK(email_match_key("Ana.Lopez+news@GoogleMail.com") == "analopez@gmail.com");
    CHECK(email_match_key("a.n.a@gmail.com") == email_match_key("ana@gmail.com"));
    // Dots matter everywhere else.
    CHECK(email_match_key("a.na@example.com") != email_match_key("ana@example.com"));
    CHECK_FALSE(email_match_key("no-at-sign.example.com"));
    CHECK_FALSE(email_match_key("@example.com"));
    CHECK_FALSE(email_match_key("ana@localhost"));
    CHECK_FALSE(email_match_key("+tag@example.com"));
    CHECK_FALSE(email_match_key("ana lopez@example.com"));
  }

  TEST_CASE("a number in E.164, whether written nationally or internationally") {
    CHECK(e164_phone("+49 30 1234567", "49") == "+49301234567");
    CHECK(e164_phone("030 1234567", "49") == "+49301234567");
    CHECK(e164_phone("(030) 123-45-67", "49") == "+49301234567");
    CHECK(e164_phone("0049 30 1234567", "49") == "+49301234567");
    CHECK(e164_phone("030/1234567 ext. 12", "49") == "+49301234567");
    CHECK(e164_phone("+49 30 1234567 x12", "49") == "+49301234567");
    // A national number in North America has no trunk 0, and may start with the country code.
    CHECK(e164_phone("(415) 555-0132", "1") == "+14155550132");
    CHECK(e164_phone("1-415-555-0132", "1") == "+14155550132");
    CHECK(e164_phone("011 44 20 7946 0958", "1") == "+442079460958");
    // International numbers need no default country; national ones do.
    CHECK(e164_phone("+44 20 7946 0958", "") == "+442079460958");
    CHECK_FALSE(e164_phone("020 7946 0958", ""));
    CHECK_FALSE(e164_phone("555-0132", "1"));               // seven digits: not a whole number
    CHECK_FALSE(e164_phone("+1 800 FLOWERS", "1"));         // letters
    CHECK_FALSE(e164_phone("+12 3456 7890 1234 56", "1"));  // sixteen digits
    CHECK_FALSE(e164_phone("12", "49"));
    CHECK_FALSE(e164_phone("+49 30 12+34", "49"));
  }

  TEST_CASE("two numbers compare by their national number, however they were written") {
    CHECK(phone_match_key("+49 30 1234567") == "301234567");
    CHECK(phone_match_key("0049 (30) 123 45 67") == "301234567");
    CHECK(phone_match_key("030/1234567 ext. 12") == "301234567");
    CHECK(phone_match_key("+1 415 555 0132") == "4155550132");
    CHECK(phone_match_key("(415) 555-0132") == "4155550132");
    CHECK(phone_match_key("1-415-555-0132") == "4155550132");
    CHECK(phone_match_key("+44 20 7946 0958") == "2079460958");
    CHECK(phone_match_key("020 7946 0958") == "2079460958");
    CHECK(phone_match_key("+353 1 234 5678") == "12345678");  // a three-digit calling code
    CHECK(phone_match_key("+7 495 123-45-67") == "4951234567");
    CHECK_FALSE(phone_match_key("12345"));
    CHECK_FALSE(phone_match_key("call me"));
  }

  TEST_CASE("a name's words: lowercase, accents folded, punctuation dropped") {
    CHECK(name_words("José", "Müller-Ødegård") ==
          std::vector<std::string>{"jose", "muller", "odegard"});
    CHECK(name_words(" Seán ", "O'Brien") == std::vector<std::string>{"sean", "obrien"});
    CHECK(name_words("Seán", "O\u2019Brien") == std::vector<std::string>{"sean", "obrien"});
    CHECK(name_words("J. R.", "Łukasiewicz") == std::vector<std::string>{"j", "r", "lukasiewicz"});
    CHECK(name_words("Straße", "") == std::vector<std::string>{"strasse"});
    // Letters without an ASCII base stay as they are.
    CHECK(name_words("Анна", "Ким") == std::vector<std::string>{"Анна", "Ким"});
    CHECK(name_words("", "").empty());
    // A malformed byte ends a word rather than passing through.
    CHECK(name_words("An\xff"
                     "na",
                     "") == std::vector<std::string>{"an", "na"});
  }

  TEST_CASE("names alike whatever their order, and typos cost little") {
    const auto anna = name_words("Anna", "Müller");
    CHECK(name_similarity(anna, name_words("Muller", "Anna")) == doctest::Approx(1.0));
    CHECK(name_similarity(anna, name_words("ANNA", "MULLER")) == doctest::Approx(1.0));
    CHECK(name_similarity(anna, name_words("Ana", "Müller")) >= kNameSimilarityThreshold);
    CHECK(name_similarity(name_words("Jon", "Smith"), name_words("John", "Smyth")) >=
          kNameSimilarityThreshold);
    CHECK(name_similarity(anna, name_words("Peter", "Schmidt")) < 0.6);
    CHECK(name_similarity(anna, {}) == 0);
  }

  TEST_CASE("a contact's profile and the keys it is looked up by") {
    const auto p =
        make_match_profile("Ana", "López", {"Ana@Example.com", "not an address", "ana@example.com"},
                           {"+49 30 1234567", "030 1234567", "n/a"}, "c1");
    CHECK(p.emails == std::vector<std::string>{"ana@example.com"});
    CHECK(p.phones == std::vector<std::string>{"301234567"});
    CHECK(p.name == std::vector<std::string>{"ana", "lopez"});
    CHECK(match_keys(p) ==
          std::vector<std::string>{"e:ana@example.com", "p:301234567", "n:c1:an", "n:c1:lo"});
    // Without a company the name is no key: names alone match nobody.
    CHECK(match_keys(make_match_profile("Ana", "Ana", {}, {}, "")).empty());
    CHECK(match_keys(make_match_profile("Ana", "Anabel", {}, {}, "c1")) ==
          std::vector<std::string>{"n:c1:an"});
  }

  TEST_CASE("a verdict on a pair names its reasons, and none without one") {
    match_profile a{{"ana@example.com"}, {"301234567"}, name_words("Ana", "Lopez"), "c1"};
    match_profile b{{"ana@example.com"}, {}, name_words("Someone", "Else"), ""};
    auto v = match_contacts(a, b);
    REQUIRE(v);
    CHECK(v->reasons == std::vector{match_reason::same_email});
    CHECK(v->score == doctest::Approx(0.95));

    b = {{"other@example.com"}, {"301234567"}, name_words("Ana", "López"), "c1"};
    v = match_contacts(a, b);
    REQUIRE(v);
    CHECK(v->reasons ==
          std::vector{match_reason::same_phone, match_reason::similar_name_same_company});
    CHECK(v->score > 0.95);  // two reasons make it surer than either

    // The same name at another company (or at none) is somebody else as far as we can tell.
    b = {{"other@example.com"}, {}, name_words("Ana", "Lopez"), "c2"};
    CHECK_FALSE(match_contacts(a, b));
    b.company.clear();
    CHECK_FALSE(match_contacts(a, b));
    a.company.clear();
    CHECK_FALSE(match_contacts(a, b));  // neither has a company: not "the same company"
    CHECK(to_string(match_reason::similar_name_same_company) == "similar_name_same_company");
  }

  // A generated address book with known duplicates: typos, formatting, swapped names, other
  // addresses. Precision and recall over every pair.
  TEST_CASE("duplicate detection finds the known duplicates of a generated address book") {
    const std::vector<std::string> firsts = {
        "Anna", "Ben", "Clara", "David", "Eva", "Felix", "Greta", "Hannes", "Ines", "Jonas",
        "Katrin", "Lukas", "Marie", "Niklas", "Olivia", "Paul", "Rosa", "Simon", "Tanja", "Ulrich",
        "Vera", "Walter", "Xenia", "Yusuf", "Zoe", "José", "Søren", "Zoë", "Chloé", "Björn", "Seán",
        "Mateusz", "Aylin", "Dmitri", "Fatima", "Giulia", "Hiroshi", "Ingrid", "Kwame", "Leilani",
        // Different people whose names are a letter apart from others'.
        "Hanna", "Paula", "Simone", "Mario", "Jana", "Lukasz"};
    const std::vector<std::string> lasts = {
        "Müller",   "Schmidt",   "Schneider", "Fischer",    "Weber",   "Meyer",  "Wagner",
        "Becker",   "Hoffmann",  "Schäfer",   "Koch",       "Richter", "Klein",  "Wolf",
        "Schröder", "Neumann",   "Schwarz",   "Zimmermann", "Braun",   "Krüger", "Hofmann",
        "Hartmann", "Lange",     "Werner",    "Krause",     "Lehmann", "Köhler", "Ødegård",
        "O'Brien",  "García",    "Nowak",     "Kowalski",   "Yılmaz",  "Rossi",  "Tanaka",
        "Mensah",   "Kahananui", "Dubois",    "Lindqvist",  "Petrov"};
    const std::vector<std::string> free_mail = {"gmail.com", "web.de", "gmx.de", "outlook.com"};
    constexpr int kCompanies = 25;
    constexpr int kPeople = 500;
    std::mt19937 rng(20261128);
    const auto pick = [&](const auto& list) -> const auto& {
      return list[std::uniform_int_distribution<std::size_t>(0, list.size() - 1)(rng)];
    };
    const auto chance = [&](double p) { return std::bernoulli_distribution(p)(rng); };
    const auto number = [&](int digits) {
      std::string s;
      for (int i = 0; i < digits; ++i) s += static_cast<char>('0' + rng() % 10);
      if (s.front() == '0') s.front() = '7';
      return s;
    };
    // One typo in an ASCII stretch of the word: a letter replaced, dropped, doubled or swapped.
    const auto typo = [&](std::string w) {
      if (w.size() < 4) return w;
      const std::size_t i = 1 + rng() % (w.size() - 2);
      if (static_cast<unsigned char>(w[i]) >= 0x80 || static_cast<unsigned char>(w[i + 1]) >= 0x80)
        return w;
      switch (rng() % 4) {
        case 0:
          w[i] = static_cast<char>('a' + rng() % 26);
          break;
        case 1:
          w.erase(i, 1);
          break;
        case 2:
          w.insert(i, 1, w[i]);
          break;
        default:
          std::swap(w[i], w[i + 1]);
      }
      return w;
    };
    const auto lower_ascii = [](std::string s) {
      for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      return s;
    };
    const auto slug = [&](const std::string& s) {
      std::string out;
      for (const auto& w : name_words(s, "")) out += w;
      return out;
    };

    struct person {
      std::string first, last, company;
      std::vector<std::string> emails, phones;  // as typed
    };
    std::vector<person> book;
    std::set<std::pair<std::string, std::string>> names_at;  // (company, name): no namesakes
    while (static_cast<int>(book.size()) < kPeople) {
      person p{pick(firsts), pick(lasts), "c" + std::to_string(rng() % kCompanies), {}, {}};
      if (!names_at.insert({p.company, p.first + " " + p.last}).second) continue;
      const auto domain = chance(0.6) ? p.company + ".example" : pick(free_mail);
      p.emails.push_back(slug(p.first) + "." + slug(p.last) + number(2) + "@" + domain);
      if (chance(0.7)) p.phones.push_back("+49 " + number(3) + " " + number(7));
      book.push_back(std::move(p));
    }
    std::set<std::pair<std::size_t, std::size_t>> truth;
    for (std::size_t i = 0; i < static_cast<std::size_t>(kPeople); ++i) {
      if (!chance(0.3)) continue;
      const auto& original = book[i];
      person d = original;
      // The name as somebody else typed it.
      switch (rng() % 5) {
        case 0:
          std::swap(d.first, d.last);
          break;
        case 1:
          d.last = typo(d.last);
          break;
        case 2:
          d.first = typo(d.first);
          break;
        case 3:
          d.first = typo(d.first);
          d.last = typo(d.last);
          break;
        default:
          d.first = lower_ascii(d.first);
          d.last = lower_ascii(d.last);
      }
      // What else it shares with the original.
      d.emails.clear();
      d.phones.clear();
      switch (rng() % 3) {
        case 0: {  // the address, written differently
          auto address = original.emails.front();
          if (chance(0.5)) address.insert(address.find('@'), "+crm");
          for (auto& c : address) {
            if (chance(0.3)) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
          }
          d.emails.push_back(address);
          if (chance(0.5)) d.company.clear();  // the company not known to whoever typed it in
          break;
        }
        case 1:  // the number, written nationally
          if (!original.phones.empty()) {
            const auto& n = original.phones.front();  // "+49 AAA BBBBBBB"
            d.phones.push_back("0" + n.substr(4, 3) + "/" + n.substr(8));
            d.emails.push_back("x" + number(6) + "@" + pick(free_mail));
            break;
          }
          [[fallthrough]];
        default:  // nothing but the name and the company
          d.emails.push_back(slug(d.first) + number(3) + "@" + pick(free_mail));
      }
      truth.insert({i, book.size()});
      book.push_back(std::move(d));
    }

    // As the read model finds them: a pair is a candidate when it shares a key and matches.
    std::vector<match_profile> profiles;
    std::vector<std::set<std::string>> keys;
    for (const auto& p : book) {
      profiles.push_back(make_match_profile(p.first, p.last, p.emails, p.phones, p.company));
      const auto k = match_keys(profiles.back());
      keys.emplace_back(k.begin(), k.end());
    }
    const auto share_a_key = [&](std::size_t i, std::size_t j) {
      for (const auto& k : keys[i]) {
        if (keys[j].contains(k)) return true;
      }
      return false;
    };
    std::size_t true_positives = 0, false_positives = 0;
    std::vector<std::string> misses;
    std::string false_alarm;
    for (std::size_t i = 0; i < profiles.size(); ++i) {
      for (std::size_t j = i + 1; j < profiles.size(); ++j) {
        const bool found =
            share_a_key(i, j) && match_contacts(profiles[i], profiles[j]).has_value();
        const bool real = truth.count({i, j}) > 0;
        if (found && real) ++true_positives;
        if (found && !real) {
          ++false_positives;
          if (false_alarm.empty()) {
            false_alarm =
                book[i].first + " " + book[i].last + " / " + book[j].first + " " + book[j].last;
          }
        }
        if (!found && real) {
          misses.push_back(book[i].first + " " + book[i].last + " / " + book[j].first + " " +
                           book[j].last);
        }
      }
    }
    const double precision =
        static_cast<double>(true_positives) / static_cast<double>(true_positives + false_positives);
    const double recall = static_cast<double>(true_positives) / static_cast<double>(truth.size());
    MESSAGE(
        book.size() << " contacts, " << truth.size() << " known duplicates: precision " << precision
                    << ", recall " << recall << " (" << false_positives << " false positives"
                    << (false_alarm.empty() ? "" : ", e.g. " + false_alarm) << ", " << misses.size()
                    << " missed" << (misses.empty() ? "" : ", e.g. " + misses.front()) << ")");
    CHECK(truth.size() > 100);
    CHECK(precision >= 0.95);
    CHECK(recall >= 0.9);
  }
}
