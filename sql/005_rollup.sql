-- The daily rollup the reports read instead of the responses: one row per
-- Vietnam day, center, service area and questionnaire, holding sums from
-- which every figure of docs/sipas.md follows. A year of a province is at
-- most days x centers x areas rows (365 x 14 x 25 in Ha Tinh) however many
-- millions of responses it received. Kiosk and procedure are not in the
-- key: they would multiply the rows, and reports by them roll up the
-- responses on the fly with the same query (sipas_rollup_query).
--
-- Storing a response must stay cheap and must never wait on another batch,
-- so it does not touch the rollup: a statement trigger queues what the
-- rollup needs of the responses it stored in rollup_pending, in the same
-- transaction (so a response is queued exactly once: rows that ON CONFLICT
-- DO NOTHING skips are not in the transition table). sipasd calls sipas_rollup_compact() every
-- rollup_interval seconds, which folds the queued responses into the
-- rollup and unqueues them in one transaction. Reports read the rollup plus
-- the queued responses rolled up on the fly, in one snapshot: never behind,
-- and each response counted once.
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
    PRIMARY KEY (day, center_id, service_area_id, questionnaire_id)
);

-- Stored responses not yet in response_rollup: the columns it needs.
CREATE TABLE rollup_pending (
    submitted_at     timestamptz NOT NULL,
    center_id        integer NOT NULL,
    service_area_id  smallint NOT NULL,
    questionnaire_id smallint NOT NULL,
    answers          smallint[] NOT NULL
);

-- The query that rolls up the responses of questionnaire QID in relation
-- SOURCE that satisfy COND (over alias r), grouped by KEYS (expressions over
-- the columns of responses and "day", optionally with AS), into columns n,
-- rated, p_sum, p_sq and cells as described above. It is written out from
-- the questionnaire's shape as plain expressions over answers[i], because
-- PostgreSQL evaluates those far faster than it unnests arrays. Two details
-- halve the time: answers || '{}' is the array unpacked once a row instead
-- of once a subscript (a stored small array has a short header that every
-- access would otherwise copy away), and OFFSET 0 keeps each subquery's
-- values computed once a row rather than once a use. The folding, this
-- migration, and reports over the pending responses or by kiosk or
-- procedure all run it, so the arithmetic exists once.
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

-- The statement folding the queued responses of questionnaire QID (at most
-- LIM of them, 0: all) into the rollup and unqueueing them. The arrays are
-- added element by element, written out for the questionnaire's shape. A
-- response queued after the statement's snapshot is neither folded nor
-- unqueued: it is next time.
CREATE FUNCTION sipas_rollup_fold_sql(qid smallint, lim integer) RETURNS text
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
)
SELECT format($q$
WITH folded AS (
    DELETE FROM rollup_pending WHERE %7$s
    RETURNING *
)
INSERT INTO response_rollup AS t %2$s
ON CONFLICT (day, center_id, service_area_id, questionnaire_id) DO UPDATE SET
    n = t.n + excluded.n, rated = %3$s, p_sum = %4$s, p_sq = %5$s, cells = %6$s$q$,
    qid,
    sipas_rollup_query('folded', qid,
        ARRAY['day', 'center_id', 'service_area_id', 'questionnaire_id'], 'true'),
    (SELECT sum FROM added WHERE col = 'rated'), (SELECT sum FROM added WHERE col = 'p_sum'),
    (SELECT sum FROM added WHERE col = 'p_sq'), (SELECT sum FROM added WHERE col = 'cells'),
    CASE WHEN lim > 0
         THEN format('ctid IN (SELECT ctid FROM rollup_pending WHERE questionnaire_id = %s LIMIT %s)',
                     qid, lim)
         ELSE format('questionnaire_id = %s', qid) END)
$f$;

-- Folds queued responses, at most max_responses of each questionnaire (0:
-- all), and returns how many are still queued. One caller at a time: a
-- second one returns at once. SECURITY DEFINER, like the trigger below:
-- sipasd's role stores responses and may ask for a folding, but cannot
-- write the rollup or the queue itself.
CREATE FUNCTION sipas_rollup_compact(max_responses integer DEFAULT 0) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
SET work_mem = '256MB' AS $$
DECLARE
    qid smallint;
BEGIN
    IF pg_try_advisory_xact_lock(hashtext('sipas_rollup_compact')) THEN
        FOR qid IN SELECT id FROM questionnaires LOOP
            EXECUTE sipas_rollup_fold_sql(qid, max_responses);
        END LOOP;
    END IF;
    RETURN (SELECT count(*) FROM rollup_pending);
END
$$;
REVOKE ALL ON FUNCTION sipas_rollup_compact(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION sipas_rollup_compact(integer) TO sipas_ingest;

CREATE FUNCTION sipas_rollup_queue() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    INSERT INTO rollup_pending
    SELECT submitted_at, center_id, service_area_id, questionnaire_id, answers FROM added;
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION sipas_rollup_queue() FROM PUBLIC;

CREATE TRIGGER responses_rollup AFTER INSERT ON responses
    REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION sipas_rollup_queue();

-- Responses stored before this migration.
LOCK TABLE responses IN SHARE MODE;
DO $$
DECLARE
    qid smallint;
BEGIN
    SET LOCAL work_mem = '256MB';
    FOR qid IN SELECT DISTINCT questionnaire_id FROM responses LOOP
        EXECUTE 'INSERT INTO response_rollup ' || sipas_rollup_query('responses', qid,
            ARRAY['day', 'center_id', 'service_area_id', 'questionnaire_id'], 'true');
    END LOOP;
END
$$;

GRANT SELECT ON response_rollup, rollup_pending TO sipas_report;
