-- Breakdowns by respondent attributes (sql/010_privacy.sql), two mends to
-- sipas_respondent_rollup, whose signature and grants stay:
-- - a selection with no response had its total of zero suppressed, shown
--   as hidden ("ẩn") rather than as 0: a group of no one hides no one;
-- - the margins were summed cell by cell with a search through the groups
--   found so far, quadratic in the cells (a respondent attribute crossed
--   with procedure: thousands); GROUPING SETS sums them in the query.

-- A report by one or two dimensions, one at least a respondent attribute,
-- over the responses of questionnaire qid selected as sipas report selects
-- them (days from..to in Vietnam time, a center and those below it, an
-- area, kiosk, counter or officer code, each NULL for any): every cell,
-- margin and the total, a group of fewer than min_cell respondents (at
-- least 3) suppressed, and a second one in each line where one is, its
-- sums zero. The report roles may read no attribute row by row: this, run
-- as its owner, is how they reach them, and psql gets no more from it than
-- sipas report shows. Figures by officer stay sipas_report_personnel's.
CREATE OR REPLACE FUNCTION sipas_respondent_rollup(qid smallint, dims text[], from_day date, to_day date,
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
    -- responses), their margins and the total summed by GROUPING SETS.
    -- Nothing selected: the total alone, of zero.
    FOR grp IN EXECUTE format('SELECT grouping(k0) = 1, %s, k0, %s, false, %s FROM (%s) x '
                              'GROUP BY GROUPING SETS (%s)',
                              CASE nd WHEN 1 THEN 'true' ELSE 'grouping(k1) = 1' END,
                              CASE nd WHEN 1 THEN 'NULL::text' ELSE 'k1' END,
                              sipas_rollup_sums_sql(qid),
                              sipas_respondent_cells_sql(qid, dims, from_day, to_day,
                                  num_nonnulls(area, kiosk, counter, officer) > 0, cond,
                                  center_cond),
                              CASE nd WHEN 1 THEN '(k0), ()' ELSE '(k0, k1), (k0), (k1), ()' END)
        USING from_day, to_day, center, area, kiosk, counter, officer LOOP
        IF grp.n IS NULL THEN
            grp.n := 0;
            grp.rated := array_replace(grp.rated, NULL, 0);
            grp.p_sum := array_replace(grp.p_sum, NULL, 0::float8);
            grp.p_sq := array_replace(grp.p_sq, NULL, 0::float8);
            grp.cells := array_replace(grp.cells, NULL, 0);
        END IF;
        g := g || grp;
    END LOOP;
    -- An empty total hides no one.
    FOR i IN 1 .. cardinality(g) LOOP
        g[i].suppressed := g[i].n > 0 AND g[i].n < min_cell;
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
