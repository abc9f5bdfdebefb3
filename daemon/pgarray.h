/* PostgreSQL array literals ("{a,\"b c\",NULL}") built in place: the group
 * commit sends a whole group of rows as one array per column. */
#ifndef SIPASD_PGARRAY_H
#define SIPASD_PGARRAY_H

#include <stdbool.h>
#include <stddef.h>

/* Kept between uses: building allocates nothing once it has grown to the
 * usual size. Zeroed, it is empty. */
struct pgarray {
	char *p;
	size_t len, cap;
};

/* Starts a new literal, keeping the memory. */
void pgarray_begin(struct pgarray *a);
/* A quoted element; NULL for NULL or "". */
void pgarray_text(struct pgarray *a, const char *s);
void pgarray_int(struct pgarray *a, long long v, bool null);
/* A bytea element in hex input form, which no setting changes. */
void pgarray_bytea(struct pgarray *a, const unsigned char *bytes, size_t len);
/* An element of a text array that is itself an array of small integers
 * (0 to 999), na standing for NULL: "{4,5,NULL}", cast by the statement. */
void pgarray_small_ints(struct pgarray *a, const int *v, size_t n, int na);
/* Closes the literal; the text stays a's until its next begin. */
const char *pgarray_end(struct pgarray *a);
void pgarray_free(struct pgarray *a);

#endif
