-- Figures by officer are for sipas_report_personnel only (docs/security.md),
-- and the database enforces it: the plain report role reads every column of
-- responses but officer_id. Column privileges rather than a view, so that
-- every query that does not name officer_id (every report by another
-- dimension, sipas export) runs unchanged as sipas_report, and one that does
-- fails with "permission denied" whatever client sent it.
--
-- A column added to responses later is not granted to sipas_report by this:
-- its migration must grant it (or, for anything about a person at work,
-- grant it to sipas_report_personnel only). Likewise any rollup, view or
-- function that holds or exposes figures by officer (a rollup by officer_id
-- for fast reports) must be granted to sipas_report_personnel alone, never
-- to sipas_report, or it would undo this.

REVOKE SELECT ON responses FROM sipas_report;
DO $$
BEGIN
    EXECUTE format('GRANT SELECT (%s) ON responses TO sipas_report',
        (SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum)
         FROM pg_attribute
         WHERE attrelid = 'responses'::regclass AND attnum > 0 AND NOT attisdropped
           AND attname <> 'officer_id'));
END
$$;
GRANT SELECT ON responses TO sipas_report_personnel;

-- Who works where is personnel data too: where one officer works a counter,
-- the figures by counter, which the plain report role may have, are that
-- officer's, and the postings would say whose. The officers and their
-- postings are read by the personnel role alone among the report roles
-- (and by sipasd, which judges a response's officer: sipas_ingest keeps its
-- grants of sql/006_organisation.sql). Counters, the places, stay readable.
REVOKE SELECT ON officers, officer_postings, officer_posting_spans FROM sipas_report;
GRANT SELECT ON officers, officer_postings, officer_posting_spans TO sipas_report_personnel;

-- sipas_rollup_query (sql/005_rollup.sql, given its GROUP BY clause in
-- sql/007_rollup_dimensions.sql) read r.* of its source, which a role
-- without officer_id may not: it now reads the columns of a source table
-- that the caller may read (argument %11$s below; r.* for a source that is
-- not a table, such as the fold's CTE or a subquery that lists its
-- columns, as the report's do). The rest is 007's, and the four-argument
-- form still calls this one, so the arithmetic is written once.
CREATE OR REPLACE FUNCTION sipas_rollup_query(source text, qid smallint, keys text[], cond text,
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
      FROM (SELECT %11$s, r.answers || '{}'::smallint[] AS a
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
             (SELECT string_agg(i::text, ', ') FROM generate_series(1, cardinality(keys)) AS i)),
    coalesce((SELECT string_agg('r.' || quote_ident(a.attname), ', ' ORDER BY a.attnum)
              FROM pg_attribute a
              WHERE a.attrelid = CASE WHEN source ~ '^[a-z_][a-z0-9_]*$'
                                      THEN to_regclass(source) END
                AND a.attnum > 0 AND NOT a.attisdropped
                AND has_column_privilege(a.attrelid, a.attnum, 'SELECT')), 'r.*'))
$f$;
