#include "infra/metrics.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <stdexcept>
#include <variant>

namespace realmkit::infra {
namespace {

enum metric_type { kCounter, kGauge, kHistogram };

constexpr std::array<std::string_view, 3> kTypeNames{"counter", "gauge", "histogram"};

constexpr std::array<double, 14> kLatencyBuckets{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                 0.1,    0.25,  0.5,    1,     2.5,  5,     10};

bool is_metric_name(std::string_view s) {
  if (s.empty()) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

bool is_label_name(std::string_view s) {
  if (s.empty() || s.starts_with("__") || s == "le") return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

// Exposition escaping: HELP escapes backslash and newline; label values also escape quotes.
void append_escaped(std::string& out, std::string_view s, bool quote) {
  for (const char c : s) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else if (quote && c == '"')
      out += "\\\"";
    else
      out += c;
  }
}

void append_number(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "NaN";
  } else if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
  } else {
    char buf[32];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, r.ptr);
  }
}

void append_number(std::string& out, std::uint64_t v) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

void append_labels(std::string& out, const metric_labels& labels, const char* le = nullptr) {
  if (labels.empty() && !le) return;
  out += '{';
  bool first = true;
  for (const auto& [name, value] : labels) {
    if (!first) out += ',';
    first = false;
    out += name;
    out += "=\"";
    append_escaped(out, value, true);
    out += '"';
  }
  if (le) {
    if (!first) out += ',';
    out += "le=\"";
    out += le;
    out += '"';
  }
  out += '}';
}

metric_labels sorted_labels(metric_labels labels) {
  std::sort(labels.begin(), labels.end());
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (!is_label_name(labels[i].first)) {
      throw std::invalid_argument("invalid metric label name: " + labels[i].first);
    }
    if (i > 0 && labels[i].first == labels[i - 1].first) {
      throw std::invalid_argument("duplicate metric label: " + labels[i].first);
    }
  }
  return labels;
}

}  // namespace

// ---- histogram ----

histogram::histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)),
      buckets_(std::make_unique<std::atomic<std::uint64_t>[]>(bounds_.size() + 1)) {
  if (!std::is_sorted(bounds_.begin(), bounds_.end()) ||
      std::adjacent_find(bounds_.begin(), bounds_.end()) != bounds_.end()) {
    throw std::invalid_argument("histogram bounds must be strictly ascending");
  }
}

void histogram::observe(double v) {
  const auto it = std::lower_bound(bounds_.begin(), bounds_.end(), v);
  buckets_[static_cast<std::size_t>(it - bounds_.begin())].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
}

histogram::snapshot histogram::read() const {
  snapshot s;
  s.bounds = bounds_;
  std::uint64_t running = 0;
  for (std::size_t i = 0; i <= bounds_.size(); ++i) {
    running += buckets_[i].load(std::memory_order_relaxed);
    s.cumulative.push_back(running);
  }
  // Buckets, sum and count are read one after the other while observations continue; the
  // exposition must stay self-consistent (+Inf == count), so the count is the bucket total.
  s.count = running;
  s.sum = sum_.load(std::memory_order_relaxed);
  return s;
}

std::span<const double> latency_buckets() {
  return kLatencyBuckets;
}

// ---- registry ----

struct metrics_registry::family {
  int type = kCounter;
  std::string help;
  std::vector<std::string> label_names;
  std::vector<double> buckets;
  struct callback {
    std::uint64_t id;
    std::function<double()> read;
  };
  using series = std::variant<std::unique_ptr<counter>, std::unique_ptr<gauge>,
                              std::unique_ptr<histogram>, callback>;
  std::map<metric_labels, series> members;
};

metric_callback& metric_callback::operator=(metric_callback&& other) noexcept {
  if (this != &other) {
    if (registry_) registry_->remove_callback(id_);
    registry_ = std::exchange(other.registry_, nullptr);
    id_ = std::exchange(other.id_, 0);
  }
  return *this;
}

metric_callback::~metric_callback() {
  if (registry_) registry_->remove_callback(id_);
}

metrics_registry::metrics_registry() = default;
metrics_registry::~metrics_registry() = default;

metrics_registry::family& metrics_registry::family_for(std::string_view name, std::string_view help,
                                                       int type, const metric_labels& labels,
                                                       std::span<const double> buckets) {
  if (!is_metric_name(name))
    throw std::invalid_argument("invalid metric name: " + std::string(name));
  std::vector<std::string> label_names;
  for (const auto& l : labels) label_names.push_back(l.first);
  auto it = families_.find(name);
  if (it == families_.end()) {
    auto f = std::make_unique<family>();
    f->type = type;
    f->help = std::string(help);
    f->label_names = std::move(label_names);
    f->buckets.assign(buckets.begin(), buckets.end());
    it = families_.emplace(std::string(name), std::move(f)).first;
    return *it->second;
  }
  family& f = *it->second;
  const std::string n(name);
  if (f.type != type) throw std::invalid_argument("metric " + n + " registered with another type");
  if (f.help != help) throw std::invalid_argument("metric " + n + " registered with another help");
  if (f.label_names != label_names) {
    throw std::invalid_argument("metric " + n + " registered with other label names");
  }
  if (!std::equal(f.buckets.begin(), f.buckets.end(), buckets.begin(), buckets.end())) {
    throw std::invalid_argument("metric " + n + " registered with other buckets");
  }
  return f;
}

