#include "tests/cluster/cluster_checks.hpp"

#include <doctest/doctest.h>
#include <rapidjson/document.h>

#include <cstdlib>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

#include "infra/event_envelope.hpp"
#include "infra/sql/sql_database.hpp"
#include "projections/registry.hpp"
#include "tests/api/test_client.hpp"
#include "tests/infra/kafka_test_support.hpp"
#include "tests/projections/table_digest.hpp"

namespace realmkit::testing::cluster {
namespace {

using clock_type = std::chrono::steady_clock;

std::chrono::milliseconds since(clock_type::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - start);
}

struct stored_event {
  std::string event_id;
  std::int64_t position = 0;
};

// (stream, version) → the event as the store holds it.
std::map<std::pair<std::string, std::int64_t>, stored_event> read_store(cluster_harness& c) {
  std::map<std::pair<std::string, std::int64_t>, stored_event> out;
  pqxx::nontransaction tx(c.db());
  for (const auto& row : tx.exec("SELECT stream_id, stream_version, global_position, event_id "
                                 "FROM events ORDER BY global_position")) {
    out[{row[0].as<std::string>(), row[1].as<std::int64_t>()}] = {row[3].as<std::string>(),
                                                                  row[2].as<std::int64_t>()};
  }
  return out;
}

// Per room of the log: (seq, position) in seq order.
std::map<std::string, std::vector<std::pair<std::int64_t, std::int64_t>>> read_room_log(
    cluster_harness& c, const std::set<std::string>& rooms) {
  std::map<std::string, std::vector<std::pair<std::int64_t, std::int64_t>>> out;
  pqxx::nontransaction tx(c.db());
  for (const auto& room : rooms) {
    auto& rows = out[room];
    for (const auto& row : tx.exec("SELECT seq, position FROM rm_room_updates WHERE room = " +
                                   tx.quote(room) + " ORDER BY seq")) {
      rows.emplace_back(row[0].as<std::int64_t>(), row[1].as<std::int64_t>());
    }
  }
  return out;
}

std::string sample(const std::vector<std::string>& lines) {
  std::string out;
  for (std::size_t i = 0; i < lines.size() && i < 5; ++i) out += "\n  " + lines[i];
  if (lines.size() > 5) out += "\n  … " + std::to_string(lines.size() - 5) + " more";
  return out;
}

// The topic against the store: every stored event once per stream version, in stream order, on
// one partition per stream. Re-produced records (a relay retry or takeover) are counted apart.
void check_topic(cluster_harness& c,
                 const std::map<std::pair<std::string, std::int64_t>, stored_event>& store,
                 run_figures& f) {
  const auto records = kafka::read_topic(c.brokers(), c.topic(), 180s);
  f.topic_records = records.size();
  std::map<std::string, std::int64_t> last_version;
  std::map<std::string, std::int32_t> partition_of;
  std::set<std::pair<std::string, std::int64_t>> seen;
  std::vector<std::string> problems;
  for (const auto& r : records) {
    infra::recorded_event e;
    try {
      e = infra::decode_envelope(r.value);
    } catch (const std::exception& ex) {
      problems.push_back("undecodable record at " + std::to_string(r.partition) + "/" +
                         std::to_string(r.offset) + ": " + ex.what());
      continue;
    }
    if (r.key != e.stream_id) problems.push_back("key " + r.key + " for stream " + e.stream_id);
    const auto [p, fresh_stream] = partition_of.emplace(e.stream_id, r.partition);
    if (!fresh_stream && p->second != r.partition) {
      problems.push_back(e.stream_id + " on partitions " + std::to_string(p->second) + " and " +
                         std::to_string(r.partition));
    }
    const auto stored = store.find({e.stream_id, e.stream_version});
    if (stored == store.end() || stored->second.event_id != e.event_id ||
        stored->second.position != e.global_position) {
      problems.push_back(e.stream_id + " v" + std::to_string(e.stream_version) +
                         " is not the stored event");
      continue;
    }
    auto& last = last_version[e.stream_id];
    if (e.stream_version <= last) {
      ++f.topic_duplicates;  // dropped by consumers: the same event again
      continue;
    }
    if (e.stream_version != last + 1) {
      problems.push_back(e.stream_id + " jumps from v" + std::to_string(last) + " to v" +
                         std::to_string(e.stream_version));
    }
    last = e.stream_version;
    seen.insert({e.stream_id, e.stream_version});
  }
  for (const auto& [key, event] : store) {
    if (!seen.count(key)) ++f.lost_topic;
  }
  CHECK_MESSAGE(problems.empty(),
                "the topic is not the store in stream order:" << sample(problems));
  CHECK_MESSAGE(f.lost_topic == 0, f.lost_topic << " stored events never reached the topic");
}

}  // namespace

int commands_from_environment(int fallback) {
  const char* text = std::getenv("REALMKIT_CLUSTER_COMMANDS");
  if (text == nullptr || *text == '\0') return fallback;
  const int n = std::atoi(text);
  REQUIRE_MESSAGE(n > 0, "REALMKIT_CLUSTER_COMMANDS must be a positive number");
  return n;
}

