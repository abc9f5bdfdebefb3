-- The daily rollup the reports read instead of the responses: rows per
-- Vietnam day, center, service area and questionnaire, holding sums from
-- which every figure of docs/sipas.md follows. A year of a province is at
-- most days x centers x areas keys (365 x 14 x 25 in Ha Tinh) however many
-- millions of responses it received. Kiosk and procedure are not in the
-- key: they would multiply the rows, and reports by them roll up the
-- responses on the fly with the same query (sipas_rollup_query).
--
-- A statement trigger on responses appends the rollup rows of each insert,
-- in its transaction: the rollup is never behind, and a response counted
-- twice or not at all is impossible (rows that ON CONFLICT DO NOTHING skips
-- are not in the transition table). Appending, not updating, is what keeps
-- concurrent inserts from waiting on each other's row locks until commit.
-- So a key has one merged row and the rows appended since; reports add
-- them all up, and sipasd calls sipas_rollup_compact() every
-- rollup_interval seconds to fold the appended rows into the merged one.
--
-- Arrays, 1-based:
--   rated[s], p_sum[s], p_sq[s]   s = 1 for the whole questionnaire, 1 + e
--       for element position e: respondents with at least one valid answer
--       in the scope, and the sum and the sum of squares of each one's share
--       of satisfied answers there (for the margin of error).
--   cells[(c - 1) * L + (v - scale_min) + 1]   answers with value v to the
--       criterion at position c, L = scale_max - scale_min + 1. Valid and
--       satisfied answers, level shares and mean scores all follow.

CREATE TABLE response_rollup (
    day              date NOT NULL,
    center_id        integer NOT NULL,
    service_area_id  smallint NOT NULL,
    questionnaire_id smallint NOT NULL,
    n                integer NOT NULL,
    rated            integer[] NOT NULL,
    p_sum            float8[] NOT NULL,
    p_sq             float8[] NOT NULL,
    cells            integer[] NOT NULL,
    merged           boolean NOT NULL DEFAULT false  -- the one merged row of its key
);
CREATE INDEX response_rollup_key_idx
    ON response_rollup (day, center_id, service_area_id, questionnaire_id);
CREATE INDEX response_rollup_appended_idx
    ON response_rollup (questionnaire_id, day, center_id, service_area_id) WHERE NOT merged;

-- The query that rolls up the responses of questionnaire QID in relation
-- SOURCE that satisfy COND (over alias r), grouped by KEYS (expressions over
-- the columns of responses and "day", optionally with AS), into columns n,
-- rated, p_sum, p_sq and cells as described above. It is written out from
-- the questionnaire's shape as plain expressions over answers[i], because
-- PostgreSQL evaluates those far faster than it unnests arrays. Two details
-- halve the time: answers || '{}' is the array unpacked once a row instead
-- of once a subscript (a stored small array has a short header that every
-- access would otherwise copy away), and OFFSET 0 keeps each subquery's
-- values computed once a row rather than once a use. The trigger
-- runs it over its transition table, this migration over the responses
-- already stored, and `sipas report --by procedure` over the responses, so
-- the arithmetic exists once.
CREATE FUNCTION sipas_rollup_query(source text, qid smallint, keys text[], cond text)
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
    (SELECT string_agg(i::text, ', ') FROM generate_series(1, cardinality(keys)) AS i))
$f$;

-- The statement adding those rollup rows to the table. A function returning
-- text, not one running it: a trigger's transition table is visible only to
-- statements the trigger function itself executes.
-- The statement appending the rollup rows of SOURCE, marked MERGED when
-- SOURCE is all the responses (one row a key). A function returning text,
-- not one running it: a trigger's transition table is visible only to
-- statements the trigger function itself executes.
CREATE FUNCTION sipas_rollup_insert(source text, qid smallint, merged boolean) RETURNS text
LANGUAGE sql STABLE AS $$
SELECT format('INSERT INTO response_rollup SELECT x.*, %L FROM (%s) x', merged,
    sipas_rollup_query(source, qid,
        ARRAY['day', 'center_id', 'service_area_id', 'questionnaire_id'], 'true'))
