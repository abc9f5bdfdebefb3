-- sipas_submit stores one validated response and says what happened:
-- 'stored', 'duplicate' (same id, same content hash) or 'conflict' (same id,
-- other content). It is a function rather than one INSERT because the
-- duplicate check must see a row committed by a concurrent transaction after
-- our statement's snapshot was taken (a kiosk retrying on a second
-- connection while the first attempt is still in flight): in PL/pgSQL each
-- statement takes a fresh snapshot, and ON CONFLICT DO NOTHING has waited
-- for the other transaction to finish.
CREATE FUNCTION sipas_submit(
    p_id uuid, p_hash bytea, p_kiosk integer, p_center integer,
    p_area smallint, p_questionnaire smallint, p_procedure text,
    p_submitted_at timestamptz, p_answers smallint[], p_overall smallint,
    p_comment text, p_gender text, p_age_group text, p_ethnicity text,
    p_education text, p_occupation text)
RETURNS text
LANGUAGE plpgsql
AS $$
DECLARE
    existing bytea;
BEGIN
    INSERT INTO responses (id, content_hash, kiosk_id, center_id, service_area_id,
                           questionnaire_id, procedure, submitted_at, answers, overall,
                           comment, gender, age_group, ethnicity, education, occupation)
    VALUES (p_id, p_hash, p_kiosk, p_center, p_area, p_questionnaire, p_procedure,
            p_submitted_at, p_answers, p_overall, p_comment, p_gender, p_age_group,
            p_ethnicity, p_education, p_occupation)
    ON CONFLICT (id) DO NOTHING;
    IF FOUND THEN
        RETURN 'stored';
    END IF;
    SELECT content_hash INTO existing FROM responses WHERE id = p_id;
    IF existing = p_hash THEN
        RETURN 'duplicate';
    END IF;
    RETURN 'conflict';
END
$$;
