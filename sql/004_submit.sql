-- sipas_submit_batch stores validated responses, all in the caller's
-- transaction, and says for each input position, in order: 'stored',
-- 'duplicate' (the id was stored before with the same content hash) or
-- 'conflict' (the id was stored before with other content). sipasd commits
-- a group of responses with one call.
--
-- Two statements rather than one INSERT ... RETURNING: the outcome of an id
-- that was not inserted must be read with a fresh snapshot, which sees a
-- row that a concurrent transaction (a kiosk retrying on a second
-- connection while its first attempt is in flight) committed while our
-- INSERT waited for it; in PL/pgSQL each statement takes a new snapshot.
-- The same id twice in one batch is stored once; the later occurrences are
-- compared with it like any retry.
CREATE FUNCTION sipas_submit_batch(
    p_id uuid[], p_hash bytea[], p_kiosk integer[], p_center integer[],
    p_area smallint[], p_questionnaire smallint[], p_procedure text[],
    p_submitted_at timestamptz[], p_answers text[], p_overall smallint[],
    p_comment text[], p_gender text[], p_age_group text[], p_ethnicity text[],
    p_education text[], p_occupation text[])
RETURNS SETOF text
LANGUAGE plpgsql
AS $$
DECLARE
    inserted uuid[];
BEGIN
    WITH ins AS (
        INSERT INTO responses (id, content_hash, kiosk_id, center_id, service_area_id,
                               questionnaire_id, procedure, submitted_at, answers, overall,
                               comment, gender, age_group, ethnicity, education, occupation)
        SELECT u.id, u.hash, u.kiosk, u.center, u.area, u.questionnaire, u.procedure,
               u.submitted_at, u.answers::smallint[], u.overall, u.comment, u.gender,
               u.age_group, u.ethnicity, u.education, u.occupation
        FROM unnest(p_id, p_hash, p_kiosk, p_center, p_area, p_questionnaire, p_procedure,
                    p_submitted_at, p_answers, p_overall, p_comment, p_gender, p_age_group,
                    p_ethnicity, p_education, p_occupation)
             WITH ORDINALITY AS u(id, hash, kiosk, center, area, questionnaire, procedure,
                                  submitted_at, answers, overall, comment, gender, age_group,
                                  ethnicity, education, occupation, ord)
        ORDER BY u.ord
        ON CONFLICT (id) DO NOTHING
        RETURNING id)
    SELECT array_agg(id) INTO inserted FROM ins;

    RETURN QUERY
    SELECT CASE
               WHEN i.id IS NOT NULL AND u.first THEN 'stored'
               WHEN r.content_hash = u.hash THEN 'duplicate'
               ELSE 'conflict'
           END
    FROM (SELECT t.id, t.hash, t.ord,
                 row_number() OVER (PARTITION BY t.id ORDER BY t.ord) = 1 AS first
          FROM unnest(p_id, p_hash) WITH ORDINALITY AS t(id, hash, ord)) AS u
    LEFT JOIN unnest(inserted) AS i(id) ON i.id = u.id
    LEFT JOIN responses r ON r.id = u.id
    ORDER BY u.ord;
END
$$;
