// What every cluster run proves once its commands are acknowledged: no acknowledged event lost on
// the way to the topic, the read models, the room log and the clients; no duplicate with an
// effect; no silent gap at a client; read models equal to a rebuild from the event store.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "tests/cluster/cluster_harness.hpp"
#include "tests/cluster/cluster_workload.hpp"

namespace realmkit::testing::cluster {

struct run_figures {
  std::string name;
  int acknowledged = 0;  // stage moves the APIs acknowledged
  std::uint64_t conflicts = 0;
  std::int64_t events = 0;  // in the store
  std::size_t topic_records = 0;
  std::size_t topic_duplicates = 0;  // re-produced records, dropped by stream version
  std::size_t deliveries = 0;        // updates received by every client
  std::size_t rooms_watched = 0;     // (client, room) pairs
  std::size_t lost = 0;              // acknowledged events missing anywhere
  std::size_t lost_topic = 0;        // store events missing from the topic
  std::size_t duplicates_with_effect = 0;
  std::size_t silent_gaps = 0;
  std::size_t resyncs = 0;
  std::size_t relations_differing = 0;  // read-model relations unlike their rebuild
  std::chrono::milliseconds commands_time{0};
  std::chrono::milliseconds settle_time{0};  // from the last ack until every client has it all
};

// Waits until the relay, the projectors and every client have caught up with the store, then
// checks the topic, the read models, the room log and the clients against the store and the
// acknowledged commands. CHECKs every finding and counts it in the figures. The cluster must
// still be running (the API answers the read-model checks).
run_figures verify_delivery(cluster_harness& cluster, std::uint16_t api_port,
                            const std::string& token, const command_driver& driver,
                            const std::vector<room_watcher*>& watchers, std::string name);

// Stops the cluster, then rebuilds every read model from the event store (`realmkit rebuild
// all`) and compares each relation with what live projection produced; CHECKs and counts.
void verify_rebuild(cluster_harness& cluster, run_figures& figures);

// One line per figure on stdout (ctest shows it with --output-on-failure or -V).
void print_figures(const run_figures& figures);

// The number of moves a run makes: REALMKIT_CLUSTER_COMMANDS when set, else `fallback`.
int commands_from_environment(int fallback);

}  // namespace realmkit::testing::cluster