$$;

-- The statement folding the appended rows of questionnaire QID, with the
-- merged row of their key, into a new merged row. Concurrent inserts are
-- safe: a row appended after the statement's snapshot is not deleted, and
-- is folded next time.
CREATE FUNCTION sipas_rollup_merge_sql(qid smallint) RETURNS text
LANGUAGE sql STABLE AS $f$
WITH shape AS (
    SELECT 1 + (SELECT count(*) FROM elements WHERE questionnaire_id = qid) AS scopes,
           (SELECT count(*) FROM criteria WHERE questionnaire_id = qid) *
           (SELECT scale_max - scale_min + 1 FROM questionnaires WHERE id = qid) AS cells
)
SELECT format($q$
WITH fresh AS (
    SELECT DISTINCT day, center_id, service_area_id FROM response_rollup
    WHERE questionnaire_id = %1$s AND NOT merged
), gone AS (
    DELETE FROM response_rollup r USING fresh f
    WHERE r.questionnaire_id = %1$s AND r.day = f.day AND r.center_id = f.center_id
      AND r.service_area_id = f.service_area_id
    RETURNING r.*
)
INSERT INTO response_rollup
SELECT day, center_id, service_area_id, %1$s, sum(n), ARRAY[%2$s]::int[],
       ARRAY[%3$s]::float8[], ARRAY[%4$s]::float8[], ARRAY[%5$s]::int[], true
FROM gone GROUP BY 1, 2, 3$q$,
    qid,
    (SELECT string_agg(format('sum(rated[%s])', i), ', ') FROM generate_series(1, scopes) i),
    (SELECT string_agg(format('sum(p_sum[%s])', i), ', ') FROM generate_series(1, scopes) i),
    (SELECT string_agg(format('sum(p_sq[%s])', i), ', ') FROM generate_series(1, scopes) i),
    (SELECT string_agg(format('sum(cells[%s])', i), ', ') FROM generate_series(1, cells) i))
FROM shape
$f$;

-- Folds every appended row; returns how many it folded. One caller at a
-- time: a second one returns at once rather than wait on the first's locks.
CREATE FUNCTION sipas_rollup_compact() RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
SET work_mem = '256MB' AS $$
DECLARE
    qid smallint;
    folded bigint := 0;
    k bigint;
BEGIN
    IF NOT pg_try_advisory_xact_lock(hashtext('sipas_rollup_compact')) THEN
        RETURN 0;
    END IF;
    FOR qid IN SELECT DISTINCT questionnaire_id FROM response_rollup WHERE NOT merged LOOP
        EXECUTE sipas_rollup_merge_sql(qid);
        GET DIAGNOSTICS k = ROW_COUNT;
        folded := folded + k;
    END LOOP;
    RETURN folded;
END
$$;
REVOKE ALL ON FUNCTION sipas_rollup_compact() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION sipas_rollup_compact() TO sipas_ingest;

-- SECURITY DEFINER (here and above): sipasd's role inserts responses and
-- may ask for a compaction, but cannot write the rollup itself.
-- work_mem: a bulk COPY rolls up its rows in memory rather than on disk; a
-- kiosk batch uses a few kilobytes of it.
CREATE FUNCTION sipas_rollup_added() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
SET work_mem = '256MB' AS $$
DECLARE
    qid smallint;
BEGIN
    FOR qid IN SELECT DISTINCT questionnaire_id FROM added LOOP
        EXECUTE sipas_rollup_insert('added', qid, false);
    END LOOP;
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION sipas_rollup_added() FROM PUBLIC;

CREATE TRIGGER responses_rollup AFTER INSERT ON responses
    REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION sipas_rollup_added();

-- Responses stored before this migration.
LOCK TABLE responses IN SHARE MODE;
DO $$
DECLARE
    qid smallint;
BEGIN
    SET LOCAL work_mem = '256MB';
    FOR qid IN SELECT DISTINCT questionnaire_id FROM responses LOOP
        EXECUTE sipas_rollup_insert('responses', qid, true);
    END LOOP;
END
$$;

GRANT SELECT ON response_rollup TO sipas_report;
