// The hand-over of a connection whose request asks for a protocol upgrade (WebSocket on /ws) to the
// module that speaks that protocol. Includes Beast: only the realtime module and the app include
// it.
#pragma once

#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "api/http_types.hpp"

namespace realmkit::api {

using upgrade_request = boost::beast::http::request<boost::beast::http::string_body>;

class upgrade_handler {
 public:
  virtual ~upgrade_handler() = default;

  // Called on the connection's strand with the stream (its executor is that strand, no timeout
  // armed), the upgrade request as Beast parsed it (for websocket::stream::async_accept) and as a
  // plain request (request id assigned, path and query split). The handler owns the connection from
  // here on: the HTTP server neither reads, writes nor drains it any more.
  virtual void on_upgrade(boost::beast::tcp_stream stream, upgrade_request request,
                          http_request plain) = 0;
};

}  // namespace realmkit::api
