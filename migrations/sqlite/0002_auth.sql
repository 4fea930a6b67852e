-- Refresh tokens (api/auth/refresh_token_store.hpp). Only the SHA-256 of a token is stored, so a
-- copy of the database hands out no usable token. Tokens descending from one login share a
-- family_id: rotation revokes the presented token and links it to its successor (replaced_by);
-- presenting a rotated token again revokes the whole family. Times are microseconds since the
-- Unix epoch (UTC), from the server's clock.
CREATE TABLE refresh_tokens (
  token_hash        TEXT    PRIMARY KEY CHECK (length(token_hash) = 64),
  family_id         TEXT    NOT NULL,
  user_id           TEXT    NOT NULL,
  issued_at         INTEGER NOT NULL,
  expires_at        INTEGER NOT NULL,
  family_expires_at INTEGER NOT NULL,
  revoked_at        INTEGER,
  revoked_reason    TEXT    CHECK (revoked_reason IN ('rotated', 'reuse', 'logout', 'user')),
  replaced_by       TEXT,
  CHECK ((revoked_at IS NULL) = (revoked_reason IS NULL))
) WITHOUT ROWID;

CREATE INDEX refresh_tokens_by_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_by_user ON refresh_tokens (user_id);
-- purge_expired deletes whole families past their end.
CREATE INDEX refresh_tokens_by_family_end ON refresh_tokens (family_expires_at);
