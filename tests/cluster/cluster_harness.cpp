#include "tests/cluster/cluster_harness.hpp"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iostream>
#include <sstream>
#include <thread>

#include "infra/crypto/encoding.hpp"
#include "infra/crypto/random.hpp"
#include "projections/registry.hpp"
#include "tests/infra/postgres_test_support.hpp"

extern char** environ;

namespace realmkit::testing::cluster {
namespace {

// Set by the listener below for every failed assertion of the running test case, so that the
// harness's destructor knows whether to print the logs (CHECK failures throw nothing).
std::atomic<bool> failed_in_test{false};

struct failure_listener : doctest::IReporter {
  explicit failure_listener(const doctest::ContextOptions&) {}
  void report_query(const doctest::QueryData&) override {}
  void test_run_start() override {}
  void test_run_end(const doctest::TestRunStats&) override {}
  void test_case_start(const doctest::TestCaseData&) override { failed_in_test = false; }
  void test_case_reenter(const doctest::TestCaseData&) override {}
  void test_case_end(const doctest::CurrentTestCaseStats&) override {}
  void test_case_exception(const doctest::TestCaseException&) override { failed_in_test = true; }
  void subcase_start(const doctest::SubcaseSignature&) override {}
  void subcase_end() override {}
  void log_assert(const doctest::AssertData& a) override {
    if (a.m_failed) failed_in_test = true;
  }
  void log_message(const doctest::MessageData&) override {}
  void test_case_skipped(const doctest::TestCaseData&) override {}
};
DOCTEST_REGISTER_LISTENER("cluster_failures", 1, failure_listener);

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Polls `condition` until it holds or the deadline passes.
bool wait_for(const std::function<bool()>& condition, std::chrono::milliseconds timeout,
              std::chrono::milliseconds every = 20ms) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(every);
  }
}

int exit_status_of(int raw) {
  if (WIFEXITED(raw)) return WEXITSTATUS(raw);
  if (WIFSIGNALED(raw)) return 128 + WTERMSIG(raw);
  return -1;
}

// fork + exec with the output in `log`. The child asks the kernel to kill it when this process
// dies, so a test runner that kills the test leaves no cluster behind. Everything the child runs
// between fork and exec is async-signal-safe.
pid_t spawn(const std::vector<std::string>& argv, const std::vector<std::string>& env,
            const std::filesystem::path& log, const std::filesystem::path& input = {}) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<char*> envp;
  for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  const int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  REQUIRE_MESSAGE(out >= 0, "cannot open " << log);
  const int in = ::open(input.empty() ? "/dev/null" : input.c_str(), O_RDONLY | O_CLOEXEC);
  REQUIRE(in >= 0);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    ::dup2(in, STDIN_FILENO);
    ::dup2(out, STDOUT_FILENO);
    ::dup2(out, STDERR_FILENO);
    // Signals blocked by this process's threads must not stay blocked in the child.
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execve(args[0], args.data(), envp.data());
    ::_exit(127);
  }
  ::close(out);
  ::close(in);
  REQUIRE_MESSAGE(pid > 0, "fork failed");
  return pid;
}

std::vector<std::string> child_environment(const std::vector<std::string>& extra) {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string_view entry(*e);
    // The cluster's settings come from flags; the caller's environment must not add others.
    if (entry.starts_with("REALMKIT_") && !entry.starts_with("REALMKIT_TEST_")) continue;
    env.emplace_back(entry);
  }
  for (const auto& e : extra) env.push_back(e);
  return env;
}

std::string tail(const std::string& text, std::size_t lines) {
  std::size_t pos = text.size();
  for (std::size_t n = 0; n <= lines && pos > 0; ++n) {
    pos = text.rfind('\n', pos - 1);
    if (pos == std::string::npos) return text;
  }
  return text.substr(pos + 1);
}

}  // namespace

bool current_test_failed() {
  return failed_in_test.load();
}

