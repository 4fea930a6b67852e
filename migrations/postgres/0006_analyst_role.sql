-- A read-only role for analysts (docs/analysts.md): it reads the read models and analytics of this
-- schema, including the relations the projector creates later (new generations after a rebuild,
-- their stable views, materialized views), and nothing else: not the event log, not the
-- authentication tables, not the credentials read model (the analytics refresher revokes what
-- default privileges give it there; see docs/analysts.md).
--
-- Roles belong to the cluster, not to a schema or database: several schemas or databases of one
-- cluster may run this migration at the same time, so the role is created only when missing and a
-- concurrent creation by another migration is not an error. The role cannot log in; grant it to
-- the analysts' own login roles (GRANT realmkit_analyst TO alice).
--
-- ALTER DEFAULT PRIVILEGES applies to relations created by the role running this migration, which
-- is the role RealmKit runs as (it migrates on start), so it covers everything the projector makes.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'realmkit_analyst') THEN
    BEGIN
      CREATE ROLE realmkit_analyst NOLOGIN;
    EXCEPTION
      -- Another migration created it between the check and here.
      WHEN duplicate_object OR unique_violation THEN NULL;
      WHEN insufficient_privilege THEN
        RAISE WARNING 'realmkit: the role % may not create roles, so realmkit_analyst does not '
          'exist; an administrator can create it and grant it as docs/analysts.md shows',
          current_user;
        RETURN;
    END;
  END IF;
  EXECUTE format('GRANT USAGE ON SCHEMA %I TO realmkit_analyst', current_schema());
  EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT SELECT ON TABLES TO realmkit_analyst',
                 current_schema());
  -- Which generation of each read model is live, and its checkpoint: how fresh the data is.
  EXECUTE format('GRANT SELECT ON %I.projection_generations TO realmkit_analyst', current_schema());
END
$$;
