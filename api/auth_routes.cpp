#include "api/auth_routes.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <stdexcept>

#include "api/auth/permissions.hpp"
#include "api/error_mapping.hpp"
#include "api/json_body.hpp"
#include "api/problem.hpp"

namespace realmkit::api {
namespace {

using json_writer = rapidjson::Writer<rapidjson::StringBuffer>;

// The longest e-mail address (RFC 5321) and password worth reading; longer ones are refused as
// invalid input before any hashing.
constexpr std::size_t kMaxEmailChars = 320;
constexpr std::size_t kMaxPasswordChars = 1024;

constexpr const char* kLoginRequestSchema = R"({
  "type": "object",
  "required": ["email", "password"],
  "additionalProperties": false,
  "properties": {
    "email": {"type": "string", "format": "email", "maxLength": 320},
    "password": {"type": "string", "maxLength": 1024},
    "cookie": {"type": "boolean", "description": "true: the tokens come as HttpOnly cookies, not in the body"}
  }
})";

constexpr const char* kTokenResponseSchema = R"({
  "type": "object",
  "required": ["token_type", "expires_in", "refresh_expires_in"],
  "properties": {
    "access_token": {"type": "string", "description": "JWT (HS256); absent in cookie mode"},
    "refresh_token": {"type": "string", "description": "opaque, single use; absent in cookie mode"},
    "token_type": {"type": "string", "enum": ["Bearer"]},
    "expires_in": {"type": "integer", "description": "seconds the access token is valid"},
    "refresh_expires_in": {"type": "integer", "description": "seconds the refresh token is valid unused"}
  }
})";

constexpr const char* kRefreshRequestSchema = R"({
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "refresh_token": {"type": "string", "description": "absent: taken from the realmkit_refresh cookie"},
    "cookie": {"type": "boolean"}
  }
})";

constexpr const char* kLogoutRequestSchema = R"({
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "refresh_token": {"type": "string", "description": "absent: taken from the realmkit_refresh cookie"}
  }
})";

constexpr const char* kMeResponseSchema = R"({
  "type": "object",
  "required": ["user", "role", "team_id", "permissions", "record_scope"],
  "properties": {
    "user": {
      "type": "object",
      "required": ["id", "email", "display_name", "active"],
      "properties": {
        "id": {"type": "string"},
        "email": {"type": "string"},
        "display_name": {"type": "string"},
        "active": {"type": "boolean"}
      }
    },
    "role": {"type": "string", "enum": ["admin", "manager", "sales_rep", "analyst", "auditor"]},
    "team_id": {"type": ["string", "null"]},
    "permissions": {"type": "array", "items": {"type": "string"}},
    "record_scope": {"type": "string", "enum": ["all", "team"]}
  }
})";

