// A writer process for the PostgreSQL multi-process tests (tests/infra/postgres_*_test.cpp).
//
//   realmkit_pg_writer append URL SCHEMA STREAM EXPECTED COUNT PREFIX
//     One append of COUNT events (ids PREFIX-1..) to STREAM; EXPECTED is "any", or a version
//     (0: no stream). Prints "ok VERSION POSITION" or "conflict ACTUAL", exits 0; 1 on failure.
//
//   realmkit_pg_writer load URL SCHEMA WRITER THREADS APPENDS STREAMS SEED HOLD% ROLLBACK% OUT
//     THREADS threads each make APPENDS appends of 1-3 events to streams "shared-0".."shared-N",
//     half with an expected version read just before (conflicts expected). The store's
//     before_commit hook holds HOLD% of the transactions open for up to 3 ms and rolls back
//     ROLLBACK% of them. Writes one line per event to OUT when done:
//       C EVENT_ID STREAM VERSION POSITION   acknowledged (committed)
//       R EVENT_ID                           failed with store_unavailable (rolled back)
//       X EVENT_ID                           refused with wrong_expected_version
//     and a last line "S HOLDS ROLLBACKS" with what the hook did.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "infra/postgres/postgres_event_store.hpp"

namespace {

using namespace realmkit::infra;

postgres_store_options options_for(const std::string& url, const std::string& schema) {
  postgres_store_options options;
  options.url = url;
  options.schema = schema;
  return options;
}

int run_append(char** argv) {
  postgres_event_store store(options_for(argv[2], argv[3]));
  const std::string stream = argv[4];
  const std::string expected_text = argv[5];
  const int count = std::atoi(argv[6]);
  const std::string prefix = argv[7];
  expected_version expected;
  if (expected_text != "any") expected = std::atoll(expected_text.c_str());
  std::vector<new_event> events;
  for (int i = 1; i <= count; ++i) {
    events.push_back({prefix + "-" + std::to_string(i), "test.happened.v1", 1,
                      R"({"n":)" + std::to_string(i) + "}", R"({"actor":"writer"})"});
  }
  try {
    const auto result = store.append(stream_write{stream, expected, std::move(events)});
    std::cout << "ok " << result.streams.at(0).version << ' ' << result.position << std::endl;
  } catch (const wrong_expected_version& e) {
    std::cout << "conflict " << e.actual() << std::endl;
  }
  return 0;
}

struct load_config {
  std::string writer;
  int threads = 0;
  int appends = 0;
  int streams = 0;
  unsigned seed = 0;
  int hold_percent = 0;
  int rollback_percent = 0;
};

int run_load(char** argv) {
  load_config config;
  config.writer = argv[4];
  config.threads = std::atoi(argv[5]);
  config.appends = std::atoi(argv[6]);
  config.streams = std::atoi(argv[7]);
  config.seed = static_cast<unsigned>(std::atoll(argv[8]));
  config.hold_percent = std::atoi(argv[9]);
  config.rollback_percent = std::atoi(argv[10]);
  const std::string out_path = argv[11];

  // The hook runs on the store's writer thread only, so its state needs no lock.
  std::mt19937 hook_random(config.seed);
  long holds = 0;
  long rollbacks = 0;
  auto options = options_for(argv[2], argv[3]);
  options.before_commit = [&](const pending_commit&) {
    const int roll = static_cast<int>(hook_random() % 100);
    if (roll < config.hold_percent) {
      ++holds;
      // Deliberately keep the transaction (and the position lock) open while others queue up.
      std::this_thread::sleep_for(std::chrono::microseconds(hook_random() % 3000));
    }
    if (roll >= 100 - config.rollback_percent) {
      ++rollbacks;
      throw std::runtime_error("rolled back by the test hook");
    }
  };
  postgres_event_store store(options);

  std::mutex lines_mutex;  // guards lines and failed
  std::vector<std::string> lines;
  bool failed = false;
  std::vector<std::thread> threads;
  for (int t = 0; t < config.threads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 random(config.seed * 7919u + static_cast<unsigned>(t));
      std::vector<std::string> mine;
      try {
        for (int i = 0; i < config.appends; ++i) {
          const std::string stream =
              "shared-" + std::to_string(random() % static_cast<unsigned>(config.streams));
          const int count = 1 + static_cast<int>(random() % 3);
          std::vector<new_event> events;
          for (int k = 0; k < count; ++k) {
            const auto id = config.writer + "-t" + std::to_string(t) + "-" + std::to_string(i) +
                            "-" + std::to_string(k);
            events.push_back({id, "test.happened.v1", 1, R"({"k":)" + std::to_string(k) + "}",
                              R"({"actor":"writer-)" + config.writer + R"("})"});
          }
          expected_version expected;
          if (random() % 2 == 0) expected = store.stream_version(stream);
          try {
            const auto result = store.append(stream_write{stream, expected, events});
            const auto& r = result.streams.at(0);
            for (int k = 0; k < count; ++k) {
              mine.push_back("C " + events[static_cast<std::size_t>(k)].event_id + " " + stream +
                             " " + std::to_string(r.version - count + 1 + k) + " " +
                             std::to_string(r.last_position - count + 1 + k));
            }
          } catch (const wrong_expected_version&) {
            for (const auto& e : events) mine.push_back("X " + e.event_id);
          } catch (const store_unavailable&) {
            for (const auto& e : events) mine.push_back("R " + e.event_id);
          }
        }
      } catch (const std::exception& e) {
        std::cerr << "writer " << config.writer << " thread " << t << ": " << e.what() << '\n';
        std::lock_guard lock(lines_mutex);
        failed = true;
      }
      std::lock_guard lock(lines_mutex);
      lines.insert(lines.end(), mine.begin(), mine.end());
    });
  }
  for (auto& thread : threads) thread.join();

  std::ofstream out(out_path);
  for (const auto& line : lines) out << line << '\n';
  out << "S " << holds << ' ' << rollbacks << '\n';
  out.close();
  return failed || !out ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const std::string mode = argc > 1 ? argv[1] : "";
    if (mode == "append" && argc == 8) return run_append(argv);
    if (mode == "load" && argc == 12) return run_load(argv);
    std::cerr << "usage: see the comment at the top of tests/tools/postgres_writer.cpp\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "realmkit_pg_writer: " << e.what() << '\n';
    return 1;
  }
}
