-- Who served the person, and the organisation over time (protocol 1.1,
-- docs/sipas.md "Service areas and centers" and "Who served the person").
--
-- Dates are Vietnam days. A center is open from opened_on to closed_on,
-- both included (NULL: since always, until further notice); when it closed
-- it may name its successor, through which `sipas report --as-of` regroups
-- its history. A counter or an officer is active before retired_on (NULL:
-- still active): retired_on is the first day it no longer is.

ALTER TABLE centers
    ADD COLUMN opened_on     date,
    ADD COLUMN closed_on     date,
    ADD COLUMN successor_id  integer REFERENCES centers (id),
    ADD COLUMN official_code text CHECK (official_code ~ '^[0-9]{1,16}$'),
    ADD CHECK (closed_on IS NULL OR opened_on IS NULL OR closed_on >= opened_on),
    ADD CHECK (successor_id IS NULL OR closed_on IS NOT NULL),
    ADD CHECK (successor_id <> id);

-- A center's parent from a date on. centers.parent_id is the parent now
-- (the latest row here), kept with it in the same transaction by sipas;
-- reports read this table, so that a response counts under the tree as it
-- stood on its day. Every center has a row from '-infinity'.
CREATE TABLE center_parents (
    center_id  integer NOT NULL REFERENCES centers (id),
    valid_from date NOT NULL,
    parent_id  integer REFERENCES centers (id),
    PRIMARY KEY (center_id, valid_from),
    CHECK (parent_id <> center_id)
);
INSERT INTO center_parents (center_id, valid_from, parent_id)
    SELECT id, '-infinity', parent_id FROM centers;

-- The same as spans: the parent of center_id on the days [valid_from, valid_until).
CREATE VIEW center_parent_spans AS
    SELECT center_id, parent_id, valid_from,
           coalesce(lead(valid_from) OVER (PARTITION BY center_id ORDER BY valid_from),
                    'infinity') AS valid_until
    FROM center_parents;

-- A counter (quầy) of a center; its code is unique within the center.
CREATE TABLE counters (
    id         integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    center_id  integer NOT NULL REFERENCES centers (id),
    code       text NOT NULL CHECK (code ~ '^[A-Za-z0-9._-]{1,64}$'),
    name_vi    text NOT NULL,
    retired_on date,
    UNIQUE (center_id, code),
    UNIQUE (id, center_id)          -- the target of the foreign keys below
);

-- An officer (công chức) by their code, unique in the province.
CREATE TABLE officers (
    id         integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code       text NOT NULL UNIQUE CHECK (code ~ '^[A-Za-z0-9._-]{1,64}$'),
    full_name  text NOT NULL,
    retired_on date
);

-- Where an officer works from a date on (until their next posting): a
-- center, and a counter of it or none. Past ratings stay where they were
-- given: a response records its own center, counter and officer.
CREATE TABLE officer_postings (
    officer_id integer NOT NULL REFERENCES officers (id),
    valid_from date NOT NULL,
    center_id  integer NOT NULL REFERENCES centers (id),
    counter_id integer,
    PRIMARY KEY (officer_id, valid_from),
    FOREIGN KEY (counter_id, center_id) REFERENCES counters (id, center_id)
);

CREATE VIEW officer_posting_spans AS
    SELECT officer_id, center_id, counter_id, valid_from,
           coalesce(lead(valid_from) OVER (PARTITION BY officer_id ORDER BY valid_from),
                    'infinity') AS valid_until
    FROM officer_postings;

-- A kiosk fixed to a counter: that counter is stored whatever the kiosk sends.
ALTER TABLE kiosks
    ADD COLUMN counter_id integer,
    ADD FOREIGN KEY (counter_id, center_id) REFERENCES counters (id, center_id);

-- Where a kiosk stands from a date on (until its next placement): a center,
-- and a counter of it it is fixed to or none. kiosks.center_id and
-- kiosks.counter_id are the placement now (the latest row here), kept with
-- it in the same transaction by sipas; sipasd stores a response under, and
-- judges it by, the placement on the response's day, so that a backlog
-- from before a move still counts where it was collected. Every kiosk has
-- a row from '-infinity'.
CREATE TABLE kiosk_postings (
    kiosk_id   integer NOT NULL REFERENCES kiosks (id),
    valid_from date NOT NULL,
    center_id  integer NOT NULL REFERENCES centers (id),
    counter_id integer,
    PRIMARY KEY (kiosk_id, valid_from),
    FOREIGN KEY (counter_id, center_id) REFERENCES counters (id, center_id)
);
INSERT INTO kiosk_postings (kiosk_id, valid_from, center_id, counter_id)
    SELECT id, '-infinity', center_id, counter_id FROM kiosks;

CREATE VIEW kiosk_posting_spans AS
    SELECT kiosk_id, center_id, counter_id, valid_from,
           coalesce(lead(valid_from) OVER (PARTITION BY kiosk_id ORDER BY valid_from),
                    'infinity') AS valid_until
    FROM kiosk_postings;

-- A dossier (hồ sơ) is rated once per questionnaire at its center, whatever
-- the id: the database enforces it, so that neither two daemons nor a
-- replayed spool can store a second rating. A dossier is handled at one
-- center: scoped by it, a kiosk whose certificate was stolen cannot rate
-- other centers' dossiers in advance (the damage stays in its own center).
-- NULLs are distinct: responses without a dossier are not concerned.
ALTER TABLE responses
    ADD COLUMN counter_id integer,
    ADD COLUMN officer_id integer REFERENCES officers (id),
    ADD COLUMN dossier    text CHECK (dossier ~ '^[0-9A-Za-z._/-]{1,64}$'),
    ADD FOREIGN KEY (counter_id, center_id) REFERENCES counters (id, center_id),
    ADD CONSTRAINT responses_dossier_once UNIQUE (questionnaire_id, center_id, dossier);

-- Figures by officer are an evaluation of a person at work: a role of its
-- own, granted on top of sipas_report.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'sipas_report_personnel') THEN
        CREATE ROLE sipas_report_personnel NOLOGIN;
    END IF;
END
$$;
GRANT sipas_report TO sipas_report_personnel;

REVOKE ALL ON center_parents, center_parent_spans, counters, officers, officer_postings,
    officer_posting_spans, kiosk_postings, kiosk_posting_spans FROM PUBLIC;
GRANT SELECT ON center_parents, center_parent_spans, counters, officers, officer_postings,
    officer_posting_spans, kiosk_postings, kiosk_posting_spans TO sipas_ingest, sipas_report;

-- sipasd judges a response by the organisation (protocol 1.1), and tells a
-- dossier already rated from an id stored before.
GRANT SELECT (questionnaire_id, center_id, dossier) ON responses TO sipas_ingest;
