#include "api/static_files.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <stdexcept>
#include <utility>
#include <vector>

namespace realmkit::api {
namespace {

namespace fs = std::filesystem;

struct static_file {
  std::string body;
  std::string content_type;
  std::string etag;
};

constexpr std::array<std::pair<std::string_view, std::string_view>, 11> kTypes{{
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".svg", "image/svg+xml"},
    {".json", "application/json"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
    {".woff2", "font/woff2"},
    {".txt", "text/plain; charset=utf-8"},
    {".webmanifest", "application/manifest+json"},
}};

// Route names and literal path segments share these characters; anything else would need
// escaping in one of them.
bool is_plain_segment(std::string_view s) {
  return !s.empty() && s.front() != '.' && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
  });
}

// FNV-1a: a stable content hash, so that every process of a deployment gives a file the same
// ETag.
std::string etag_of(std::string_view body) {
  std::uint64_t h = 14695981039346656037ULL;
  for (unsigned char c : body) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  char out[24];
  std::snprintf(out, sizeof out, "\"%016llx\"", static_cast<unsigned long long>(h));
  return out;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::ostringstream s;
  s << in.rdbuf();
  return std::move(s).str();
}

bool etag_matches(const std::string& if_none_match, const std::string& etag) {
  if (if_none_match == "*") return true;
  // A list of tags, possibly weak (W/"…"): a weak comparison is what a GET revalidation uses.
  std::string_view rest = if_none_match;
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    auto tag = rest.substr(0, comma);
    while (!tag.empty() && tag.front() == ' ') tag.remove_prefix(1);
    while (!tag.empty() && tag.back() == ' ') tag.remove_suffix(1);
    if (tag.starts_with("W/")) tag.remove_prefix(2);
    if (tag == etag) return true;
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return false;
}

http_response answer(const static_file& file, const http_request& request) {
  http_response r;
  if (const auto* tags = request.header("If-None-Match"); tags && etag_matches(*tags, file.etag)) {
    r = http_response::empty(304);
  } else {
    r.status = 200;
    r.content_type = file.content_type;
    r.body = file.body;
  }
  r.headers.insert_or_assign("ETag", file.etag);
  r.headers.insert_or_assign("Cache-Control", "no-cache");
  r.headers.insert_or_assign("Content-Security-Policy", std::string(kWebContentSecurityPolicy));
  r.headers.insert_or_assign("Referrer-Policy", "no-referrer");
  r.headers.insert_or_assign("X-Frame-Options", "DENY");
  return r;
}

}  // namespace

std::optional<std::string_view> content_type_for(std::string_view file_name) {
  for (const auto& [extension, type] : kTypes) {
    if (file_name.size() > extension.size() && file_name.ends_with(extension)) return type;
  }
  return std::nullopt;
}

std::size_t add_static_routes(router& routes, const fs::path& root) {
  std::error_code ec;
  const auto base = fs::canonical(root, ec);
  if (ec || !fs::is_directory(base)) {
    throw std::runtime_error("the web root " + root.string() + " is not a readable folder");
  }
  std::vector<std::pair<std::string, fs::path>> found;  // URL path, file
  for (auto it = fs::recursive_directory_iterator(base, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    const auto relative = it->path().lexically_relative(base);
    bool plain = true;
    for (const auto& part : relative) plain = plain && is_plain_segment(part.string());
    if (!plain) {
      if (it->is_directory()) it.disable_recursion_pending();
      spdlog::debug("web: skipping {} (only [a-z0-9._-] names are served)", relative.string());
      continue;
    }
    if (!it->is_regular_file() || !content_type_for(relative.filename().string())) continue;
    // A link may lead anywhere; only what really lies under the root is served.
    const auto target = fs::canonical(it->path(), ec);
    if (ec) continue;
    const auto inside = target.lexically_relative(base);
    if (inside.empty() || *inside.begin() == "..") continue;
    found.emplace_back("/" + relative.generic_string(), it->path());
  }
  if (ec)
    throw std::runtime_error("cannot list the web root " + base.string() + ": " + ec.message());
  std::sort(found.begin(), found.end());

  std::size_t added = 0;
  std::set<std::string> names;
  auto add = [&](const std::string& pattern, std::string name,
                 std::shared_ptr<const static_file> file) {
    route r;
    r.method = "GET";
    r.pattern = pattern;
    r.name = std::move(name);
    r.blocking = false;  // answered from memory
    r.anonymous = true;  // the sign-in page and its scripts load before any session
    r.summary = "The browser UI: " + pattern;
    r.handle = [file = std::move(file)](const http_request& request) {
      return answer(*file, request);
    };
    routes.add(std::move(r));
  };
  for (const auto& [url, path] : found) {
    auto body = read_file(path);
    auto file = std::make_shared<const static_file>(static_file{
        .body = body, .content_type = std::string(*content_type_for(url)), .etag = etag_of(body)});
    std::string name = "web" + url;
    std::replace(name.begin(), name.end(), '/', '.');
    if (!names.insert(name).second) {  // "a/b.js" and "a.b.js" would share a route name
      spdlog::warn("web: skipping {}: its route name {} is taken", url, name);
      continue;
    }
    if (url == "/index.html") add("/", "web.index", file);
    add(url, std::move(name), std::move(file));
    ++added;
  }
  return added;
}

}  // namespace realmkit::api
