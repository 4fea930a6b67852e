// The proof of ARCHITECTURE §3.3 on PostgreSQL: writers in several processes, transactions held
// open between insert and commit and some rolled back, while this process tails the log. The
// tail must see every committed event exactly once, in contiguous positions, with contiguous
// per-stream versions, and never an event of a rolled-back transaction.
#include <doctest/doctest.h>

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "infra/postgres/postgres_event_store.hpp"
#include "tests/infra/postgres_test_support.hpp"

using namespace realmkit::infra;
using namespace std::chrono_literals;
using realmkit::testing::fresh_postgres_options;
using realmkit::testing::postgres_test_url;
using realmkit::testing::temp_file;
using realmkit::testing::writer_process;

namespace {

struct placed {
  std::string stream_id;
  std::int64_t stream_version = 0;
  std::int64_t global_position = 0;
  bool operator==(const placed&) const = default;
};

// What the writer processes reported (see tests/tools/postgres_writer.cpp for the format).
struct writer_report {
  std::map<std::string, placed> committed;
  std::set<std::string> rolled_back;
  std::set<std::string> refused;
  long holds = 0;
  long rollbacks = 0;
  std::vector<std::string> bad_lines;

  void parse(const std::string& text) {
    std::istringstream lines(text);
    std::string line;
    while (std::getline(lines, line)) {
      std::istringstream in(line);
      std::string kind;
      std::string id;
      in >> kind;
      if (kind == "C") {
        placed p;
        in >> id >> p.stream_id >> p.stream_version >> p.global_position;
        if (!in || !committed.emplace(id, p).second) bad_lines.push_back(line);
      } else if (kind == "R") {
        in >> id;
        rolled_back.insert(id);
      } else if (kind == "X") {
        in >> id;
        refused.insert(id);
      } else if (kind == "S") {
        long h = 0;
        long r = 0;
        in >> h >> r;
        holds += h;
        rollbacks += r;
      } else {
        bad_lines.push_back(line);
      }
    }
  }
};

// Checks the log as a reader sees it, one event at a time, and keeps the first problems.
class tail_checker {
 public:
  void see(const recorded_event& e) {
    if (e.global_position != position_ + 1) {
      problem("expected position " + std::to_string(position_ + 1) + ", read " +
              std::to_string(e.global_position) + " (" + e.event_id + ")");
    }
    position_ = e.global_position;
    auto& version = versions_[e.stream_id];
    if (e.stream_version != version + 1) {
      problem("stream " + e.stream_id + " went from version " + std::to_string(version) + " to " +
              std::to_string(e.stream_version));
    }
    version = e.stream_version;
    if (!seen_.emplace(e.event_id, placed{e.stream_id, e.stream_version, e.global_position})
             .second) {
      problem("event " + e.event_id + " was read twice");
    }
  }
  std::int64_t position() const { return position_; }
  const std::map<std::string, placed>& seen() const { return seen_; }
  const std::vector<std::string>& problems() const { return problems_; }

 private:
  void problem(std::string what) {
    if (problems_.size() < 20) problems_.push_back(std::move(what));
  }

  std::int64_t position_ = 0;
  std::map<std::string, std::int64_t> versions_;
  std::map<std::string, placed> seen_;
  std::vector<std::string> problems_;
};

}  // namespace

