-- postgresql-setup.sql — the role and database idhub's nodes share (README "Running several
-- nodes"). Run once as the postgres superuser:  sudo -u postgres psql -f postgresql-setup.sql
-- The nodes create and migrate their tables themselves at start (or `idhubctl store init`).
CREATE ROLE idhub LOGIN;
-- For nodes on other machines give the role a password (kept in the idhub user's ~/.pgpass,
-- never in the config): \password idhub
CREATE DATABASE idhub OWNER idhub ENCODING 'UTF8' TEMPLATE template0;
\connect idhub
-- idhub's tables live in the public schema, owned by idhub
ALTER SCHEMA public OWNER TO idhub;
