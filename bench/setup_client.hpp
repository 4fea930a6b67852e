// The set-up requests of the HTTP benchmarks (log in, create pipelines and deals): one at a time
// over one keep-alive connection, with Beast.
#pragma once

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <stdexcept>
#include <string>

namespace realmkit::bench {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

inline std::string json_string(const std::string& s) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.String(s.c_str(), static_cast<rapidjson::SizeType>(s.size()));
  return buffer.GetString();
}

inline rapidjson::Document parse(const std::string& body) {
  rapidjson::Document d;
  d.Parse(body.c_str(), body.size());
  if (d.HasParseError() || !d.IsObject()) throw std::runtime_error("not a JSON object: " + body);
  return d;
}

// The set-up requests, one at a time over one keep-alive connection.
class sync_client {
 public:
  sync_client(net::io_context& io, const std::string& host, const std::string& port)
      : stream_(io), host_(host) {
    tcp::resolver resolver(io);
    stream_.connect(resolver.resolve(host, port));
  }

  http::response<http::string_body> send(http::verb verb, const std::string& target,
                                         const std::string& body, const std::string& token) {
    http::request<http::string_body> req{verb, target, 11};
    req.set(http::field::host, host_);
    if (!token.empty()) req.set(http::field::authorization, "Bearer " + token);
    if (!body.empty()) {
      req.set(http::field::content_type, "application/json");
      req.body() = body;
    }
    req.prepare_payload();
    http::write(stream_, req);
    http::response<http::string_body> res;
    http::read(stream_, buffer_, res);
    return res;
  }

  rapidjson::Document expect(http::verb verb, const std::string& target, const std::string& body,
                             const std::string& token) {
    const auto res = send(verb, target, body, token);
    if (res.result_int() / 100 != 2) {
      throw std::runtime_error(std::string(http::to_string(verb)) + " " + target + " answered " +
                               std::to_string(res.result_int()) + ": " + res.body());
    }
    return parse(res.body());
  }

 private:
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::string host_;
};

}  // namespace realmkit::bench
