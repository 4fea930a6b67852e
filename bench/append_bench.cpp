// Durable append throughput and latency: W concurrent writers, each appending commits of N events
// to streams of its own with an exact expected version, for a fixed time per case.
#include <fcntl.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_support.hpp"
#include "infra/ids.hpp"
#include "infra/store_factory.hpp"

using namespace realmkit;
using clock_type = std::chrono::steady_clock;

namespace {

using realmkit::bench::percentile;

struct case_result {
  std::string backend;
  int writers = 0;
  int events_per_commit = 0;
  double seconds = 0;
  std::int64_t commits = 0;
  std::int64_t events = 0;
  double events_per_second = 0;
  double commits_per_second = 0;
  double p50_ms = 0;
  double p99_ms = 0;
  double max_ms = 0;
};

case_result run_case(infra::event_store& store, const std::string& backend, int writers,
                     int per_commit, double warmup, double seconds) {
  // A realistic event: a stage move of about 200 bytes with its metadata.
  const std::string data =
      R"({"deal_id":"0193a0f4-7c3e-7d6a-9f1e-2b8c4d5e6f70","pipeline_id":"0193a0f4-7c3e-7d6a-9f1e-2b8c4d5e6f71","from_stage_id":"s1","to_stage_id":"s2","at":"2026-11-27T12:00:00.000000Z"})";
  const std::string metadata =
      R"({"actor":"0193a0f4-7c3e-7d6a-9f1e-2b8c4d5e6f72","correlation_id":"bench","causation_id":"","idempotency_key":"","ip":"127.0.0.1"})";
  std::atomic<bool> go{false}, recording{false}, stop{false};
  std::vector<std::vector<double>> latencies(static_cast<std::size_t>(writers));
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int w = 0; w < writers; ++w) {
    threads.emplace_back([&, w] {
      auto& lat = latencies[static_cast<std::size_t>(w)];
      lat.reserve(200'000);
      // A fresh stream every 100 commits keeps streams at realistic lengths.
      std::string stream;
      std::int64_t version = 0;
      int commits_in_stream = 100;
      while (!go.load()) std::this_thread::yield();
      while (!stop.load(std::memory_order_relaxed)) {
        if (commits_in_stream == 100) {
          stream = "deal-" + infra::new_uuid_v7();
          version = 0;
          commits_in_stream = 0;
        }
        infra::stream_write write{stream, version, {}};
        for (int i = 0; i < per_commit; ++i) {
          write.events.push_back({infra::new_uuid_v7(), "deal.stage_moved.v1", 1, data, metadata});
        }
        const auto t0 = clock_type::now();
        try {
          const auto r = store.append(write);
          version = r.streams.front().version;
        } catch (const std::exception& e) {
          if (failures.fetch_add(1) < 5) std::cerr << "append failed: " << e.what() << "\n";
          version = store.stream_version(stream);
          continue;
        }
        if (recording.load(std::memory_order_relaxed)) {
          lat.push_back(std::chrono::duration<double, std::milli>(clock_type::now() - t0).count());
        }
        ++commits_in_stream;
      }
    });
  }
  // Caches, indexes and the log's files reach their steady state before anything is counted.
  go = true;
  std::this_thread::sleep_for(std::chrono::duration<double>(warmup));
  const auto start = clock_type::now();
  recording = true;
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& t : threads) t.join();
  const double elapsed = std::chrono::duration<double>(clock_type::now() - start).count();

  std::vector<double> all;
  for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  case_result r;
  r.backend = backend;
  r.writers = writers;
  r.events_per_commit = per_commit;
  r.seconds = elapsed;
  r.commits = static_cast<std::int64_t>(all.size());
  r.events = r.commits * per_commit;
  r.events_per_second = static_cast<double>(r.events) / elapsed;
  r.commits_per_second = static_cast<double>(r.commits) / elapsed;
  r.max_ms = all.empty() ? 0 : *std::max_element(all.begin(), all.end());
  r.p50_ms = percentile(all, 0.50);
  r.p99_ms = percentile(all, 0.99);
  if (failures > 0) std::cerr << failures << " appends failed in this case\n";
  return r;
}

// The disk's own pace: one 4 KiB write and fdatasync at a time, as a commit of one writer does.
// Durable throughput scales with it, and on a shared virtual disk it moves from hour to hour, so
// every report carries it next to the figures it explains.
struct disk_probe {
  double p50_ms = 0;
  double p99_ms = 0;
  double per_second = 0;
};

disk_probe probe_disk(const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir);
  const auto path = dir / "fsync-probe";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) throw std::runtime_error("cannot open " + path.string());
  std::vector<char> block(4096, 'x');
  std::vector<double> ms;
  const auto start = clock_type::now();
  for (int i = 0; i < 1000; ++i) {
    const auto t0 = clock_type::now();
    const auto offset = static_cast<off_t>(i % 256) * 4096;
    if (::pwrite(fd, block.data(), block.size(), offset) != 4096 || ::fdatasync(fd) != 0) {
      ::close(fd);
      throw std::runtime_error("the disk probe failed to write " + path.string());
    }
    ms.push_back(std::chrono::duration<double, std::milli>(clock_type::now() - t0).count());
  }
  const double elapsed = std::chrono::duration<double>(clock_type::now() - start).count();
  ::close(fd);
  std::filesystem::remove(path);
  disk_probe d;
  d.per_second = static_cast<double>(ms.size()) / elapsed;
  d.p50_ms = percentile(ms, 0.50);
  d.p99_ms = percentile(ms, 0.99);
  return d;
}

