/* PostgreSQL array literals: elements separated by commas, text quoted with
 * backslash and double quote escaped, NULL unquoted. Nothing here knows
 * what the arrays hold; commit.c maps a response to its columns. */
#include <stdlib.h>
#include <string.h>

#include "cert.h"
#include "pgarray.h"
#include "xmalloc.h"

static void
add(struct pgarray *a, const char *s, size_t n)
{
	if (a->len + n + 1 > a->cap) {
		a->cap = (a->len + n + 1) * 2;
		a->p = xreallocarray(a->p, a->cap, 1);
	}
	memcpy(a->p + a->len, s, n);
	a->len += n;
	a->p[a->len] = '\0';
}

static void
elem_sep(struct pgarray *a)
{
	if (a->len > 1)		/* more than the opening brace */
		add(a, ",", 1);
}

void
pgarray_begin(struct pgarray *a)
{
	a->len = 0;
	add(a, "{", 1);
}

const char *
pgarray_end(struct pgarray *a)
{
	add(a, "}", 1);
	return a->p;
}

void
pgarray_free(struct pgarray *a)
{
	free(a->p);
	a->p = NULL;
	a->len = a->cap = 0;
}

void
pgarray_text(struct pgarray *a, const char *s)
{
	const char *run;

	elem_sep(a);
	if (s == NULL || s[0] == '\0') {
		add(a, "NULL", 4);
		return;
	}
	add(a, "\"", 1);
	for (run = s; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\') {
			add(a, run, (size_t)(s - run));
			add(a, "\\", 1);
			run = s;
		}
	}
	add(a, run, (size_t)(s - run));
	add(a, "\"", 1);
}

void
pgarray_int(struct pgarray *a, long long v, bool null)
{
	char digits[24], *p = digits + sizeof digits;
	bool neg = v < 0;
	unsigned long long u = neg ? 0ULL - (unsigned long long)v :
	    (unsigned long long)v;

	elem_sep(a);
	if (null) {
		add(a, "NULL", 4);
		return;
	}
	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (neg)
		*--p = '-';
	add(a, p, (size_t)(digits + sizeof digits - p));
}

/* "\\x" and the hex digits, quoted: the backslash escaped. */
void
pgarray_bytea(struct pgarray *a, const unsigned char *bytes, size_t len)
{
	char hex[3];

	elem_sep(a);
	add(a, "\"\\\\x", 4);
	for (size_t i = 0; i < len; i++) {
		hex_encode(bytes + i, 1, hex);
		add(a, hex, 2);
	}
	add(a, "\"", 1);
}

/* No quoting needed beyond the braces, which must be quoted. */
void
pgarray_small_ints(struct pgarray *a, const int *v, size_t n, int na)
{
	elem_sep(a);
	add(a, "\"{", 2);
	for (size_t i = 0; i < n; i++) {
		if (i)
			add(a, ",", 1);
		if (v[i] == na) {
			add(a, "NULL", 4);
		} else {
			char d[3];
			int x = v[i], k = 0;
			if (x >= 100)
				d[k++] = (char)('0' + x / 100);
			if (x >= 10)
				d[k++] = (char)('0' + x / 10 % 10);
			d[k++] = (char)('0' + x % 10);
			add(a, d, (size_t)k);
		}
	}
	add(a, "}\"", 2);
}
