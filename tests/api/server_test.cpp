// The HTTP server over real sockets: routing, keep-alive, pipelining, limits, timeouts, the worker
// pool, CORS, request ids, metrics and graceful shutdown.
#include <doctest/doctest.h>
#include <rapidjson/document.h>

#include <atomic>
#include <future>
#include <thread>

#include "api/health_routes.hpp"
#include "api/json_body.hpp"
#include "server_fixture.hpp"
#include "test_client.hpp"

using namespace realmkit;
using namespace realmkit::test;

namespace {

rapidjson::Document parse(const std::string& body) {
  rapidjson::Document d;
  d.Parse(body.c_str(), body.size());
  REQUIRE_FALSE(d.HasParseError());
  return d;
}

std::string member(const rapidjson::Document& d, const char* name) {
  REQUIRE(d.HasMember(name));
  REQUIRE(d[name].IsString());
  return d[name].GetString();
}

api::handler echo(std::string text) {
  return [text](const api::http_request&) { return api::http_response::json(200, text); };
}

}  // namespace

TEST_CASE("routes by method and path, with decoded parameters, over HTTP") {
  test_server s([](api::router& r) {
    r.add(make_route(
        "POST", "/api/deals/{id}/stage", "deals.move_stage", [](const api::http_request& req) {
          return api::http_response::json(200, "{\"id\":\"" + std::string(req.path_param("id")) +
                                                   "\",\"route\":\"" + req.route_name +
                                                   "\",\"body\":" + req.body + "}");
        }));
    r.add(make_route("GET", "/api/deals/{id}", "deals.get", echo("{\"get\":true}"), true));
  });
  http_connection c(s.port());
  auto reply = c.request("POST", "/api/deals/d%2D1/stage", {{"Content-Type", "application/json"}},
                         "{\"stage_id\":\"s\"}");
  CHECK(reply.status == 200);
  CHECK(reply.body == R"({"id":"d-1","route":"deals.move_stage","body":{"stage_id":"s"}})");
  CHECK(reply.header("Content-Type") == "application/json");
  CHECK(reply.header("X-Content-Type-Options") == "nosniff");
  CHECK(reply.header("Cache-Control") == "no-store");
  CHECK_FALSE(reply.header("X-Request-Id").empty());

  reply = c.request("GET", "/api/deals/42?x=1");  // a blocking route, on the worker pool
  CHECK(reply.status == 200);
  CHECK(reply.body == "{\"get\":true}");
}

TEST_CASE("unknown paths get 404 and wrong methods 405 with Allow, as problem+json") {
  test_server s([](api::router& r) {
    r.add(make_route("GET", "/api/deals/{id}", "deals.get", echo("{}")));
    r.add(make_route("DELETE", "/api/deals/{id}", "deals.delete", echo("{}")));
  });
  http_connection c(s.port());
  auto reply = c.request("GET", "/api/nope");
  CHECK(reply.status == 404);
  CHECK(reply.header("Content-Type") == "application/problem+json");
  auto body = parse(reply.body);
  CHECK(member(body, "type") == "urn:realmkit:problem:route-not-found");
  CHECK(body["status"].GetInt() == 404);
  CHECK(member(body, "instance") == reply.header("X-Request-Id"));

  reply = c.request("PUT", "/api/deals/1", {{"Content-Type", "application/json"}}, "{}");
  CHECK(reply.status == 405);
  CHECK(reply.header("Allow") == "DELETE, GET, HEAD, OPTIONS");
  CHECK(member(parse(reply.body), "type") == "urn:realmkit:problem:method-not-allowed");

  reply = c.request("OPTIONS", "/api/deals/1");
  CHECK(reply.status == 204);
  CHECK(reply.header("Allow") == "DELETE, GET, HEAD, OPTIONS");
  CHECK(reply.body.empty());
}

TEST_CASE("HEAD is served by the GET route without a body but with its length") {
  test_server s([](api::router& r) {
    r.add(make_route("GET", "/api/thing", "thing.get", echo("{\"hello\":\"world\"}")));
  });
  http_connection c(s.port());
  auto reply = c.request("HEAD", "/api/thing");
  CHECK(reply.status == 200);
  CHECK(reply.header("Content-Length") == "17");
  CHECK(reply.body.empty());
  // The connection is still in step: the next response parses.
  reply = c.request("GET", "/api/thing");
  CHECK(reply.body == "{\"hello\":\"world\"}");
}

