// The browser UI's files as routes: what is served, with which headers, and what never is
// (paths outside the folder, hidden files, links leading out, unknown kinds).
#include "api/static_files.hpp"

#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>

using namespace realmkit;
namespace fs = std::filesystem;

namespace {

struct web_folder {
  fs::path dir;
  fs::path outside;

  web_folder() {
    char pattern[] = "/tmp/realmkit-static-XXXXXX";
    dir = mkdtemp(pattern);
    outside = dir / "outside";
    write("web/index.html", "<!doctype html><title>RealmKit</title>");
    write("web/app.css", "body{}");
    write("web/js/app.js", "export const x = 1;");
    write("web/.secret.js", "hidden");
    write("web/README.md", "not a served kind");
    write("web/Upper.js", "not a plain name");
    write("outside/passwd.txt", "root:x:0:0");
    fs::create_symlink(outside / "passwd.txt", dir / "web" / "leak.txt");
    fs::create_directory_symlink(outside, dir / "web" / "linked");
  }
  ~web_folder() { fs::remove_all(dir); }

  void write(const std::string& relative, const std::string& text) const {
    fs::create_directories((dir / relative).parent_path());
    std::ofstream(dir / relative) << text;
  }
  fs::path root() const { return dir / "web"; }
};

api::http_request get(std::string target, std::string method = "GET") {
  api::http_request r;
  r.method = std::move(method);
  r.target = target;
  r.path = target;
  return r;
}

}  // namespace

TEST_CASE("the UI's files are served from memory with their type, an ETag and the CSP") {
  web_folder web;
  api::router routes;
  CHECK(api::add_static_routes(routes, web.root()) == 3);

  const auto index = routes.dispatch(get("/"));
  CHECK(index.status == 200);
  CHECK(index.content_type == "text/html; charset=utf-8");
  CHECK(index.body == "<!doctype html><title>RealmKit</title>");
  CHECK(index.headers.at("Content-Security-Policy") == api::kWebContentSecurityPolicy);
  CHECK(index.headers.at("Cache-Control") == "no-cache");
  CHECK(index.headers.at("X-Frame-Options") == "DENY");
  CHECK(routes.dispatch(get("/index.html")).body == index.body);

  const auto js = routes.dispatch(get("/js/app.js"));
  CHECK(js.status == 200);
  CHECK(js.content_type == "text/javascript; charset=utf-8");
  CHECK(routes.dispatch(get("/app.css")).content_type == "text/css; charset=utf-8");

  SUBCASE("a matching If-None-Match answers 304 without a body") {
    auto again = get("/js/app.js");
    again.headers.emplace("If-None-Match", "\"other\", W/" + js.headers.at("ETag"));
    const auto r = routes.dispatch(again);
    CHECK(r.status == 304);
    CHECK(r.body.empty());
    CHECK(r.headers.at("ETag") == js.headers.at("ETag"));
    auto stale = get("/js/app.js");
    stale.headers.emplace("If-None-Match", "\"0000000000000000\"");
    CHECK(routes.dispatch(stale).status == 200);
  }
  SUBCASE("HEAD is served by the GET route; other methods are 405") {
    CHECK(routes.dispatch(get("/app.css", "HEAD")).status == 200);
    const auto post = routes.dispatch(get("/", "POST"));
    CHECK(post.status == 405);
    CHECK(post.content_type == "application/problem+json");
  }
}

TEST_CASE("nothing outside the UI's folder, hidden, linked out or of an unknown kind is served") {
  web_folder web;
  api::router routes;
  api::add_static_routes(routes, web.root());
  for (const auto* path : {"/../outside/passwd.txt", "/%2e%2e/outside/passwd.txt",
                           "/js/..%2f..%2foutside%2fpasswd.txt", "/js/../../outside/passwd.txt",
                           "/.secret.js", "/README.md", "/Upper.js", "/leak.txt",
                           "/linked/passwd.txt", "/js", "/js/", "/nope.html"}) {
    CAPTURE(path);
    const auto r = routes.dispatch(get(path));
    CHECK((r.status == 404 || r.status == 400));
    CHECK(r.content_type == "application/problem+json");
  }
}

TEST_CASE("a web root that is not a folder is refused at start-up") {
  api::router routes;
  CHECK_THROWS_AS(api::add_static_routes(routes, "/nonexistent/realmkit-web"), std::runtime_error);
}

TEST_CASE("content types by extension") {
  CHECK(api::content_type_for("a.svg") == "image/svg+xml");
  CHECK(api::content_type_for("x.json") == "application/json");
  CHECK_FALSE(api::content_type_for(".js"));
  CHECK_FALSE(api::content_type_for("notes.md"));
  CHECK_FALSE(api::content_type_for("js"));
}