run_figures verify_delivery(cluster_harness& c, std::uint16_t api_port, const std::string& token,
                            const command_driver& driver,
                            const std::vector<room_watcher*>& watchers, std::string name) {
  run_figures f;
  f.name = std::move(name);
  const auto acks = driver.acks();
  f.acknowledged = static_cast<int>(acks.size());
  f.conflicts = driver.conflicts();
  f.commands_time = driver.elapsed();
  const auto settle_start = clock_type::now();

  // Everything downstream catches up with the store's head.
  const auto head = c.head_position();
  CHECK_MESSAGE(c.wait_relayed(head, 300s), "the relay did not reach position " << head);
  CHECK_MESSAGE(c.wait_projected(head, 300s), "the projections did not reach position " << head);

  std::set<std::string> rooms;
  for (const auto* w : watchers) rooms.insert(w->rooms().begin(), w->rooms().end());
  const auto log = read_room_log(c, rooms);
  std::map<std::string, std::int64_t> heads;
  for (const auto& [room, rows] : log) {
    heads[room] = rows.empty() ? 0 : rows.back().first;
    // The log itself: seqs 1..n, positions rising.
    for (std::size_t i = 0; i < rows.size(); ++i) {
      CHECK_MESSAGE(rows[i].first == static_cast<std::int64_t>(i + 1), "room " << room);
      if (i > 0 && rows[i].second <= rows[i - 1].second) ++f.duplicates_with_effect;
    }
  }
  for (auto* w : watchers) {
    const bool complete = w->wait_heads(heads, 180s);
    CHECK_MESSAGE(complete,
                  w->name() << " did not receive every update of its rooms" << sample(w->errors()));
  }
  f.settle_time = since(settle_start);

  // Each client against the log: the same (seq, position) list, from seq 1, nothing twice.
  std::vector<std::string> findings;
  for (auto* w : watchers) {
    const auto got = w->deliveries();
    f.resyncs += w->resyncs().size();
    for (const auto& room : w->rooms()) {
      ++f.rooms_watched;
      const auto& expected = log.at(room);
      const auto it = got.find(room);
      const std::vector<delivery> none;
      const auto& received = it == got.end() ? none : it->second;
      f.deliveries += received.size();
      std::int64_t next = 1;
      std::int64_t last_position = 0;
      for (const auto& d : received) {
        if (d.seq < next) {
          ++f.duplicates_with_effect;
          findings.push_back(w->name() + " " + room + ": seq " + std::to_string(d.seq) + " again");
          continue;
        }
        if (d.seq > next) {
          f.silent_gaps += static_cast<std::size_t>(d.seq - next);
          findings.push_back(w->name() + " " + room + ": seqs " + std::to_string(next) + ".." +
                             std::to_string(d.seq - 1) + " missing");
        }
        if (d.position <= last_position) {
          findings.push_back(w->name() + " " + room + ": position " + std::to_string(d.position) +
                             " after " + std::to_string(last_position));
        }
        const auto index = static_cast<std::size_t>(d.seq - 1);
        if (index >= expected.size() || expected[index].second != d.position) {
          findings.push_back(w->name() + " " + room + ": seq " + std::to_string(d.seq) +
                             " at position " + std::to_string(d.position) + " is not the log's");
        }
        last_position = d.position;
        next = d.seq + 1;
      }
      const auto log_head = expected.empty() ? 0 : expected.back().first;
      if (next <= log_head) {
        f.silent_gaps += static_cast<std::size_t>(log_head + 1 - next);
        findings.push_back(w->name() + " " + room + ": seqs " + std::to_string(next) + ".." +
                           std::to_string(log_head) + " never arrived");
      }
    }
    CHECK_MESSAGE(w->resyncs().empty(), w->name() << " was told to resync" << sample(w->resyncs()));
    CHECK_MESSAGE(w->connected(), w->name() << " lost its connection" << sample(w->errors()));
  }
  CHECK_MESSAGE(findings.empty(), "clients differ from the room log:" << sample(findings));

  // Every acknowledged event: in the store, in its deal's room log and at every client watching
  // that room or the pipeline's, and in the read model's version of the deal.
  const auto store = read_store(c);
  f.events = static_cast<std::int64_t>(store.size());
  CHECK(f.events == head);
  // Before the read models: when they are stuck, whether the topic lacks events says why.
  check_topic(c, store, f);
  f.lost += f.lost_topic;
  std::set<std::pair<std::string, std::int64_t>> deal_room_positions;
  {
    pqxx::nontransaction tx(c.db());
    for (const auto& row :
         tx.exec("SELECT room, position FROM rm_room_updates WHERE room LIKE 'deal:%'")) {
      deal_room_positions.insert({row[0].as<std::string>(), row[1].as<std::int64_t>()});
    }
  }
  std::map<std::string, std::set<std::int64_t>> client_positions;  // "<client> <room>"
  for (auto* w : watchers) {
    for (const auto& [room, list] : w->deliveries()) {
      auto& positions = client_positions[w->name() + " " + room];
      for (const auto& d : list) positions.insert(d.position);
    }
  }
  std::set<std::pair<std::string, std::int64_t>> acked;
  std::vector<std::string> lost;
  for (const auto& a : acks) {
    if (!acked.insert({a.stream_id, a.version}).second) {
      ++f.duplicates_with_effect;  // two acknowledgements for one version: a lost update
      lost.push_back(a.stream_id + " v" + std::to_string(a.version) + " acknowledged twice");
    }
    const auto stored = store.find({a.stream_id, a.version});
    bool missing = stored == store.end() || stored->second.position != a.position;
    if (missing) lost.push_back(a.stream_id + " v" + std::to_string(a.version) + " not stored");
    const auto room = "deal:" + a.deal;
    if (!deal_room_positions.count({room, a.position})) {
      missing = true;
      lost.push_back(a.stream_id + " v" + std::to_string(a.version) + " not in " + room);
    }
    for (auto* w : watchers) {
      for (const auto& r : w->rooms()) {
        if (r != room && !r.starts_with("pipeline:")) continue;
        if (!client_positions[w->name() + " " + r].count(a.position)) {
          missing = true;
          lost.push_back(a.stream_id + " v" + std::to_string(a.version) + " never reached " +
                         w->name() + " in " + r);
        }
      }
    }
    f.lost += missing;
  }
  // The read models answer with every deal at its stored version.
  {
    test::http_connection http(api_port);
    const auto board = http.request(
        "GET",
        "/api/pipelines/" + driver.pipeline() + "/board?min_position=" + std::to_string(head),
        {{"Authorization", "Bearer " + token}});
    REQUIRE_MESSAGE(board.status == 200, board.body);
    rapidjson::Document d;
    d.Parse(board.body.c_str());
    REQUIRE(d.IsObject());
    std::map<std::string, std::int64_t> latest;  // deal → highest acknowledged version
    for (const auto& a : acks) latest[a.deal] = std::max(latest[a.deal], a.version);
    std::map<std::string, std::int64_t> shown;
    for (const auto& stage : d["stages"].GetArray()) {
      for (const auto& deal : stage["deals"].GetArray()) {
        shown[deal["id"].GetString()] = deal["version"].GetInt64();
      }
    }
    for (const auto& [deal, version] : latest) {
      const auto it = shown.find(deal);
      if (it == shown.end() || it->second < version) {
        ++f.lost;
        lost.push_back("the board shows deal " + deal + " at v" +
                       (it == shown.end() ? std::string("-") : std::to_string(it->second)) +
                       ", acknowledged v" + std::to_string(version));
      }
    }
  }
  CHECK_MESSAGE(lost.empty(), "acknowledged events lost:" << sample(lost));
  return f;
}

