-- Personal data and accountability (docs/privacy.md): the audit log of
-- administrative actions, append-only and hash-chained.

-- One row per administrative action, written by sipas (client/audit.c) in
-- the transaction of the action itself, or, for an action that failed, in a
-- transaction of its own after the rollback. Who: the database roles are
-- the column defaults, evaluated as the inserting role, which may not
-- supply them (it is granted only the other columns below); the operating
-- system user and host are what sipas says, and cannot be checked. The
-- trigger below numbers the rows 1, 2, 3... and chains them: prev_hash is
-- the predecessor's row_hash (32 zero bytes for row 1), row_hash the
-- SHA-256 of the row's canonical content (sipas_audit_canonical), prev_hash
-- included. An edited row no longer matches its row_hash; a row edited
-- with its row_hash recomputed, or removed, no longer matches its
-- successor's prev_hash; `sipas audit verify` checks both.
CREATE TABLE audit_log (
    id           bigint PRIMARY KEY,
    at           timestamptz NOT NULL DEFAULT now(),
    db_user      text NOT NULL DEFAULT current_user,
    session_user_name text NOT NULL DEFAULT session_user,
    client_addr  inet DEFAULT inet_client_addr(),
    os_user      text NOT NULL,
    host         text NOT NULL,
    action       text NOT NULL CHECK (action ~ '^[a-z][a-z -]{0,63}$'),
    arguments    jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(arguments) = 'object'),
    -- started: an export's rows leave before its outcome is known, so
    -- its start is committed first (client/audit.h, audit_started).
    outcome      text NOT NULL CHECK (outcome IN ('started', 'ok', 'failed')),
    detail       text NOT NULL DEFAULT '',
    prev_hash    bytea NOT NULL UNIQUE CHECK (length(prev_hash) = 32),
    row_hash     bytea NOT NULL CHECK (length(row_hash) = 32)
);
CREATE INDEX audit_log_at_idx ON audit_log (at);

