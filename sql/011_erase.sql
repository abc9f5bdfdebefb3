-- A person's request to erase what they wrote (docs/privacy.md): the purge
-- of personal data (010) by response id as well as by age, one mechanism
-- for both, and the second rollup's leaves by respondent attribute follow
-- it for the centers and years it touched only.

DROP FUNCTION sipas_purge_personal_data(date, boolean);

-- sipas purge (client/cmd-purge.c): clears the comment and the profile of
-- the responses submitted before the Vietnam day `before`, or of the one
-- response `response` (exactly one of the two is given), that still have
-- any, and returns how many (dry: only counts them). An unknown response
-- is an error: a request that names nothing must not look answered. The
-- second rollup's leaves by attribute (sql/007) then count those
-- respondents among the ones who did not say, as a report from the
-- responses would: for each center and questionnaire, the Vietnam years
-- with a cleared response are summed again from the responses, months and
-- year. Responses wait meanwhile (the lock), and so does a folding, which
-- the purge does first, so that each response is counted once.
CREATE FUNCTION sipas_purge_personal_data(before date, response uuid, dry boolean)
RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    attrs text[] := ARRAY['gender', 'age_group', 'ethnicity', 'education', 'occupation'];
    month text := 'date_trunc(''month'', day::timestamp)::date';
    year text := 'date_trunc(''year'', day::timestamp)::date';
    r_year text := 'date_trunc(''year'', r.submitted_at AT TIME ZONE ''Asia/Ho_Chi_Minh'')::date';
    sel text := CASE WHEN response IS NOT NULL THEN format('id = %L', response)
        ELSE format('submitted_at < %L::date::timestamp AT TIME ZONE ''Asia/Ho_Chi_Minh''',
                    before) END
        || ' AND num_nonnulls(comment, gender, age_group, ethnicity, education, occupation) > 0';
    qid smallint;
    cleared bigint;
    centers integer[];
    qids smallint[];
    years date[];
BEGIN
    IF (before IS NULL) = (response IS NULL) THEN
        RAISE EXCEPTION 'sipas_purge_personal_data: a day or a response, not both';
    END IF;
    IF response IS NOT NULL AND NOT EXISTS (SELECT FROM responses WHERE id = response) THEN
        RAISE EXCEPTION 'no response %', response USING ERRCODE = 'no_data_found';
    END IF;
    IF dry THEN
        EXECUTE 'SELECT count(*) FROM responses WHERE ' || sel INTO cleared;
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
    EXECUTE 'WITH c AS (UPDATE responses r SET comment = NULL, gender = NULL, age_group = NULL,'
        ' ethnicity = NULL, education = NULL, occupation = NULL,'
        ' content_hash = sha256(content_hash || ''purged'') WHERE ' || sel
        || ' RETURNING center_id, questionnaire_id, ' || r_year || ' AS year),'
        ' p AS (SELECT DISTINCT center_id, questionnaire_id, year FROM c)'
        ' SELECT (SELECT count(*) FROM c), array_agg(center_id), array_agg(questionnaire_id),'
        ' array_agg(year) FROM p'
        INTO cleared, centers, qids, years;
    IF cleared = 0 THEN
        RETURN 0;
    END IF;
    DELETE FROM response_rollup_by b
        USING unnest(centers, qids, years) AS p (center_id, questionnaire_id, year)
        WHERE b.dim = ANY (attrs) AND b.center_id = p.center_id
          AND b.questionnaire_id = p.questionnaire_id
          AND b.day >= p.year AND b.day < p.year + interval '1 year';
    FOR qid IN SELECT DISTINCT q FROM unnest(qids) q LOOP
        EXECUTE 'INSERT INTO response_rollup_by (dim, grain, day, center_id, '
            'questionnaire_id, gender, age_group, ethnicity, education, occupation, n, rated, '
            'p_sum, p_sq, cells) '
            || sipas_rollup_query('responses', qid, ARRAY[
                (SELECT 'CASE ' || string_agg(format('WHEN grouping(%I) = 0 THEN %L', a, a), ' ')
                        || ' END AS dim' FROM unnest(attrs) a),
                format('CASE WHEN grouping(%s) = 0 THEN ''month'' ELSE ''year'' END AS grain',
                       month),
                format('coalesce(%s, %s) AS day', month, year),
                'center_id', 'questionnaire_id', 'gender', 'age_group', 'ethnicity',
                'education', 'occupation'],
                format('(r.center_id, %s) IN (SELECT c, y FROM unnest(%L::integer[], '
                       '%L::smallint[], %L::date[]) AS p (c, q, y) WHERE q = %s)',
                       r_year, centers, qids, years, qid),
                'center_id, questionnaire_id, GROUPING SETS ('
                || (SELECT string_agg(format('(%s, %I), (%s, %I)', month, a, year, a), ', ')
                    FROM unnest(attrs) a) || ')');
    END LOOP;
    RETURN cleared;
END
$$;