void verify_rebuild(cluster_harness& c, run_figures& f) {
  c.stop_all();
  auto db = infra::sql::open_postgres_database({.url = c.database_url()});
  std::vector<std::string> relations;
  for (const auto& p : projections::all_projections()) {
    for (const auto& r : p->relations()) {
      // The analytics views (an_*) are queries over the fact_ tables compared here, refreshed on
      // a schedule and not by a rebuild; an_refreshes records when that happened.
      if (!r.starts_with("an_")) relations.push_back(r);
    }
  }
  std::map<std::string, std::string> live;
  {
    auto session = db->acquire();
    for (const auto& r : relations) live[r] = table_digest(*session, r);
  }
  c.run({"rebuild", "all"}, 600s);
  auto session = db->acquire();
  for (const auto& r : relations) {
    const auto rebuilt = table_digest(*session, r);
    if (rebuilt == live[r]) continue;
    ++f.relations_differing;
    // The first differing line, not both digests: they hold every row.
    std::istringstream a(live[r]);
    std::istringstream b(rebuilt);
    std::string la;
    std::string lb;
    while (std::getline(a, la) && std::getline(b, lb) && la == lb) {
    }
    FAIL_CHECK("relation " << r << " differs from its rebuild: live has\n  " << la
                           << "\nwhere the rebuild has\n  " << lb);
  }
  f.duplicates_with_effect += f.relations_differing;
}

void print_figures(const run_figures& f) {
  std::cout << "cluster run '" << f.name << "': " << f.acknowledged << " commands acknowledged in "
            << f.commands_time.count() << " ms (" << f.conflicts << " conflicts retried), "
            << f.events << " events in the store, " << f.topic_records << " topic records ("
            << f.topic_duplicates << " re-produced, dropped by version), " << f.deliveries
            << " deliveries to " << f.rooms_watched << " client subscriptions, settled in "
            << f.settle_time.count() << " ms; acknowledged events lost = " << f.lost << " (topic "
            << f.lost_topic << "), duplicates with effect = " << f.duplicates_with_effect
            << ", silent gaps at clients = " << f.silent_gaps << ", resyncs = " << f.resyncs
            << ", read-model relations unlike a rebuild = " << f.relations_differing << std::endl;
}

}  // namespace realmkit::testing::cluster
