// Where `realmkit serve` finds the browser UI: a configured folder must hold the UI, "none" turns
// it off, and a development build finds the source tree's web/.
#include "app/web_root.hpp"

#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>

using namespace realmkit;
namespace fs = std::filesystem;

TEST_CASE("the web root: configured, turned off, or found in the source tree") {
  char pattern[] = "/tmp/realmkit-webroot-XXXXXX";
  const fs::path dir = mkdtemp(pattern);

  SUBCASE("a configured folder without index.html is refused") {
    CHECK_THROWS_AS(app::resolve_web_root(dir.string()), std::runtime_error);
    CHECK_THROWS_AS(app::resolve_web_root("/nonexistent/realmkit-web"), std::runtime_error);
  }
  SUBCASE("a configured folder with index.html is used as given") {
    std::ofstream(dir / "index.html") << "<!doctype html>";
    CHECK(app::resolve_web_root(dir.string()) == dir);
  }
  SUBCASE("none: no UI") {
    CHECK(app::resolve_web_root("none").empty());
  }
  SUBCASE("by default, a build finds the UI of the tree it was built from") {
    const auto found = app::resolve_web_root("");
    REQUIRE_FALSE(found.empty());
    CHECK(found.filename() == "web");
    CHECK(fs::is_regular_file(found / "js" / "board.js"));
  }
  fs::remove_all(dir);
}
