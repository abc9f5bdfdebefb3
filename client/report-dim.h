/* The dimensions sipas report groups by (report-dim.c): their names, their
 * headings and the SQL fragments that group, key and label by them. */
#ifndef SIPAS_REPORT_DIM_H
#define SIPAS_REPORT_DIM_H

#include <stdbool.h>

struct report_dim {
	const char *name;	/* as given to --by */
	const char *title_vi;	/* column heading */
	/* SQL: what rows are grouped by (over the columns of the rollup, or
	 * of the responses rolled up on the fly, each with the center it
	 * counts under, tree_center, and that center's district,
	 * tree_district: see report-query.c), then, over the group g.k#
	 * and the tables join brings in, its key and label; '#' stands for the
	 * dimension's slot. Groups with the same key are added up, so that
	 * district and level can group by center. */
	const char *group, *key, *label, *join;
	bool raw;		/* not in the rollup: responses rolled up on the fly */
	/* DIM_SPLIT (criterion, element) has no SQL: each group is split
	 * into its criteria (elements) after the query. DIM_RESPONDENT (who
	 * the respondents are: gender, age group...) and DIM_PERSONNEL (an
	 * officer) group as DIM_PLAIN does; the former are statistics about
	 * people, whose small cells are suppressed (report_group_suppress),
	 * the latter an evaluation of a person at work, only for the roles
	 * granted sipas_report_personnel. */
	enum { DIM_PLAIN, DIM_TIME, DIM_SPLIT, DIM_RESPONDENT, DIM_PERSONNEL } kind;
	/* The dimension's column in the second rollup (sql/007), whose
	 * partition response_rollup_<rollup> answers it with the time and
	 * center dimensions; NULL: not there. */
	const char *rollup;
};

/* The dimension of that name, or NULL. */
const struct report_dim *report_dim_find(const char *name);
/* Whether PostgreSQL groups by the dimension (all but DIM_SPLIT). */
bool report_dim_in_sql(const struct report_dim *dim);

#endif
