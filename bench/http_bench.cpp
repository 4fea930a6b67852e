// HTTP load: logs in, creates a pipeline and a set of deals through the API, then drives
// "move deal stage" (authenticated, durable, with the expected version) and "get deal" over N
// keep-alive connections for a fixed time each, and reports requests/s and latency percentiles.
// The client is one thread of asynchronous Beast connections, so it takes as little of the
// machine it shares with the server as it can.
#include <rapidjson/document.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench/bench_support.hpp"
#include "bench/setup_client.hpp"

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using clock_type = std::chrono::steady_clock;

namespace {

using realmkit::bench::json_string;
using realmkit::bench::parse;
using realmkit::bench::percentile;
using realmkit::bench::sync_client;

struct settings {
  std::string host = "127.0.0.1";
  std::string port = "8080";
  std::string email;
  std::string password;
  std::string backend = "sqlite";
  int connections = 64;
  int deals = 2048;
  double seconds = 10;
  double warmup = 1;
  std::string out = "build/bench/http.json";
};

struct deal {
  std::string id;
  std::int64_t version = 0;
  std::size_t stage = 0;
};

struct fixture {
  std::string token;
  std::vector<std::string> stages;
  std::vector<deal> deals;
};

fixture set_up(net::io_context& io, const settings& s) {
  sync_client client(io, s.host, s.port);
  fixture f;
  const auto login = client.expect(
      http::verb::post, "/api/auth/login",
      R"({"email":)" + json_string(s.email) + R"(,"password":)" + json_string(s.password) + "}",
      "");
  f.token = login["access_token"].GetString();
  const auto pipeline = client.expect(
      http::verb::post, "/api/pipelines",
      R"({"name":"Benchmark","stages":[{"name":"Qualified","probability":20},)"
      R"({"name":"Proposal","probability":50},{"name":"Negotiation","probability":80}]})",
      f.token);
  const std::string pipeline_id = pipeline["id"].GetString();
  for (const auto& stage : pipeline["stages"].GetArray()) {
    f.stages.emplace_back(stage["id"].GetString());
  }
  for (int i = 0; i < s.deals; ++i) {
    const auto created =
        client.expect(http::verb::post, "/api/deals",
                      R"({"pipeline_id":")" + pipeline_id + R"(","stage_id":")" + f.stages[0] +
                          R"(","title":"Deal )" + std::to_string(i) +
                          R"(","value":{"amount_minor":1250000,"currency":"EUR"}})",
                      f.token);
    f.deals.push_back({created["id"].GetString(), created["version"].GetInt64(), 0});
  }
  return f;
}

enum class workload { move_stage, get_deal };

struct tally {
  std::vector<double> latencies_ms;
  std::map<unsigned, std::int64_t> statuses;
  std::int64_t errors = 0;  // transport errors
};

// One keep-alive connection issuing requests back to back on the deals it owns.
class connection : public std::enable_shared_from_this<connection> {
 public:
  connection(net::io_context& io, const settings& s, fixture& f, std::vector<deal*> owned,
             workload w, tally& t, const bool& recording, const bool& stopping)
      : stream_(io),
        settings_(s),
        fixture_(f),
        owned_(std::move(owned)),
        workload_(w),
        tally_(t),
        recording_(recording),
        stopping_(stopping) {}

  void start(const tcp::resolver::results_type& endpoints) {
    stream_.async_connect(endpoints,
                          [self = shared_from_this()](beast::error_code ec, tcp::endpoint) {
                            if (ec) return self->fail(ec);
                            self->next();
                          });
  }

