#include "api/router.hpp"

#include <algorithm>
#include <set>
#include <stdexcept>

#include "api/error_mapping.hpp"

namespace realmkit::api {
namespace {

bool is_param_name(std::string_view s) {
  if (s.empty() || !((s[0] >= 'a' && s[0] <= 'z') || s[0] == '_')) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

bool is_literal_segment(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~' || c == ':';
  });
}

bool is_method(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
}

bool is_route_name(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
  });
}

// "/a/b" → {"a", "b"}; "/" → {}. Empty segments are kept ("/a/" → {"a", ""}).
std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> out;
  if (path.size() <= 1) return out;
  std::size_t start = 1;
  for (;;) {
    const auto slash = path.find('/', start);
    out.push_back(path.substr(
        start, slash == std::string_view::npos ? std::string_view::npos : slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return out;
}

}  // namespace

struct router::node {
  std::map<std::string, std::unique_ptr<node>, std::less<>> literals;
  std::unique_ptr<node> param;
  std::string param_name;
  std::map<std::string, const route*, std::less<>> methods;
};

router::router() : root_(std::make_unique<node>()) {}
router::~router() = default;
router::router(router&&) noexcept = default;
router& router::operator=(router&&) noexcept = default;

const route& router::add(route r) {
  const std::string where = r.method + " " + r.pattern;
  if (!is_method(r.method)) throw std::invalid_argument("route " + where + ": bad method");
  if (!is_route_name(r.name)) {
    throw std::invalid_argument("route " + where + ": name must be [a-z0-9._-]+");
  }
  if (!r.handle) throw std::invalid_argument("route " + where + ": no handler");
  if (r.pattern.empty() || r.pattern.front() != '/') {
    throw std::invalid_argument("route " + where + ": pattern must start with '/'");
  }
  for (const auto& existing : routes_) {
    if (existing.name == r.name) throw std::invalid_argument("route name used twice: " + r.name);
  }
  // Validate the whole pattern before touching the tree, so a refused route leaves no trace.
  const auto segments = split_path(r.pattern);
  std::set<std::string_view> names;
  for (const auto segment : segments) {
    if (segment.size() >= 2 && segment.front() == '{' && segment.back() == '}') {
      const auto name = segment.substr(1, segment.size() - 2);
      if (!is_param_name(name)) {
        throw std::invalid_argument("route " + where + ": bad parameter name");
      }
      if (!names.insert(name).second) {
        throw std::invalid_argument("route " + where + ": parameter used twice");
      }
    } else if (!is_literal_segment(segment)) {
      throw std::invalid_argument("route " + where + ": bad segment '" + std::string(segment) +
                                  "'");
    }
  }
  // Check the parameter names along the existing tree before creating anything.
  const node* probe = root_.get();
  for (const auto segment : segments) {
    if (!probe) break;
    if (segment.front() == '{') {
      const auto name = segment.substr(1, segment.size() - 2);
      if (probe->param && probe->param->param_name != name) {
        throw std::invalid_argument("route " + where + ": parameter {" + std::string(name) +
                                    "} where another route has {" + probe->param->param_name + "}");
      }
      probe = probe->param.get();
    } else {
      const auto it = probe->literals.find(segment);
      probe = it == probe->literals.end() ? nullptr : it->second.get();
    }
  }
  if (probe && probe->methods.contains(r.method)) {
    throw std::invalid_argument("route " + where + " added twice");
  }

  node* at = root_.get();
  for (const auto segment : segments) {
    if (segment.front() == '{') {
      if (!at->param) {
        at->param = std::make_unique<node>();
        at->param->param_name = std::string(segment.substr(1, segment.size() - 2));
      }
      at = at->param.get();
    } else {
      auto& child = at->literals[std::string(segment)];
      if (!child) child = std::make_unique<node>();
      at = child.get();
    }
  }
  routes_.push_back(std::move(r));
  at->methods.emplace(routes_.back().method, &routes_.back());
  return routes_.back();
}

route_match router::match(std::string_view method, std::string_view path) const {
  route_match out;
  const auto raw = split_path(path);
  std::vector<std::string> segments;
  segments.reserve(raw.size());
  for (const auto s : raw) {
    auto decoded = percent_decode(s, false);
    if (!decoded) {
      out.result = route_match::kind::bad_path;
      return out;
    }
    segments.push_back(std::move(*decoded));
  }

  // Depth-first, literals before the parameter: every node the path reaches, in precedence order.
  struct candidate {
    const node* at;
    std::vector<std::pair<const std::string*, const std::string*>> params;  // name, value
  };
  std::vector<candidate> matches;
  std::vector<std::pair<const std::string*, const std::string*>> params;
  auto walk = [&](auto& self, const node* at, std::size_t i) -> void {
    if (i == segments.size()) {
      if (!at->methods.empty()) matches.push_back({at, params});
      return;
    }
    if (const auto it = at->literals.find(segments[i]); it != at->literals.end()) {
      self(self, it->second.get(), i + 1);
    }
    if (at->param && !segments[i].empty()) {
      params.emplace_back(&at->param->param_name, &segments[i]);
      self(self, at->param.get(), i + 1);
      params.pop_back();
    }
  };
  walk(walk, root_.get(), 0);
  if (matches.empty()) {
    out.result = route_match::kind::not_found;
    return out;
  }

  std::set<std::string> allowed;
  for (const auto& c : matches) {
    for (const auto& [m, r] : c.at->methods) allowed.insert(m);
  }
  if (allowed.contains("GET")) allowed.insert("HEAD");
  allowed.insert("OPTIONS");
  for (const auto& m : allowed) {
    if (!out.allow.empty()) out.allow += ", ";
    out.allow += m;
  }

  auto take = [&](const candidate& c, const route* r) {
    out.result = route_match::kind::found;
    out.matched = r;
    for (const auto& [name, value] : c.params) out.params.emplace(*name, *value);
  };
  for (const auto& c : matches) {
    if (const auto it = c.at->methods.find(method); it != c.at->methods.end()) {
      take(c, it->second);
      return out;
    }
  }
  if (method == "HEAD") {
    for (const auto& c : matches) {
      if (const auto it = c.at->methods.find("GET"); it != c.at->methods.end()) {
        take(c, it->second);
        return out;
      }
    }
  }
  out.result =
      method == "OPTIONS" ? route_match::kind::options : route_match::kind::method_not_allowed;
  return out;
}

http_response router::dispatch(http_request request) const {
  auto m = match(request.method, request.path);
  switch (m.result) {
    case route_match::kind::found:
      break;
    case route_match::kind::options: {
      auto r = http_response::empty(204);
      r.headers.emplace("Allow", m.allow);
      return r;
    }
    case route_match::kind::method_not_allowed: {
      auto p = make_problem(problem_kind::method_not_allowed,
                            request.method + " is not allowed on " + request.path);
      p.headers.emplace("Allow", m.allow);
      return to_response(std::move(p), request.request_id);
    }
    case route_match::kind::not_found:
      return to_response(make_problem(problem_kind::route_not_found), request.request_id);
    case route_match::kind::bad_path:
      return to_response(make_problem(problem_kind::malformed_request, "malformed path escape"),
                         request.request_id);
  }
  request.path_params = std::move(m.params);
  request.route_name = m.matched->name;
  try {
    return m.matched->handle(request);
  } catch (...) {
    return to_response(problem_for_current_exception(request.request_id), request.request_id);
  }
}

}  // namespace realmkit::api
