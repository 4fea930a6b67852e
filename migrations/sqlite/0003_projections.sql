-- The projector's catalog (projections/catalog.hpp): every generation of every projection's
-- relations, with its checkpoint. One generation per projection is live (readers reach it through
-- stable views named after its relations); at most one is building beside it (a rebuild, or a
-- changed projection version). The checkpoint commits in the same transaction as the rows it
-- covers. Times are microseconds since the Unix epoch (UTC).
CREATE TABLE projection_generations (
  projection  TEXT    NOT NULL CHECK (projection GLOB '[a-z]*'),
  generation  INTEGER NOT NULL CHECK (generation > 0),
  version     INTEGER NOT NULL,
  state       TEXT    NOT NULL CHECK (state IN ('building', 'live', 'retired')),
  position    INTEGER NOT NULL DEFAULT 0 CHECK (position >= 0),
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL,
  switched_at INTEGER,
  PRIMARY KEY (projection, generation)
) WITHOUT ROWID;

CREATE UNIQUE INDEX projection_generations_one_live
  ON projection_generations (projection) WHERE state = 'live';
CREATE UNIQUE INDEX projection_generations_one_building
  ON projection_generations (projection) WHERE state = 'building';
