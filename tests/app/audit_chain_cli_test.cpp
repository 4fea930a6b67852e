// `realmkit audit verify | checkpoint | keygen` through the binary, on both store backends: an
// untouched log verifies, a signed checkpoint verifies against it, and a changed event, a changed
// checkpoint or a checkpoint from another key are each refused with the reason.
#include <doctest/doctest.h>
#include <rapidjson/document.h>
#include <sys/stat.h>

#include "infra/sql/sql_database.hpp"
#include "tests/app/binary_runner.hpp"

using namespace realmkit;
using testing::postgres_cli_backend;
using testing::run_realmkit;
using testing::sqlite_cli_backend;
using testing::with_flags;

namespace {

// Changes the stored data of the event at `position`, behind the store's back.
void tamper(const sqlite_cli_backend& b, int position) {
  auto db = infra::sql::open_sqlite_database({.path = b.dir.path() / "data" / "realmkit.db"});
  db->acquire()->exec_script(
      "UPDATE events SET data = '{\"tampered\":true}' WHERE global_position = " +
      std::to_string(position));
}

void tamper(const postgres_cli_backend& b, int position) {
  pqxx::connection c(b.url);
  pqxx::nontransaction(c).exec(
      "UPDATE events SET data = '{\"tampered\":true}'::json WHERE global_position = " +
      std::to_string(position));
}

}  // namespace

TEST_CASE_TEMPLATE("audit verify and checkpoint and keygen through the binary", B,
                   sqlite_cli_backend, postgres_cli_backend) {
  B backend;
  auto r = run_realmkit(with_flags(backend, {"demo"}));
  REQUIRE_MESSAGE(r.status == 0, r.err);

  r = run_realmkit(with_flags(backend, {"audit", "verify"}));
  REQUIRE_MESSAGE(r.status == 0, r.err);
  CHECK(r.out.find("the chain holds") != std::string::npos);

  r = run_realmkit(with_flags(backend, {"audit", "verify"}, {"--json"}));
  REQUIRE_MESSAGE(r.status == 0, r.err);
  rapidjson::Document report;
  report.Parse(r.out.c_str());
  REQUIRE(report.IsObject());
  CHECK(report["verified"].GetBool());
  CHECK(report["checked"].GetInt64() > 10);
  CHECK(report["first_broken"].IsNull());

  testing::temp_dir keys;
  const auto key_file = (keys.path() / "signing-key.json").string();
  r = run_realmkit({"audit", "keygen", "--out", key_file});
  REQUIRE_MESSAGE(r.status == 0, r.err);
  REQUIRE(r.out.starts_with("public key "));
  const auto public_key = r.out.substr(11, 64);
  struct stat st {};
  REQUIRE(::stat(key_file.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  r = run_realmkit({"audit", "keygen", "--out", key_file});
  CHECK(r.status == 1);
  CHECK(r.err.find("never overwritten") != std::string::npos);

  const auto cp_file = (keys.path() / "checkpoint.json").string();
  r = run_realmkit(
      with_flags(backend, {"audit", "checkpoint"}, {"--signing-key", key_file, "--out", cp_file}));
  REQUIRE_MESSAGE(r.status == 0, r.err);
  r = run_realmkit(with_flags(backend, {"audit", "verify"},
                              {"--checkpoint", cp_file, "--public-key", public_key}));
  REQUIRE_MESSAGE(r.status == 0, r.err);
  CHECK(r.out.find("matches the checkpoint") != std::string::npos);

  SUBCASE("a checkpoint signed by another key is refused") {
    r = run_realmkit(with_flags(backend, {"audit", "verify"},
                                {"--checkpoint", cp_file, "--public-key", std::string(64, 'a')}));
    CHECK(r.status == 1);
    CHECK(r.err.find("is signed by key") != std::string::npos);
  }

  SUBCASE("a checkpoint changed after signing is refused") {
    auto text = testing::slurp(cp_file);
    const auto at = text.find("\"position\":");
    REQUIRE(at != std::string::npos);
    text.insert(at + 11, "1");  // another position
    std::ofstream(cp_file, std::ios::trunc) << text;
    r = run_realmkit(with_flags(backend, {"audit", "verify"}, {"--checkpoint", cp_file}));
    CHECK(r.status == 1);
    CHECK(r.err.find("does not carry a valid signature") != std::string::npos);
  }

  SUBCASE("a changed event breaks the chain there, and a broken log is not signed") {
    tamper(backend, 3);
    r = run_realmkit(with_flags(backend, {"audit", "verify"}));
    CHECK(r.status == 1);
    CHECK(r.out.find("BROKEN at position 3: hash mismatch") != std::string::npos);
    r = run_realmkit(with_flags(backend, {"audit", "verify"}, {"--checkpoint", cp_file}));
    CHECK(r.status == 1);
    r = run_realmkit(with_flags(backend, {"audit", "checkpoint"}, {"--signing-key", key_file}));
    CHECK(r.status == 1);
    CHECK(r.err.find("not signing a broken log: position 3") != std::string::npos);
  }

  SUBCASE("a malformed checkpoint names the field") {
    std::ofstream(cp_file, std::ios::trunc) << R"({"format":"realmkit.checkpoint.v1"})";
    r = run_realmkit(with_flags(backend, {"audit", "verify"}, {"--checkpoint", cp_file}));
    CHECK(r.status == 1);
    CHECK(r.err.find("malformed: position") != std::string::npos);
  }
}
