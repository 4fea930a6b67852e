-- The analysts' read-only role (0006) reads what default privileges grant it: every table created
-- after it. Two of those are not for analysts: the projectors' feed is a copy of the event log, and
-- the subject keys open every person's sealed fields (an analyst holding them could read what an
-- erasure destroyed, from a backup). Later private tables revoke in their own migration.
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'realmkit_analyst') THEN
    REVOKE ALL ON projector_feed, subject_keys FROM realmkit_analyst;
  END IF;
END
$$;
