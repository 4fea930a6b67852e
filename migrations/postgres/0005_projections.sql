-- The projector's catalog (projections/catalog.hpp): every generation of every projection's
-- relations, with its checkpoint. One generation per projection is live (readers reach it through
-- stable views named after its relations); at most one is building beside it (a rebuild, or a
-- changed projection version). The checkpoint commits in the same transaction as the rows it
-- covers; the live row doubles as the projection's lock (a writer updates it first in every
-- batch, so two projectors of one projection take turns instead of applying a batch twice).
-- Times are microseconds since the Unix epoch (UTC).
CREATE TABLE projection_generations (
  projection  text   NOT NULL CHECK (projection ~ '^[a-z][a-z0-9_]*$'),
  generation  bigint NOT NULL CHECK (generation > 0),
  version     bigint NOT NULL,
  state       text   NOT NULL CHECK (state IN ('building', 'live', 'retired')),
  position    bigint NOT NULL DEFAULT 0 CHECK (position >= 0),
  created_at  bigint NOT NULL,
  updated_at  bigint NOT NULL,
  switched_at bigint,
  PRIMARY KEY (projection, generation)
);

CREATE UNIQUE INDEX projection_generations_one_live
  ON projection_generations (projection) WHERE state = 'live';
CREATE UNIQUE INDEX projection_generations_one_building
  ON projection_generations (projection) WHERE state = 'building';
