// The browser UI's files (web/) served at "/": read once at start-up, one GET route per file, so
// that no request path ever reaches the file system.
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "api/router.hpp"

namespace realmkit::api {

// The policy of every page served: scripts, styles and connections (fetch, WebSocket) from this
// origin only, nothing inline, no plugins, no framing.
inline constexpr std::string_view kWebContentSecurityPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'";

// The Content-Type of a file by its extension, or nullopt for a kind the UI does not serve.
std::optional<std::string_view> content_type_for(std::string_view file_name);

// Adds a GET (and so HEAD) route named "web.<path>" for every regular file under `root` whose
// type is known; "/" serves index.html. Files whose path is not made of [a-z0-9._-] segments,
// hidden files and files reached through a link leading out of `root` are skipped. Answers carry
// an ETag (a hash of the content; If-None-Match answers 304), `Cache-Control: no-cache` (files
// have no versioned names, so a browser revalidates) and kWebContentSecurityPolicy. Returns the
// number of files added. Throws std::runtime_error when `root` is not a readable folder.
std::size_t add_static_routes(router& routes, const std::filesystem::path& root);

}  // namespace realmkit::api