void write_string(json_writer& w, std::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

// Everything the handlers share, kept alive by the routes' closures.
struct auth_endpoints {
  auth::token_service& tokens;
  auth::login_service& logins;
  auth_routes_options options;
  infra::counter* logins_by[3] = {};     // ok, invalid_credentials, locked_out
  infra::counter* refreshes_by[6] = {};  // by refresh_status

  std::string cookie_attributes(std::string_view path, std::int64_t max_age) const {
    std::string out = "; Path=" + std::string(path) + "; Max-Age=" + std::to_string(max_age) +
                      "; HttpOnly; SameSite=Strict";
    if (options.cookie_secure) out += "; Secure";
    return out;
  }

  void set_cookies(http_response& response, const auth::token_pair& pair) const {
    response.cookies.push_back(std::string(kAccessCookie) + "=" + pair.access_token +
                               cookie_attributes("/", pair.expires_in.count()));
    response.cookies.push_back(
        std::string(kRefreshCookie) + "=" + pair.refresh_token +
        cookie_attributes("/api/auth", tokens.options().refresh_ttl.count()));
  }

  void clear_cookies(http_response& response) const {
    response.cookies.push_back(std::string(kAccessCookie) + "=" + cookie_attributes("/", 0));
    response.cookies.push_back(std::string(kRefreshCookie) + "=" +
                               cookie_attributes("/api/auth", 0));
  }

  http_response token_response(const auth::token_pair& pair, bool cookie) const {
    rapidjson::StringBuffer buffer;
    json_writer w(buffer);
    w.StartObject();
    if (!cookie) {
      write_string(w, "access_token");
      write_string(w, pair.access_token);
      write_string(w, "refresh_token");
      write_string(w, pair.refresh_token);
    }
    write_string(w, "token_type");
    write_string(w, "Bearer");
    write_string(w, "expires_in");
    w.Int64(pair.expires_in.count());
    write_string(w, "refresh_expires_in");
    w.Int64(tokens.options().refresh_ttl.count());
    w.EndObject();
    auto response = http_response::json(200, buffer.GetString());
    if (cookie) set_cookies(response, pair);
    return response;
  }

  // The refresh token of a refresh or logout: from the body, or else from the cookie of a
  // request that passes the CSRF check (nullopt when it does not).
  struct presented {
    std::string token;
    bool from_cookie = false;
    bool cookie_mode = false;
  };
  presented refresh_token_of(const http_request& request, bool allow_cookie_flag) const {
    presented p;
    if (!request.body.empty()) {
      const auto body = json_body::from_request(request);
      const auto root = body.root();
      if (allow_cookie_flag) {
        root.allow_only({"refresh_token", "cookie"});
        p.cookie_mode = root.optional_boolean("cookie").value_or(false);
      } else {
        root.allow_only({"refresh_token"});
      }
      if (auto t = root.optional_string("refresh_token")) {
        p.token = std::move(*t);
        return p;
      }
    }
    const auto* cookies = request.header("Cookie");
    const auto value = cookies ? cookie_value(*cookies, kRefreshCookie) : std::nullopt;
    if (!value) {
      throw problem_error(make_problem(
          problem_kind::validation, "a refresh_token (or the realmkit_refresh cookie) is required",
          "refresh_token"));
    }
    if (!is_trusted_browser_request(request, options.trusted_origins)) {
      throw problem_error(make_problem(problem_kind::forbidden,
                                       "a refresh by cookie needs a trusted Origin or the " +
                                           std::string(kCsrfHeader) + " header"));
    }
    p.token = std::string(*value);
    p.from_cookie = true;
    p.cookie_mode = true;
    return p;
  }

  http_response login(const http_request& request) const {
    const auto body = json_body::from_request(request);
    const auto root = body.root();
    root.allow_only({"email", "password", "cookie"});
    const auto email = root.string("email");
    const auto password = root.string("password");
    const bool cookie = root.optional_boolean("cookie").value_or(false);
    if (email.size() > kMaxEmailChars) {
      throw problem_error(make_problem(problem_kind::validation, "is too long", "email"));
    }
    if (password.size() > kMaxPasswordChars) {
      throw problem_error(make_problem(problem_kind::validation, "is too long", "password"));
    }

    auto result = logins.login(email, password);
    if (auto* c = logins_by[static_cast<int>(result.status)]) c->inc();
    switch (result.status) {
      case auth::login_status::ok:
        break;
      case auth::login_status::invalid_credentials: {
        spdlog::info("request {}: login refused (invalid credentials) from {}", request.request_id,
                     request.remote_address);
        auto p =
            make_problem(problem_kind::unauthorized, "the e-mail address or password is wrong");
        p.headers.emplace("WWW-Authenticate", "Bearer realm=\"realmkit\"");
        return to_response(std::move(p), request.request_id);
      }
      case auth::login_status::locked_out: {
        spdlog::info("request {}: login refused (account locked for {} s) from {}",
                     request.request_id, result.retry_after.count(), request.remote_address);
        auto p = make_problem(problem_kind::too_many_requests,
                              "too many failed logins for this account; retry later");
        p.headers.insert_or_assign("Retry-After", std::to_string(result.retry_after.count()));
        return to_response(std::move(p), request.request_id);
      }
    }
    spdlog::info("request {}: login of user {}", request.request_id, result.user_id);
    if (result.new_password_hash && options.record_rehash) {
      try {
        options.record_rehash(result.user_id, *result.new_password_hash, request);
      } catch (const std::exception& e) {
        spdlog::warn("request {}: could not record the upgraded password hash of user {}: {}",
                     request.request_id, result.user_id, e.what());
      }
    }
    return token_response(*result.tokens, cookie);
  }

  http_response refresh(const http_request& request) const {
    const auto presented = refresh_token_of(request, true);
    const auto profiles = options.profiles;
    const auto result = tokens.refresh(
        presented.token, [&profiles](std::string_view id) -> std::optional<auth::subject> {
          const auto found = profiles(id);
          if (!found || !found->active) return std::nullopt;
          return auth::subject{found->user_id, found->role, found->team_id};
        });
    if (auto* c = refreshes_by[static_cast<int>(result.status)]) c->inc();
    if (result.status == auth::refresh_status::ok) {
      return token_response(*result.tokens, presented.cookie_mode);
    }
    if (result.status == auth::refresh_status::reused) {
      // Two parties held the same session: one of them stole it. Both must log in again.
      spdlog::warn(
          "request {}: a rotated refresh token of user {} was presented again; the "
          "session is revoked",
          request.request_id, result.user_id);
    } else {
      spdlog::info("request {}: refresh refused ({})", request.request_id,
                   auth::to_string(result.status));
    }
    auto p = make_problem(problem_kind::unauthorized,
                          "the refresh token is not valid; log in again", "refresh_token");
    p.headers.emplace("WWW-Authenticate", "Bearer realm=\"realmkit\"");
    auto response = to_response(std::move(p), request.request_id);
    if (presented.from_cookie) clear_cookies(response);
    return response;
  }

  http_response logout(const http_request& request) const {
    const auto presented = refresh_token_of(request, false);
    // The same answer whether or not the token was known: logging out twice is not an error,
    // and the answer tells nobody which tokens exist.
    if (tokens.logout(presented.token)) {
      spdlog::info("request {}: session logged out", request.request_id);
    }
    auto response = http_response::empty(204);
    if (presented.from_cookie || request.header("Cookie")) clear_cookies(response);
    return response;
  }

  http_response me(const http_request& request) const {
    const auto& who = require_principal(request);
    const auto profile = options.profiles(who.user_id);
    if (!profile) {
      throw problem_error(make_problem(problem_kind::not_found, "the user no longer exists"));
    }
    rapidjson::StringBuffer buffer;
    json_writer w(buffer);
    w.StartObject();
    write_string(w, "user");
    w.StartObject();
    write_string(w, "id");
    write_string(w, profile->user_id);
    write_string(w, "email");
    write_string(w, profile->email);
    write_string(w, "display_name");
    write_string(w, profile->display_name);
    write_string(w, "active");
    w.Bool(profile->active);
    w.EndObject();
    // Role and team as the access token carries them: what this request's permissions rest on
    // (a change shows after the next refresh).
    write_string(w, "role");
    write_string(w, domain::to_string(who.role));
    write_string(w, "team_id");
    if (who.team_id) {
      write_string(w, *who.team_id);
    } else {
      w.Null();
    }
    write_string(w, "permissions");
    w.StartArray();
    for (const auto p : auth::permissions_of(who.role)) write_string(w, auth::to_string(p));
    w.EndArray();
    write_string(w, "record_scope");
    write_string(w, auth::to_string(auth::scope_of(who.role)));
    w.EndObject();
    return http_response::json(200, buffer.GetString());
  }
};

}  // namespace

