#include "tests/webhooks/local_receiver.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace realmkit::test::webhooks {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

struct local_receiver::impl {
  net::io_context ioc;
  tcp::acceptor acceptor{ioc};
};

local_receiver::local_receiver(std::vector<scripted_answer> script)
    : impl_(std::make_unique<impl>()), script_(std::move(script)) {
  if (script_.empty()) script_.push_back({});
  const tcp::endpoint at(net::ip::make_address("127.0.0.1"), 0);
  impl_->acceptor.open(at.protocol());
  impl_->acceptor.set_option(net::socket_base::reuse_address(true));
  impl_->acceptor.bind(at);
  impl_->acceptor.listen();
  port_ = impl_->acceptor.local_endpoint().port();
  thread_ = std::thread([this] { serve(); });
}

local_receiver::local_receiver(responder respond) : local_receiver() {
  std::lock_guard lock(mutex_);  // the serving thread runs already
  respond_ = std::move(respond);
}

local_receiver::~local_receiver() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  // Wakes the blocking accept; the thread sees stopping_ and ends.
  beast::error_code ignored;
  net::io_context ioc;
  tcp::socket wake(ioc);
  wake.connect({net::ip::make_address("127.0.0.1"), port_}, ignored);
  thread_.join();
}

void local_receiver::serve() {
  for (;;) {
    tcp::socket socket(impl_->ioc);
    beast::error_code ec;
    impl_->acceptor.accept(socket, ec);
    std::size_t index = 0;
    responder respond;
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
      index = requests_.size();
      respond = respond_;
    }
    if (ec) continue;
    beast::flat_buffer buffer;
    http::request<http::string_body> request;
    http::read(socket, buffer, request, ec);
    if (ec) continue;
    received r;
    r.target = std::string(request.target());
    for (const auto& field : request) {
      std::string name(field.name_string());
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      r.headers[name] = std::string(field.value());
    }
    r.body = request.body();
    r.at = std::chrono::steady_clock::now();
    const auto answer = respond ? respond(r) : script_[std::min(index, script_.size() - 1)];
    {
      std::lock_guard lock(mutex_);
      requests_.push_back(std::move(r));
    }
    changed_.notify_all();
    if (answer.delay.count() > 0) std::this_thread::sleep_for(answer.delay);
    http::response<http::string_body> response{static_cast<http::status>(answer.status), 11};
    response.set(http::field::content_type, "text/plain");
    for (const auto& [name, value] : answer.headers) response.set(name, value);
    response.body() = answer.body;
    response.prepare_payload();
    http::write(socket, response, ec);
    socket.shutdown(tcp::socket::shutdown_both, ec);
  }
}

std::vector<received> local_receiver::wait_for(std::size_t count,
                                               std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  changed_.wait_for(lock, timeout, [&] { return requests_.size() >= count; });
  return requests_;
}

std::vector<received> local_receiver::requests() {
  std::lock_guard lock(mutex_);
  return requests_;
}

}  // namespace realmkit::test::webhooks
