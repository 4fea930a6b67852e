#include "api/server.hpp"

#include <pthread.h>
#include <spdlog/spdlog.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <future>
#include <optional>
#include <stdexcept>
#include <thread>
#include <vector>

#include "api/http_session.hpp"
#include "api/listener.hpp"
#include "api/server_state.hpp"

namespace realmkit::api {

namespace net = boost::asio;

struct server::impl {
  impl(server_options options, const http_pipeline& pipeline, infra::worker_pool& pool,
       infra::metrics_registry& metrics)
      : state(std::move(options), pipeline, pool, metrics) {}

  detail::server_state state;  // first: sessions and handlers refer to it until the end
  std::optional<net::io_context> ioc;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work;
  std::shared_ptr<detail::listener> listener;
  std::vector<std::thread> threads;
  std::uint16_t port = 0;
  bool started = false;
  bool stopped = false;
};

server::server(server_options options, const http_pipeline& pipeline, infra::worker_pool& pool,
               infra::metrics_registry& metrics)
    : impl_(std::make_unique<impl>(std::move(options), pipeline, pool, metrics)) {}

server::~server() {
  stop();
}

void server::add_upgrade_handler(std::string path, upgrade_handler& handler) {
  if (impl_->started) throw std::logic_error("add_upgrade_handler after start");
  impl_->state.upgrades[std::move(path)] = &handler;
}

void server::start() {
  auto& m = *impl_;
  if (m.started) throw std::logic_error("server::start called twice");
  const auto& options = m.state.options;
  if (options.io_threads == 0) throw std::invalid_argument("server needs at least one I/O thread");
  boost::system::error_code ec;
  const auto address = net::ip::make_address(options.host, ec);
  if (ec) throw std::invalid_argument("not an IP address: " + options.host);

  m.ioc.emplace(static_cast<int>(options.io_threads));
  m.listener = std::make_shared<detail::listener>(
      *m.ioc, detail::tcp::endpoint(address, options.port), m.state);
  m.port = m.listener->port();
  m.work.emplace(m.ioc->get_executor());
  m.started = true;
  m.listener->run();
  for (std::size_t i = 0; i < options.io_threads; ++i) {
    m.threads.emplace_back([&m, i] {
      const std::string name = "http-io-" + std::to_string(i);
      pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
      for (;;) {
        try {
          m.ioc->run();
          return;
        } catch (const std::exception& e) {
          // A handler let an exception escape (allocation failure): log it and keep serving.
          spdlog::error("http I/O thread: {}", e.what());
        }
      }
    });
  }
  spdlog::info("http server listening on {}:{} ({} I/O threads)", options.host, m.port,
               options.io_threads);
}

std::uint16_t server::port() const {
  return impl_->port;
}

std::size_t server::in_flight() const {
  return impl_->state.in_flight();
}

std::size_t server::connections() const {
  return impl_->state.session_count();
}

void server::stop() {
  auto& m = *impl_;
  if (!m.started || m.stopped) return;
  m.stopped = true;
  auto& state = m.state;
  const auto begun = std::chrono::steady_clock::now();
  state.draining.store(true);

  // 1. No new connections.
  std::promise<void> closed;
  m.listener->stop([&closed] { closed.set_value(); });
  closed.get_future().wait();

  // 2. Every connection answers what it has read, then closes; idle ones close now.
  for (const auto& session : state.sessions()) session->drain();
  const bool drained = state.wait_until(begun + state.options.drain_timeout,
                                        [&state] { return state.in_flight() == 0; });
  if (!drained) {
    spdlog::warn("http server: {} requests still in flight after the {} ms drain; cutting them",
                 state.in_flight(), state.options.drain_timeout.count());
  }

  // 3. Cut what remains (lingering closes, requests past the deadline). Blocking work still
  // queued is skipped from here on.
  state.abandoning.store(true);
  for (const auto& session : state.sessions()) session->close();
  m.work.reset();
  state.wait_until(std::chrono::steady_clock::now() + std::chrono::seconds(1),
                   [&state] { return state.session_count() == 0; });
  m.ioc->stop();
  for (auto& t : m.threads) t.join();
  m.threads.clear();

  // 4. A blocking handler still running holds its session, whose socket belongs to the
  // io_context: wait for it before the io_context (and what its queues still hold) goes away.
  state.wait([&state] { return state.pending_tasks() == 0; });
  m.listener.reset();
  m.ioc.reset();
  spdlog::info("http server stopped");
}

}  // namespace realmkit::api
