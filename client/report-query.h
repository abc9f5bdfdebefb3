/* Fetching a report's groups from PostgreSQL (report-query.c). */
#ifndef SIPAS_REPORT_QUERY_H
#define SIPAS_REPORT_QUERY_H

#include <libpq-fe.h>

#include "report-model.h"

/* The groups of r's selection over from..to (either may be NULL: open),
 * one per combination of keys of the dimensions PostgreSQL groups by, each
 * key in its dimension's slot, with their counts; not yet merged, without
 * margins or figures. Dies (as
 * every sipas query does) when PostgreSQL fails. */
struct report_group *report_query_fetch(PGconn *conn, const struct report *r,
    const char *from, const char *to, size_t *ngroups);

#endif