 private:
  void next() {
    if (stopping_) {
      beast::error_code ignored;
      stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
      return;
    }
    current_ = owned_[turn_++ % owned_.size()];
    req_ = {};
    req_.version(11);
    req_.set(http::field::host, settings_.host);
    req_.set(http::field::authorization, "Bearer " + fixture_.token);
    if (workload_ == workload::move_stage) {
      const auto to = (current_->stage + 1) % fixture_.stages.size();
      req_.method(http::verb::post);
      req_.target("/api/deals/" + current_->id + "/stage");
      req_.set(http::field::content_type, "application/json");
      req_.body() = R"({"stage_id":")" + fixture_.stages[to] + R"(","expected_version":)" +
                    std::to_string(current_->version) + "}";
    } else {
      req_.method(http::verb::get);
      req_.target("/api/deals/" + current_->id);
    }
    req_.prepare_payload();
    started_ = clock_type::now();
    http::async_write(stream_, req_,
                      [self = shared_from_this()](beast::error_code ec, std::size_t) {
                        if (ec) return self->fail(ec);
                        self->read();
                      });
  }

  void read() {
    res_ = {};
    http::async_read(stream_, buffer_, res_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) {
                       if (ec) return self->fail(ec);
                       self->on_response();
                     });
  }

  void on_response() {
    const auto ms = std::chrono::duration<double, std::milli>(clock_type::now() - started_).count();
    const auto status = res_.result_int();
    if (recording_) {
      tally_.latencies_ms.push_back(ms);
      ++tally_.statuses[status];
    }
    if (workload_ == workload::move_stage) {
      if (status == 200) {
        current_->version = parse(res_.body())["version"].GetInt64();
        current_->stage = (current_->stage + 1) % fixture_.stages.size();
      } else if (status == 409) {
        const auto problem = parse(res_.body());
        if (problem.HasMember("current_version")) {
          current_->version = problem["current_version"].GetInt64();
        }
      }
    }
    if (res_.need_eof()) return fail(http::error::end_of_stream);
    next();
  }

  void fail(beast::error_code ec) {
    if (stopping_) return;
    ++tally_.errors;
    if (tally_.errors <= 5) std::cerr << "connection failed: " << ec.message() << "\n";
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> req_;
  http::response<http::string_body> res_;
  const settings& settings_;
  fixture& fixture_;
  std::vector<deal*> owned_;
  workload workload_;
  tally& tally_;
  const bool& recording_;
  const bool& stopping_;
  deal* current_ = nullptr;
  std::size_t turn_ = 0;
  clock_type::time_point started_;
};

struct case_result {
  std::string name;
  double seconds = 0;
  std::int64_t requests = 0;
  std::int64_t ok = 0;
  double rps = 0;
  double p50 = 0, p99 = 0, p999 = 0, max = 0;
  std::map<unsigned, std::int64_t> statuses;
  std::int64_t errors = 0;
};

case_result run_case(const settings& s, fixture& f, workload w, const std::string& name) {
  net::io_context io;
  tcp::resolver resolver(io);
  const auto endpoints = resolver.resolve(s.host, s.port);
  tally t;
  t.latencies_ms.reserve(2'000'000);
  bool recording = false;
  bool stopping = false;
  for (int c = 0; c < s.connections; ++c) {
    std::vector<deal*> owned;
    for (std::size_t i = static_cast<std::size_t>(c); i < f.deals.size();
         i += static_cast<std::size_t>(s.connections)) {
      owned.push_back(&f.deals[i]);
    }
    if (owned.empty()) throw std::runtime_error("fewer deals than connections");
    std::make_shared<connection>(io, s, f, std::move(owned), w, t, recording, stopping)
        ->start(endpoints);
  }
  // Warm-up, then the measured window; the flags change on the client's own thread.
  net::steady_timer timer(io);
  timer.expires_after(
      std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(s.warmup)));
  timer.async_wait([&](beast::error_code) {
    recording = true;
    timer.expires_after(
        std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(s.seconds)));
    timer.async_wait([&](beast::error_code) {
      recording = false;
      stopping = true;
    });
  });
  // Connections end on their own once stopping is set; the bound only guards a stuck server.
  io.run_for(std::chrono::duration_cast<clock_type::duration>(
      std::chrono::duration<double>(s.warmup + s.seconds + 10)));
  const double elapsed = s.seconds;

  case_result r;
  r.name = name;
  r.seconds = elapsed;
  r.requests = static_cast<std::int64_t>(t.latencies_ms.size());
  for (const auto& [status, n] : t.statuses) {
    if (status / 100 == 2) r.ok += n;
  }
  r.rps = static_cast<double>(r.ok) / elapsed;
  r.statuses = t.statuses;
  r.errors = t.errors;
  r.max =
      t.latencies_ms.empty() ? 0 : *std::max_element(t.latencies_ms.begin(), t.latencies_ms.end());
  r.p50 = percentile(t.latencies_ms, 0.50);
  r.p99 = percentile(t.latencies_ms, 0.99);
  r.p999 = percentile(t.latencies_ms, 0.999);
  return r;
}

