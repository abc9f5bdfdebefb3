-- The second rollup: the figures by kiosk, procedure, counter, officer and
-- each respondent attribute, which the first one (005) leaves out of its
-- key. One row per month (and one per year), center, questionnaire and
-- value of one dimension, with the sums of 005: at most months x centers x
-- values rows per dimension, however many responses there are. Reports by
-- these dimensions read it instead of rolling up the responses on the fly:
-- whole years from the year rows, whole months from the month rows, and
-- only the days of a period's partial first and last months from the
-- responses (client/report-query.c).
--
-- Why months and years, not days as in 005: procedures are thousands of
-- codes, and a day of a center has fewer responses than codes, so day rows
-- were as many as the responses (bench/report at 1,000,000 responses:
-- 991,939 day rows by procedure, and a year by procedure read from them
-- took 5.5 s). A year of Ha Tinh is at most 14 centers x the codes used.
--
-- One table partitioned by the dimension, then by the grain: `dim` names
-- the column of responses its rows are grouped by (the other value columns
-- are NULL), `grain` is 'month' or 'year', `day` the period's first day,
-- and each leaf is response_rollup_<dim>_<grain>. A report reads the leaf
-- it needs (only its rows, read together), and a leaf is granted like the
-- column it sums: the figures by officer only to sipas_report_personnel,
-- the others to sipas_report; sql/010_privacy.sql takes back those of the
-- respondent attributes, which the report roles reach only through
-- sipas_respondent_rollup, suppressed.
--
-- Folding is exact as in 005: the statement trigger queues the columns of
-- each stored response in rollup_pending (now with these columns too), and
-- sipas_rollup_compact() folds the same queued rows into both rollups and
-- unqueues them in one statement; reports add the queued rows of the
-- partition's column, rolled up on the fly, in their snapshot.

-- What was queued before this migration has none of the new columns: fold
-- it now with 005's statement, while no response can be stored and no
-- other folding runs, then build the new rollup from every stored response.
LOCK TABLE responses IN SHARE MODE;
SELECT pg_advisory_xact_lock(hashtext('sipas_rollup_compact'));
DO $$
DECLARE
    qid smallint;
BEGIN
    SET LOCAL work_mem = '256MB';
    FOR qid IN SELECT DISTINCT questionnaire_id FROM rollup_pending LOOP
        EXECUTE sipas_rollup_fold_sql(qid, 0);
    END LOOP;
END
$$;

ALTER TABLE rollup_pending
    ADD COLUMN kiosk_id   integer,
    ADD COLUMN procedure  text,
    ADD COLUMN counter_id integer,
    ADD COLUMN officer_id integer,
    ADD COLUMN gender     text,
    ADD COLUMN age_group  text,
    ADD COLUMN ethnicity  text,
    ADD COLUMN education  text,
    ADD COLUMN occupation text;

CREATE TABLE response_rollup_by (
    dim              text NOT NULL,
    grain            text NOT NULL,
    day              date NOT NULL,
    center_id        integer NOT NULL,
    questionnaire_id smallint NOT NULL,
    kiosk_id         integer,
    procedure        text,
    counter_id       integer,
    officer_id       integer,
    gender           text,
    age_group        text,
    ethnicity        text,
    education        text,
    occupation       text,
    n                integer NOT NULL,
    rated            integer[] NOT NULL,
    p_sum            float8[] NOT NULL,
    p_sq             float8[] NOT NULL,
    cells            integer[] NOT NULL
) PARTITION BY LIST (dim);
-- A NULL value (no procedure, no gender given) is a group of its own.
CREATE UNIQUE INDEX response_rollup_by_key ON response_rollup_by (dim, grain, day, center_id,
    questionnaire_id, kiosk_id, procedure, counter_id, officer_id, gender, age_group,
    ethnicity, education, occupation) NULLS NOT DISTINCT;

-- The dimensions, one partition each; adding one is a column here, a row
-- here and a row of client/report-dim.c.
CREATE TABLE sipas_rollup_dims (dim text PRIMARY KEY, personnel boolean NOT NULL);
INSERT INTO sipas_rollup_dims VALUES
    ('kiosk_id', false), ('procedure', false), ('counter_id', false), ('officer_id', true),
    ('gender', false), ('age_group', false), ('ethnicity', false), ('education', false),
    ('occupation', false);
DO $$
DECLARE
    d record;
    g text;
