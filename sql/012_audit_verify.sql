-- sipas audit verify computes each row's hash itself (client/cmd-audit.c,
-- audit_row_hash) from the columns as stored, so that the database's owner,
-- who can replace the functions of 010, cannot make a changed row pass.
-- The trigger of 010 still writes row_hash with sipas_audit_canonical: the
-- two are one definition of the hashed byte string, written twice (SQL
-- here, C there); change one, change both. Said where psql's \df+ shows it.
COMMENT ON FUNCTION sipas_audit_canonical(audit_log) IS
    'The text whose SHA-256 is an audit_log row''s row_hash. sipas audit verify '
    'builds the same byte string in the client (client/cmd-audit.c, audit_row_hash) '
    'and does not call this function: change both together.';
