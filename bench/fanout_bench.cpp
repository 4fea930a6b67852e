// Real-time fan-out: N WebSocket clients spread over M pipeline rooms of one hub, while commands
// move deals through the HTTP API at a fixed rate. Reports command-to-client latency (from sending
// the command to a client reading its update), deliveries/s, connections held and the server's
// memory per connection; writes JSON and an SVG plot of the latency distribution.
// The load generator is asynchronous Beast on two threads, sharing the machine with the server.
#include <rapidjson/prettywriter.h>

#include <atomic>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "bench/bench_support.hpp"
#include "bench/setup_client.hpp"

namespace websocket = boost::beast::websocket;
using clock_type = std::chrono::steady_clock;
using namespace realmkit::bench;

namespace {

struct settings {
  std::string host = "127.0.0.1";
  std::string port = "8080";
  // Distributed mode: commands go to the API processes and clients to the hubs, round-robin
  // (empty: both at --port).
  std::vector<std::string> api_ports;
  std::vector<std::string> hub_ports;
  std::string benchmark = "fanout";
  std::string email;
  std::string password;
  int server_pid = 0;  // for its memory per connection
  int clients = 10'000;
  int rooms = 10;
  int deals_per_room = 20;
  double rate = 1000;  // commands/s
  double seconds = 10;
  int command_connections = 16;
  std::string out = "build/bench/fanout.json";
  std::string plot = "build/bench/fanout.svg";
};

struct board {
  std::string pipeline;
  std::vector<std::string> stages;
  std::vector<std::string> deals;
  std::vector<std::int64_t> versions;
};

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  std::size_t from = 0;
  while (from <= text.size()) {
    const auto comma = std::min(text.find(',', from), text.size());
    if (comma > from) out.push_back(text.substr(from, comma - from));
    from = comma + 1;
  }
  return out;
}

long rss_kib(int pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return 0;
}

// When each command was sent, by "<stream id>#<version>" of the event it makes.
class send_times {
 public:
  void put(std::string key, clock_type::time_point t) {
    std::lock_guard lock(mutex_);
    times_[std::move(key)] = t;
  }
  std::optional<clock_type::time_point> get(const std::string& key) {
    std::lock_guard lock(mutex_);
    const auto it = times_.find(key);
    if (it == times_.end()) return std::nullopt;
    return it->second;
  }

 private:
  std::mutex mutex_;  // guards times_
  std::unordered_map<std::string, clock_type::time_point> times_;
};

// What one client thread measured.
struct tally {
  std::vector<double> latencies_ms;
  std::int64_t deliveries = 0;
  std::int64_t resyncs = 0;
  std::int64_t closed = 0;
};

// "…"stream_id":"deal-x","version":7…" → "deal-x#7", without a JSON parse per delivery.
std::string key_of(const std::string& frame) {
  const auto s = frame.find("\"stream_id\":\"");
  if (s == std::string::npos) return {};
  const auto start = s + 13;
  const auto end = frame.find('"', start);
  const auto v = frame.find("\"version\":", end);
  if (end == std::string::npos || v == std::string::npos) return {};
  auto vend = v + 10;
  while (vend < frame.size() && std::isdigit(static_cast<unsigned char>(frame[vend]))) ++vend;
  return frame.substr(start, end - start) + "#" + frame.substr(v + 10, vend - v - 10);
}

class client : public std::enable_shared_from_this<client> {
 public:
  client(net::io_context& io, const settings& s, std::string token, std::string room,
         send_times& sent, tally& t, const std::atomic<bool>& recording,
         std::atomic<int>& subscribed)
      : ws_(io),
        settings_(s),
        token_(std::move(token)),
        room_(std::move(room)),
        sent_(sent),
        tally_(t),
        recording_(recording),
        subscribed_(subscribed) {}

  // `ready` runs once the subscription is sent (or failed): the launcher starts the next client,
  // so that handshakes arrive as from many browsers, not as one storm of connects.
  void start(const tcp::endpoint& at, std::function<void()> ready) {
    ready_ = std::move(ready);
    beast::get_lowest_layer(ws_).async_connect(
        at, [self = shared_from_this()](beast::error_code ec) {
          if (ec) return self->fail("connect", ec);
          self->ws_.set_option(
              websocket::stream_base::decorator([token = self->token_](websocket::request_type& r) {
                r.set(http::field::authorization, "Bearer " + token);
              }));
          self->ws_.async_handshake(self->settings_.host + ":" + self->settings_.port, "/ws",
                                    [self](beast::error_code e) {
                                      if (e) return self->fail("handshake", e);
                                      self->subscribe();
                                    });
        });
  }

