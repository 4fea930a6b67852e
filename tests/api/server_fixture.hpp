// A real server on a free loopback port, with its own router, pool, metrics and a captured access
// log, for tests over HTTP.
#pragma once

#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "api/http_pipeline.hpp"
#include "api/router.hpp"
#include "api/server.hpp"
#include "infra/metrics.hpp"
#include "infra/worker_pool.hpp"

namespace realmkit::test {

struct server_setup {
  api::server_options server;
  infra::worker_pool_options pool;
  api::pipeline_options pipeline;
  std::vector<std::pair<std::string, api::upgrade_handler*>> upgrades;
  std::vector<api::guard> guards;  // added to the pipeline in this order
};

class test_server {
 public:
  explicit test_server(const std::function<void(api::router&)>& add_routes, server_setup setup = {})
      : access_sink_(std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(1000)),
        pool_(setup.pool, &metrics_) {
    add_routes(routes_);
    auto logger = std::make_shared<spdlog::logger>("test-access", access_sink_);
    logger->set_pattern("%v");
    setup.pipeline.access_logger = std::move(logger);
    pipeline_ = std::make_unique<api::http_pipeline>(routes_, metrics_, setup.pipeline);
    for (auto& g : setup.guards) pipeline_->add_guard(std::move(g));
    setup.server.host = "127.0.0.1";
    setup.server.port = 0;
    server_ = std::make_unique<api::server>(setup.server, *pipeline_, pool_, metrics_);
    for (const auto& [path, handler] : setup.upgrades) server_->add_upgrade_handler(path, *handler);
    server_->start();
  }
  ~test_server() {
    server_->stop();
    pool_.stop();
  }

  std::uint16_t port() const { return server_->port(); }
  api::server& server() { return *server_; }
  infra::metrics_registry& metrics() { return metrics_; }
  infra::worker_pool& pool() { return pool_; }
  std::vector<std::string> access_lines() const { return access_sink_->last_formatted(); }

 private:
  infra::metrics_registry metrics_;
  std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> access_sink_;
  api::router routes_;
  infra::worker_pool pool_;
  std::unique_ptr<api::http_pipeline> pipeline_;
  std::unique_ptr<api::server> server_;
};

// A route with the defaults tests need.
inline api::route make_route(std::string method, std::string pattern, std::string name,
                             api::handler h, bool blocking = false) {
  api::route r;
  r.method = std::move(method);
  r.pattern = std::move(pattern);
  r.name = std::move(name);
  r.handle = std::move(h);
  r.blocking = blocking;
  return r;
}

}  // namespace realmkit::test