// ---- node ----

node::node(std::string name, std::string roles, std::filesystem::path log,
           const std::vector<std::string>& argv, const std::vector<std::string>& env)
    : name_(std::move(name)), roles_(std::move(roles)), log_(std::move(log)) {
  pid_ = spawn(argv, env, log_);
}

node::~node() {
  if (!status_) {
    ::kill(pid_, SIGKILL);
    int raw = 0;
    if (::waitpid(pid_, &raw, 0) == pid_) status_ = exit_status_of(raw);
  }
}

bool node::reap() {
  if (status_) return true;
  int raw = 0;
  const pid_t r = ::waitpid(pid_, &raw, WNOHANG);
  if (r == pid_) {
    status_ = exit_status_of(raw);
    return true;
  }
  return false;
}

bool node::running() {
  return !reap();
}

std::uint16_t node::port() {
  if (port_ != 0) return port_;
  // serve binds port 0 and logs "listening on http://127.0.0.1:<port> (roles: …)".
  const auto text = slurp(log_);
  const std::string marker = "listening on http://127.0.0.1:";
  const auto at = text.find(marker);
  if (at == std::string::npos) return 0;
  const auto digits = at + marker.size();
  const auto end = text.find_first_not_of("0123456789", digits);
  if (end == std::string::npos || end == digits) return 0;
  port_ = static_cast<std::uint16_t>(std::stoi(text.substr(digits, end - digits)));
  return port_;
}

bool node::wait_ready(std::chrono::milliseconds timeout) {
  return wait_for(
      [&] {
        if (!running() || port() == 0) return false;
        try {
          return get("/readyz").status == 200;
        } catch (const std::exception&) {
          return false;
        }
      },
      timeout, 50ms);
}

void node::kill() {
  if (status_) return;
  ::kill(pid_, SIGKILL);
  int raw = 0;
  REQUIRE(::waitpid(pid_, &raw, 0) == pid_);
  status_ = exit_status_of(raw);
}

int node::stop(std::chrono::milliseconds timeout) {
  if (status_) return *status_;
  ::kill(pid_, SIGTERM);
  if (!wait_for([&] { return reap(); }, timeout)) {
    MESSAGE(name_ << " did not stop within " << timeout.count() << " ms of SIGTERM: killed");
    kill();
  }
  return *status_;
}

test::http_reply node::get(const std::string& target) {
  test::http_connection c(port());
  return c.request("GET", target);
}

std::optional<double> node::metric(const std::string& name,
                                   const std::vector<std::string>& labels) {
  std::string body;
  try {
    body = get("/metrics").body;
  } catch (const std::exception&) {
    return std::nullopt;
  }
  std::istringstream lines(body);
  std::string line;
  while (std::getline(lines, line)) {
    if (!line.starts_with(name + "{") && !line.starts_with(name + " ")) continue;
    const bool all = std::all_of(labels.begin(), labels.end(), [&](const std::string& l) {
      return line.find(l) != std::string::npos;
    });
    if (!all) continue;
    const auto space = line.rfind(' ');
    return std::stod(line.substr(space + 1));
  }
  return std::nullopt;
}

// ---- cluster_harness ----

cluster_harness::cluster_harness(harness_options options) : options_(std::move(options)) {
  std::string templ = (std::filesystem::temp_directory_path() / "rk_cluster_XXXXXX").string();
  REQUIRE(::mkdtemp(templ.data()) != nullptr);
  dir_ = templ;

  // A database of its own: the binary keeps everything in the public schema.
  const auto server = postgres_test_url();
  database_name_ = "rk_cluster_" + infra::crypto::hex_encode(infra::crypto::random_bytes(6));
  {
    pqxx::connection c(server);
    pqxx::nontransaction(c).exec("CREATE DATABASE " + database_name_);
  }
  database_url_ = server.substr(0, server.rfind('/') + 1) + database_name_;

  if (options_.private_redis) redis_ = std::make_unique<private_redis_server>();
  // Every API and hub process must verify the tokens the others sign.
  jwt_keys_ = "cluster=" + infra::crypto::base64url_encode(infra::crypto::random_bytes(32));

  kafka_ = std::make_unique<infra::kafka::mock_cluster>(options_.kafka_brokers);
  brokers_ = kafka_->bootstrap_servers();
  // The mock cluster answers no CreateTopics: the topic exists before the relay looks.
  kafka_->create_topic(topic_, options_.partitions, 1);

  run({"migrate"});
  run({"demo", "--password", options_.password});
  db_ = std::make_unique<pqxx::connection>(database_url_);
}

