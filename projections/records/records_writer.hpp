// The writer of the "records" read model: folds each record's events with the domain's own evolve
// into states it caches, and writes the records a batch changed as upserts in flush() — one row
// per record per batch however many of its events the batch held, which is what makes a rebuild
// fast (fold in memory, write rows in bulk).
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "projections/projection.hpp"

namespace realmkit::projections::records {

struct records_options {
  // States kept between batches. Following the log, clean states beyond this are dropped after a
  // flush and read back from their rows when needed; a rebuild keeps more, since a rebuild that
  // started empty need not look up what it has not seen.
  std::size_t live_cache_entries = 100'000;
  std::size_t rebuild_cache_entries = 1'000'000;
  // A writer that saw every row of its generation (it started it empty) names the records it
  // drops, up to this many, so that a record it never saw is known to be new without a look: a
  // first catch-up or a rebuild creates most records. Beyond it, every miss is looked up.
  std::size_t remembered_ids = 4'000'000;
};

std::unique_ptr<projection_writer> open_records_writer(const relation_names& names,
                                                       const records_options& options);

}  // namespace realmkit::projections::records
