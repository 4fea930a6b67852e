// Generated JWT keys: created once (0600 file, or the jwt_keys table), then loaded by every later
// start and every concurrent one; unsafe or malformed key files refused without echoing a secret.
#include "api/auth/jwt_key_store.hpp"

#include <doctest/doctest.h>
#include <sys/stat.h>

#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "infra/crypto/encoding.hpp"
#include "tests/infra/postgres_test_support.hpp"
#include "tests/infra/store_backends.hpp"

using namespace realmkit;
using namespace realmkit::api::auth;

namespace {

unsigned mode_of(const std::filesystem::path& p) {
  struct stat st {};
  REQUIRE(::stat(p.c_str(), &st) == 0);
  return st.st_mode & 0777;
}

void write_file(const std::filesystem::path& p, const std::string& text, unsigned mode) {
  std::ofstream(p) << text;
  REQUIRE(::chmod(p.c_str(), mode) == 0);
}

std::string error_of(const std::filesystem::path& p) {
  try {
    load_or_create_key_file(p);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  FAIL("no error for " << p);
  return {};
}

}  // namespace

TEST_CASE("a key file is generated once with mode 0600 and loaded afterwards") {
  testing::temp_dir dir;
  const auto path = dir.path() / "data" / "jwt-keys";
  const auto first = load_or_create_key_file(path);
  CHECK(first.source == key_source::generated);
  CHECK(mode_of(path) == 0600);
  CHECK(first.keys.signing_key().secret.size() == 32);
  CHECK(first.keys.signing_key().kid.starts_with("gen-"));

  const auto again = load_or_create_key_file(path);
  CHECK(again.source == key_source::loaded);
  CHECK(again.keys.signing_key().kid == first.keys.signing_key().kid);
  CHECK(again.keys.signing_key().secret == first.keys.signing_key().secret);
  // Nothing but the file itself is left behind.
  CHECK(std::distance(std::filesystem::directory_iterator(path.parent_path()),
                      std::filesystem::directory_iterator()) == 1);
}

TEST_CASE("processes starting at once agree on one generated key") {
  testing::temp_dir dir;
  const auto path = dir.path() / "jwt-keys";
  std::vector<loaded_keys> results(
      8, loaded_keys{jwt_keyset({{"x", std::string(32, 'x')}}), key_source::configured});
  std::vector<std::thread> threads;
  for (auto& r : results) {
    threads.emplace_back([&r, &path] { r = load_or_create_key_file(path); });
  }
  for (auto& t : threads) t.join();
  int generated = 0;
  for (const auto& r : results) {
    generated += r.source == key_source::generated;
    CHECK(r.keys.signing_key().secret == results[0].keys.signing_key().secret);
  }
  CHECK(generated == 1);
  CHECK(load_or_create_key_file(path).keys.signing_key().secret ==
        results[0].keys.signing_key().secret);
}

TEST_CASE("a configured key file with several keys: the first signs") {
  testing::temp_dir dir;
  const auto path = dir.path() / "jwt-keys";
  const std::string a(32, 'a'), b(40, 'b');
  write_file(path,
             "new=" + infra::crypto::base64url_encode(a) +
                 ",\nold=" + infra::crypto::base64url_encode(b) + "\n",
             0600);
  const auto loaded = load_or_create_key_file(path);
  CHECK(loaded.source == key_source::loaded);
  CHECK(loaded.keys.signing_key().kid == "new");
  REQUIRE(loaded.keys.find("old"));
  CHECK(loaded.keys.find("old")->secret == b);
}

TEST_CASE("unsafe or malformed key files are refused without showing the secret") {
  testing::temp_dir dir;
  const auto secret = infra::crypto::base64url_encode(std::string(32, 's'));
  const auto path = dir.path() / "jwt-keys";

  write_file(path, "k1=" + secret, 0640);
  auto message = error_of(path);
  CHECK(message.find("mode 640") != std::string::npos);
  CHECK(message.find(secret) == std::string::npos);

  write_file(path, "k1=" + secret.substr(0, 20), 0600);  // too short a secret
  message = error_of(path);
  CHECK(message.find("k1") != std::string::npos);
  CHECK(message.find(secret.substr(0, 20)) == std::string::npos);

  write_file(path, secret, 0600);  // no kid
  message = error_of(path);
  CHECK(message.find(secret) == std::string::npos);

  write_file(path, "", 0600);
  CHECK_FALSE(error_of(path).empty());
}

TEST_CASE("PostgreSQL: the first process generates the key in jwt_keys, the others read it") {
  auto options = testing::fresh_postgres_options();
  options.drop_schema_on_close = false;
  struct dropper {
    std::string schema;
    ~dropper() { testing::drop_postgres_schema(schema); }
  } drop{options.schema};

  std::vector<std::optional<loaded_keys>> results(4);
  std::vector<std::thread> threads;
  for (auto& r : results) {
    threads.emplace_back([&r, &options] { r = load_or_create_postgres_keys(options); });
  }
  for (auto& t : threads) t.join();
  int generated = 0;
  for (const auto& r : results) {
    REQUIRE(r);
    generated += r->source == key_source::generated;
    CHECK(r->keys.signing_key().secret == results[0]->keys.signing_key().secret);
    CHECK(r->keys.signing_key().secret.size() == 32);
  }
  CHECK(generated == 1);
  CHECK(testing::postgres_query_value(options.schema, "SELECT count(*) FROM jwt_keys") == "1");

  const auto later = load_or_create_postgres_keys(options);
  CHECK(later.source == key_source::loaded);
  CHECK(later.keys.signing_key().kid == results[0]->keys.signing_key().kid);
}
