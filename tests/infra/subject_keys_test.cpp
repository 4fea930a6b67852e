// Crypto-shredding keys on both backends: one key per data subject, created once even under
// concurrent first use; sealed values open only with their key, subject and field; erasure
// destroys the key for good (recorded once, never recreated), and on SQLite leaves no copy of it
// in the database file or its WAL.
#include "infra/privacy/subject_keys.hpp"

#include <doctest/doctest.h>

#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "infra/crypto/encoding.hpp"
#include "infra/sqlite/sqlite_event_store.hpp"
#include "tests/infra/store_backends.hpp"

using namespace realmkit;
using infra::privacy::open_sealed;
using infra::privacy::seal;
using infra::privacy::subject_key_store;

namespace {

infra::timestamp at(std::int64_t seconds) {
  return infra::timestamp(std::chrono::seconds(seconds));
}

std::string file_bytes(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

TEST_CASE_TEMPLATE("data subject keys: created once, sealing bound to them, erasure for good", B,
                   testing::sqlite_backend, testing::postgres_backend) {
  auto backend = B::make_store_and_database();
  subject_key_store keys(*backend.db);

  const auto key = keys.key_for("contact-1", at(100));
  CHECK(keys.key_for("contact-1", at(200)) == key);
  CHECK(keys.find("contact-1") == key);
  CHECK_FALSE(keys.find("contact-unknown"));
  CHECK_FALSE(keys.erased("contact-1"));
  CHECK(keys.key_for("contact-2", at(100)) != key);

  SUBCASE("concurrent first uses get one key") {
    std::vector<infra::privacy::subject_key> got(8);
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < got.size(); ++i) {
      threads.emplace_back([&, i] { got[i] = keys.key_for("lead-race", at(1)); });
    }
    for (auto& t : threads) t.join();
    CHECK(std::set(got.begin(), got.end()).size() == 1);
  }

  SUBCASE("a sealed value opens only with its key, subject and field") {
    const auto sealed = seal(key, "contact-1", "email", "ada@example.com");
    CHECK(infra::privacy::is_sealed(sealed));
    CHECK(sealed.find("ada") == std::string::npos);
    CHECK(seal(key, "contact-1", "email", "ada@example.com") != sealed);  // a fresh nonce each time
    CHECK(open_sealed(key, "contact-1", "email", sealed) == "ada@example.com");
    CHECK_FALSE(open_sealed(key, "contact-1", "phone", sealed));
    CHECK_FALSE(open_sealed(key, "contact-2", "email", sealed));
    CHECK_FALSE(open_sealed(*keys.find("contact-2"), "contact-1", "email", sealed));
    auto changed = sealed;
    changed[changed.size() - 3] = changed[changed.size() - 3] == 'A' ? 'B' : 'A';
    CHECK_FALSE(open_sealed(key, "contact-1", "email", changed));
    CHECK_FALSE(open_sealed(key, "contact-1", "email", "ada@example.com"));
    CHECK_FALSE(open_sealed(key, "contact-1", "email", "sealed:v1:"));
    CHECK(open_sealed(key, "contact-1", "notes", seal(key, "contact-1", "notes", "")) == "");
  }

  SUBCASE("erasure destroys the key for good and is recorded once") {
    const auto key_text = infra::crypto::base64url_encode(
        std::string_view(reinterpret_cast<const char*>(key.data()), key.size()));
    auto* sqlite = dynamic_cast<infra::sqlite_event_store*>(backend.store.get());
    const auto stored_anywhere = [&] {
      return (file_bytes(sqlite->path()) + file_bytes(sqlite->path().string() + "-wal"))
                 .find(key_text) != std::string::npos;
    };
    if (sqlite) REQUIRE(stored_anywhere());  // so that its absence below means something
    CHECK(keys.erase("contact-1", {at(300), "admin-1", "asked to be forgotten"}));
    CHECK_FALSE(keys.find("contact-1"));
    CHECK_THROWS_AS(keys.key_for("contact-1", at(400)), infra::privacy::subject_erased);
    const auto record = keys.erased("contact-1");
    REQUIRE(record);
    CHECK(record->at == at(300));
    CHECK(record->by == "admin-1");
    CHECK(record->reason == "asked to be forgotten");
    CHECK_FALSE(keys.erase("contact-1", {at(500), "admin-2", "again"}));
    CHECK(keys.erased("contact-1")->by == "admin-1");
    CHECK(keys.find("contact-2"));  // others keep theirs

    // A subject erased before it ever had a key never gets one.
    CHECK(keys.erase("lead-9", {at(300), "admin-1", "duplicate record"}));
    CHECK_THROWS_AS(keys.key_for("lead-9", at(400)), infra::privacy::subject_erased);

    if (sqlite) CHECK_FALSE(stored_anywhere());
  }
}
