// The audit benchmark: how fast history is replayed from the event store — one entity stream of
// 10,000 events folded into its state, the whole log of 1,000,000 generated CRM events folded
// into every entity's state — and how long a pipeline board as of a past date takes over a log
// of 100,000 events. Prints a table and writes JSON (scripts/bench audit).
//
//   realmkit_bench_audit [--sqlite-dir DIR] [--postgres URL] [--events N] [--stream-events N]
//                        [--board-events N] [--board-reads N] [--out FILE]
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "api/audit/entity_history.hpp"
#include "api/audit/log_reader.hpp"
#include "api/audit/past_read_model.hpp"
#include "bench/bench_support.hpp"
#include "domain/deal/deal_state.hpp"
#include "infra/audit/chain_verify.hpp"
#include "infra/event_codec.hpp"
#include "infra/event_metadata.hpp"
#include "infra/postgres/postgres_event_store.hpp"
#include "infra/sql/sql_database.hpp"
#include "infra/sqlite/sqlite_event_store.hpp"
#include "projections/board/board_projection.hpp"
#include "projections/board/board_query.hpp"
#include "tests/support/crm_history.hpp"

namespace {

using namespace realmkit;
using clock_type = std::chrono::steady_clock;

struct settings {
  std::string sqlite_dir;
  std::string postgres_url;
  std::size_t events = 1'000'000;
  std::size_t stream_events = 10'000;
  std::size_t board_events = 100'000;
  int board_reads = 10;
  std::string out = "build/bench/audit.json";
  // Keeps the PostgreSQL schemas, so a later run measures the same log without filling it again.
  bool keep = false;
};

struct rate {
  std::int64_t events = 0;
  double seconds = 0;
  double cpu_seconds = 0;  // of the whole process: what the work costs however loaded the machine
  double per_second() const { return seconds > 0 ? static_cast<double>(events) / seconds : 0; }
};

struct backend_result {
  std::string backend;
  double fill_seconds = 0;
  rate stream_replay;  // one entity stream, folded into its state
  rate log_read;       // every event of the log read, nothing folded: the store's share
  rate log_replay;     // every event of the log, folded into every entity's state
  std::int64_t board_log_events = 0;
  std::int64_t board_as_of_position = 0;
  std::int64_t board_cards = 0;
  std::vector<double> board_ms;
  std::vector<double> board_cpu_ms;  // of the process, per read
  double board_fresh_ms = 0;         // the first read, of rows just written (not in board_ms)
  // The hash chain's `audit verify` rate over the same log.
  std::optional<rate> verify;
};

double seconds_since(clock_type::time_point start) {
  return std::chrono::duration<double>(clock_type::now() - start).count();
}

double cpu_now() {
  return static_cast<double>(std::clock()) / CLOCKS_PER_SEC;
}

// A deal renamed n - 1 times after its creation: a long stream of real events.
void append_long_stream(infra::event_store& store, const std::string& id, std::size_t n) {
  const auto meta = infra::encode_metadata({"bench", "bench", "", "", ""});
  const std::string stream = "deal-" + id;
  std::int64_t version = 0;
  std::size_t made = 0;
  while (made < n) {
    infra::stream_write w{stream, version, {}};
    for (; made < n && w.events.size() < 1'000; ++made) {
      domain::deal_event e;
      if (made == 0) {
        domain::deal_created c;
        c.deal = domain::deal_id{id};
        c.pipeline = domain::pipeline_id{"bench-pipeline"};
        c.stage = domain::stage_id{"s1"};
        c.title = "Long deal";
        c.value = {100'000, "EUR"};
        c.owner = domain::user_id{"bench"};
        e = c;
      } else {
        e = domain::deal_renamed{domain::deal_id{id}, "Long deal " + std::to_string(made)};
      }
      w.events.push_back(infra::encode_event(e, id + "-e" + std::to_string(made), meta));
    }
    version += static_cast<std::int64_t>(w.events.size());
    store.append(w);
  }
}

// `settle` runs after the board's log is written, as a live database would have settled it long
// before anyone asks for a past date (PostgreSQL: autovacuum sets the new rows' hint bits, which
// the first reader of freshly written rows otherwise pays for).
void run(infra::event_store& store, infra::event_store& board_store, const settings& s,
         backend_result& r, const std::function<void()>& settle = {}) {
  // The log: a generated CRM history, with one long entity stream inside it.
  testing::crm_history_options history_options;
  history_options.pipelines = 4;
  testing::crm_history history(history_options);
  auto start = clock_type::now();
  const std::string long_id = "bench-long-deal";
  // A store filled by an earlier run is measured as it is (the fill is the slow part).
  if (store.head_position() == 0) {
    history.append_to(store, s.events - s.stream_events, 900);
    append_long_stream(store, long_id, s.stream_events);
  }
  r.fill_seconds = seconds_since(start);
  const auto head = store.head_position();
  std::cerr << r.backend << ": " << head << " events written in " << r.fill_seconds << " s\n";

  start = clock_type::now();
  auto cpu = cpu_now();
  const auto snap = api::audit::replay_entity(store, "deal-" + long_id, {});
  r.stream_replay = {snap->version, seconds_since(start), cpu_now() - cpu};
  if (snap->version != static_cast<std::int64_t>(s.stream_events)) {
    throw std::runtime_error("the long stream folded to the wrong version");
  }
  std::cerr << r.backend << ": stream replay " << r.stream_replay.per_second() << " events/s\n";

  start = clock_type::now();
  cpu = cpu_now();
  const auto read = api::audit::scan_log_ahead(store, 0, head, [](const auto&) { return true; });
  r.log_read = {read, seconds_since(start), cpu_now() - cpu};

  start = clock_type::now();
  cpu = cpu_now();
  // As `realmkit replay --all` does it.
  api::audit::log_replayer replayer(api::audit::kReplayThreads);
  const auto last =
      api::audit::scan_log_pages(store, 0, head, [&](std::span<const infra::recorded_event> page) {
        replayer.apply(page);
        return true;
      });
  r.log_replay = {last, seconds_since(start), cpu_now() - cpu};
  std::cerr << r.backend << ": log replay " << r.log_replay.per_second() << " events/s over "
            << replayer.streams() << " streams\n";

  // The hash chain recomputed over the whole log, as `realmkit audit verify` does.
  start = clock_type::now();
  cpu = cpu_now();
  const auto verified = infra::audit::verify_chain(store, {.up_to = head});
  if (!verified.ok() || verified.verified_through != head) {
    throw std::runtime_error("the benchmark's log does not verify");
  }
  r.verify = rate{verified.checked, seconds_since(start), cpu_now() - cpu};
  std::cerr << r.backend << ": verify " << r.verify->per_second() << " events/s\n";

  // The board as of a past date: the middle of a log of board_events, one pipeline.
  testing::crm_history_options board_options;
  board_options.pipelines = 1;
  board_options.seed = 2;
  testing::crm_history board_history(board_options);
  if (board_store.head_position() == 0) board_history.append_to(board_store, s.board_events, 900);
  r.board_log_events = board_store.head_position();
  const auto middle = board_store.read_all(r.board_log_events / 2 - 1, 1).front();
  const auto as_of = middle.recorded_at;
  std::string pipeline;
  for (const auto& e : board_store.read_all(0, 1'000)) {
    if (e.type.starts_with("pipeline.created")) {
      pipeline = e.stream_id.substr(e.stream_id.find('-') + 1);
      break;
    }
  }
  // One read: the milliseconds it took, and the process's CPU milliseconds.
  const auto read_as_of = [&] {
    const auto t = clock_type::now();
    const auto c = cpu_now();
    const auto position = api::audit::position_at(board_store, as_of);
    api::audit::past_read_model past(board_store,
                                     {std::make_shared<projections::board::board_projection>()});
    past.advance_to(position);
    projections::board::board_request request;
    request.pipeline_id = pipeline;
    const auto board = projections::board::read_board(past.session(), request);
    const auto took = std::pair{seconds_since(t) * 1e3, (cpu_now() - c) * 1e3};
    if (!board) throw std::runtime_error("no board at the past date");
    r.board_as_of_position = position;
    r.board_cards = 0;
    for (const auto& stage : board->stages) r.board_cards += stage.count;
    return took;
  };
  r.board_fresh_ms = read_as_of().first;  // the rows' first reader, before the database settled
  if (settle) settle();
  for (int i = 0; i < s.board_reads; ++i) {
    const auto [ms, cpu_ms] = read_as_of();
    r.board_ms.push_back(ms);
    r.board_cpu_ms.push_back(cpu_ms);
  }
}

void print(backend_result r) {
  auto ms = r.board_ms;
  std::printf("\n%s\n", r.backend.c_str());
  std::printf("  %-44s %10s %9s %12s %9s %12s\n", "replay", "events", "seconds", "events/s",
              "cpu s", "per cpu s");
  auto line = [](const char* what, const rate& x, const char* note) {
    std::printf("  %-44s %10lld %9.3f %12.0f %9.3f %12.0f%s\n", what,
                static_cast<long long>(x.events), x.seconds, x.per_second(), x.cpu_seconds,
                x.cpu_seconds > 0 ? static_cast<double>(x.events) / x.cpu_seconds : 0, note);
  };
  line("one entity stream, folded to its state", r.stream_replay, "");
  line("whole log, read only", r.log_read, "");
  line("whole log, every entity folded", r.log_replay, "  (target >= 200,000/s)");
  if (r.verify) {
    line("audit verify, the whole log's hash chain", *r.verify, "  (target >= 300,000/s)");
  } else {
    std::printf("  %-44s %12s\n", "audit verify", "(not measured)");
  }
  std::printf("  board as of a past date over %lld events (position %lld, %lld open deals):\n",
              static_cast<long long>(r.board_log_events),
              static_cast<long long>(r.board_as_of_position),
              static_cast<long long>(r.board_cards));
  auto cpu = r.board_cpu_ms;
  std::printf(
      "    p50 %.1f ms, max %.1f ms over %zu reads (target < 500 ms); CPU p50 %.1f ms; first "
      "read of the rows just written %.1f ms\n",
      bench::percentile(ms, 0.5), bench::percentile(ms, 1.0), ms.size(),
      bench::percentile(cpu, 0.5), r.board_fresh_ms);
}

void write_rate(std::ostream& out, const char* name, const rate& r) {
  out << "\"" << name << "\": {\"events\": " << r.events << ", \"seconds\": " << r.seconds
      << ", \"events_per_second\": " << static_cast<std::int64_t>(r.per_second())
      << ", \"cpu_seconds\": " << r.cpu_seconds << "}";
}

void write_json(const std::vector<backend_result>& results, const std::string& path) {
  std::ofstream out(path);
  out << "{\"benchmark\": \"audit\", \"runs\": [";
  for (std::size_t i = 0; i < results.size(); ++i) {
    auto r = results[i];
    out << (i ? ",\n" : "\n") << "{\"backend\": \"" << r.backend
        << "\", \"fill_seconds\": " << r.fill_seconds << ", ";
    write_rate(out, "stream_replay", r.stream_replay);
    out << ", ";
    write_rate(out, "log_read", r.log_read);
    out << ", ";
    write_rate(out, "log_replay", r.log_replay);
    out << ", ";
    if (r.verify) {
      write_rate(out, "verify", *r.verify);
    } else {
      out << "\"verify\": null";
    }
    out << ", \"board_as_of\": {\"log_events\": " << r.board_log_events
        << ", \"position\": " << r.board_as_of_position << ", \"open_deals\": " << r.board_cards
        << ", \"reads\": " << r.board_ms.size()
        << ", \"p50_ms\": " << bench::percentile(r.board_ms, 0.5)
        << ", \"max_ms\": " << bench::percentile(r.board_ms, 1.0)
        << ", \"fresh_rows_first_read_ms\": " << r.board_fresh_ms
        << ", \"cpu_p50_ms\": " << bench::percentile(r.board_cpu_ms, 0.5) << "}}";
  }
  out << "\n]}\n";
}

}  // namespace

int main(int argc, char** argv) {
  settings s;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::invalid_argument(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--sqlite-dir") {
      s.sqlite_dir = value();
    } else if (arg == "--postgres") {
      s.postgres_url = value();
    } else if (arg == "--events") {
      s.events = std::stoul(value());
    } else if (arg == "--stream-events") {
      s.stream_events = std::stoul(value());
    } else if (arg == "--board-events") {
      s.board_events = std::stoul(value());
    } else if (arg == "--board-reads") {
      s.board_reads = std::stoi(value());
    } else if (arg == "--out") {
      s.out = value();
    } else if (arg == "--keep") {
      s.keep = true;
    } else {
      std::cerr << "unknown argument " << arg << "\n";
      return 2;
    }
  }
  try {
    std::vector<backend_result> results;
    if (!s.sqlite_dir.empty()) {
      infra::sqlite_store_options options;
      options.path = s.sqlite_dir + "/realmkit.db";
      infra::sqlite_event_store store(options);
      infra::sqlite_store_options board_options;
      board_options.path = s.sqlite_dir + "/board.db";
      infra::sqlite_event_store board_store(board_options);
      backend_result r;
      r.backend = "sqlite";
      run(store, board_store, s, r);
      results.push_back(std::move(r));
    }
    if (!s.postgres_url.empty()) {
      infra::postgres_store_options options;
      options.url = s.postgres_url;
      options.schema = "bench_audit";
      options.drop_schema_on_close = !s.keep;
      infra::postgres_event_store store(options);
      auto board_options = options;
      board_options.schema = "bench_audit_board";
      infra::postgres_event_store board_store(board_options);
      backend_result r;
      r.backend = "postgres";
      run(store, board_store, s, r, [&] {
        auto db = infra::sql::open_postgres_database(
            {.url = board_options.url, .schema = board_options.schema});
        db->open_session()->exec_script("VACUUM (ANALYZE) events");
      });
      results.push_back(std::move(r));
    }
    for (const auto& r : results) print(r);
    write_json(results, s.out);
    std::printf("\nwrote %s\n", s.out.c_str());
  } catch (const std::exception& e) {
    std::cerr << "realmkit_bench_audit: " << e.what() << "\n";
    return 1;
  }
}
