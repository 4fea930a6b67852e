#include "app/rebuild_command.hpp"

#include <ostream>

#include "app/private_log.hpp"
#include "app/read_models.hpp"
#include "app/user_command.hpp"
#include "projections/projector.hpp"
#include "projections/registry.hpp"

namespace realmkit::app {

void list_projections(std::ostream& out) {
  for (const auto& p : projections::all_projections()) out << p->name() << "\n";
}

int rebuild_projections(const infra::store_config& config, const rebuild_options& options,
                        std::ostream& out) {
  auto all = projections::all_projections();
  std::vector<std::string> names;
  for (const auto& p : all) {
    if (options.projection == "all" || p->name() == options.projection) {
      names.emplace_back(p->name());
    }
  }
  if (names.empty()) {
    std::string known;
    for (const auto& p : all) known += (known.empty() ? "" : ", ") + std::string(p->name());
    throw cli_error("no projection is named '" + options.projection + "' (known: " + known +
                    ", or all)");
  }
  auto stored = infra::open_event_store(config);
  private_log log(*stored, config);
  auto* store = &log.store();  // projections read personal fields opened, as the server's do
  auto db = open_read_database(config);
  // Only the rebuilds run here: the live generations stay with the server's projector, if any.
  projections::projector projector(*store, *db, std::move(all));
  int status = 0;
  for (const auto& name : names) {
    const auto head = store->head_position();
    const auto generation = projector.rebuild(name);
    out << name << ": building generation " << generation << " up to position " << head
        << std::endl;
    while (!projector.wait_for_rebuild(name, options.progress_every)) {
      const auto s = projector.status(name);
      if (s && s->rebuild) {
        out << name << ": at position " << s->rebuild->checkpoint << " of "
            << store->head_position() << std::endl;
      }
    }
    const auto s = projector.status(name);
    if (s && s->rebuild && s->rebuild->error) {
      out << name << ": rebuild stopped: " << *s->rebuild->error << std::endl;
      status = 1;
      continue;
    }
    out << name << ": generation " << generation << " is live" << std::endl;
  }
  return status;
}

}  // namespace realmkit::app
