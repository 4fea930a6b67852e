// Runs the realmkit binary as a user would, on a fresh embedded data folder or a fresh PostgreSQL
// database, and captures its exit status and output.
#pragma once

#include <cstdlib>
#include <fstream>
#include <pqxx/pqxx>
#include <sstream>
#include <string>
#include <vector>

#include "infra/crypto/encoding.hpp"
#include "infra/crypto/random.hpp"
#include "infra/store_factory.hpp"
#include "tests/infra/postgres_test_support.hpp"
#include "tests/infra/store_backends.hpp"

namespace realmkit::testing {

struct run_result {
  int status = -1;
  std::string out;
  std::string err;
};

inline std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (const char c : s) {
    if (c == '\'') {
      q += "'\\''";
    } else {
      q += c;
    }
  }
  return q + "'";
}

inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Runs `realmkit args...` with `input` on its standard input.
inline run_result run_realmkit(const std::vector<std::string>& args,
                               const std::string& input = "") {
  temp_dir io;
  std::ofstream(io.path() / "in") << input;
  std::string command = shell_quote(REALMKIT_BINARY);
  for (const auto& a : args) command += " " + shell_quote(a);
  command += " <" + shell_quote((io.path() / "in").string()) + " >" +
             shell_quote((io.path() / "out").string()) + " 2>" +
             shell_quote((io.path() / "err").string());
  const int raw = std::system(command.c_str());
  run_result r;
  r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  r.out = slurp(io.path() / "out");
  r.err = slurp(io.path() / "err");
  return r;
}

// Where the binary keeps its data: the flags that point it there.
struct sqlite_cli_backend {
  static constexpr const char* kName = "sqlite";
  temp_dir dir;
  std::vector<std::string> flags() const {
    return {"--data-dir", (dir.path() / "data").string(), "--sqlite-relaxed-sync", "--log-format",
            "json"};
  }
  infra::store_config config() const {
    infra::store_config c;
    c.data_dir = (dir.path() / "data").string();
    c.sqlite_relaxed_sync = true;
    return c;
  }
};

// A database of its own (the binary uses the public schema), dropped at the end.
struct postgres_cli_backend {
  static constexpr const char* kName = "postgres";
  std::string name = "rk_cli_" + infra::crypto::hex_encode(infra::crypto::random_bytes(6));
  std::string url;

  postgres_cli_backend() {
    const auto server = postgres_test_url();
    pqxx::connection c(server);
    pqxx::nontransaction(c).exec("CREATE DATABASE " + name);
    url = server.substr(0, server.rfind('/') + 1) + name;
  }
  ~postgres_cli_backend() {
    try {
      pqxx::connection c(postgres_test_url());
      pqxx::nontransaction(c).exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
    } catch (const std::exception&) {
      // A leftover database of a random name harms nothing.
    }
  }
  std::vector<std::string> flags() const { return {"--database-url", url, "--log-format", "json"}; }
  infra::store_config config() const {
    infra::store_config c;
    c.database_url = url;
    return c;
  }
};

// `realmkit <sub...> <backend flags> <more...>`.
template <class Backend>
std::vector<std::string> with_flags(const Backend& b, std::vector<std::string> sub,
                                    const std::vector<std::string>& more = {}) {
  for (const auto& f : b.flags()) sub.push_back(f);
  for (const auto& m : more) sub.push_back(m);
  return sub;
}

}  // namespace realmkit::testing
