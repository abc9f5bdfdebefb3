/* A report as sipas report holds it and every format prints it: its
 * groups, margins and total with their figures, and what the formats share
 * to read them (report-model.c): the total, the target, the change since
 * the previous period, a group's label, the cross table. The command
 * (cmd-report.c) fills it through report-query.c and report-group.c; the
 * printers below read it and nothing else. */
#ifndef SIPAS_REPORT_MODEL_H
#define SIPAS_REPORT_MODEL_H

#include <stdbool.h>
#include <stdio.h>

#include "catalog.h"
#include "filter.h"
#include "output.h"
#include "report-dim.h"
#include "report.h"

struct report_group {
	char *key[2];		/* NULL: all of that dimension (a margin, or the total) */
	char *label[2];
	struct report_counts counts;
	struct report_figures fig;
	long rank;		/* by index among its peers; 0 when not ranked */
	/* Too few respondents to show, or hidden so that such a group cannot
	 * be worked out from the others (report_group_suppress): no figure
	 * of it is printed. */
	bool suppressed;
	bool has_prev;		/* --compare: the same group in the other period */
	double prev_index;	/* full precision, like fig.index */
	long prev_rank;
	size_t *worst;		/* --worst: criteria, weakest first */
	size_t nworst;
	long order[2];		/* position along each dimension, for printing */
};

/* Groups by one or two dimensions (by[0], by[1]). */
struct report {
	const struct report_dim *by[2];
	size_t nby;
	const struct questionnaire *q;
	struct filter f;
	const char *as_of;		/* --as-of: the tree of that day, or NULL */
	char *cmp_from, *cmp_to;	/* --compare period, or NULL */
	long min_n;
	long min_cell;		/* by respondents: fewer are suppressed */
	bool has_target;
	double target;
	long worst;
	struct report_group *groups;	/* in print order, margins and total last */
	size_t ngroups;
	const struct report_dim *trend_by;	/* HTML: the index over time */
	struct report_group *trend;
	size_t ntrend;
	struct report_group *counters;	/* HTML by officer: the counters, ranked */
	size_t ncounters;		/* without the total */
};

/* Frees what n groups hold (keys, labels, counts, figures, weakest
 * criteria); _free also the array, and accepts NULL. */
void report_groups_clear(struct report_group *g, size_t n);
void report_groups_free(struct report_group *g, size_t n);

bool report_same_key(const char *a, const char *b);
/* Whether a dimension of r is about who the respondents are: then small
 * groups are suppressed. */
bool report_by_respondents(const struct report *r);
/* What every format shows of a suppressed group, and the note that says
 * why (with r->min_cell). */
#define REPORT_SUPPRESSED "ẩn"
#define REPORT_SUPPRESSED_NOTE "ẩn: dưới %ld người trả lời, hoặc ẩn thêm để không " \
	"suy ra được nhóm đã ẩn từ các nhóm khác"

const struct report_group *report_total(const struct report *r);
/* HTML by officer alone: the page of a center's counters and officers. */
bool report_staff_page(const struct report *r);
/* The label of a group in dimension d: "Tổng cộng" where it has no key. */
const char *report_label(const struct report_group *g, size_t d);
/* A group named in a list of groups (the weakest criteria): the first
 * dimension's label, else the second's (a margin), else "Tổng cộng". */
const char *report_name(const struct report_group *g);
/* As shown: see report_index_above. Never for a suppressed group: which
 * side of the target its index lies on is a figure of it. */
bool report_below_target(const struct report *r, const struct report_group *g);
/* --compare: the change of the index, of the unrounded indices. */
bool report_has_change(const struct report_group *g);
double report_change(const struct report_group *g);
/* --compare: places gained since the previous period (positive: up). */
bool report_has_rank_change(const struct report_group *g);
long report_rank_change(const struct report_group *g);

/* A two-dimension report as a cross table: rows are the first dimension's
 * margins, columns the second's, each list ending with the total; the cell
 * of a row and a column is NULL when no response falls in it. */
struct report_cross {
	const struct report_group **rows, **cols;
	size_t nrows, ncols;
};
void report_cross(const struct report *r, struct report_cross *x);
const struct report_group *report_cell(const struct report *r,
    const struct report_group *row, const struct report_group *col);
void report_cross_free(struct report_cross *x);

/* The printers. Writes the report in the format, the one entry point
 * (report-text.c: the table and CSV, and the choice of format). */
void report_print(const struct report *r, enum output_format fmt, FILE *f);
/* The report as one JSON document (report-json.c). */
void report_json(const struct report *r, FILE *f);
/* The report as one self-contained HTML page (report-html.c). */
void report_html(const struct report *r, FILE *f);

#endif
