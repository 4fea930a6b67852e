#include "api/listener.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/strand.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <system_error>

#include "api/http_session.hpp"

namespace realmkit::api::detail {
namespace {

[[noreturn]] void throw_listen_error(boost::beast::error_code ec, const tcp::endpoint& endpoint,
                                     const char* what) {
  throw std::system_error(ec, std::string("cannot listen on ") + endpoint.address().to_string() +
                                  ":" + std::to_string(endpoint.port()) + " (" + what + ")");
}

}  // namespace

listener::listener(net::io_context& ioc, const tcp::endpoint& endpoint, server_state& state)
    : ioc_(ioc),
      acceptor_(net::make_strand(ioc)),
      backoff_(acceptor_.get_executor()),
      state_(state) {
  boost::beast::error_code ec;
  acceptor_.open(endpoint.protocol(), ec);
  if (ec) throw_listen_error(ec, endpoint, "open");
  acceptor_.set_option(net::socket_base::reuse_address(true), ec);
  if (ec) throw_listen_error(ec, endpoint, "set_option");
  acceptor_.bind(endpoint, ec);
  if (ec) throw_listen_error(ec, endpoint, "bind");
  acceptor_.listen(net::socket_base::max_listen_connections, ec);
  if (ec) throw_listen_error(ec, endpoint, "listen");
  port_ = acceptor_.local_endpoint().port();
}

void listener::run() {
  net::dispatch(acceptor_.get_executor(),
                boost::beast::bind_front_handler(&listener::do_accept, shared_from_this()));
}

void listener::stop(std::function<void()> done) {
  net::post(acceptor_.get_executor(), [self = shared_from_this(), done = std::move(done)] {
    boost::beast::error_code ec;
    self->acceptor_.close(ec);
    self->backoff_.cancel();
    done();
  });
}

void listener::do_accept() {
  if (!acceptor_.is_open()) return;
  // Each connection gets its own strand: its handlers never run concurrently.
  acceptor_.async_accept(net::make_strand(ioc_), boost::beast::bind_front_handler(
                                                     &listener::on_accept, shared_from_this()));
}

void listener::on_accept(boost::beast::error_code ec, tcp::socket socket) {
  if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
  if (ec) {
    fail(ec, "accept");
    // Out of descriptors or memory: retrying at once would spin; try again shortly.
    backoff_.expires_after(std::chrono::milliseconds(50));
    backoff_.async_wait([self = shared_from_this()](boost::beast::error_code wait_ec) {
      if (!wait_ec) self->do_accept();
    });
    return;
  }
  if (state_.session_count() >= state_.options.max_connections) {
    state_.connection_limit_hits.inc();
    boost::beast::error_code ignored;
    socket.close(ignored);
  } else {
    std::make_shared<http_session>(std::move(socket), state_)->run();
  }
  do_accept();
}

void listener::fail(boost::beast::error_code ec, const char* what) {
  spdlog::warn("http listener: {}: {}", what, ec.message());
}

}  // namespace realmkit::api::detail
