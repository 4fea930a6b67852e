#include "api/auth/jwt_key_store.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <pqxx/pqxx>
#include <stdexcept>
#include <string>
#include <system_error>

#include "infra/crypto/encoding.hpp"
#include "infra/crypto/random.hpp"
#include "infra/postgres/postgres_connection.hpp"

namespace realmkit::api::auth {
namespace {

namespace pg = infra::postgres_detail;

constexpr std::size_t kMaxKeyFileBytes = 64 * 1024;

// "gen-<8 hex>": a kid that tells an operator the key was generated, distinct per generation so
// a regenerated key never verifies tokens of the old one by accident.
std::string generated_kid() {
  return "gen-" + infra::crypto::hex_encode(infra::crypto::random_bytes(4));
}

[[noreturn]] void fail(const std::filesystem::path& path, const std::string& what, int error) {
  throw std::runtime_error("JWT key file " + path.string() + ": " + what + ": " +
                           std::system_category().message(error));
}

// Closes the descriptor when the scope ends.
struct fd_closer {
  int fd;
  ~fd_closer() {
    if (fd >= 0) ::close(fd);
  }
};

std::string read_key_file(const std::filesystem::path& path, int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) fail(path, "cannot inspect it", errno);
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%03o", static_cast<unsigned>(st.st_mode & 0777));
    throw std::runtime_error("JWT key file " + path.string() + " has mode " + mode +
                             ": other users may read it. chmod 600 it, and rotate the key since it "
                             "may have leaked");
  }
  std::string text;
  char buffer[4096];
  for (;;) {
    const auto n = ::read(fd, buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail(path, "cannot read it", errno);
    }
    if (n == 0) break;
    text.append(buffer, static_cast<std::size_t>(n));
    if (text.size() > kMaxKeyFileBytes) {
      throw std::runtime_error("JWT key file " + path.string() + " is larger than 64 KiB");
    }
  }
  return text;
}

jwt_keyset parse_file(const std::filesystem::path& path, const std::string& text) {
  try {
    return parse_jwt_keyset(text);
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error("JWT key file " + path.string() + ": " + e.what());
  }
}

void write_all(const std::filesystem::path& path, int fd, std::string_view text) {
  while (!text.empty()) {
    const auto n = ::write(fd, text.data(), text.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      fail(path, "cannot write it", errno);
    }
    text.remove_prefix(static_cast<std::size_t>(n));
  }
}

}  // namespace

std::string_view to_string(key_source source) {
  switch (source) {
    case key_source::configured:
      return "configured";
    case key_source::loaded:
      return "loaded";
    case key_source::generated:
      return "generated";
  }
  return {};
}

loaded_keys load_or_create_key_file(const std::filesystem::path& path) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd >= 0) {
      fd_closer closer{fd};
      return {parse_file(path, read_key_file(path, fd)), key_source::loaded};
    }
    if (errno != ENOENT) fail(path, "cannot open it", errno);

    // Written whole to a private temporary file, then linked into place: link() fails when the
    // name exists, so a process that lost the race reads the winner's key instead, and no reader
    // ever sees a half-written file.
    std::error_code ec;
    std::filesystem::create_directories(path.parent_path().empty() ? "." : path.parent_path(), ec);
    if (ec) fail(path, "cannot create its directory", ec.value());
    const auto key = generate_jwt_key(generated_kid());
    std::string temp = (path.parent_path() / ".jwt-keys-XXXXXX").string();
    const int out = ::mkstemp(temp.data());  // mode 0600
    if (out < 0) fail(path, "cannot create a temporary file", errno);
    {
      fd_closer closer{out};
      write_all(path, out, format_jwt_key(key) + "\n");
      if (::fsync(out) != 0) {
        const int error = errno;
        ::unlink(temp.c_str());
        fail(path, "cannot flush it", error);
      }
    }
    const int linked = ::link(temp.c_str(), path.c_str());
    const int link_error = errno;
    ::unlink(temp.c_str());
    if (linked != 0) {
      if (link_error == EEXIST) continue;  // another process created it first: read theirs
      fail(path, "cannot create it", link_error);
    }
    // The directory entry must survive a crash, or a restart would sign with a new key.
    if (const int dir = ::open(path.parent_path().empty() ? "." : path.parent_path().c_str(),
                               O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        dir >= 0) {
      ::fsync(dir);
      ::close(dir);
    }
    return {jwt_keyset({key}), key_source::generated};
  }
  throw std::runtime_error("JWT key file " + path.string() +
                           ": created by another process but not readable");
}

loaded_keys load_or_create_postgres_keys(const infra::postgres_store_options& options) {
  infra::migrate_postgres(options);
  std::vector<std::pair<std::string, std::string>> rows;  // kid, base64url secret
  key_source source = key_source::loaded;
  try {
    auto connection = pg::open_connection(options, "jwt-keys");
    pqxx::work tx(*connection, "jwt_keys");
    // Serializes first starts: one process inserts, the others wait here and then read its key.
    tx.exec("LOCK TABLE jwt_keys IN SHARE ROW EXCLUSIVE MODE");
    auto read = [&] {
      rows.clear();
      for (const auto& row :
           tx.exec("SELECT kid, secret FROM jwt_keys ORDER BY created_at DESC, kid")) {
        rows.emplace_back(row[0].as<std::string>(), row[1].as<std::string>());
      }
    };
    read();
    if (rows.empty()) {
      const auto key = generate_jwt_key(generated_kid());
      tx.exec_params("INSERT INTO jwt_keys (kid, secret) VALUES ($1, $2)", key.kid,
                     infra::crypto::base64url_encode(key.secret));
      read();
      source = key_source::generated;
    }
    tx.commit();
  } catch (...) {
    pg::rethrow_as_store_error("jwt keys");
  }
  std::vector<jwt_key> keys;
  for (auto& [kid, text] : rows) {
    auto secret = infra::crypto::base64url_decode(text);
    if (!secret) {
      throw std::runtime_error("jwt_keys: the secret of key \"" + kid +
                               "\" is not unpadded base64url");
    }
    keys.push_back({std::move(kid), std::move(*secret)});
  }
  try {
    return {jwt_keyset(std::move(keys)), source};
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(std::string("jwt_keys: ") + e.what());
  }
}

}  // namespace realmkit::api::auth
