// Where `realmkit serve` finds the browser UI (web/).
#pragma once

#include <filesystem>
#include <string>

namespace realmkit::app {

// The folder of the UI: `configured` (--web-root, REALMKIT_WEB_ROOT) when set, which must then
// exist ("none" turns the UI off); else share/realmkit/web beside the binary's folder (an
// installed layout), else the web/ folder of the source tree the binary was built from (a
// development build). Empty when none exists: the API is served without a UI. Throws
// std::runtime_error for a configured folder that does not exist.
std::filesystem::path resolve_web_root(const std::string& configured);

}  // namespace realmkit::app