counter& metrics_registry::counter_for(std::string_view name, std::string_view help,
                                       metric_labels labels) {
  labels = sorted_labels(std::move(labels));
  std::lock_guard lock(mutex_);
  auto& f = family_for(name, help, kCounter, labels, {});
  auto [it, inserted] = f.members.try_emplace(std::move(labels));
  if (inserted) it->second = std::make_unique<counter>();
  return *std::get<std::unique_ptr<counter>>(it->second);
}

gauge& metrics_registry::gauge_for(std::string_view name, std::string_view help,
                                   metric_labels labels) {
  labels = sorted_labels(std::move(labels));
  std::lock_guard lock(mutex_);
  auto& f = family_for(name, help, kGauge, labels, {});
  auto [it, inserted] = f.members.try_emplace(std::move(labels));
  if (inserted) it->second = std::make_unique<gauge>();
  if (!std::holds_alternative<std::unique_ptr<gauge>>(it->second)) {
    throw std::invalid_argument("metric " + std::string(name) + " is a computed gauge");
  }
  return *std::get<std::unique_ptr<gauge>>(it->second);
}

histogram& metrics_registry::histogram_for(std::string_view name, std::string_view help,
                                           std::span<const double> buckets, metric_labels labels) {
  labels = sorted_labels(std::move(labels));
  std::lock_guard lock(mutex_);
  auto& f = family_for(name, help, kHistogram, labels, buckets);
  auto [it, inserted] = f.members.try_emplace(std::move(labels));
  if (inserted) {
    it->second = std::make_unique<histogram>(std::vector<double>(buckets.begin(), buckets.end()));
  }
  return *std::get<std::unique_ptr<histogram>>(it->second);
}

metric_callback metrics_registry::gauge_callback(std::string_view name, std::string_view help,
                                                 metric_labels labels,
                                                 std::function<double()> read) {
  labels = sorted_labels(std::move(labels));
  std::lock_guard lock(mutex_);
  auto& f = family_for(name, help, kGauge, labels, {});
  const auto id = next_callback_id_++;
  auto [it, inserted] = f.members.try_emplace(std::move(labels));
  if (!inserted) {
    throw std::invalid_argument("metric " + std::string(name) + " already has these labels");
  }
  it->second = family::callback{id, std::move(read)};
  return metric_callback(this, id);
}

void metrics_registry::remove_callback(std::uint64_t id) {
  std::lock_guard lock(mutex_);
  for (auto& [name, f] : families_) {
    for (auto it = f->members.begin(); it != f->members.end(); ++it) {
      const auto* cb = std::get_if<family::callback>(&it->second);
      if (cb && cb->id == id) {
        f->members.erase(it);
        return;
      }
    }
  }
}

std::string metrics_registry::expose() const {
  std::string out;
  out.reserve(8192);
  // Callbacks run under the lock so that none is unregistered (and its object destroyed) midway.
  std::lock_guard lock(mutex_);
  for (const auto& [name, f] : families_) {
    out += "# HELP ";
    out += name;
    out += ' ';
    append_escaped(out, f->help, false);
    out += "\n# TYPE ";
    out += name;
    out += ' ';
    out += kTypeNames[static_cast<std::size_t>(f->type)];
    out += '\n';
    for (const auto& [labels, member] : f->members) {
      if (const auto* c = std::get_if<std::unique_ptr<counter>>(&member)) {
        out += name;
        append_labels(out, labels);
        out += ' ';
        append_number(out, (*c)->value());
        out += '\n';
      } else if (const auto* g = std::get_if<std::unique_ptr<gauge>>(&member)) {
        out += name;
        append_labels(out, labels);
        out += ' ';
        append_number(out, (*g)->value());
        out += '\n';
      } else if (const auto* cb = std::get_if<family::callback>(&member)) {
        out += name;
        append_labels(out, labels);
        out += ' ';
        append_number(out, cb->read());
        out += '\n';
      } else {
        const auto s = std::get<std::unique_ptr<histogram>>(member)->read();
        for (std::size_t i = 0; i <= s.bounds.size(); ++i) {
          std::string le;
          if (i < s.bounds.size()) {
            append_number(le, s.bounds[i]);
          } else {
            le = "+Inf";
          }
          out += name;
          out += "_bucket";
          append_labels(out, labels, le.c_str());
          out += ' ';
          append_number(out, s.cumulative[i]);
          out += '\n';
        }
        out += name;
        out += "_sum";
        append_labels(out, labels);
        out += ' ';
        append_number(out, s.sum);
        out += '\n';
        out += name;
        out += "_count";
        append_labels(out, labels);
        out += ' ';
        append_number(out, s.count);
        out += '\n';
      }
    }
  }
  return out;
}

}  // namespace realmkit::infra