TEST_SUITE("postgres concurrency") {
  TEST_CASE(
      "writers in several processes, held and rolled-back transactions: the tail skips, "
      "repeats and invents nothing") {
    constexpr int kProcesses = 3;
    constexpr int kThreadsPerProcess = 4;  // 12 writers
    constexpr int kAppendsPerThread = 60;
    constexpr int kStreams = 5;  // shared by every writer: versions race across processes
    constexpr int kHoldPercent = 25;
    constexpr int kRollbackPercent = 12;
    const auto deadline = std::chrono::steady_clock::now() + 240s;

    // The store migrates the schema before the writers open it.
    auto options = fresh_postgres_options();
    postgres_event_store store(options);

    // A subscription tails too, checked like the read_all tail below.
    std::mutex subscription_mutex;  // guards subscription_tail and subscription_error
    std::condition_variable subscription_cv;
    tail_checker subscription_tail;
    std::string subscription_error;
    auto subscription = store.subscribe_all(
        0,
        [&](const recorded_event& e) {
          std::lock_guard lock(subscription_mutex);
          subscription_tail.see(e);
          subscription_cv.notify_all();
        },
        [&](std::exception_ptr error) {
          std::lock_guard lock(subscription_mutex);
          try {
            std::rethrow_exception(error);
          } catch (const std::exception& e) {
            subscription_error = e.what();
          }
          subscription_cv.notify_all();
        });

    std::vector<std::unique_ptr<temp_file>> outputs;
    std::vector<std::unique_ptr<writer_process>> writers;
    for (int p = 0; p < kProcesses; ++p) {
      outputs.push_back(std::make_unique<temp_file>());
      writers.push_back(std::make_unique<writer_process>(std::vector<std::string>{
          "load", postgres_test_url(), options.schema, "w" + std::to_string(p),
          std::to_string(kThreadsPerProcess), std::to_string(kAppendsPerThread),
          std::to_string(kStreams), std::to_string(1000 + p), std::to_string(kHoldPercent),
          std::to_string(kRollbackPercent), outputs.back()->path()}));
    }

    // Tail in small pages while the writers run, parking in wait_for_append when caught up.
    tail_checker tail;
    int pages_while_writing = 0;
    bool writing = true;
    std::vector<int> exit_codes(kProcesses, -1);
    while (std::chrono::steady_clock::now() < deadline) {
      const auto page = store.read_all(tail.position(), 50);
      for (const auto& e : page) tail.see(e);
      if (!page.empty()) {
        if (writing) ++pages_while_writing;
        continue;
      }
      if (!writing) break;  // caught up after every writer exited: the log is complete
      writing = false;
      for (int p = 0; p < kProcesses; ++p) {
        const auto code = writers[static_cast<std::size_t>(p)]->wait(0ms);
        if (code) {
          exit_codes[static_cast<std::size_t>(p)] = *code;
        } else {
          writing = true;
        }
      }
      // Once every writer has exited, loop for one more read: it must come back empty.
      if (writing) store.wait_for_append(tail.position(), 200ms);
    }
    REQUIRE_MESSAGE(!writing, "the writers did not finish within the deadline");
    for (int p = 0; p < kProcesses; ++p) {
      CHECK_MESSAGE(exit_codes[static_cast<std::size_t>(p)] == 0, "writer " << p << " failed");
    }

    writer_report report;
    for (const auto& out : outputs) report.parse(out->read());
    CHECK(report.bad_lines.empty());

    for (const auto& problem : tail.problems()) FAIL_CHECK("read_all tail: " << problem);
    CHECK(tail.position() == store.head_position());

    // Every acknowledged event is in the log exactly where its append result said, and nothing
    // else is: no event of a rolled-back or refused append.
    CHECK(tail.seen().size() == report.committed.size());
    for (const auto& [id, where] : report.committed) {
      const auto it = tail.seen().find(id);
      if (it == tail.seen().end()) {
        FAIL_CHECK("committed event " << id << " never read");
      } else if (!(it->second == where)) {
        FAIL_CHECK("committed event " << id << " read at position " << it->second.global_position
                                      << ", acknowledged at " << where.global_position);
      }
    }
    for (const auto& id : report.rolled_back) {
      CHECK_MESSAGE(!tail.seen().contains(id), "rolled-back event " << id << " was read");
    }
    for (const auto& id : report.refused) {
      CHECK_MESSAGE(!tail.seen().contains(id), "refused event " << id << " was read");
    }

    // The run exercised what it claims to: held and rolled-back transactions, version conflicts
    // between processes, and a tail reading while the writers wrote.
    MESSAGE("committed " << report.committed.size() << " events, rolled back "
                         << report.rolled_back.size() << ", refused " << report.refused.size()
                         << "; transactions held " << report.holds << ", rolled back "
                         << report.rollbacks << "; pages read while writing "
                         << pages_while_writing);
    CHECK(report.holds > 0);
    CHECK(report.rollbacks > 0);
    CHECK_FALSE(report.rolled_back.empty());
    CHECK_FALSE(report.refused.empty());
    CHECK(pages_while_writing > 1);

    {
      std::unique_lock lock(subscription_mutex);
      const bool caught_up = subscription_cv.wait_for(lock, 60s, [&] {
        return subscription_tail.position() >= tail.position() || !subscription_error.empty();
      });
      CHECK_MESSAGE(caught_up, "the subscription did not catch up: " << subscription_error);
      for (const auto& problem : subscription_tail.problems()) {
        FAIL_CHECK("subscription: " << problem);
      }
      CHECK(subscription_tail.seen() == tail.seen());
    }
    subscription.reset();
  }
}
