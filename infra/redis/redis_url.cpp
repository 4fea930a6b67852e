#include "infra/redis/redis_url.hpp"

#include <charconv>
#include <stdexcept>

namespace realmkit::infra::redis {
namespace {

constexpr std::string_view kScheme = "redis://";
constexpr int kMaxDb = 1'000'000;  // far above any server's `databases`, far below int overflow

[[noreturn]] void fail(std::string_view url, std::string_view what) {
  throw std::invalid_argument("invalid Redis URL " + masked_redis_url(url) + ": " +
                              std::string(what) +
                              " (expected redis://[[user]:password@]host[:port][/db])");
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Credentials may hold '@', ':' or '/' only percent-encoded, as in any URL.
std::optional<std::string> percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out.push_back(text[i]);
      continue;
    }
    if (i + 2 >= text.size()) return std::nullopt;
    const int hi = hex_value(text[i + 1]);
    const int lo = hex_value(text[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

std::optional<int> parse_int(std::string_view text, int min, int max) {
  if (text.empty()) return std::nullopt;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  int value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value < min || value > max) {
    return std::nullopt;
  }
  return value;
}

}  // namespace

std::string masked_redis_url(std::string_view url) {
  const auto scheme = url.find("://");
  if (scheme == std::string_view::npos) return std::string(url);
  const auto authority_end = url.find_first_of("/?#", scheme + 3);
  const auto authority = url.substr(0, authority_end);
  const auto at = authority.rfind('@');
  if (at == std::string_view::npos || at < scheme + 3) return std::string(url);
  const auto colon = authority.find(':', scheme + 3);
  if (colon == std::string_view::npos || colon > at) {
    // redis://secret@host: a lone userinfo is taken as a password by some clients, so mask it.
    return std::string(url.substr(0, scheme + 3)) + "***" + std::string(url.substr(at));
  }
  return std::string(url.substr(0, colon + 1)) + "***" + std::string(url.substr(at));
}

std::string redis_url::masked() const {
  std::string out(kScheme);
  if (password) {
    out += user;
    out += ":***@";
  }
  if (host.find(':') != std::string::npos) {
    out += "[" + host + "]";
  } else {
    out += host;
  }
  out += ":" + std::to_string(port);
  if (db != 0) out += "/" + std::to_string(db);
  return out;
}

redis_url parse_redis_url(std::string_view url) {
  if (!url.starts_with(kScheme)) fail(url, "the scheme must be redis://");
  std::string_view rest = url.substr(kScheme.size());
  if (rest.find_first_of("?#") != std::string_view::npos) {
    fail(url, "query strings and fragments are not supported");
  }
  redis_url out;

  std::string_view authority = rest;
  std::string_view path;
  if (const auto slash = rest.find('/'); slash != std::string_view::npos) {
    authority = rest.substr(0, slash);
    path = rest.substr(slash + 1);
  }

  if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
    const auto userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
    const auto colon = userinfo.find(':');
    if (colon == std::string_view::npos) {
      fail(url, "credentials must be user:password or :password");
    }
    auto user = percent_decode(userinfo.substr(0, colon));
    auto password = percent_decode(userinfo.substr(colon + 1));
    if (!user || !password) fail(url, "bad percent-encoding in the credentials");
    if (password->empty()) fail(url, "the password is empty");
    out.user = std::move(*user);
    out.password = std::move(*password);
  }

  std::string_view port_text;
  if (authority.starts_with('[')) {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) fail(url, "unterminated IPv6 address");
    out.host = std::string(authority.substr(1, close - 1));
    const auto after = authority.substr(close + 1);
    if (!after.empty()) {
      if (!after.starts_with(':')) fail(url, "unexpected text after the IPv6 address");
      port_text = after.substr(1);
      if (port_text.empty()) fail(url, "the port is empty");
    }
  } else {
    const auto colon = authority.find(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      port_text = authority.substr(colon + 1);
      if (port_text.empty()) fail(url, "the port is empty");
    }
  }
  if (out.host.empty()) fail(url, "the host is missing");
  if (!port_text.empty()) {
    const auto port = parse_int(port_text, 1, 65535);
    if (!port) fail(url, "the port must be a number from 1 to 65535");
    out.port = *port;
  }
  if (!path.empty()) {
    const auto db = parse_int(path, 0, kMaxDb);
    if (!db) fail(url, "the database must be a non-negative number");
    out.db = *db;
  }
  return out;
}

}  // namespace realmkit::infra::redis
