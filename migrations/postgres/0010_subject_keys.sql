-- Crypto-shredding (infra/privacy/subject_keys.hpp): one key per data subject (a contact or a
-- lead). Personal fields are sealed with it inside events; erasing the subject sets the key to
-- NULL, after which those fields can never be opened again, while the events and the hash chain
-- over their stored bytes stay as they were. The row itself stays, recording who erased whom,
-- when and why, and refusing a key for the subject ever after.
CREATE TABLE subject_keys (
  subject_id   text   PRIMARY KEY,
  key          text,             -- base64url of 32 random bytes; NULL once erased
  created_at   bigint NOT NULL,  -- microseconds since the Unix epoch (UTC)
  erased_at    bigint,
  erased_by    text,
  erase_reason text,
  CHECK ((key IS NULL) = (erased_at IS NOT NULL))
);
