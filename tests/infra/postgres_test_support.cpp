#include "tests/infra/postgres_test_support.hpp"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <pqxx/pqxx>
#include <random>
#include <sstream>
#include <system_error>

extern char** environ;

namespace realmkit::testing {
namespace {

std::unique_ptr<pqxx::connection> connect_to(const std::string& schema) {
  auto connection = std::make_unique<pqxx::connection>(postgres_test_url());
  connection->set_variable("search_path", "\"" + schema + "\"");
  return connection;
}

}  // namespace

std::string postgres_test_url() {
  const char* url = std::getenv("REALMKIT_TEST_POSTGRES_URL");
  if (url == nullptr || *url == '\0') {
    FAIL(
        "REALMKIT_TEST_POSTGRES_URL is not set: the PostgreSQL tests need a server, e.g. "
        "postgresql://postgres@127.0.0.1:5432/postgres (scripts/test starts one and sets it)");
  }
  return url;
}

std::string unique_postgres_schema() {
  thread_local std::mt19937_64 random{std::random_device{}()};
  std::ostringstream name;
  name << "rk_test_" << std::hex << random();
  return name.str();
}

infra::postgres_store_options fresh_postgres_options() {
  infra::postgres_store_options options;
  options.url = postgres_test_url();
  options.schema = unique_postgres_schema();
  options.drop_schema_on_close = true;
  return options;
}

void postgres_exec(const std::string& schema, const std::string& sql) {
  auto connection = connect_to(schema);
  pqxx::nontransaction tx(*connection);
  tx.exec(sql);
}

std::string postgres_query_value(const std::string& schema, const std::string& sql) {
  auto connection = connect_to(schema);
  pqxx::nontransaction tx(*connection);
  const auto rows = tx.exec(sql);
  if (rows.empty() || rows[0][0].is_null()) return "";
  return rows[0][0].as<std::string>();
}

void drop_postgres_schema(const std::string& schema) {
  postgres_exec("public", "DROP SCHEMA IF EXISTS \"" + schema + "\" CASCADE");
}

writer_process::writer_process(const std::vector<std::string>& args,
                               const std::string& stdout_path)
    : writer_process(REALMKIT_PG_WRITER, args, stdout_path) {}

writer_process::writer_process(const std::string& program, const std::vector<std::string>& args,
                               const std::string& stdout_path) {
  std::vector<std::string> argv_strings{program};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_strings) argv.push_back(a.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (!stdout_path.empty()) {
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, stdout_path.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
  }
  const int error = posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (error != 0) throw std::system_error(error, std::generic_category(), "spawn writer tool");
  // Through syscall(): glibc 2.36 declares pidfd_open without C linkage for C++.
  pidfd_ = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
  if (pidfd_ < 0) {
    const int open_error = errno;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    throw std::system_error(open_error, std::generic_category(), "pidfd_open");
  }
}

writer_process::~writer_process() {
  if (!exit_code_) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  ::close(pidfd_);
}

std::optional<int> writer_process::wait(std::chrono::milliseconds timeout) {
  if (exit_code_) return exit_code_;
  pollfd fd{pidfd_, POLLIN, 0};
  int ready;
  while ((ready = ::poll(&fd, 1, static_cast<int>(timeout.count()))) < 0 && errno == EINTR) {
  }
  if (ready <= 0) return std::nullopt;
  int status = 0;
  if (::waitpid(pid_, &status, 0) != pid_) return std::nullopt;
  exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return exit_code_;
}

std::string run_writer(const std::vector<std::string>& args) {
  temp_file out;
  writer_process process(args, out.path());
  const auto code = process.wait(std::chrono::seconds(60));
  REQUIRE_MESSAGE(code.has_value(), "the writer tool did not finish within 60 s");
  REQUIRE_MESSAGE(*code == 0, "the writer tool failed with exit code " << *code);
  return out.read();
}

temp_file::temp_file() {
  std::string pattern = "/tmp/realmkit-pg-test-XXXXXX";
  const int fd = ::mkstemp(pattern.data());
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "mkstemp");
  ::close(fd);
  path_ = pattern;
}

temp_file::~temp_file() {
  ::unlink(path_.c_str());
}

std::string temp_file::read() const {
  std::ifstream in(path_);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace realmkit::testing