TEST_CASE("keep-alive: many requests reuse one connection; Connection: close ends it") {
  std::atomic<int> calls = 0;
  test_server s([&](api::router& r) {
    r.add(make_route("GET", "/n", "n", [&](const api::http_request&) {
      return api::http_response::json(200, std::to_string(++calls));
    }));
  });
  http_connection c(s.port());
  for (int i = 1; i <= 5; ++i) {
    auto reply = c.request("GET", "/n");
    CHECK(reply.body == std::to_string(i));
    CHECK(reply.keep_alive);
  }
  CHECK(s.server().connections() == 1);
  auto last = c.request("GET", "/n", {{"Connection", "close"}});
  CHECK(last.status == 200);
  CHECK_FALSE(last.keep_alive);
  CHECK(c.wait_closed());
  CHECK(eventually([&] { return s.server().connections() == 0; }));
}

TEST_CASE("pipelined requests are answered in order even when an earlier one blocks longer") {
  gate slow;
  test_server s(
      [&](api::router& r) {
        r.add(make_route(
            "GET", "/slow", "slow",
            [&](const api::http_request&) {
              slow.enter();
              return api::http_response::json(200, "\"slow\"");
            },
            true));
        r.add(make_route("GET", "/fast/{n}", "fast", [](const api::http_request& req) {
          return api::http_response::json(200, "\"fast" + std::string(req.path_param("n")) + "\"");
        }));
      },
      server_setup{.server = {.pipeline_limit = 2}});
  http_connection c(s.port());
  c.send(raw_request("GET", "/slow") + raw_request("GET", "/fast/1") +
         raw_request("GET", "/fast/2") + raw_request("GET", "/fast/3") +
         raw_request("GET", "/fast/4"));
  REQUIRE(slow.wait_entered(1));
  // With a limit of two, the server has read at most the slow request and one more.
  CHECK(s.server().in_flight() <= 2);
  slow.open();
  CHECK(c.read_reply().body == "\"slow\"");
  for (int i = 1; i <= 4; ++i) CHECK(c.read_reply().body == "\"fast" + std::to_string(i) + "\"");
}