std::vector<int> parse_list(const std::string& s) {
  std::vector<int> out;
  std::size_t pos = 0;
  while (pos < s.size()) {
    auto comma = s.find(',', pos);
    if (comma == std::string::npos) comma = s.size();
    out.push_back(std::stoi(s.substr(pos, comma - pos)));
    pos = comma + 1;
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::pair<std::string, std::string>> backends;  // name, url ("" = sqlite)
  std::string sqlite_dir = "build/bench/append-sqlite";
  std::vector<int> writers{1, 8, 64};
  std::vector<int> sizes{1, 10};
  double seconds = 5;
  double warmup = 2;
  std::string out_path = "build/bench/append.json";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) throw std::runtime_error(a + " needs a value");
      return argv[++i];
    };
    if (a == "--sqlite")
      backends.emplace_back("sqlite", "");
    else if (a == "--sqlite-dir")
      sqlite_dir = next();
    else if (a == "--postgres")
      backends.emplace_back("postgres", next());
    else if (a == "--writers")
      writers = parse_list(next());
    else if (a == "--events-per-commit")
      sizes = parse_list(next());
    else if (a == "--seconds")
      seconds = std::stod(next());
    else if (a == "--warmup")
      warmup = std::stod(next());
    else if (a == "--out")
      out_path = next();
    else {
      std::cerr << "usage: realmkit_bench_append [--sqlite] [--sqlite-dir DIR] [--postgres URL]\n"
                   "  [--writers 1,8,64] [--events-per-commit 1,10] [--seconds 5] [--warmup 2]\n"
                   "  [--out FILE]\n";
      return 2;
    }
  }
  if (backends.empty()) backends.emplace_back("sqlite", "");

  const auto disk = probe_disk(sqlite_dir);
  std::printf("disk: %.0f fdatasyncs/s one at a time (p50 %.2f ms, p99 %.2f ms)\n", disk.per_second,
              disk.p50_ms, disk.p99_ms);
  std::vector<case_result> results;
  std::printf("%-9s %8s %7s %12s %12s %9s %9s %9s\n", "backend", "writers", "events", "events/s",
              "commits/s", "p50 ms", "p99 ms", "max ms");
  for (const auto& [name, url] : backends) {
    for (int size : sizes) {
      for (int w : writers) {
        infra::store_config config;
        config.database_url = url;
        config.data_dir = sqlite_dir + "/w" + std::to_string(w) + "-n" + std::to_string(size);
        std::filesystem::remove_all(config.data_dir);
        auto store = infra::open_event_store(config);
        auto r = run_case(*store, name, w, size, warmup, seconds);
        std::printf("%-9s %8d %7d %12.0f %12.0f %9.2f %9.2f %9.2f\n", r.backend.c_str(), r.writers,
                    r.events_per_commit, r.events_per_second, r.commits_per_second, r.p50_ms,
                    r.p99_ms, r.max_ms);
        std::fflush(stdout);
        results.push_back(r);
      }
    }
  }

  rapidjson::StringBuffer buffer;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buffer);
  w.StartObject();
  w.Key("benchmark");
  w.String("append");
  w.Key("durability");
  w.String(
      "sqlite: WAL fsynced before an append is acknowledged or shown to log readers; "
      "postgresql: fsync=on, each append acknowledged after a synchronously committed flush");
  w.Key("disk");
  w.StartObject();
  w.Key("fdatasyncs_per_second");
  w.Double(disk.per_second);
  w.Key("fdatasync_p50_ms");
  w.Double(disk.p50_ms);
  w.Key("fdatasync_p99_ms");
  w.Double(disk.p99_ms);
  w.EndObject();
  w.Key("cases");
  w.StartArray();
  for (const auto& r : results) {
    w.StartObject();
    w.Key("backend");
    w.String(r.backend.c_str());
    w.Key("writers");
    w.Int(r.writers);
    w.Key("events_per_commit");
    w.Int(r.events_per_commit);
    w.Key("seconds");
    w.Double(r.seconds);
    w.Key("commits");
    w.Int64(r.commits);
    w.Key("events");
    w.Int64(r.events);
    w.Key("events_per_second");
    w.Double(r.events_per_second);
    w.Key("commits_per_second");
    w.Double(r.commits_per_second);
    w.Key("p50_ms");
    w.Double(r.p50_ms);
    w.Key("p99_ms");
    w.Double(r.p99_ms);
    w.Key("max_ms");
    w.Double(r.max_ms);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  std::filesystem::create_directories(std::filesystem::path(out_path).parent_path());
  std::ofstream(out_path) << buffer.GetString() << "\n";
  std::printf("wrote %s\n", out_path.c_str());
  return 0;
}