  void stop() {
    beast::error_code ignored;
    beast::get_lowest_layer(ws_).socket().close(ignored);
  }

 private:
  void subscribe() {
    frame_ = R"({"op":"subscribe","room":")" + room_ + "\"}";
    ws_.async_write(net::buffer(frame_),
                    [self = shared_from_this()](beast::error_code ec, std::size_t) {
                      if (ec) return self->fail("subscribe", ec);
                      self->started();
                      self->read();
                    });
  }

  void read() {
    ws_.async_read(buffer_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return self->fail("read", ec);
      self->on_frame(beast::buffers_to_string(self->buffer_.data()));
      self->buffer_.consume(self->buffer_.size());
      self->read();
    });
  }

  void on_frame(const std::string& text) {
    if (text.find(R"("op":"update")") != std::string::npos) {
      if (!recording_) return;
      ++tally_.deliveries;
      const auto key = key_of(text);
      if (const auto t = sent_.get(key)) {
        tally_.latencies_ms.push_back(
            std::chrono::duration<double, std::milli>(clock_type::now() - *t).count());
      }
    } else if (text.find(R"("op":"subscribed")") != std::string::npos) {
      ++subscribed_;
    } else if (text.find(R"("op":"resync")") != std::string::npos) {
      ++tally_.resyncs;
    }
  }

  void started() {
    if (auto r = std::exchange(ready_, nullptr)) r();
  }

  void fail(const char* what, beast::error_code ec) {
    started();
    if (ec == net::error::operation_aborted || ec == net::error::bad_descriptor) return;
    if (++tally_.closed <= 3) std::cerr << "client " << what << ": " << ec.message() << "\n";
  }

  websocket::stream<beast::tcp_stream> ws_;
  beast::flat_buffer buffer_;
  const settings& settings_;
  std::string token_;
  std::string room_;
  std::string frame_;
  send_times& sent_;
  tally& tally_;
  const std::atomic<bool>& recording_;
  std::atomic<int>& subscribed_;
  std::function<void()> ready_;
};

// Starts a thread's clients a few hundred at a time: each one that is through its handshake lets
// the next one begin. Clients are spread over the hubs round-robin.
class launcher {
 public:
  explicit launcher(std::vector<tcp::endpoint> at) : at_(std::move(at)) {}
  void add(std::shared_ptr<client> c) { pending_.push_back(std::move(c)); }
  void start(std::size_t in_flight) {
    for (std::size_t i = 0; i < in_flight; ++i) next();
  }

 private:
  void next() {
    if (started_ >= pending_.size()) return;
    const auto& at = at_[started_ % at_.size()];
    pending_[started_++]->start(at, [this] { next(); });
  }

  std::vector<tcp::endpoint> at_;
  std::vector<std::shared_ptr<client>> pending_;
  std::size_t started_ = 0;
};

// Moves deals round-robin at the rate over keep-alive connections, recording when each was sent.
class commander : public std::enable_shared_from_this<commander> {
 public:
  commander(net::io_context& io, const settings& s, std::string token, std::vector<board>& boards,
            send_times& sent, std::size_t first)
      : stream_(io),
        timer_(io),
        settings_(s),
        token_(std::move(token)),
        boards_(boards),
        sent_(sent),
        turn_(first) {}

  void start(const tcp::endpoint& at, clock_type::time_point until) {
    until_ = until;
    next_ = clock_type::now();
    stream_.async_connect(at, [self = shared_from_this()](beast::error_code ec) {
      if (ec) throw std::runtime_error("command connection: " + ec.message());
      self->schedule();
    });
  }

  std::int64_t sent = 0, failed = 0;

 private:
  void schedule() {
    if (clock_type::now() >= until_) return;
    // Each of the connections sends every `interval`: together, the rate.
    const auto interval =
        std::chrono::duration<double>(settings_.command_connections / settings_.rate);
    next_ += std::chrono::duration_cast<clock_type::duration>(interval);
    timer_.expires_at(next_);
    timer_.async_wait([self = shared_from_this()](beast::error_code) { self->send(); });
  }

