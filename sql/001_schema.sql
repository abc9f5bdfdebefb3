-- The reference tables, the kiosk registry and the responses.
-- Questionnaires are data: the daemon validates against these rows and the
-- report computes with them. A response stores its answers as an array in
-- the order of its questionnaire's criteria (criteria.position), so a
-- questionnaire's criteria must not change once it has responses: publish a
-- new questionnaire code instead.

CREATE TABLE service_areas (
    id        smallint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code      text NOT NULL UNIQUE CHECK (code ~ '^[a-z0-9-]{1,64}$'),
    name_vi   text NOT NULL,
    name_en   text NOT NULL DEFAULT ''
);

CREATE TABLE centers (
    id        integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code      text NOT NULL UNIQUE CHECK (code ~ '^[a-z0-9-]{1,64}$'),
    name_vi   text NOT NULL,
    level     text NOT NULL CHECK (level IN ('province', 'district', 'commune')),
    parent_id integer REFERENCES centers (id),
    CHECK ((level = 'province') = (parent_id IS NULL))
);
CREATE INDEX centers_parent_idx ON centers (parent_id);

CREATE TABLE questionnaires (
    id            smallint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code          text NOT NULL UNIQUE CHECK (code ~ '^[a-z0-9-]{1,64}$'),
    name_vi       text NOT NULL,
    scale_min     smallint NOT NULL,
    scale_max     smallint NOT NULL,
    satisfied_min smallint NOT NULL,  -- answers >= this are "satisfied"
    active        boolean NOT NULL DEFAULT true,
    CHECK (scale_min >= 0 AND scale_min < satisfied_min AND satisfied_min <= scale_max AND scale_max <= 100)
);

CREATE TABLE scale_levels (
    questionnaire_id smallint NOT NULL REFERENCES questionnaires (id),
    value            smallint NOT NULL,
    label_vi         text NOT NULL,
    label_en         text NOT NULL DEFAULT '',
    PRIMARY KEY (questionnaire_id, value)
);

CREATE TABLE elements (
    id               integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    questionnaire_id smallint NOT NULL REFERENCES questionnaires (id),
    position         smallint NOT NULL CHECK (position > 0),
    code             text NOT NULL CHECK (code ~ '^[A-Za-z0-9_]{1,32}$'),
    name_vi          text NOT NULL,
    name_en          text NOT NULL DEFAULT '',
    weight           numeric(8,4) NOT NULL DEFAULT 1 CHECK (weight > 0),
    UNIQUE (questionnaire_id, position),
    UNIQUE (questionnaire_id, code)
);

CREATE TABLE criteria (
    id               integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    questionnaire_id smallint NOT NULL REFERENCES questionnaires (id),
    element_id       integer NOT NULL REFERENCES elements (id),
    position         smallint NOT NULL CHECK (position > 0),  -- index into responses.answers
    code             text NOT NULL CHECK (code ~ '^[A-Za-z0-9_]{1,32}$'),
    text_vi          text NOT NULL,
    text_en          text NOT NULL DEFAULT '',
    weight           numeric(8,4) NOT NULL DEFAULT 1 CHECK (weight > 0),
    UNIQUE (questionnaire_id, position),
    UNIQUE (questionnaire_id, code)
);

CREATE TABLE kiosks (
    id               integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code             text NOT NULL UNIQUE CHECK (code ~ '^[A-Za-z0-9._-]{1,64}$'),
    center_id        integer NOT NULL REFERENCES centers (id),
    questionnaire_id smallint REFERENCES questionnaires (id),  -- NULL: the default one
    cert_sha256      bytea NOT NULL UNIQUE CHECK (length(cert_sha256) = 32),
    status           text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'revoked')),
    enrolled_at      timestamptz NOT NULL DEFAULT now(),
    revoked_at       timestamptz,
    CHECK ((status = 'revoked') = (revoked_at IS NOT NULL))
);

CREATE TABLE responses (
    id               uuid PRIMARY KEY,          -- chosen by the kiosk: the idempotency key
    content_hash     bytea NOT NULL,            -- SHA-256 of the canonical content
    kiosk_id         integer NOT NULL REFERENCES kiosks (id),
    center_id        integer NOT NULL REFERENCES centers (id),
    service_area_id  smallint NOT NULL REFERENCES service_areas (id),
    questionnaire_id smallint NOT NULL REFERENCES questionnaires (id),
    procedure        text CHECK (procedure ~ '^[0-9A-Za-z.-]{1,32}$'),
    submitted_at     timestamptz NOT NULL,
    received_at      timestamptz NOT NULL DEFAULT now(),
    answers          smallint[] NOT NULL,       -- by criteria.position; NULL = not applicable
    overall          smallint,
    comment          text CHECK (octet_length(comment) <= 2000),
    gender           text CHECK (gender IN ('male', 'female', 'other')),
    age_group        text CHECK (age_group IN ('18-25', '26-34', '35-49', '50-60', '60+')),
    ethnicity        text CHECK (ethnicity IN ('kinh', 'other')),
    education        text CHECK (education IN ('none', 'primary', 'lower-secondary',
                                               'upper-secondary', 'vocational', 'university')),
    occupation       text CHECK (occupation IN ('farmer', 'worker', 'public-sector', 'business',
                                                'student', 'retired', 'other'))
);
CREATE INDEX responses_submitted_idx ON responses (submitted_at);
CREATE INDEX responses_center_idx ON responses (center_id, submitted_at);