-- The text the hash is taken of: a JSON array, whose text form PostgreSQL
-- writes one way only (jsonb's key order and spacing included), so that
-- no two different rows share it. Times in UTC to the microsecond.
CREATE FUNCTION sipas_audit_canonical(a audit_log) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_array(a.id,
        to_char(a.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
        a.db_user, a.session_user_name, host(a.client_addr), a.os_user, a.host,
        a.action, a.arguments, a.outcome, a.detail, encode(a.prev_hash, 'hex'))::text
$$;

CREATE FUNCTION sipas_audit_row_hash(a audit_log) RETURNS bytea
LANGUAGE sql STABLE AS $$
    SELECT sha256(convert_to(sipas_audit_canonical(a), 'UTF8'))
$$;

-- Numbers and chains a new row. The advisory lock serialises the writers
-- until the end of their transactions: a second action waits for the first
-- to commit or roll back, then reads (read committed: a new snapshot for
-- each statement) the row it must follow. Should a writer still read an
-- old head (a repeatable-read transaction), the primary key and the unique
-- prev_hash refuse its row: the chain cannot fork. SECURITY DEFINER so that
-- the writers need no right to read the log; the time is the transaction's.
-- Any role can take that advisory lock and keep it in an open transaction
-- (pg_advisory_xact_lock is PUBLIC's): lock_timeout makes the next action
-- fail, saying so, rather than hang.
CREATE FUNCTION sipas_audit_chain() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
SET lock_timeout = '10s' AS $$
DECLARE
    head audit_log;
BEGIN
    PERFORM pg_advisory_xact_lock(4242010);
    SELECT * INTO head FROM audit_log ORDER BY id DESC LIMIT 1;
    NEW.id := coalesce(head.id, 0) + 1;
    NEW.at := now();
    NEW.prev_hash := coalesce(head.row_hash, decode(repeat('00', 32), 'hex'));
    NEW.row_hash := sipas_audit_row_hash(NEW);
    RETURN NEW;
END
$$;
CREATE TRIGGER audit_log_chain BEFORE INSERT ON audit_log
    FOR EACH ROW EXECUTE FUNCTION sipas_audit_chain();

-- Append-only for every role, its owner included. A superuser can still
-- disable the trigger: the chain shows what was done then.
CREATE FUNCTION sipas_audit_refuse() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION sipas_audit_refuse();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION sipas_audit_refuse();

-- Who may write and read it. Its arguments name officers and their
-- postings (sipas_report_personnel's, 008): the owner reads it, and the
-- roles granted sipas_audit (sipas audit). Nobody else inserts directly:
-- sipas writes every row through sipas_audit_record below.
REVOKE ALL ON audit_log FROM PUBLIC;
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'sipas_audit') THEN
        CREATE ROLE sipas_audit NOLOGIN;
    END IF;
END
$$;
GRANT SELECT ON audit_log TO sipas_audit;

-- Writes one row for sipas (client/audit.c): the only way the report roles
-- record their exports and unsealings. db_user is the caller's current
-- role, which its session must be allowed to be; who, when and the chain
-- are never the caller's to say. lock_timeout as in sipas_audit_chain.
CREATE FUNCTION sipas_audit_record(os_user text, host text, action text, outcome text,
    detail text, arguments jsonb, who name DEFAULT current_user) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
SET lock_timeout = '10s' AS $$
BEGIN
    IF NOT pg_has_role(session_user, who, 'MEMBER') THEN
        RAISE EXCEPTION 'the audit log: % cannot write as %', session_user, who
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    INSERT INTO audit_log (db_user, os_user, host, action, arguments, outcome, detail)
        VALUES (who, os_user, host, action, arguments, outcome, detail);
END
$$;
REVOKE ALL ON FUNCTION sipas_audit_record(text, text, text, text, text, jsonb, name) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION sipas_audit_record(text, text, text, text, text, jsonb, name)
    TO sipas_report;

-- Comments and respondent profiles (docs/privacy.md): row by row, only for
-- the roles granted sipas_comments; the report roles reach the profiles
-- only as aggregates, through sipas_respondent_rollup below.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'sipas_comments') THEN
        CREATE ROLE sipas_comments NOLOGIN;
    END IF;
END
$$;
-- On top of sipas_report (the catalog): the personal
-- columns, and still not officer_id, which is sipas_report_personnel's.
GRANT sipas_report TO sipas_comments;
GRANT SELECT (comment, gender, age_group, ethnicity, education, occupation)
    ON responses TO sipas_comments;
REVOKE SELECT (comment, gender, age_group, ethnicity, education, occupation)
    ON responses FROM sipas_report;
-- Nor, for any report role, the content hash (a plain SHA-256 of the
-- content, attributes and comment included: hashing candidates would
-- recover them) or the dossier number (it identifies a person). Only
-- sipas_ingest reads them, for the duplicate and dossier rules.
REVOKE SELECT (content_hash, dossier) ON responses FROM sipas_report;
-- The same attributes where sql/007_rollup_dimensions.sql keeps them for
-- fast reports: the rollup queue's columns, and the second rollup's leaves
-- by attribute, whose groups are not suppressed. The report roles have them
-- only through sipas_respondent_rollup; sipas_report_personnel is a member
-- of sipas_report and had them from it alone.
REVOKE SELECT (gender, age_group, ethnicity, education, occupation)
    ON rollup_pending FROM sipas_report;
DO $$
DECLARE
    leaf text;
BEGIN
    FOR leaf IN SELECT format('response_rollup_%s_%s', d, g)
                FROM unnest(ARRAY['gender', 'age_group', 'ethnicity', 'education',
                                  'occupation']) AS d,
                     unnest(ARRAY['month', 'year']) AS g LOOP
        EXECUTE format('REVOKE ALL ON %I FROM sipas_report', leaf);
    END LOOP;
END
$$;
-- sipas_report_personnel read every column (008): now every one but these.
REVOKE SELECT ON responses FROM sipas_report_personnel;
DO $$
BEGIN
    EXECUTE format('GRANT SELECT (%s) ON responses TO sipas_report_personnel',
        (SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum)
         FROM pg_attribute
         WHERE attrelid = 'responses'::regclass AND attnum > 0 AND NOT attisdropped
           AND attname NOT IN ('comment', 'gender', 'age_group', 'ethnicity', 'education',
                               'occupation', 'content_hash', 'dossier')));
END
$$;

-- A group of a report by respondent attribute: a cell (k0, k1), a margin
-- (m0 or m1: that key dropped) or the total, with the sums of
-- sipas_rollup_query, zero where suppressed.
CREATE TYPE sipas_respondent_group AS (
    m0 boolean, m1 boolean, k0 text, k1 text, suppressed boolean,
    n integer, rated integer[], p_sum float8[], p_sq float8[], cells integer[]
);

-- The expression over responses r (and day) of a dimension of sipas report
-- (client/report-dim.c) as the report groups by it, or NULL. District and
-- level group the centers as the report shows them: by the district's
-- center, by a center of the level.
CREATE FUNCTION sipas_respondent_key(dim text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE dim
        WHEN 'gender' THEN 'r.gender' WHEN 'age_group' THEN 'r.age_group'
        WHEN 'ethnicity' THEN 'r.ethnicity' WHEN 'education' THEN 'r.education'
        WHEN 'occupation' THEN 'r.occupation'
        WHEN 'area' THEN 'r.service_area_id' WHEN 'center' THEN 'r.center_id'
        WHEN 'district' THEN '(SELECT CASE WHEN c.level = ''commune'' THEN c.parent_id '
                             'ELSE c.id END FROM centers c WHERE c.id = r.center_id)'
        WHEN 'level' THEN '(SELECT min(l.id) FROM centers l JOIN centers c '
                          'ON c.level = l.level WHERE c.id = r.center_id)'
        WHEN 'kiosk' THEN 'r.kiosk_id' WHEN 'procedure' THEN 'r.procedure'
        WHEN 'counter' THEN 'r.counter_id' WHEN 'officer' THEN 'r.officer_id'
        WHEN 'month' THEN 'date_trunc(''month'', day::timestamp)'
        WHEN 'quarter' THEN 'date_trunc(''quarter'', day::timestamp)'
        WHEN 'year' THEN 'date_trunc(''year'', day::timestamp)'
    END
$$;

-- The line of margin m along dimension d: the cells with m's key in the
-- other dimension. If exactly one of m and its line is suppressed, the
-- smallest other is too (else m): the figures shown and the margin then
-- never give away a suppressed group by subtraction. As
-- report_group_suppress (client/report-group.c) does; returns whether it
-- suppressed one.
CREATE FUNCTION sipas_respondent_protect(g INOUT sipas_respondent_group[], d integer,
                                         m integer, changed OUT boolean)
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    hidden integer := g[m].suppressed::int;
    smallest integer;
BEGIN
    FOR j IN 1 .. cardinality(g) LOOP
        CONTINUE WHEN (CASE d WHEN 0 THEN g[j].m0 ELSE g[j].m1 END)
            OR (CASE d WHEN 0 THEN (g[j].m1, g[j].k1) IS DISTINCT FROM (g[m].m1, g[m].k1)
                ELSE (g[j].m0, g[j].k0) IS DISTINCT FROM (g[m].m0, g[m].k0) END);
        IF g[j].suppressed THEN
            hidden := hidden + 1;
        ELSIF smallest IS NULL OR g[j].n < g[smallest].n THEN
            smallest := j;
        END IF;
    END LOOP;
    changed := hidden = 1;
    IF changed THEN
        g[coalesce(smallest, m)].suppressed := true;
    END IF;
END
$$;

-- The sums of two groups, in a's place.
CREATE FUNCTION sipas_respondent_add(a sipas_respondent_group, b sipas_respondent_group)
RETURNS sipas_respondent_group
LANGUAGE sql IMMUTABLE AS $$
    SELECT a.m0, a.m1, a.k0, a.k1, false, a.n + b.n,
        ARRAY(SELECT x + y FROM unnest(a.rated, b.rated) WITH ORDINALITY t (x, y, i) ORDER BY i),
        ARRAY(SELECT x + y FROM unnest(a.p_sum, b.p_sum) WITH ORDINALITY t (x, y, i) ORDER BY i),
        ARRAY(SELECT x + y FROM unnest(a.p_sq, b.p_sq) WITH ORDINALITY t (x, y, i) ORDER BY i),
        ARRAY(SELECT x + y FROM unnest(a.cells, b.cells) WITH ORDINALITY t (x, y, i) ORDER BY i)
$$;

-- The submitted_at of responses r on the Vietnam days a..b, either end
-- NULL for open.
CREATE FUNCTION sipas_respondent_days(a date, b date) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT concat_ws(' AND ', 'true',
        CASE WHEN a IS NOT NULL THEN format(
            'r.submitted_at >= %L::date::timestamp AT TIME ZONE ''Asia/Ho_Chi_Minh''', a) END,
        CASE WHEN b IS NOT NULL THEN format(
            'r.submitted_at < (%L::date + 1)::timestamp AT TIME ZONE ''Asia/Ho_Chi_Minh''', b) END)
$$;

-- The rollup rows r of the periods starting on days a..b, either end NULL
-- for open.
CREATE FUNCTION sipas_respondent_on(a date, b date) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT concat(CASE WHEN a IS NOT NULL THEN format(' AND r.day >= %L', a) END,
                  CASE WHEN b IS NOT NULL THEN format(' AND r.day <= %L', b) END)
$$;

-- The sums of rows shaped as sipas_rollup_query's of questionnaire qid.
CREATE FUNCTION sipas_rollup_sums_sql(qid smallint) RETURNS text
LANGUAGE sql STABLE AS $$
    WITH shape AS (
        SELECT 1 + (SELECT count(*) FROM elements WHERE questionnaire_id = qid) AS scopes,
               (SELECT count(*) FROM criteria WHERE questionnaire_id = qid) *
               (SELECT scale_max - scale_min + 1 FROM questionnaires WHERE id = qid) AS cells
    )
    SELECT format('sum(n)::int AS n, ARRAY[%s]::int[] AS rated, ARRAY[%s]::float8[] AS p_sum, '
                  'ARRAY[%s]::float8[] AS p_sq, ARRAY[%s]::int[] AS cells',
        (SELECT string_agg(format('sum(rated[%s])', i), ', ' ORDER BY i)
         FROM generate_series(1, scopes) i),
        (SELECT string_agg(format('sum(p_sum[%s])', i), ', ' ORDER BY i)
         FROM generate_series(1, scopes) i),
        (SELECT string_agg(format('sum(p_sq[%s])', i), ', ' ORDER BY i)
         FROM generate_series(1, scopes) i),
        (SELECT string_agg(format('sum(cells[%s])', i), ', ' ORDER BY i)
         FROM generate_series(1, cells) i))
    FROM shape
$$;

-- The cells of sipas_respondent_rollup as one query (parameters $1..$7 of
-- its cond). By one attribute, alone or with a time or center dimension
-- and no filter but the center, from the second rollup (sql/007) as
-- client/report-query.c reads it for the other dimensions: whole years
-- from the year rows (not by month or quarter), other whole months from the
-- month rows and the queue, the days of partial months from the
-- responses; otherwise from the responses. A response counts under its own
-- center and the parents of now, as everywhere in this function.
CREATE FUNCTION sipas_respondent_cells_sql(qid smallint, dims text[], from_day date,
    to_day date, filtered boolean, cond text, center_cond text) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
    attrs text[] := ARRAY['gender', 'age_group', 'ethnicity', 'education', 'occupation'];
    keys text[] := ARRAY[sipas_respondent_key(dims[1]) || '::text AS k0',
        CASE cardinality(dims) WHEN 1 THEN 'NULL::text'
             ELSE sipas_respondent_key(dims[2]) || '::text' END || ' AS k1'];
    leaf text;
    other text := NULL;
    mfrom date := (date_trunc('month', (from_day - 1)::timestamp) + interval '1 month')::date;
    mto date := (date_trunc('month', (to_day + 1)::timestamp) - interval '1 day')::date;
    yfrom date;
    yto date;
    years boolean;
    pieces text[] := '{}';
    leaf_rows text;
BEGIN
    IF cardinality(dims) = 1 THEN
        leaf := dims[1];
    ELSIF (dims[1] = ANY (attrs)) <> (dims[2] = ANY (attrs)) THEN
        leaf := CASE WHEN dims[1] = ANY (attrs) THEN dims[1] ELSE dims[2] END;
        other := CASE WHEN dims[1] = ANY (attrs) THEN dims[2] ELSE dims[1] END;
    END IF;
    IF filtered OR leaf IS NULL OR coalesce(other NOT IN ('month', 'quarter', 'year', 'center',
                                                          'district', 'level'), false)
       OR coalesce(mfrom > mto, false) THEN
        RETURN sipas_rollup_query('responses', qid, keys,
                                  sipas_respondent_days(from_day, to_day) || ' AND ' || cond);
    END IF;
    IF from_day < mfrom THEN
        pieces := pieces || sipas_rollup_query('responses', qid, keys,
            sipas_respondent_days(from_day, mfrom - 1) || ' AND ' || center_cond);
    END IF;
    IF to_day > mto THEN
        pieces := pieces || sipas_rollup_query('responses', qid, keys,
            sipas_respondent_days(mto + 1, to_day) || ' AND ' || center_cond);
    END IF;
    pieces := pieces || sipas_rollup_query('rollup_pending', qid, keys,
        sipas_respondent_days(mfrom, mto) || ' AND ' || center_cond);
    yfrom := (date_trunc('year', (mfrom - 1)::timestamp) + interval '1 year')::date;
    yto := (date_trunc('year', (mto + 1)::timestamp) - interval '1 day')::date;
    years := coalesce(other NOT IN ('month', 'quarter'), true) AND coalesce(yfrom <= yto, true);
    leaf_rows := format('SELECT %s, %s, n, rated, p_sum, p_sq, cells FROM %%I r '
                        'WHERE r.questionnaire_id = %s AND %s', keys[1], keys[2], qid, center_cond);
    pieces := pieces || (format(leaf_rows, 'response_rollup_' || leaf || '_month')
        || concat(sipas_respondent_on(mfrom, mto),
                  CASE WHEN years THEN format(' AND NOT (r.day >= %L AND r.day <= %L)',
                                              coalesce(yfrom, '-infinity'),
                                              coalesce(yto, 'infinity')) END));
    IF years THEN
        pieces := pieces || (format(leaf_rows, 'response_rollup_' || leaf || '_year')
            || sipas_respondent_on(yfrom, yto));
    END IF;
    RETURN format('SELECT k0, k1, %s FROM (%s) x GROUP BY k0, k1', sipas_rollup_sums_sql(qid),
                  array_to_string(pieces, ' UNION ALL '));
END
$$;

-- A report by one or two dimensions, one at least a respondent attribute,
-- over the responses of questionnaire qid selected as sipas report selects
-- them (days from..to in Vietnam time, a center and those below it, an
-- area, kiosk, counter or officer code, each NULL for any): every cell,
-- margin and the total, a group of fewer than min_cell respondents (at
-- least 3) suppressed, and a second one in each line where one is, its
-- sums zero. The report roles may read no attribute row by row: this, run
-- as its owner, is how they reach them, and psql gets no more from it than
-- sipas report shows. Figures by officer stay sipas_report_personnel's.
CREATE FUNCTION sipas_respondent_rollup(qid smallint, dims text[], from_day date, to_day date,
    center text, area text, kiosk text, counter text, officer text, min_cell integer)
RETURNS SETOF sipas_respondent_group
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    center_cond text := '($3::text IS NULL OR r.center_id IN (WITH RECURSIVE scope AS (SELECT id FROM centers'
        '  WHERE code = $3 UNION ALL SELECT c.id FROM centers c JOIN scope s ON c.parent_id = s.id)'
        '  SELECT id FROM scope))';
    cond text := center_cond ||
        ' AND ($4::text IS NULL OR r.service_area_id = (SELECT id FROM service_areas WHERE code = $4))'
        ' AND ($5::text IS NULL OR r.kiosk_id = (SELECT id FROM kiosks WHERE code = $5))'
        ' AND ($6::text IS NULL OR r.counter_id IN (SELECT id FROM counters WHERE code = $6'
        '  AND ($3::text IS NULL OR center_id IN (WITH RECURSIVE scope AS (SELECT id FROM centers'
        '  WHERE code = $3 UNION ALL SELECT c.id FROM centers c JOIN scope s ON c.parent_id = s.id)'
        '  SELECT id FROM scope))))'
        ' AND ($7::text IS NULL OR r.officer_id = (SELECT id FROM officers WHERE code = $7))';
    nd integer := cardinality(dims);
    keys text[];
    g sipas_respondent_group[] := '{}';
    grp sipas_respondent_group;
    changed boolean;
    any_change boolean;
    ncells integer;
    found_at integer;
    sets boolean[][] := CASE nd WHEN 1 THEN ARRAY[[false, true], [true, true]]
        ELSE ARRAY[[false, false], [false, true], [true, false], [true, true]] END;
BEGIN
    IF nd NOT IN (1, 2) OR NOT dims && ARRAY['gender', 'age_group', 'ethnicity', 'education',
                                              'occupation'] THEN
        RAISE EXCEPTION 'sipas_respondent_rollup: one or two dimensions, one of them a '
            'respondent attribute, not %', dims;
    END IF;
    IF (officer IS NOT NULL OR 'officer' = ANY (dims))
       AND NOT pg_has_role(session_user, 'sipas_report_personnel', 'MEMBER') THEN
        RAISE EXCEPTION 'figures by officer are for sipas_report_personnel'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    FOR i IN 1 .. nd LOOP
        IF sipas_respondent_key(dims[i]) IS NULL THEN
            RAISE EXCEPTION 'sipas_respondent_rollup: unknown dimension %', dims[i];
        END IF;
    END LOOP;
    min_cell := greatest(min_cell, 3);
    -- The cells in one query (the rollup's rows, or one pass over the
    -- responses); the margins and the total are their sums. Nothing
    -- selected: still a total, of zero.
    FOR grp IN EXECUTE format('SELECT false, %L::boolean, k0, k1, false, n, rated, p_sum, p_sq, cells FROM (%s) x',
                              nd = 1, sipas_respondent_cells_sql(qid, dims, from_day, to_day,
                                  num_nonnulls(area, kiosk, counter, officer) > 0, cond,
                                  center_cond))
        USING from_day, to_day, center, area, kiosk, counter, officer LOOP
        g := g || grp;
    END LOOP;
    ncells := cardinality(g);
    IF ncells = 0 THEN
        EXECUTE format('SELECT true, true, NULL, NULL, false, n, rated, p_sum, p_sq, cells FROM (%s) x',
                       sipas_rollup_query('responses', qid, ARRAY['NULL::text AS k0', 'NULL::text AS k1'],
                           sipas_respondent_days(from_day, to_day) || ' AND ' || cond))
            INTO grp USING from_day, to_day, center, area, kiosk, counter, officer;
        g := ARRAY[grp];
    END IF;
    FOR s IN 2 .. array_length(sets, 1) LOOP
        FOR i IN 1 .. ncells LOOP
            grp := g[i];
            grp.m0 := sets[s][1];
            grp.m1 := sets[s][2];
            grp.k0 := CASE WHEN grp.m0 THEN NULL ELSE grp.k0 END;
            grp.k1 := CASE WHEN grp.m1 THEN NULL ELSE grp.k1 END;
            found_at := NULL;
            FOR j IN ncells + 1 .. cardinality(g) LOOP
                IF (g[j].m0, g[j].m1, g[j].k0, g[j].k1) IS NOT DISTINCT FROM (grp.m0, grp.m1, grp.k0, grp.k1) THEN
                    found_at := j;
                    EXIT;
                END IF;
            END LOOP;
            IF found_at IS NULL THEN
                g := g || grp;
            ELSE
                g[found_at] := sipas_respondent_add(g[found_at], grp);
            END IF;
        END LOOP;
    END LOOP;
    FOR i IN 1 .. cardinality(g) LOOP
        g[i].suppressed := g[i].n < min_cell;
    END LOOP;
    LOOP
        any_change := false;
        FOR d IN 0 .. nd - 1 LOOP
            FOR i IN 1 .. cardinality(g) LOOP
                IF (CASE d WHEN 0 THEN g[i].m0 ELSE g[i].m1 END) THEN
                    SELECT * INTO g, changed FROM sipas_respondent_protect(g, d, i);
                    any_change := any_change OR changed;
                END IF;
            END LOOP;
        END LOOP;
        EXIT WHEN NOT any_change;
    END LOOP;
    FOR i IN 1 .. cardinality(g) LOOP
        grp := g[i];
        IF grp.suppressed THEN
            grp.n := 0;
            grp.rated := array_fill(0, ARRAY[cardinality(grp.rated)]);
            grp.p_sum := array_fill(0::float8, ARRAY[cardinality(grp.p_sum)]);
            grp.p_sq := array_fill(0::float8, ARRAY[cardinality(grp.p_sq)]);
            grp.cells := array_fill(0, ARRAY[cardinality(grp.cells)]);
        END IF;
        RETURN NEXT grp;
    END LOOP;
END
$$;
REVOKE ALL ON FUNCTION sipas_respondent_rollup(smallint, text[], date, date, text, text, text,
    text, text, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION sipas_respondent_rollup(smallint, text[], date, date, text, text, text,
    text, text, integer) TO sipas_report;

-- sipas purge --personal-data-older-than (client/cmd-purge.c): clears the
-- comment and the profile of the responses submitted before the Vietnam
-- day `before` that still have any, and returns how many (dry: only
-- counts them). The second rollup's leaves by attribute (sql/007) then
-- count those respondents among the ones who did not say, as a report
-- from the responses would: the months and years that begin before the
-- cut-off are summed again from the responses. Responses wait meanwhile
-- (the lock), and so does a folding, which the purge does first, so that
-- each response is counted once.
CREATE FUNCTION sipas_purge_personal_data(before date, dry boolean) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    attrs text[] := ARRAY['gender', 'age_group', 'ethnicity', 'education', 'occupation'];
    month text := 'date_trunc(''month'', day::timestamp)::date';
    year text := 'date_trunc(''year'', day::timestamp)::date';
    older text := format('submitted_at < %L::date::timestamp AT TIME ZONE ''Asia/Ho_Chi_Minh'''
        ' AND num_nonnulls(comment, gender, age_group, ethnicity, education, occupation) > 0',
        before);
    qid smallint;
    cleared bigint;
BEGIN
    IF dry THEN
        EXECUTE 'SELECT count(*) FROM responses WHERE ' || older INTO cleared;
        RETURN cleared;
    END IF;
    LOCK TABLE responses IN SHARE ROW EXCLUSIVE MODE;
    PERFORM pg_advisory_xact_lock(hashtext('sipas_rollup_compact'));
    FOR qid IN SELECT DISTINCT questionnaire_id FROM rollup_pending LOOP
        EXECUTE sipas_rollup_fold_sql(qid, 0);
    END LOOP;
    -- The content hash would still let a guess at the cleared data be
    -- checked: it is hashed once more, so that a retry of the response
    -- (within sipasd's max_age, before the purge in practice) and any
    -- other content still differ from it: 409 id_conflict, not 200.
    EXECUTE 'WITH c AS (UPDATE responses SET comment = NULL, gender = NULL, age_group = NULL,'
        ' ethnicity = NULL, education = NULL, occupation = NULL,'
        ' content_hash = sha256(content_hash || ''purged'') WHERE ' || older
        || ' RETURNING 1) SELECT count(*) FROM c' INTO cleared;
    DELETE FROM response_rollup_by WHERE dim = ANY (attrs) AND day < before;
    FOR qid IN SELECT id FROM questionnaires LOOP
        EXECUTE format('INSERT INTO response_rollup_by (dim, grain, day, center_id, '
            'questionnaire_id, gender, age_group, ethnicity, education, occupation, n, rated, '
            'p_sum, p_sq, cells) SELECT * FROM (%s) x WHERE x.day < %L',
            sipas_rollup_query('responses', qid, ARRAY[
                (SELECT 'CASE ' || string_agg(format('WHEN grouping(%I) = 0 THEN %L', a, a), ' ')
                        || ' END AS dim' FROM unnest(attrs) a),
                format('CASE WHEN grouping(%s) = 0 THEN ''month'' ELSE ''year'' END AS grain',
                       month),
                format('coalesce(%s, %s) AS day', month, year),
                'center_id', 'questionnaire_id', 'gender', 'age_group', 'ethnicity',
                'education', 'occupation'],
                format('r.submitted_at < (date_trunc(''year'', (%L::date - 1)::timestamp)'
                       ' + interval ''1 year'') AT TIME ZONE ''Asia/Ho_Chi_Minh''', before),
                'center_id, questionnaire_id, GROUPING SETS ('
                || (SELECT string_agg(format('(%s, %I), (%s, %I)', month, a, year, a), ', ')
                    FROM unnest(attrs) a) || ')'),
            before);
    END LOOP;
    RETURN cleared;
END
$$;

-- A comment sealed by sipasd (comment_seal_key, lib/seal.h) is 'sealed:'
-- and the base64 of a box 48 bytes longer than the comment: up to 2,736
-- characters for a comment of the 2,000 bytes sipasd accepts.
ALTER TABLE responses DROP CONSTRAINT responses_comment_check,
    ADD CONSTRAINT responses_comment_check CHECK (octet_length(comment) <= 2000
        OR (comment ~ '^sealed:[A-Za-z0-9+/]+=*$' AND octet_length(comment) <= 2800));
