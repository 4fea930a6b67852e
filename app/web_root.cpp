#include "app/web_root.hpp"

#include <stdexcept>

namespace realmkit::app {

std::filesystem::path resolve_web_root(const std::string& configured) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (configured == "none") return {};
  if (!configured.empty()) {
    if (!fs::is_regular_file(fs::path(configured) / "index.html", ec)) {
      throw std::runtime_error("--web-root " + configured + " holds no index.html");
    }
    return configured;
  }
  const auto exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const auto installed = exe.parent_path().parent_path() / "share" / "realmkit" / "web";
    if (fs::is_regular_file(installed / "index.html", ec)) return installed;
  }
#ifdef REALMKIT_SOURCE_WEB_ROOT
  if (const fs::path source = REALMKIT_SOURCE_WEB_ROOT;
      fs::is_regular_file(source / "index.html", ec)) {
    return source;
  }
#endif
  return {};
}

}  // namespace realmkit::app
