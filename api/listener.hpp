// Accepts connections and gives each its own session on its own strand. Internal to api/.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/error.hpp>
#include <memory>

#include "api/server_state.hpp"

namespace realmkit::api::detail {

namespace net = boost::asio;
using tcp = net::ip::tcp;

class listener final : public std::enable_shared_from_this<listener> {
 public:
  // Opens, binds and listens; throws std::system_error naming the endpoint on failure.
  listener(net::io_context& ioc, const tcp::endpoint& endpoint, server_state& state);

  void run();
  // Closes the acceptor on its strand; `done` runs there once it is closed.
  void stop(std::function<void()> done);
  std::uint16_t port() const { return port_; }

 private:
  void do_accept();
  void on_accept(boost::beast::error_code ec, tcp::socket socket);
  void fail(boost::beast::error_code ec, const char* what);

  net::io_context& ioc_;
  tcp::acceptor acceptor_;
  net::steady_timer backoff_;  // pauses accepting after an error such as EMFILE
  server_state& state_;
  std::uint16_t port_ = 0;
};

}  // namespace realmkit::api::detail
