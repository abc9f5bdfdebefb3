-- Least privilege. sipasd connects as a role granted sipas_ingest: it reads
-- the reference tables and the kiosk registry, inserts responses and reads
-- back only their ids and content hashes (for the duplicate rule). Reports
-- run as a role granted sipas_report, which reads everything and writes
-- nothing. Both are group roles (NOLOGIN): grant them to login roles, e.g.
--   CREATE ROLE sipasd LOGIN; GRANT sipas_ingest TO sipasd;
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'sipas_ingest') THEN
        CREATE ROLE sipas_ingest NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'sipas_report') THEN
        CREATE ROLE sipas_report NOLOGIN;
    END IF;
END
$$;

REVOKE ALL ON ALL TABLES IN SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO sipas_ingest, sipas_report;
GRANT SELECT ON service_areas, centers, questionnaires, scale_levels, elements,
    criteria, kiosks TO sipas_ingest;
GRANT INSERT ON responses TO sipas_ingest;
GRANT SELECT (id, content_hash) ON responses TO sipas_ingest;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO sipas_report;
