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
    outcome      text NOT NULL CHECK (outcome IN ('ok', 'failed')),
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
CREATE FUNCTION sipas_audit_chain() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
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

-- Who may write and read it. Reports are not audited, exports are: the
-- report role writes rows of its own, never their who, when or chain.
REVOKE ALL ON audit_log FROM PUBLIC;
GRANT INSERT (os_user, host, action, arguments, outcome, detail) ON audit_log TO sipas_report;
GRANT SELECT ON audit_log TO sipas_report;