cluster_harness::~cluster_harness() {
  const bool failed = current_test_failed() || std::uncaught_exceptions() > 0;
  for (auto& n : nodes_) {
    if (n->running()) n->kill();
  }
  if (failed) {
    print_logs();
    std::cerr << "cluster logs kept in " << dir_ << "\n";
  }
  nodes_.clear();
  db_.reset();
  try {
    pqxx::connection c(postgres_test_url());
    pqxx::nontransaction(c).exec("DROP DATABASE IF EXISTS " + database_name_ + " WITH (FORCE)");
  } catch (const std::exception&) {
    // A leftover database of a random name harms nothing.
  }
  if (!failed) {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
}

std::string cluster_harness::redis_url() const {
  return redis_ ? redis_->url() : redis_test_url();
}

private_redis_server& cluster_harness::private_redis() {
  REQUIRE(redis_);
  return *redis_;
}

std::string cluster_harness::run(std::vector<std::string> args, std::chrono::milliseconds timeout) {
  static std::atomic<int> runs{0};
  const auto out = dir_ / ("cli-" + std::to_string(++runs) + "-" + args.front() + ".log");
  std::vector<std::string> argv = {REALMKIT_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  for (const auto& f : {"--database-url", database_url_.c_str(), "--log-format", "json"}) {
    argv.emplace_back(f);
  }
  const pid_t pid = spawn(argv, child_environment({}), out);
  int raw = 0;
  const bool done = wait_for([&] { return ::waitpid(pid, &raw, WNOHANG) == pid; }, timeout);
  if (!done) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &raw, 0);
  }
  const auto text = slurp(out);
  REQUIRE_MESSAGE(done, "realmkit " << args.front() << " did not finish:\n" << tail(text, 40));
  REQUIRE_MESSAGE(exit_status_of(raw) == 0, "realmkit " << args.front() << " failed:\n"
                                                        << tail(text, 40));
  return text;
}

node& cluster_harness::start(const std::string& name, const std::string& roles,
                             const std::vector<std::string>& extra) {
  std::vector<std::string> argv = {REALMKIT_BINARY,
                                   "serve",
                                   "--roles",
                                   roles,
                                   "--database-url",
                                   database_url_,
                                   "--kafka-brokers",
                                   brokers_,
                                   "--kafka-topic",
                                   topic_,
                                   "--kafka-partitions",
                                   std::to_string(options_.partitions),
                                   "--redis-url",
                                   redis_url(),
                                   "--unsafe-durability",
                                   "--host",
                                   "127.0.0.1",
                                   "--port",
                                   "0",
                                   "--log-format",
                                   "json",
                                   "--no-rate-limits",
                                   "--io-threads",
                                   "2",
                                   "--db-threads",
                                   "4"};
  if (roles.find("projector") != std::string::npos) {
    // A member that died is replaced after the session timeout: keep it short for the tests
    // (librdkafka's mock cluster never assigns with less than about 4 s).
    argv.insert(argv.end(), {"--kafka-property", "session.timeout.ms=6000"});
  }
  if (roles.find("relay") != std::string::npos) {
    // librdkafka's mock cluster checks the sequence numbers of transactional producers only
    // (rd_kafka_mock_validate_records), so it accepts an idempotent producer's request while an
    // earlier one to the same partition failed. A real broker refuses it as out of order. With
    // requests pipelined, the earlier one's retry then lands after it; and when the earlier one
    // failed with its fate unknown (a timeout), librdkafka takes the later success as proof that
    // the broker stored it, as a real broker would have, and acknowledges events the mock never
    // stored. One request in flight per broker keeps the mock honest.
    argv.insert(argv.end(), {"--kafka-property", "max.in.flight.requests.per.connection=1"});
  }
  argv.insert(argv.end(), extra.begin(), extra.end());
  int same = 0;
  for (const auto& n : nodes_) same += n->name() == name;
  const auto log = dir_ / (name + (same ? "-" + std::to_string(same + 1) : "") + ".log");
  nodes_.push_back(std::make_unique<node>(name, roles, log, argv,
                                          child_environment({"REALMKIT_JWT_KEYS=" + jwt_keys_})));
  return *nodes_.back();
}