  void send() {
    auto& b = boards_[turn_ % boards_.size()];
    const auto d = (turn_ / boards_.size()) % b.deals.size();
    turn_ += static_cast<std::size_t>(settings_.command_connections);
    const auto version = b.versions[d];
    const auto& to = b.stages[static_cast<std::size_t>(version) % b.stages.size()];
    req_ = {http::verb::post, "/api/deals/" + b.deals[d] + "/stage", 11};
    req_.set(http::field::host, settings_.host);
    req_.set(http::field::authorization, "Bearer " + token_);
    req_.set(http::field::content_type, "application/json");
    req_.body() =
        R"({"stage_id":")" + to + R"(","expected_version":)" + std::to_string(version) + "}";
    req_.prepare_payload();
    sent_.put("deal-" + b.deals[d] + "#" + std::to_string(version + 1), clock_type::now());
    current_ = {&b, d};
    http::async_write(
        stream_, req_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
          if (ec) throw std::runtime_error("command write: " + ec.message());
          self->res_ = {};
          http::async_read(self->stream_, self->buffer_, self->res_,
                           [self](beast::error_code e, std::size_t) {
                             if (e) throw std::runtime_error("command read: " + e.message());
                             self->on_response();
                           });
        });
  }

  void on_response() {
    auto [b, d] = current_;
    if (res_.result_int() == 200) {
      ++sent;
      b->versions[d] = parse(res_.body())["version"].GetInt64();
    } else {
      ++failed;
      const auto problem = parse(res_.body());
      if (problem.HasMember("current_version")) {
        b->versions[d] = problem["current_version"].GetInt64();
      }
    }
    schedule();
  }

  beast::tcp_stream stream_;
  net::steady_timer timer_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> req_;
  http::response<http::string_body> res_;
  const settings& settings_;
  std::string token_;
  std::vector<board>& boards_;
  send_times& sent_;
  std::size_t turn_;
  std::pair<board*, std::size_t> current_{nullptr, 0};
  clock_type::time_point next_, until_;
};

// The latency distribution as an SVG: the share of deliveries (y) within a latency (x, log).
void write_plot(const std::string& path, std::vector<double> ms, const settings& s) {
  std::sort(ms.begin(), ms.end());
  std::ofstream out(path);
  const double w = 640, h = 400, left = 60, bottom = 40;
  out << R"(<svg xmlns="http://www.w3.org/2000/svg" width=")" << w << R"(" height=")" << h
      << R"(" font-family="sans-serif" font-size="12">)"
      << "\n";
  out << R"(<rect width="100%" height="100%" fill="white"/>)"
      << "\n";
  out << R"(<text x="60" y="20">Command-to-client latency: )" << s.clients << " clients, "
      << s.rooms << " rooms, " << s.rate << " commands/s</text>\n";
  const double lo = 0.1, hi = 1000;
  auto x = [&](double v) {
    v = std::clamp(v, lo, hi);
    return left +
           (w - left - 20) * (std::log10(v) - std::log10(lo)) / (std::log10(hi) - std::log10(lo));
  };
  auto y = [&](double share) { return (h - bottom) - (h - bottom - 30) * share; };
  for (double tick : {0.1, 1.0, 10.0, 100.0, 1000.0}) {
    out << "<line x1=\"" << x(tick) << "\" y1=\"30\" x2=\"" << x(tick) << "\" y2=\"" << h - bottom
        << R"(" stroke="#ddd"/><text x=")" << x(tick) - 10 << "\" y=\"" << h - bottom + 16 << "\">"
        << tick << " ms</text>\n";
  }
  for (double share : {0.5, 0.9, 0.99}) {
    out << "<line x1=\"" << left << "\" y1=\"" << y(share) << "\" x2=\"" << w - 20 << "\" y2=\""
        << y(share) << R"(" stroke="#ddd"/><text x="10" y=")" << y(share) + 4 << "\">p"
        << share * 100 << "</text>\n";
  }
  out << R"(<polyline fill="none" stroke="#1f6feb" stroke-width="2" points=")";
  const std::size_t steps = 400;
  for (std::size_t i = 0; i <= steps && !ms.empty(); ++i) {
    const auto k = std::min(ms.size() - 1, i * (ms.size() - 1) / steps);
    out << x(ms[k]) << "," << y(static_cast<double>(k + 1) / static_cast<double>(ms.size())) << " ";
  }
  out << "\"/>\n</svg>\n";
}

}  // namespace