// The projector's delay histogram (commit of an event → commit of its projection) per
// projection, as cumulative bucket counts by upper bound, scraped from /metrics.
using delay_buckets = std::map<std::string, std::map<double, double>>;

delay_buckets scrape_delays(net::io_context& io, const settings& s) {
  sync_client client(io, s.host, s.port);
  const auto res = client.send(http::verb::get, "/metrics", "", "");
  delay_buckets out;
  const std::string prefix = "realmkit_projection_delay_seconds_bucket{";
  std::istringstream lines(res.body());
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind(prefix, 0) != 0) continue;
    const auto labels_end = line.find('}');
    const auto labels = line.substr(prefix.size(), labels_end - prefix.size());
    auto label = [&](const std::string& name) {
      const auto at = labels.find(name + "=\"");
      if (at == std::string::npos) return std::string();
      const auto start = at + name.size() + 2;
      return labels.substr(start, labels.find('"', start) - start);
    };
    const auto le = label("le");
    const double bound = le == "+Inf" ? std::numeric_limits<double>::infinity() : std::stod(le);
    out[label("projection")][bound] = std::stod(line.substr(labels_end + 2));
  }
  return out;
}

struct lag_figure {
  std::string projection;
  double events = 0;
  double p50_ms = 0;  // upper bounds of the buckets the quantiles fall in
  double p99_ms = 0;
};

std::vector<lag_figure> lag_between(const delay_buckets& before, const delay_buckets& after) {
  std::vector<lag_figure> out;
  for (const auto& [projection, buckets] : after) {
    std::map<double, double> delta;
    for (const auto& [bound, count] : buckets) {
      double earlier = 0;
      if (auto p = before.find(projection); p != before.end()) {
        if (auto b = p->second.find(bound); b != p->second.end()) earlier = b->second;
      }
      delta[bound] = count - earlier;
    }
    const double total = delta.empty() ? 0 : delta.rbegin()->second;
    lag_figure f{projection, total, 0, 0};
    auto quantile = [&](double q) {
      for (const auto& [bound, count] : delta) {
        if (count >= q * total) return bound * 1e3;
      }
      return std::numeric_limits<double>::infinity();
    };
    if (total > 0) {
      f.p50_ms = quantile(0.50);
      f.p99_ms = quantile(0.99);
    }
    out.push_back(f);
  }
  return out;
}

