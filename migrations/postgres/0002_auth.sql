-- Refresh tokens (api/auth/refresh_token_store.hpp). Only the SHA-256 of a token is stored, so a
-- copy of the database hands out no usable token. Tokens descending from one login share a
-- family_id: rotation revokes the presented token and links it to its successor (replaced_by);
-- presenting a rotated token again revokes the whole family. Times come from the server's clock.
CREATE TABLE refresh_tokens (
  token_hash        text        PRIMARY KEY CHECK (length(token_hash) = 64),
  family_id         text        NOT NULL,
  user_id           text        NOT NULL,
  issued_at         timestamptz NOT NULL,
  expires_at        timestamptz NOT NULL,
  family_expires_at timestamptz NOT NULL,
  revoked_at        timestamptz,
  revoked_reason    text        CHECK (revoked_reason IN ('rotated', 'reuse', 'logout', 'user')),
  replaced_by       text,
  CHECK ((revoked_at IS NULL) = (revoked_reason IS NULL))
);

CREATE INDEX refresh_tokens_by_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_by_user ON refresh_tokens (user_id);
-- purge_expired deletes whole families past their end.
CREATE INDEX refresh_tokens_by_family_end ON refresh_tokens (family_expires_at);