BEGIN
    FOR d IN SELECT * FROM sipas_rollup_dims LOOP
        EXECUTE format('CREATE TABLE %I PARTITION OF response_rollup_by FOR VALUES IN (%L) '
                       'PARTITION BY LIST (grain)', 'response_rollup_' || d.dim, d.dim);
        FOR g IN SELECT unnest(ARRAY['month', 'year']) LOOP
            EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES IN (%L)',
                           'response_rollup_' || d.dim || '_' || g, 'response_rollup_' || d.dim, g);
            EXECUTE format('GRANT SELECT ON %I TO %I', 'response_rollup_' || d.dim || '_' || g,
                           CASE WHEN d.personnel THEN 'sipas_report_personnel'
                                ELSE 'sipas_report' END);
        END LOOP;
    END LOOP;
END
$$;

-- 005's query with the GROUP BY clause given (NULL: by every key), so that
-- one pass over the queued responses computes each one's shares once and
-- groups them by every dimension (GROUPING SETS). The arithmetic is still
-- written once: the four-argument form below is this one.
CREATE FUNCTION sipas_rollup_query(source text, qid smallint, keys text[], cond text,
                                   group_by text)
RETURNS text
LANGUAGE sql STABLE AS $f$
WITH q AS (
    SELECT scale_min, scale_max, satisfied_min FROM questionnaires WHERE id = qid
), crit AS (
    SELECT c.position AS pos, e.position AS el
    FROM criteria c JOIN elements e ON e.id = c.element_id
    WHERE c.questionnaire_id = qid
), share AS (        -- a respondent's share of satisfied answers in scope s
    SELECT s, format('(%s)::float8 / nullif(%s, 0)',
        string_agg(format('coalesce((r.a[%s] >= %s)::int, 0)', pos, q.satisfied_min), ' + '),
        string_agg(format('(r.a[%s] IS NOT NULL)::int', pos), ' + ')) AS p
    FROM (SELECT 0 AS s UNION ALL
          SELECT position FROM elements WHERE questionnaire_id = qid) scope
    JOIN crit ON s = 0 OR el = s
    CROSS JOIN q
    GROUP BY s
)
SELECT format($q$
SELECT %1$s, count(*)::int AS n,
    ARRAY[%2$s]::int[] AS rated,
    ARRAY[%3$s]::float8[] AS p_sum,
    ARRAY[%4$s]::float8[] AS p_sq,
    ARRAY[%5$s]::int[] AS cells
FROM (SELECT r.*, (r.submitted_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date AS day,
             ARRAY[%6$s] AS p
      FROM (SELECT r.*, r.answers || '{}'::smallint[] AS a
            FROM %7$s r WHERE r.questionnaire_id = %8$s AND (%9$s)
            OFFSET 0) r
      OFFSET 0) r
GROUP BY %10$s$q$,
    array_to_string(keys, ', '),
    (SELECT string_agg(format('count(r.p[%s])', s + 1), ', ' ORDER BY s) FROM share),
    (SELECT string_agg(format('coalesce(sum(r.p[%s]), 0)', s + 1), ', ' ORDER BY s) FROM share),
    (SELECT string_agg(format('coalesce(sum(r.p[%s] ^ 2), 0)', s + 1), ', ' ORDER BY s) FROM share),
    (SELECT string_agg(format('count(*) FILTER (WHERE r.a[%s] = %s)', pos, v), ', ' ORDER BY pos, v)
     FROM crit, q, generate_series(q.scale_min::int, q.scale_max::int) AS v),
    (SELECT string_agg(p, ', ' ORDER BY s) FROM share),
    source, qid, cond,
    coalesce(group_by,
             (SELECT string_agg(i::text, ', ') FROM generate_series(1, cardinality(keys)) AS i)))
$f$;

CREATE OR REPLACE FUNCTION sipas_rollup_query(source text, qid smallint, keys text[], cond text)
RETURNS text
LANGUAGE sql STABLE AS $f$
SELECT sipas_rollup_query(source, qid, keys, cond, NULL)
$f$;

-- The second rollup's rows of the responses of questionnaire QID in SOURCE:
-- every dimension of sipas_rollup_dims by month and by year, in one pass.
CREATE FUNCTION sipas_rollup_by_query(source text, qid smallint) RETURNS text
LANGUAGE sql STABLE AS $f$
WITH grain (g, expr) AS (
    VALUES ('month', $$date_trunc('month', day::timestamp)::date$$),
           ('year', $$date_trunc('year', day::timestamp)::date$$)
)
SELECT sipas_rollup_query(source, qid,
    ARRAY[(SELECT 'CASE ' || string_agg(format('WHEN grouping(%I) = 0 THEN %L', dim, dim), ' ')
                  || ' END AS dim' FROM sipas_rollup_dims),
          (SELECT format('CASE WHEN grouping(%s) = 0 THEN ''month'' ELSE ''year'' END AS grain',
                         expr) FROM grain WHERE g = 'month'),
          (SELECT format('coalesce(%s) AS day', string_agg(expr, ', ' ORDER BY g)) FROM grain),
          'center_id', 'questionnaire_id', 'kiosk_id', 'procedure', 'counter_id',
          'officer_id', 'gender', 'age_group', 'ethnicity', 'education', 'occupation'],
    'true',
    'center_id, questionnaire_id, GROUPING SETS ('
    || (SELECT string_agg(format('(%s, %I)', expr, dim), ', ')
        FROM sipas_rollup_dims, grain) || ')')
$f$;

-- 005's folding, now into both rollups from the same unqueued rows.
CREATE OR REPLACE FUNCTION sipas_rollup_fold_sql(qid smallint, lim integer) RETURNS text
LANGUAGE sql STABLE AS $f$
WITH shape AS (
    SELECT 1 + (SELECT count(*) FROM elements WHERE questionnaire_id = qid) AS scopes,
           (SELECT count(*) FROM criteria WHERE questionnaire_id = qid) *
           (SELECT scale_max - scale_min + 1 FROM questionnaires WHERE id = qid) AS cells
), added AS (
    SELECT col, format('ARRAY[%s]', string_agg(format('t.%1$s[%2$s] + excluded.%1$s[%2$s]',
           col, i), ', ' ORDER BY i)) AS sum
    FROM shape, LATERAL (VALUES ('rated', scopes), ('p_sum', scopes), ('p_sq', scopes),
                                ('cells', cells)) AS a (col, len),
         LATERAL generate_series(1, len) AS i
    GROUP BY col
), sums AS (
    SELECT format('n = t.n + excluded.n, rated = %s, p_sum = %s, p_sq = %s, cells = %s',
        (SELECT sum FROM added WHERE col = 'rated'), (SELECT sum FROM added WHERE col = 'p_sum'),
        (SELECT sum FROM added WHERE col = 'p_sq'), (SELECT sum FROM added WHERE col = 'cells'))
        AS set
)
SELECT format($q$
WITH folded AS (
    DELETE FROM rollup_pending WHERE %1$s
    RETURNING *
), first AS (
    INSERT INTO response_rollup AS t %2$s
    ON CONFLICT (day, center_id, service_area_id, questionnaire_id) DO UPDATE SET %4$s
)
INSERT INTO response_rollup_by AS t %3$s
ON CONFLICT (dim, grain, day, center_id, questionnaire_id, kiosk_id, procedure, counter_id, officer_id,
             gender, age_group, ethnicity, education, occupation) DO UPDATE SET %4$s$q$,
    CASE WHEN lim > 0
         THEN format('ctid IN (SELECT ctid FROM rollup_pending WHERE questionnaire_id = %s LIMIT %s)',
                     qid, lim)
         ELSE format('questionnaire_id = %s', qid) END,
    sipas_rollup_query('folded', qid,
        ARRAY['day', 'center_id', 'service_area_id', 'questionnaire_id'], 'true'),
    sipas_rollup_by_query('folded', qid),
    (SELECT set FROM sums))
$f$;

CREATE OR REPLACE FUNCTION sipas_rollup_queue() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    INSERT INTO rollup_pending
    SELECT submitted_at, center_id, service_area_id, questionnaire_id, answers, kiosk_id,
           procedure, counter_id, officer_id, gender, age_group, ethnicity, education, occupation
    FROM added;
    RETURN NULL;
END
$$;

-- Responses stored before this migration (responses is still locked).
DO $$
DECLARE
    qid smallint;
BEGIN
    SET LOCAL work_mem = '256MB';
    FOR qid IN SELECT DISTINCT questionnaire_id FROM responses LOOP
        EXECUTE 'INSERT INTO response_rollup_by ' || sipas_rollup_by_query('responses', qid);
    END LOOP;
END
$$;

-- A plain reporter reads the queue without its officers.
REVOKE SELECT ON rollup_pending FROM sipas_report;
GRANT SELECT (submitted_at, center_id, service_area_id, questionnaire_id, answers, kiosk_id,
    procedure, counter_id, gender, age_group, ethnicity, education, occupation)
    ON rollup_pending TO sipas_report;
GRANT SELECT (officer_id) ON rollup_pending TO sipas_report_personnel;
GRANT SELECT ON sipas_rollup_dims TO sipas_report;