void cluster_harness::wait_ready(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (auto& n : nodes_) {
    if (n->exit_status()) continue;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    const bool ready = n->wait_ready(std::max(left, 1ms));
    REQUIRE_MESSAGE(ready, n->name() << " (" << n->roles() << ") is not ready"
                                     << (n->running() ? "" : " and exited") << ":\n"
                                     << tail(slurp(n->log_path()), 30));
  }
}

node& cluster_harness::by_name(const std::string& name) {
  for (auto it = nodes_.rbegin(); it != nodes_.rend(); ++it) {
    if ((*it)->name() == name) return **it;
  }
  FAIL("no node is named " << name);
  throw std::logic_error("unreachable");
}

std::vector<node*> cluster_harness::with_role(const std::string& role) {
  std::vector<node*> out;
  for (auto& n : nodes_) {
    if (n->roles().find(role) != std::string::npos && n->running()) out.push_back(n.get());
  }
  return out;
}

void cluster_harness::stop_all() {
  for (auto& n : nodes_) {
    if (!n->running()) continue;
    ::kill(n->pid(), SIGTERM);  // all at once: they shut down in parallel
  }
  for (auto& n : nodes_) {
    if (n->exit_status()) continue;
    const int status = n->stop(60s);
    CHECK_MESSAGE(status == 0, n->name() << " exited with " << status << " after SIGTERM:\n"
                                         << tail(slurp(n->log_path()), 30));
  }
}

std::int64_t cluster_harness::query_int(const std::string& sql) {
  pqxx::nontransaction tx(*db_);
  const auto rows = tx.exec(sql);
  if (rows.empty() || rows[0][0].is_null()) return 0;
  return rows[0][0].as<std::int64_t>();
}

bool cluster_harness::wait_projected(std::int64_t position, std::chrono::milliseconds timeout) {
  const auto projections = static_cast<std::int64_t>(projections::all_projections().size());
  return wait_for(
      [&] {
        return query_int(
                   "SELECT COUNT(*) FROM projection_generations WHERE state = 'live' AND "
                   "position >= " +
                   std::to_string(position)) == projections;
      },
      timeout, 50ms);
}

bool cluster_harness::wait_relayed(std::int64_t position, std::chrono::milliseconds timeout) {
  return wait_for(
      [&] {
        return query_int("SELECT COALESCE(MAX(position), 0) FROM relay_checkpoints") >= position;
      },
      timeout, 50ms);
}

void cluster_harness::print_logs(std::size_t lines) const {
  for (const auto& n : nodes_) {
    std::cerr << "==== " << n->name() << " (" << n->roles() << "), pid " << n->pid() << ", exit "
              << (n->exit_status() ? std::to_string(*n->exit_status()) : "-") << ", "
              << n->log_path() << " ====\n"
              << tail(slurp(n->log_path()), lines) << "\n";
  }
}

}  // namespace realmkit::testing::cluster