void add_auth_routes(router& routes, auth::token_service& tokens, auth::login_service& logins,
                     auth_routes_options options) {
  if (!options.profiles) throw std::invalid_argument("auth routes without a profile lookup");
  auto e = std::make_shared<auth_endpoints>(auth_endpoints{tokens, logins, std::move(options)});
  if (auto* m = e->options.metrics) {
    for (const auto s : {auth::login_status::ok, auth::login_status::invalid_credentials,
                         auth::login_status::locked_out}) {
      e->logins_by[static_cast<int>(s)] =
          &m->counter_for("realmkit_auth_logins_total", "Login attempts, by outcome",
                          {{"outcome", std::string(auth::to_string(s))}});
    }
    for (int s = 0; s < 6; ++s) {
      e->refreshes_by[s] = &m->counter_for(
          "realmkit_auth_refreshes_total", "Refresh attempts, by outcome",
          {{"outcome", std::string(auth::to_string(static_cast<auth::refresh_status>(s)))}});
    }
  }

  route login;
  login.method = "POST";
  login.pattern = "/api/auth/login";
  login.name = "auth.login";
  login.anonymous = true;
  login.summary = "Log in with e-mail and password: an access token and a refresh token";
  login.request_schema = kLoginRequestSchema;
  login.response_schema = kTokenResponseSchema;
  login.handle = [e](const http_request& r) { return e->login(r); };  // argon2id: on the pool
  routes.add(std::move(login));

  route refresh;
  refresh.method = "POST";
  refresh.pattern = "/api/auth/refresh";
  refresh.name = "auth.refresh";
  refresh.anonymous = true;
  refresh.summary = "Exchange a refresh token for a new pair (the old one is spent)";
  refresh.request_schema = kRefreshRequestSchema;
  refresh.response_schema = kTokenResponseSchema;
  refresh.handle = [e](const http_request& r) { return e->refresh(r); };
  routes.add(std::move(refresh));

  route logout;
  logout.method = "POST";
  logout.pattern = "/api/auth/logout";
  logout.name = "auth.logout";
  logout.anonymous = true;
  logout.summary = "End the session of a refresh token";
  logout.request_schema = kLogoutRequestSchema;
  logout.success_status = 204;
  logout.handle = [e](const http_request& r) { return e->logout(r); };
  routes.add(std::move(logout));

  route me;
  me.method = "GET";
  me.pattern = "/api/auth/me";
  me.name = "auth.me";
  me.summary = "The caller: user, role, team and permissions";
  me.response_schema = kMeResponseSchema;
  me.handle = [e](const http_request& r) { return e->me(r); };
  routes.add(std::move(me));
}

}  // namespace realmkit::api
