-- Prefect server's own database, beside the registry's (POSTGRES_DB). Runs once, when the
-- data volume is new. Prefect's migrations create the pg_trgm extension in it.
CREATE DATABASE prefect;
