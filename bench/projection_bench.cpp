// The projection benchmark: rebuild rate of every read model over a generated CRM history of
// 1,000,000 events, the time to read a pipeline board of about 10,000 open deals, and full-text
// searches over 1,000,000 contacts, on SQLite and PostgreSQL. Prints a table and writes JSON
// (scripts/bench projection).
//
//   realmkit_bench_projection [--sqlite-dir DIR] [--postgres URL] [--events N] [--board-reads N]
//                             [--contacts N] [--search-reads N] [--out FILE]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "bench/bench_support.hpp"
#include "infra/postgres/postgres_event_store.hpp"
#include "infra/sql/sql_database.hpp"
#include "infra/sqlite/sqlite_event_store.hpp"
#include "projections/board/board_query.hpp"
#include "projections/catalog.hpp"
#include "projections/projector.hpp"
#include "projections/registry.hpp"
#include "projections/search/search_document.hpp"
#include "projections/search/search_projection.hpp"
#include "projections/search/search_query.hpp"
#include "tests/support/crm_history.hpp"

namespace {

using namespace realmkit;
using clock_type = std::chrono::steady_clock;
using namespace std::chrono_literals;

struct settings {
  std::string sqlite_dir;
  std::string postgres_url;
  std::size_t events = 1'000'000;
  int board_reads = 2'000;
  std::size_t contacts = 1'000'000;  // 0: no search measurement
  int search_reads = 2'000;
  std::string out = "build/bench/projection.json";
};

struct rebuild_figure {
  std::string projection;
  double seconds = 0;
  double events_per_second = 0;
};

struct backend_result {
  std::string backend;
  std::size_t events = 0;
  double fill_seconds = 0;
  double first_catch_up_seconds = 0;     // every projection's first generation, concurrently
  std::vector<rebuild_figure> rebuilds;  // one projection at a time
  double all_rebuild_seconds = 0;        // every projection at once
  std::int64_t board_open_deals = 0;
  std::vector<double> board_ms;
  // Search over a base of contacts only: how long the search projection took to index it, and
  // the time of each query shape.
  std::size_t contacts = 0;
  double search_index_seconds = 0;
  std::map<std::string, std::vector<double>> search_ms;
};

double seconds_since(clock_type::time_point start) {
  return std::chrono::duration<double>(clock_type::now() - start).count();
}

void run(infra::event_store& store, infra::sql::database& db, const settings& s,
         backend_result& r) {
  testing::crm_history_options history_options;
  history_options.pipelines = 4;
  testing::crm_history history(history_options);
  auto start = clock_type::now();
  history.append_to(store, s.events, 900);
  r.events = static_cast<std::size_t>(store.head_position());
  r.fill_seconds = seconds_since(start);
  std::cerr << r.backend << ": " << r.events << " events written in " << r.fill_seconds << " s\n";

  projections::projector_options options;
  options.idle_wait = 20ms;
  projections::projector projector(store, db, projections::all_projections(), options);
  start = clock_type::now();
  projector.start();
  if (!projector.wait_for(store.head_position(), 30min)) throw std::runtime_error("no catch-up");
  r.first_catch_up_seconds = seconds_since(start);
  std::cerr << r.backend << ": first catch-up " << r.first_catch_up_seconds << " s\n";

  for (const auto& name : projector.names()) {
    start = clock_type::now();
    projector.rebuild(name);
    if (!projector.wait_for_rebuild(name, 30min)) throw std::runtime_error("rebuild stuck");
    const auto seconds = seconds_since(start);
    if (const auto st = projector.status(name); st && st->rebuild && st->rebuild->error) {
      throw std::runtime_error(name + ": " + *st->rebuild->error);
    }
    r.rebuilds.push_back({name, seconds, static_cast<double>(r.events) / seconds});
    std::cerr << r.backend << ": rebuild " << name << " " << seconds << " s\n";
  }
  start = clock_type::now();
  for (const auto& name : projector.names()) projector.rebuild(name);
  for (const auto& name : projector.names()) projector.wait_for_rebuild(name, 30min);
  r.all_rebuild_seconds = seconds_since(start);

  // The board of the pipeline with the most open deals, read as a manager would (every team).
  if (!projector.status("board")) return;
  auto session = db.acquire();
  const auto rows = session->query(
      "SELECT pipeline, COUNT(*) FROM rm_deals WHERE status = 'open' AND NOT archived GROUP BY "
      "pipeline ORDER BY 2 DESC LIMIT 1");
  if (rows.empty()) return;
  projections::board::board_request request;
  request.pipeline_id = rows[0].text(0);
  r.board_open_deals = rows[0].integer(1);
  for (int i = 0; i < 50; ++i) projections::board::read_board(*session, request);  // warm up
  r.board_ms.reserve(static_cast<std::size_t>(s.board_reads));
  for (int i = 0; i < s.board_reads; ++i) {
    const auto t = clock_type::now();
    const auto board = projections::board::read_board(*session, request);
    r.board_ms.push_back(seconds_since(t) * 1e3);
    if (!board) throw std::runtime_error("board vanished");
  }
}

// Contacts only, indexed by the search projection alone; then queries of several shapes as an
// admin (every team) and as a team-scoped caller, round robin.
void run_search(infra::event_store& store, infra::sql::database& db, const settings& s,
                backend_result& r) {
  testing::crm_history history;
  auto start = clock_type::now();
  history.append_contacts_to(store, s.contacts, 900);
  std::cerr << r.backend << ": " << store.head_position() << " contact events written in "
            << seconds_since(start) << " s\n";
  std::vector<std::shared_ptr<const projections::projection>> only_search;
  for (auto& p : projections::all_projections()) {
    if (p->name() == projections::search::kProjectionName) only_search.push_back(p);
  }
  projections::projector_options options;
  options.idle_wait = 20ms;
  projections::projector projector(store, db, only_search, options);
  start = clock_type::now();
  projector.start();
  if (!projector.wait_for(store.head_position(), 60min)) throw std::runtime_error("no catch-up");
  r.search_index_seconds = seconds_since(start);
  auto session = db.acquire();
  r.contacts = static_cast<std::size_t>(
      session->query("SELECT COUNT(*) FROM rm_search WHERE kind = 'contact'")[0].integer(0));
  const auto team_rows =
      session->query("SELECT owner_team FROM rm_search WHERE owner_team IS NOT NULL LIMIT 1");
  const std::optional<std::string> team =
      team_rows.empty() ? std::nullopt : std::optional<std::string>(team_rows[0].text(0));
  std::cerr << r.backend << ": " << r.contacts << " contacts indexed in " << r.search_index_seconds
            << " s\n";
  const std::pair<const char*, const char*> shapes[] = {
      {"one common word (anna)", "anna"},
      {"prefix (oka)", "oka"},
      {"two words (anna meyer)", "anna meyer"},
      {"exact address", "ct-4242@mail.example.com"},
      {"no match (zzyzx)", "zzyzx"},
  };
  auto query = [&](const char* text, bool scoped) {
    projections::search::search_request request;
    request.words = projections::search::words(text);
    request.kinds = {"contact"};
    if (scoped) request.only_team = team;
    return projections::search::run_search(*session, request);
  };
  for (const auto& [label, text] : shapes) {
    for (int i = 0; i < 20; ++i) query(text, i % 2 == 1);  // warm up
  }
  for (int i = 0; i < s.search_reads; ++i) {
    const auto& [label, text] = shapes[static_cast<std::size_t>(i) % std::size(shapes)];
    const auto t = clock_type::now();
    query(text, i % 2 == 1);
    r.search_ms[label].push_back(seconds_since(t) * 1e3);
  }
}

void print(const backend_result& r) {
  std::printf("\n%s: %zu events (written in %.1f s)\n", r.backend.c_str(), r.events,
              r.fill_seconds);
  std::printf("  %-22s %10s %14s\n", "rebuild", "seconds", "events/s");
  for (const auto& f : r.rebuilds) {
    std::printf("  %-22s %10.2f %14.0f\n", f.projection.c_str(), f.seconds, f.events_per_second);
  }
  std::printf("  %-22s %10.2f %14.0f\n", "all at once", r.all_rebuild_seconds,
              static_cast<double>(r.events) / r.all_rebuild_seconds);
  std::printf("  %-22s %10.2f %14.0f\n", "first catch-up (all)", r.first_catch_up_seconds,
              static_cast<double>(r.events) / r.first_catch_up_seconds);
  if (!r.board_ms.empty()) {
    auto ms = r.board_ms;
    std::printf("  board of %lld open deals: p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
                static_cast<long long>(r.board_open_deals), bench::percentile(ms, 0.50),
                bench::percentile(ms, 0.99), *std::max_element(ms.begin(), ms.end()));
  }
  if (!r.search_ms.empty()) {
    std::printf("  search over %zu contacts (indexed in %.1f s, %.0f events/s):\n", r.contacts,
                r.search_index_seconds, static_cast<double>(r.contacts) / r.search_index_seconds);
    for (const auto& [label, times] : r.search_ms) {
      auto ms = times;
      std::printf("    %-26s p50 %.2f ms, p99 %.2f ms, max %.2f ms\n", label.c_str(),
                  bench::percentile(ms, 0.50), bench::percentile(ms, 0.99),
                  *std::max_element(ms.begin(), ms.end()));
    }
  }
}

void write_json(const std::vector<backend_result>& results, const std::string& path) {
  std::ofstream out(path);
  out << "{\"benchmark\": \"projection\", \"runs\": [";
  for (std::size_t i = 0; i < results.size(); ++i) {
    const auto& r = results[i];
    auto ms = r.board_ms;
    out << (i ? ",\n" : "\n") << "  {\"backend\": \"" << r.backend << "\", \"events\": " << r.events
        << ", \"first_catch_up_seconds\": " << r.first_catch_up_seconds
        << ", \"all_rebuild_seconds\": " << r.all_rebuild_seconds
        << ", \"all_rebuild_events_per_second\": "
        << static_cast<double>(r.events) / r.all_rebuild_seconds << ", \"rebuilds\": [";
    for (std::size_t j = 0; j < r.rebuilds.size(); ++j) {
      const auto& f = r.rebuilds[j];
      out << (j ? ", " : "") << "{\"projection\": \"" << f.projection
          << "\", \"seconds\": " << f.seconds << ", \"events_per_second\": " << f.events_per_second
          << "}";
    }
    out << "], \"board\": {\"open_deals\": " << r.board_open_deals;
    if (!ms.empty()) {
      out << ", \"reads\": " << ms.size() << ", \"p50_ms\": " << bench::percentile(ms, 0.50)
          << ", \"p99_ms\": " << bench::percentile(ms, 0.99);
    }
    out << "}, \"search\": {\"contacts\": " << r.contacts
        << ", \"index_seconds\": " << r.search_index_seconds << ", \"queries\": [";
    std::vector<double> all;
    bool first = true;
    for (const auto& [label, times] : r.search_ms) {
      auto q = times;
      all.insert(all.end(), times.begin(), times.end());
      out << (first ? "" : ", ") << "{\"shape\": \"" << label
          << "\", \"p50_ms\": " << bench::percentile(q, 0.50)
          << ", \"p99_ms\": " << bench::percentile(q, 0.99) << "}";
      first = false;
    }
    out << "]";
    if (!all.empty()) out << ", \"p99_ms\": " << bench::percentile(all, 0.99);
    out << "}}";
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
    } else if (arg == "--board-reads") {
      s.board_reads = std::stoi(value());
    } else if (arg == "--contacts") {
      s.contacts = std::stoul(value());
    } else if (arg == "--search-reads") {
      s.search_reads = std::stoi(value());
    } else if (arg == "--out") {
      s.out = value();
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
      infra::sql::sqlite_options db_options;
      db_options.path = options.path;
      auto db = infra::sql::open_sqlite_database(db_options);
      backend_result r;
      r.backend = "sqlite";
      run(store, *db, s, r);
      if (s.contacts > 0) {
        infra::sqlite_store_options search_options;
        search_options.path = s.sqlite_dir + "/search.db";
        infra::sqlite_event_store search_store(search_options);
        auto search_db = infra::sql::open_sqlite_database({.path = search_options.path});
        run_search(search_store, *search_db, s, r);
      }
      results.push_back(std::move(r));
    }
    if (!s.postgres_url.empty()) {
      infra::postgres_store_options options;
      options.url = s.postgres_url;
      options.schema = "bench_projection";
      options.drop_schema_on_close = true;
      infra::postgres_event_store store(options);
      infra::sql::postgres_options db_options;
      db_options.url = options.url;
      db_options.schema = options.schema;
      auto db = infra::sql::open_postgres_database(db_options);
      backend_result r;
      r.backend = "postgres";
      run(store, *db, s, r);
      if (s.contacts > 0) {
        infra::postgres_store_options search_options = options;
        search_options.schema = "bench_search";
        infra::postgres_event_store search_store(search_options);
        auto search_db = infra::sql::open_postgres_database(
            {.url = search_options.url, .schema = search_options.schema});
        run_search(search_store, *search_db, s, r);
      }
      results.push_back(std::move(r));
    }
    for (const auto& r : results) print(r);
    write_json(results, s.out);
    std::printf("\nwrote %s\n", s.out.c_str());
  } catch (const std::exception& e) {
    std::cerr << "realmkit_bench_projection: " << e.what() << "\n";
    return 1;
  }
}