void write_report(const settings& s, const std::vector<case_result>& results,
                  const std::vector<lag_figure>& lags) {
  rapidjson::StringBuffer buffer;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buffer);
  w.StartObject();
  w.Key("benchmark");
  w.String("http");
  w.Key("backend");
  w.String(s.backend.c_str());
  w.Key("connections");
  w.Int(s.connections);
  w.Key("deals");
  w.Int(s.deals);
  w.Key("cases");
  w.StartArray();
  for (const auto& r : results) {
    w.StartObject();
    w.Key("case");
    w.String(r.name.c_str());
    w.Key("seconds");
    w.Double(r.seconds);
    w.Key("requests");
    w.Int64(r.requests);
    w.Key("ok");
    w.Int64(r.ok);
    w.Key("requests_per_second");
    w.Double(r.rps);
    w.Key("p50_ms");
    w.Double(r.p50);
    w.Key("p99_ms");
    w.Double(r.p99);
    w.Key("p999_ms");
    w.Double(r.p999);
    w.Key("max_ms");
    w.Double(r.max);
    w.Key("transport_errors");
    w.Int64(r.errors);
    w.Key("statuses");
    w.StartObject();
    for (const auto& [status, n] : r.statuses) {
      w.Key(std::to_string(status).c_str());
      w.Int64(n);
    }
    w.EndObject();
    w.EndObject();
  }
  w.EndArray();
  // Under the move_stage load: from an event's commit to its read models' commit.
  w.Key("projection_lag");
  w.StartArray();
  for (const auto& l : lags) {
    w.StartObject();
    w.Key("projection");
    w.String(l.projection.c_str());
    w.Key("events");
    w.Double(l.events);
    w.Key("p50_ms_at_most");
    w.Double(l.p50_ms);
    w.Key("p99_ms_at_most");
    w.Double(l.p99_ms);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  std::filesystem::create_directories(std::filesystem::path(s.out).parent_path());
  std::ofstream(s.out) << buffer.GetString() << "\n";
}

}  // namespace

int main(int argc, char** argv) {
  settings s;
  try {
    for (int i = 1; i < argc; ++i) {
      const std::string a = argv[i];
      auto next = [&]() -> std::string {
        if (i + 1 >= argc) throw std::runtime_error(a + " needs a value");
        return argv[++i];
      };
      if (a == "--host") {
        s.host = next();
      } else if (a == "--port") {
        s.port = next();
      } else if (a == "--email") {
        s.email = next();
      } else if (a == "--password") {
        s.password = next();
      } else if (a == "--backend") {
        s.backend = next();
      } else if (a == "--connections") {
        s.connections = std::stoi(next());
      } else if (a == "--deals") {
        s.deals = std::stoi(next());
      } else if (a == "--seconds") {
        s.seconds = std::stod(next());
      } else if (a == "--warmup") {
        s.warmup = std::stod(next());
      } else if (a == "--out") {
        s.out = next();
      } else {
        throw std::runtime_error("unknown argument " + a);
      }
    }
    if (s.email.empty() || s.password.empty()) throw std::runtime_error("--email and --password");

    net::io_context io;
    auto f = set_up(io, s);
    std::vector<case_result> results;
    const auto delays_before = scrape_delays(io, s);
    results.push_back(run_case(s, f, workload::move_stage, "move_stage"));
    const auto lags = lag_between(delays_before, scrape_delays(io, s));
    results.push_back(run_case(s, f, workload::get_deal, "get_deal"));
    std::printf("%-8s %-11s %6s %10s %8s %8s %8s %8s  statuses\n", "backend", "case", "conns",
                "req/s", "p50 ms", "p99 ms", "p999 ms", "max ms");
    for (const auto& r : results) {
      std::string statuses;
      for (const auto& [status, n] : r.statuses) {
        statuses += std::to_string(status) + ":" + std::to_string(n) + " ";
      }
      std::printf("%-8s %-11s %6d %10.0f %8.2f %8.2f %8.2f %8.2f  %s\n", s.backend.c_str(),
                  r.name.c_str(), s.connections, r.rps, r.p50, r.p99, r.p999, r.max,
                  statuses.c_str());
    }
    for (const auto& l : lags) {
      if (l.events == 0) continue;
      std::printf(
          "%-8s projection %-10s lag under move_stage: p50 <= %.1f ms, p99 <= %.1f ms "
          "(%.0f events)\n",
          s.backend.c_str(), l.projection.c_str(), l.p50_ms, l.p99_ms, l.events);
    }
    write_report(s, results, lags);
    std::printf("wrote %s\n", s.out.c_str());
  } catch (const std::exception& e) {
    std::cerr << "realmkit_bench_http: " << e.what() << "\n";
    return 1;
  }
}