TEST_CASE("a 10 MB body is refused with 413 before anything is handled") {
  std::atomic<int> calls = 0;
  test_server s([&](api::router& r) {
    r.add(make_route("POST", "/api/upload", "upload", [&](const api::http_request&) {
      ++calls;
      return api::http_response::json(200, "{}");
    }));
  });
  SUBCASE("announced by Content-Length") {
    http_connection c(s.port());
    const std::size_t size = 10 * 1024 * 1024;
    c.send(
        "POST /api/upload HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        "Content-Length: " +
        std::to_string(size) + "\r\n\r\n");
    // The client goes on sending while the server answers; it may be cut off, which is fine.
    (void)c.try_send(std::string(256 * 1024, 'x'));
    auto reply = c.read_reply();
    CHECK(reply.status == 413);
    CHECK(reply.header("Content-Type") == "application/problem+json");
    CHECK(member(parse(reply.body), "type") == "urn:realmkit:problem:payload-too-large");
    CHECK_FALSE(reply.keep_alive);
    CHECK(c.wait_closed());
  }
  SUBCASE("sent chunked") {
    http_connection c(s.port());
    c.send("POST /api/upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
    const std::string chunk(512 * 1024, 'x');
    bool sent = true;
    for (int i = 0; i < 4 && sent; ++i) {
      sent = c.try_send("80000\r\n" + chunk + "\r\n");
    }
    auto reply = c.read_reply();
    CHECK(reply.status == 413);
    CHECK(c.wait_closed());
  }
  CHECK(calls == 0);
}

TEST_CASE("oversized headers get 431, malformed HTTP gets 400, both as problem+json") {
  test_server s([](api::router& r) { r.add(make_route("GET", "/x", "x", echo("{}"))); });
  SUBCASE("431") {
    http_connection c(s.port());
    c.send(raw_request("GET", "/x", {{"X-Big", std::string(20 * 1024, 'a')}}));
    auto reply = c.read_reply();
    CHECK(reply.status == 431);
    CHECK(member(parse(reply.body), "type") == "urn:realmkit:problem:headers-too-large");
    CHECK(c.wait_closed());
  }
  SUBCASE("garbage request line") {
    http_connection c(s.port());
    c.send("THIS IS NOT HTTP\r\n\r\n");
    auto reply = c.read_reply();
    CHECK(reply.status == 400);
    CHECK(member(parse(reply.body), "type") == "urn:realmkit:problem:malformed-request");
    CHECK(c.wait_closed());
  }
  SUBCASE("bad header line") {
    http_connection c(s.port());
    c.send("GET /x HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n");
    CHECK(c.read_reply().status == 400);
  }
  SUBCASE("absolute-form target") {
    http_connection c(s.port());
    auto reply = c.request("GET", "http://example.com/x");
    CHECK(reply.status == 400);
  }
  SUBCASE("malformed percent-escape in the path") {
    http_connection c(s.port());
    CHECK(c.request("GET", "/x%zz").status == 400);
  }
  // The server is still healthy afterwards.
  http_connection c(s.port());
  CHECK(c.request("GET", "/x").status == 200);
}

TEST_CASE("slowloris: a client dribbling its headers is cut off at the header deadline") {
  test_server s([](api::router& r) { r.add(make_route("GET", "/x", "x", echo("{}"))); },
                server_setup{.server = {.header_timeout = std::chrono::milliseconds(300)}});
  http_connection c(s.port());
  const auto start = std::chrono::steady_clock::now();
  const std::string request = "GET /x HTTP/1.1\r\nHost: x\r\nX-Slow: " + std::string(1000, 'a');
  bool closed = false;
  // One byte every 20 ms: each read succeeds, only a deadline for the whole header catches it.
  for (std::size_t i = 0; i < request.size() && !closed; ++i) {
    if (!c.try_send(request.substr(i, 1))) break;
    closed = c.wait_closed(std::chrono::milliseconds(20));
  }
  if (!closed) closed = c.wait_closed(std::chrono::seconds(5));
  CHECK(closed);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  CHECK(elapsed >= std::chrono::milliseconds(250));
  CHECK(elapsed < std::chrono::seconds(5));
  auto& timeouts =
      s.metrics().counter_for("realmkit_http_connection_errors_total",
                              "Connections answered with an error and closed, or cut, by reason",
                              {{"reason", "read_timeout"}});
  CHECK(eventually([&] { return timeouts.value() == 1; }));
}

TEST_CASE("a slow body is cut off at the body deadline; an idle keep-alive connection is closed") {
  test_server s([](api::router& r) { r.add(make_route("POST", "/x", "x", echo("{}"))); },
                server_setup{.server = {.body_timeout = std::chrono::milliseconds(200),
                                        .idle_timeout = std::chrono::milliseconds(200)}});
  SUBCASE("body") {
    http_connection c(s.port());
    c.send("POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"a\":");
    CHECK(c.wait_closed(std::chrono::seconds(5)));
  }
  SUBCASE("idle") {
    http_connection c(s.port());
    CHECK(c.request("POST", "/x", {}, "{}").status == 200);
    CHECK(c.wait_closed(std::chrono::seconds(5)));
  }
}

TEST_CASE("Expect: 100-continue gets an interim response before the body is sent") {
  test_server s([](api::router& r) {
    r.add(make_route("POST", "/x", "x", [](const api::http_request& req) {
      return api::http_response::json(200, req.body);
    }));
  });
  http_connection c(s.port());
  c.send("POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n");
  CHECK(c.read_reply().status == 100);
  c.send("{}");
  auto reply = c.read_reply();
  CHECK(reply.status == 200);
  CHECK(reply.body == "{}");
}

TEST_CASE("hostile JSON bodies are answered with problem+json") {
  test_server s([](api::router& r) {
    r.add(make_route(
        "POST", "/api/things", "things.create",
        [](const api::http_request& req) {
          auto body = api::json_body::from_request(req);
          return api::http_response::json(201, "\"" + body.root().string("name") + "\"");
        },
        true));
  });
  http_connection c(s.port());
  const std::vector<std::pair<std::string, std::string>> json{{"Content-Type", "application/json"}};
  SUBCASE("100,000 nested arrays") {
    auto reply = c.request("POST", "/api/things", json, std::string(100'000, '['));
    CHECK(reply.status == 400);
    CHECK(member(parse(reply.body), "type") == "urn:realmkit:problem:malformed-json");
  }
  SUBCASE("invalid UTF-8") {
    auto reply = c.request("POST", "/api/things", json, "{\"name\":\"\xff\xfe\"}");
    CHECK(reply.status == 400);
    CHECK(member(parse(reply.body), "type") == "urn:realmkit:problem:malformed-json");
  }
  SUBCASE("wrong type names the field") {
    auto reply = c.request("POST", "/api/things", json, "{\"name\":5}");
    CHECK(reply.status == 422);
    auto body = parse(reply.body);
    CHECK(member(body, "field") == "name");
    CHECK(std::string(body["errors"][0]["pointer"].GetString()) == "/name");
  }
  SUBCASE("not JSON content") {
    auto reply = c.request("POST", "/api/things", {{"Content-Type", "text/plain"}}, "{}");
    CHECK(reply.status == 415);
  }
  // The connection survives every refusal.
  CHECK(c.request("POST", "/api/things", json, "{\"name\":\"ok\"}").status == 201);
}

TEST_CASE("CORS: allowed origins get their headers, others none; preflights are answered") {
  server_setup setup;
  setup.pipeline.cors.allowed_origins = {"https://crm.example.com"};
  setup.pipeline.cors.allow_credentials = true;
  test_server s(
      [](api::router& r) {
        r.add(make_route("POST", "/api/deals", "deals.create", echo("{}")));
        r.add(make_route("GET", "/api/deals", "deals.list", echo("[]")));
      },
      setup);
  http_connection c(s.port());
  auto reply = c.request("GET", "/api/deals", {{"Origin", "https://crm.example.com"}});
  CHECK(reply.header("Access-Control-Allow-Origin") == "https://crm.example.com");
  CHECK(reply.header("Access-Control-Allow-Credentials") == "true");
  CHECK(reply.header("Vary").find("Origin") != std::string::npos);

  reply = c.request("GET", "/api/deals", {{"Origin", "https://evil.example.com"}});
  CHECK(reply.status == 200);
  CHECK(reply.header("Access-Control-Allow-Origin").empty());

  reply = c.request("OPTIONS", "/api/deals",
                    {{"Origin", "https://crm.example.com"},
                     {"Access-Control-Request-Method", "POST"},
                     {"Access-Control-Request-Headers", "content-type, authorization"}});
  CHECK(reply.status == 204);
  CHECK(reply.header("Access-Control-Allow-Origin") == "https://crm.example.com");
  CHECK(reply.header("Access-Control-Allow-Methods") == "GET, HEAD, OPTIONS, POST");
  CHECK(reply.header("Access-Control-Allow-Headers").find("Authorization") != std::string::npos);
  CHECK(reply.header("Access-Control-Max-Age") == "600");

  reply = c.request(
      "OPTIONS", "/api/deals",
      {{"Origin", "https://evil.example.com"}, {"Access-Control-Request-Method", "POST"}});
  CHECK(reply.status == 403);
  CHECK(reply.header("Access-Control-Allow-Origin").empty());
}

TEST_CASE("a sane X-Request-Id is echoed, anything else replaced, and logged") {
  test_server s([](api::router& r) { r.add(make_route("GET", "/x", "x.get", echo("{}"))); });
  http_connection c(s.port());
  auto reply = c.request("GET", "/x?token=secret", {{"X-Request-Id", "trace-abc.123:4"}});
  CHECK(reply.header("X-Request-Id") == "trace-abc.123:4");
  reply = c.request("GET", "/x", {{"X-Request-Id", "has spaces and \"quotes\""}});
  CHECK(reply.header("X-Request-Id").size() == 36);  // a fresh UUID
  reply = c.request("GET", "/x", {{"X-Request-Id", std::string(200, 'a')}});
  CHECK(reply.header("X-Request-Id").size() == 36);

  REQUIRE(eventually([&] { return s.access_lines().size() >= 3; }));
  const auto line = s.access_lines().front();
  auto d = parse(line);
  CHECK(member(d, "route") == "x.get");
  CHECK(member(d, "method") == "GET");
  CHECK(member(d, "path") == "/x");  // no query string: it may carry secrets
  CHECK(member(d, "request_id") == "trace-abc.123:4");
  CHECK(member(d, "remote") == "127.0.0.1");
  CHECK(d["status"].GetInt() == 200);
  CHECK(d["duration_ms"].IsNumber());
  CHECK(d["bytes_out"].GetInt() == 2);
}

TEST_CASE("/healthz, /readyz and /metrics") {
  api::readiness ready;
  std::atomic<bool> store_up = true;
  ready.add("store", [&]() -> std::optional<std::string> {
    if (store_up) return std::nullopt;
    return "connection refused";
  });
  ready.add("cache", [] { return std::optional<std::string>(); });
  // Wired as main wires it: one registry shared by the routes, the pool and the server.
  infra::metrics_registry metrics;
  api::router routes;
  routes.add(make_route("GET", "/api/deals", "deals.list", echo("[]")));
  api::add_health_routes(routes, ready, metrics);
  infra::worker_pool pool({.threads = 1}, &metrics);
  api::pipeline_options po;
  po.access_log = false;
  api::http_pipeline pipeline(routes, metrics, po);
  api::server server({.host = "127.0.0.1", .port = 0}, pipeline, pool, metrics);
  server.start();

  http_connection c(server.port());
  CHECK(c.request("GET", "/healthz").body == "{\"status\":\"ok\"}");
  auto reply = c.request("GET", "/readyz");
  CHECK(reply.status == 200);
  CHECK(reply.body == R"({"status":"ready","checks":{"store":"ok","cache":"ok"}})");
  store_up = false;
  reply = c.request("GET", "/readyz");
  CHECK(reply.status == 503);
  CHECK(reply.header("Content-Type") == "application/problem+json");
  auto body = parse(reply.body);
  REQUIRE(body["failing"].IsArray());
  CHECK(body["failing"].Size() == 1);
  CHECK(std::string(body["failing"][0].GetString()) == "store");
  CHECK(std::string(body["checks"]["store"].GetString()) == "connection refused");

  c.request("GET", "/api/deals");
  c.request("GET", "/api/deals");
  c.request("GET", "/nowhere");
  reply = c.request("GET", "/metrics");
  CHECK(reply.status == 200);
  CHECK(reply.header("Content-Type") == "text/plain; version=0.0.4; charset=utf-8");
  const auto& text = reply.body;
  CHECK(text.find("# TYPE realmkit_http_requests_total counter\n") != std::string::npos);
  CHECK(text.find("realmkit_http_requests_total{route=\"deals.list\",status=\"2xx\"} 2\n") !=
        std::string::npos);
  CHECK(text.find("realmkit_http_requests_total{route=\"unmatched\",status=\"4xx\"} 1\n") !=
        std::string::npos);
  CHECK(text.find("realmkit_http_request_duration_seconds_count{route=\"deals.list\"} 2\n") !=
        std::string::npos);
  CHECK(text.find("realmkit_http_request_duration_seconds_bucket{route=\"deals.list\",le=\"+Inf\"} "
                  "2\n") != std::string::npos);
  // The /metrics request itself is in flight while the text is produced.
  CHECK(text.find("realmkit_http_requests_in_flight 1\n") != std::string::npos);
  CHECK(text.find("realmkit_worker_pool_queue_depth{pool=\"db\"} 0\n") != std::string::npos);
  server.stop();
}

TEST_CASE("a saturated worker pool answers 503 with Retry-After, never blocking I/O threads") {
  gate hold;
  test_server s(
      [&](api::router& r) {
        r.add(make_route(
            "GET", "/db", "db",
            [&](const api::http_request&) {
              hold.enter();
              return api::http_response::json(200, "{}");
            },
            true));
        r.add(make_route("GET", "/fast", "fast", echo("{}")));
      },
      server_setup{.pool = {.threads = 1, .queue_limit = 1}});
  http_connection first(s.port());
  http_connection second(s.port());
  http_connection third(s.port());
  first.send(raw_request("GET", "/db"));
  REQUIRE(hold.wait_entered(1));  // the only worker is busy
  second.send(raw_request("GET", "/db"));
  REQUIRE(eventually([&] { return s.pool().queue_depth() == 1; }));  // the queue is full

  auto refused = third.request("GET", "/db");
  CHECK(refused.status == 503);
  CHECK(refused.header("Retry-After") == "1");
  CHECK(member(parse(refused.body), "type") == "urn:realmkit:problem:overloaded");
  // I/O threads still serve non-blocking routes while the pool is saturated.
  CHECK(third.request("GET", "/fast").status == 200);

  hold.open();
  CHECK(first.read_reply().status == 200);
  CHECK(second.read_reply().status == 200);
}

TEST_CASE("a blocking route's requests that it says will not block run on the I/O thread") {
  gate hold;
  test_server s(
      [&](api::router& r) {
        auto route = make_route(
            "GET", "/db", "db",
            [&](const api::http_request& request) {
              if (request.header("X-Quick") == nullptr) hold.enter();
              return api::http_response::json(200, "{}");
            },
            true);
        route.runs_inline = [](const api::http_request& request) {
          return request.header("X-Quick") != nullptr;
        };
        r.add(std::move(route));
      },
      server_setup{.pool = {.threads = 1, .queue_limit = 1}});
  http_connection first(s.port());
  http_connection second(s.port());
  http_connection third(s.port());
  first.send(raw_request("GET", "/db"));
  REQUIRE(hold.wait_entered(1));  // the only worker is busy
  second.send(raw_request("GET", "/db"));
  REQUIRE(eventually([&] { return s.pool().queue_depth() == 1; }));  // the queue is full

  // The pool cannot take it, so only the I/O thread can answer this one.
  CHECK(third.request("GET", "/db", {{"X-Quick", "1"}}).status == 200);
  CHECK(third.request("GET", "/db").status == 503);

  hold.open();
  CHECK(first.read_reply().status == 200);
  CHECK(second.read_reply().status == 200);
}

TEST_CASE("graceful stop: refuses new connections, finishes the in-flight request, then closes") {
  gate hold;
  std::atomic<int> calls = 0;
  test_server s(
      [&](api::router& r) {
        r.add(make_route(
            "POST", "/slow", "slow",
            [&](const api::http_request&) {
              ++calls;
              hold.enter();
              return api::http_response::json(200, "\"done\"");
            },
            true));
      },
      server_setup{.server = {.drain_timeout = std::chrono::seconds(20)}});
  const auto port = s.port();
  http_connection busy(port);
  http_connection idle(port);
  busy.send(raw_request("POST", "/slow", {}, "{}"));
  REQUIRE(hold.wait_entered(1));
  REQUIRE(eventually([&] { return s.server().connections() == 2; }));

  auto stopped = std::async(std::launch::async, [&] { s.server().stop(); });
  CHECK(idle.wait_closed());  // idle connections close at once
  CHECK(eventually([&] { return !http_connection::can_connect(port); }));
  CHECK(stopped.wait_for(std::chrono::milliseconds(0)) == std::future_status::timeout);

  hold.open();
  auto reply = busy.read_reply();
  CHECK(reply.status == 200);
  CHECK(reply.body == "\"done\"");
  CHECK_FALSE(reply.keep_alive);
  CHECK(busy.wait_closed());
  stopped.get();
  CHECK(calls == 1);
}

TEST_CASE("graceful stop: a request still running at the drain deadline is cut") {
  gate hold;
  test_server s(
      [&](api::router& r) {
        r.add(make_route(
            "GET", "/stuck", "stuck",
            [&](const api::http_request&) {
              hold.enter();
              return api::http_response::json(200, "{}");
            },
            true));
      },
      server_setup{.server = {.drain_timeout = std::chrono::milliseconds(200)}});
  http_connection c(s.port());
  c.send(raw_request("GET", "/stuck"));
  REQUIRE(hold.wait_entered(1));
  auto stopped = std::async(std::launch::async, [&] { s.server().stop(); });
  CHECK(c.wait_closed());  // cut after the deadline, with no response
  // stop() waits for the running handler: a database call cannot be abandoned halfway.
  CHECK(stopped.wait_for(std::chrono::milliseconds(0)) == std::future_status::timeout);
  hold.open();
  stopped.get();
  CHECK(s.server().connections() == 0);
}