int main(int argc, char** argv) {
  try {
    settings s;
    for (int i = 1; i < argc; ++i) {
      const std::string a = argv[i];
      auto next = [&]() -> std::string {
        if (i + 1 >= argc) throw std::runtime_error(a + " needs a value");
        return argv[++i];
      };
      if (a == "--port")
        s.port = next();
      else if (a == "--api-ports")
        s.api_ports = split_list(next());
      else if (a == "--hub-ports")
        s.hub_ports = split_list(next());
      else if (a == "--name")
        s.benchmark = next();
      else if (a == "--email")
        s.email = next();
      else if (a == "--password")
        s.password = next();
      else if (a == "--server-pid")
        s.server_pid = std::stoi(next());
      else if (a == "--clients")
        s.clients = std::stoi(next());
      else if (a == "--rooms")
        s.rooms = std::stoi(next());
      else if (a == "--rate")
        s.rate = std::stod(next());
      else if (a == "--seconds")
        s.seconds = std::stod(next());
      else if (a == "--out")
        s.out = next();
      else if (a == "--plot")
        s.plot = next();
      else
        throw std::runtime_error("unknown argument " + a);
    }

    if (s.api_ports.empty()) s.api_ports = {s.port};
    if (s.hub_ports.empty()) s.hub_ports = {s.port};
    auto endpoints = [&s](const std::vector<std::string>& ports) {
      std::vector<tcp::endpoint> out;
      for (const auto& p : ports) {
        out.emplace_back(net::ip::make_address(s.host), static_cast<unsigned short>(std::stoi(p)));
      }
      return out;
    };
    const auto api_at = endpoints(s.api_ports);
    const auto hub_at = endpoints(s.hub_ports);

    // Set-up over HTTP: a pipeline per room with its deals.
    net::io_context setup_io;
    sync_client http_client(setup_io, s.host, s.api_ports.front());
    const auto login = http_client.expect(
        http::verb::post, "/api/auth/login",
        R"({"email":)" + json_string(s.email) + R"(,"password":)" + json_string(s.password) + "}",
        "");
    const std::string token = login["access_token"].GetString();
    std::vector<board> boards(static_cast<std::size_t>(s.rooms));
    std::int64_t last_position = 0;
    for (auto& b : boards) {
      const auto p =
          http_client.expect(http::verb::post, "/api/pipelines",
                             R"({"name":"Fan-out","stages":[{"name":"A","probability":20},)"
                             R"({"name":"B","probability":50},{"name":"C","probability":80}]})",
                             token);
      b.pipeline = p["id"].GetString();
      for (const auto& st : p["stages"].GetArray()) b.stages.emplace_back(st["id"].GetString());
      for (int d = 0; d < s.deals_per_room; ++d) {
        const auto created = http_client.expect(
            http::verb::post, "/api/deals",
            R"({"pipeline_id":")" + b.pipeline + R"(","stage_id":")" + b.stages[0] +
                R"(","title":"Deal","value":{"amount_minor":100000,"currency":"EUR"}})",
            token);
        b.deals.emplace_back(created["id"].GetString());
        b.versions.push_back(created["version"].GetInt64());
        last_position = created["position"].GetInt64();
      }
    }
    // The read models hold the pipelines before anyone subscribes.
    http_client.expect(http::verb::get,
                       "/api/deals?limit=1&min_position=" + std::to_string(last_position), "",
                       token);

    // The clients, on two threads of their own.
    const auto before_kib = s.server_pid ? rss_kib(s.server_pid) : 0;
    send_times sent;
    std::atomic<bool> recording{false};
    std::atomic<int> subscribed{0};
    constexpr int kThreads = 2;
    std::vector<std::unique_ptr<net::io_context>> ios;
    std::vector<tally> tallies(kThreads);
    std::vector<std::shared_ptr<client>> clients;
    for (int t = 0; t < kThreads; ++t) ios.push_back(std::make_unique<net::io_context>());
    const auto connect_started = clock_type::now();
    std::vector<std::unique_ptr<launcher>> launchers;
    for (int t = 0; t < kThreads; ++t) launchers.push_back(std::make_unique<launcher>(hub_at));
    for (int i = 0; i < s.clients; ++i) {
      const auto t = static_cast<std::size_t>(i % kThreads);
      auto c = std::make_shared<client>(
          *ios[t], s, token, "pipeline:" + boards[static_cast<std::size_t>(i % s.rooms)].pipeline,
          sent, tallies[t], recording, subscribed);
      launchers[t]->add(c);
      clients.push_back(std::move(c));
    }
    for (std::size_t t = 0; t < launchers.size(); ++t) {
      net::post(*ios[t], [l = launchers[t].get()] { l->start(128); });
    }
    std::vector<std::thread> threads;
    std::vector<net::executor_work_guard<net::io_context::executor_type>> guards;
    for (auto& io : ios) {
      guards.push_back(net::make_work_guard(*io));
      threads.emplace_back([&io] { io->run(); });
    }
    while (subscribed.load() < s.clients &&
           clock_type::now() - connect_started < std::chrono::seconds(120)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    const double connect_seconds =
        std::chrono::duration<double>(clock_type::now() - connect_started).count();
    const int held = subscribed.load();
    const auto after_kib = s.server_pid ? rss_kib(s.server_pid) : 0;
    const double kib_per_connection =
        held > 0 ? static_cast<double>(after_kib - before_kib) / held : 0;
    std::printf("%d of %d clients subscribed in %.1f s; server memory %+ld KiB (%.1f KiB each)\n",
                held, s.clients, connect_seconds, after_kib - before_kib, kib_per_connection);

    // The commands, on this thread, for the measured window.
    net::io_context command_io;
    recording = true;
    const auto started = clock_type::now();
    const auto until = started + std::chrono::duration_cast<clock_type::duration>(
                                     std::chrono::duration<double>(s.seconds));
    std::vector<std::shared_ptr<commander>> commanders;
    for (int i = 0; i < s.command_connections; ++i) {
      commanders.push_back(std::make_shared<commander>(command_io, s, token, boards, sent,
                                                       static_cast<std::size_t>(i)));
      commanders.back()->start(api_at[static_cast<std::size_t>(i) % api_at.size()], until);
    }
    command_io.run();
    // Let the last updates arrive.
    std::this_thread::sleep_for(std::chrono::seconds(1));
    recording = false;
    const double elapsed = std::chrono::duration<double>(clock_type::now() - started).count();
    for (auto& g : guards) g.reset();
    for (auto& c : clients) c->stop();
    for (auto& io : ios) io->stop();
    for (auto& th : threads) th.join();

    std::int64_t commands = 0, refused = 0, deliveries = 0, resyncs = 0, closed = 0;
    for (const auto& c : commanders) {
      commands += c->sent;
      refused += c->failed;
    }
    std::vector<double> latencies;
    for (auto& t : tallies) {
      deliveries += t.deliveries;
      resyncs += t.resyncs;
      closed += t.closed;
      latencies.insert(latencies.end(), t.latencies_ms.begin(), t.latencies_ms.end());
    }
    auto copy = latencies;
    const double p50 = percentile(copy, 0.50), p99 = percentile(copy, 0.99),
                 p999 = percentile(copy, 0.999);
    const double deliveries_per_second = static_cast<double>(deliveries) / elapsed;
    std::printf("%-10s %8s %10s %12s %8s %8s %8s %8s %8s\n", "clients", "rooms", "commands/s",
                "deliveries/s", "p50 ms", "p99 ms", "p999 ms", "KiB/conn", "resyncs");
    std::printf("%-10d %8d %10.0f %12.0f %8.2f %8.2f %8.2f %8.1f %8lld\n", held, s.rooms,
                static_cast<double>(commands) / s.seconds, deliveries_per_second, p50, p99, p999,
                kib_per_connection, static_cast<long long>(resyncs));

    rapidjson::StringBuffer buffer;
    rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buffer);
    w.StartObject();
    w.Key("benchmark");
    w.String(s.benchmark.c_str());
    w.Key("api_processes");
    w.Uint64(api_at.size());
    w.Key("hub_processes");
    w.Uint64(hub_at.size());
    w.Key("clients_requested");
    w.Int(s.clients);
    w.Key("clients_held");
    w.Int(held);
    w.Key("rooms");
    w.Int(s.rooms);
    w.Key("subscribers_per_room");
    w.Double(static_cast<double>(held) / s.rooms);
    w.Key("connect_seconds");
    w.Double(connect_seconds);
    w.Key("server_kib_per_connection");
    w.Double(kib_per_connection);
    w.Key("commands_per_second");
    w.Double(static_cast<double>(commands) / s.seconds);
    w.Key("commands_refused");
    w.Int64(refused);
    w.Key("deliveries_per_second");
    w.Double(deliveries_per_second);
    w.Key("latency_ms");
    w.StartObject();
    w.Key("p50");
    w.Double(p50);
    w.Key("p99");
    w.Double(p99);
    w.Key("p999");
    w.Double(p999);
    w.Key("samples");
    w.Uint64(latencies.size());
    w.EndObject();
    w.Key("resyncs");
    w.Int64(resyncs);
    w.Key("client_errors");
    w.Int64(closed);
    w.EndObject();
    std::ofstream(s.out) << buffer.GetString() << "\n";
    write_plot(s.plot, latencies, s);
    std::printf("wrote %s and %s\n", s.out.c_str(), s.plot.c_str());
  } catch (const std::exception& e) {
    std::cerr << "realmkit_bench_fanout: " << e.what() << "\n";
    return 1;
  }
}
