#include "infra/ids.hpp"

#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <set>
#include <string>
#include <thread>
#include <vector>

using realmkit::infra::is_uuid;
using realmkit::infra::new_uuid_v7;

TEST_CASE("UUIDv7 ids are canonical, version 7, time-ordered and unique across threads") {
  std::vector<std::vector<std::string>> made(4);
  std::vector<std::thread> threads;
  for (auto& ids : made) {
    threads.emplace_back([&ids] {
      for (int i = 0; i < 20'000; ++i) ids.push_back(new_uuid_v7());
    });
  }
  for (auto& t : threads) t.join();
  std::set<std::string> all;
  for (const auto& ids : made) {
    for (std::size_t i = 0; i < ids.size(); ++i) {
      REQUIRE(is_uuid(ids[i]));
      CHECK(ids[i][14] == '7');
      CHECK(std::string("89ab").find(ids[i][19]) != std::string::npos);
      // The first 48 bits are milliseconds: never decreasing within a thread.
      if (i > 0) CHECK(ids[i - 1].substr(0, 13) <= ids[i].substr(0, 13));
      all.insert(ids[i]);
    }
  }
  CHECK(all.size() == 80'000);
}

TEST_CASE("a forked child does not repeat its parent's ids") {
  new_uuid_v7();  // the parent's thread now holds buffered random bytes
  int pipe_fds[2];
  REQUIRE(::pipe(pipe_fds) == 0);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    std::string out;
    for (int i = 0; i < 100; ++i) out += new_uuid_v7();
    const auto written = ::write(pipe_fds[1], out.data(), out.size());
    ::_exit(written == static_cast<ssize_t>(out.size()) ? 0 : 1);
  }
  ::close(pipe_fds[1]);
  std::set<std::string> parent;
  for (int i = 0; i < 100; ++i) parent.insert(new_uuid_v7().substr(14));
  std::string received;
  char buffer[4096];
  for (ssize_t n; (n = ::read(pipe_fds[0], buffer, sizeof buffer)) > 0;) received.append(buffer, n);
  ::close(pipe_fds[0]);
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  REQUIRE(received.size() == 3600);
  for (std::size_t i = 0; i < received.size(); i += 36) {
    // Compare the random parts only: the times may well be equal.
    CHECK(parent.count(received.substr(i + 14, 22)) == 0);
  }
}
