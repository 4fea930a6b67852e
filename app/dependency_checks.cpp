#include "app/dependency_checks.hpp"

#include <spdlog/spdlog.h>

#include <stdexcept>
#include <string>

namespace realmkit::app {

void check_durability(infra::sql::database& db, bool unsafe_allowed) {
  if (db.dialect() != infra::sql::dialect::postgres) return;
  auto session = db.open_session();
  const auto rows =
      session->query("SELECT current_setting('fsync'), current_setting('synchronous_commit')");
  const auto fsync = rows.at(0).text(0);
  const auto synchronous_commit = rows.at(0).text(1);
  std::string unsafe;
  if (fsync == "off") unsafe = "fsync is off";
  if (synchronous_commit == "off") {
    unsafe += (unsafe.empty() ? "" : " and ") + std::string("synchronous_commit is off");
  }
  if (unsafe.empty()) return;
  if (unsafe_allowed) {
    spdlog::warn("PostgreSQL {}: acknowledged commits may be lost (--unsafe-durability)", unsafe);
    return;
  }
  throw std::runtime_error(
      "PostgreSQL " + unsafe +
      ": a crash could lose events after their commands were acknowledged. Turn it on in "
      "postgresql.conf, or pass --unsafe-durability for a throw-away test server");
}

}  // namespace realmkit::app
