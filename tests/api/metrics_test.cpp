// infra::metrics_registry and its Prometheus text exposition; infra::worker_pool.
#include "infra/metrics.hpp"

#include <doctest/doctest.h>

#include <stdexcept>

#include "infra/worker_pool.hpp"
#include "test_client.hpp"

using namespace realmkit;

TEST_CASE("the exposition format: families sorted, labels sorted and escaped") {
  infra::metrics_registry m;
  m.counter_for("b_total", "B things", {{"z", "1"}, {"a", "x\"y\\z\nw"}}).inc(3);
  m.gauge_for("a_gauge", "A gauge\nwith a newline").set(-2.5);
  m.counter_for("b_total", "B things", {{"a", "2"}, {"z", "1"}}).inc();
  CHECK(m.expose() ==
        "# HELP a_gauge A gauge\\nwith a newline\n"
        "# TYPE a_gauge gauge\n"
        "a_gauge -2.5\n"
        "# HELP b_total B things\n"
        "# TYPE b_total counter\n"
        "b_total{a=\"2\",z=\"1\"} 1\n"
        "b_total{a=\"x\\\"y\\\\z\\nw\",z=\"1\"} 3\n");
}

TEST_CASE("histograms expose cumulative buckets, +Inf, sum and count") {
  infra::metrics_registry m;
  const std::vector<double> bounds{0.1, 1, 10};
  auto& h = m.histogram_for("latency_seconds", "Latency", bounds, {{"route", "r"}});
  for (const double v : {0.05, 0.1, 0.5, 5.0, 50.0}) h.observe(v);
  CHECK(m.expose() ==
        "# HELP latency_seconds Latency\n"
        "# TYPE latency_seconds histogram\n"
        "latency_seconds_bucket{route=\"r\",le=\"0.1\"} 2\n"
        "latency_seconds_bucket{route=\"r\",le=\"1\"} 3\n"
        "latency_seconds_bucket{route=\"r\",le=\"10\"} 4\n"
        "latency_seconds_bucket{route=\"r\",le=\"+Inf\"} 5\n"
        "latency_seconds_sum{route=\"r\"} 55.65\n"
        "latency_seconds_count{route=\"r\"} 5\n");
}

TEST_CASE("the same name and labels give the same instrument; conflicts are refused") {
  infra::metrics_registry m;
  auto& a = m.counter_for("x_total", "X", {{"k", "v"}});
  auto& b = m.counter_for("x_total", "X", {{"k", "v"}});
  CHECK(&a == &b);
  CHECK_THROWS_AS(m.gauge_for("x_total", "X", {{"k", "v"}}), std::invalid_argument);
  CHECK_THROWS_AS(m.counter_for("x_total", "other help", {{"k", "v"}}), std::invalid_argument);
  CHECK_THROWS_AS(m.counter_for("x_total", "X", {{"other", "v"}}), std::invalid_argument);
  CHECK_THROWS_AS(m.counter_for("9bad", "X"), std::invalid_argument);
  CHECK_THROWS_AS(m.counter_for("bad-name", "X"), std::invalid_argument);
  CHECK_THROWS_AS(m.counter_for("y_total", "Y", {{"le", "1"}}), std::invalid_argument);
  CHECK_THROWS_AS(m.counter_for("y_total", "Y", {{"a", "1"}, {"a", "2"}}), std::invalid_argument);
  const std::vector<double> unsorted{1, 0.5};
  CHECK_THROWS_AS(m.histogram_for("h", "H", unsorted), std::invalid_argument);
  const std::vector<double> one{1}, two{2};
  m.histogram_for("h2", "H", one);
  CHECK_THROWS_AS(m.histogram_for("h2", "H", two), std::invalid_argument);
}

TEST_CASE("a computed gauge is read at scrape time and leaves with its token") {
  infra::metrics_registry m;
  double depth = 4;
  {
    auto token = m.gauge_callback("queue_depth", "Depth", {{"q", "a"}}, [&] { return depth; });
    CHECK(m.expose().find("queue_depth{q=\"a\"} 4\n") != std::string::npos);
    depth = 7;
    CHECK(m.expose().find("queue_depth{q=\"a\"} 7\n") != std::string::npos);
    CHECK_THROWS_AS(m.gauge_callback("queue_depth", "Depth", {{"q", "a"}}, [] { return 0.0; }),
                    std::invalid_argument);
    auto moved = std::move(token);
    CHECK(m.expose().find("queue_depth{q=\"a\"}") != std::string::npos);
  }
  CHECK(m.expose().find("queue_depth{q=\"a\"}") == std::string::npos);
}

TEST_CASE("worker pool: runs tasks, refuses past its queue limit, drains on stop") {
  infra::metrics_registry m;
  infra::worker_pool pool({.name = "t", .threads = 1, .queue_limit = 2}, &m);
  test::gate hold;
  std::atomic<int> done = 0;
  REQUIRE(pool.try_submit([&] {
    hold.enter();
    ++done;
  }));
  REQUIRE(hold.wait_entered(1));
  CHECK(pool.busy() == 1);
  CHECK(pool.try_submit([&] { ++done; }));
  CHECK(pool.try_submit([&] { throw std::runtime_error("a failing task"); }));
  CHECK_FALSE(pool.try_submit([&] { ++done; }));  // queue full: refused at once
  CHECK(pool.queue_depth() == 2);
  const auto text = m.expose();
  CHECK(text.find("realmkit_worker_pool_queue_depth{pool=\"t\"} 2\n") != std::string::npos);
  CHECK(text.find("realmkit_worker_pool_busy_threads{pool=\"t\"} 1\n") != std::string::npos);
  CHECK(text.find("realmkit_worker_pool_rejected_total{pool=\"t\"} 1\n") != std::string::npos);
  hold.open();
  pool.stop();  // runs what was queued; the throwing task does not stop the worker
  CHECK(done == 2);
  CHECK_FALSE(pool.try_submit([] {}));
  CHECK(m.expose().find("realmkit_worker_pool_wait_seconds_count{pool=\"t\"} 3\n") !=
        std::string::npos);
}
