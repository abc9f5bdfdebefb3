/* From the groups PostgreSQL returned to the groups of a report
 * (report-group.c), in the order cmd-report.c calls them: merge, margins,
 * split, suppress, (figures,) rank, previous period, weakest criteria,
 * print order. */
#ifndef SIPAS_REPORT_GROUP_H
#define SIPAS_REPORT_GROUP_H

#include "report-model.h"

/* Adds up the groups with the same keys, so that several centers make a
 * district; *n becomes the count of groups left (sorted by key). */
void report_group_merge(const struct questionnaire *q, struct report_group *g, size_t *n);
/* Appends the margins (a key dropped) and the total (both dropped) of
 * groups with a key in each of nsql slots; a total of zero when there are
 * no groups. Reallocates g and returns it. */
struct report_group *report_group_margins(const struct questionnaire *q, size_t nsql,
    struct report_group *g, size_t *n);
/* A criterion or element dimension in the slot: each group becomes one
 * group per criterion (element), followed by itself, the margin. Takes in
 * over and returns the new array of *nout groups. */
struct report_group *report_group_split(const struct questionnaire *q,
    const struct report_dim *dim, size_t slot, struct report_group *in, size_t nin,
    size_t *nout);
/* A report by who the respondents are (report_by_respondents): marks
 * suppressed every group with fewer than r->min_cell responses, then, so
 * that none can be worked out from what is shown, every line of groups
 * that add up (the groups along one dimension with the same key in the
 * other, and their margin) with exactly one suppressed gets a second: the
 * smallest other group of the line, else the margin; until every line has
 * none or at least two. Lines along a criterion or element do not add up
 * and are left as they are. Nothing is suppressed in other reports. */
void report_group_suppress(const struct report *r, struct report_group *g, size_t n);
/* Competition ranking ("1, 2, 2, 4") by the index as shown, among groups
 * with the same margins and the same key in the second slot; the total,
 * groups without an index and suppressed groups get 0 and are not counted.
 * Needs the figures. */
void report_group_rank(struct report_group *g, size_t n);
/* --compare: gives each group of r the index and rank of the group with
 * the same keys in prev, unless either is suppressed. */
void report_group_attach_previous(struct report *r, const struct report_group *prev,
    size_t nprev);
/* --worst: the group's criteria with a rate, weakest first (ties in
 * questionnaire order), r->worst of them kept; none for a suppressed
 * group. */
void report_group_find_worst(const struct report *r, struct report_group *g);
/* Puts r->groups in print order: time in order, criteria and elements in
 * questionnaire order, the rest by rank of their margin; margins of the
 * first dimension after the cells, then those of the second, the total
 * last. Needs the ranks. */
void report_group_sort(struct report *r);

#endif
