/* sipas report as a terminal table (a cross table for two dimensions) or
 * CSV, and the choice of format: JSON is report-json.c, HTML report-html.c,
 * neither of which calls back here. The figures arrive at full precision
 * and are rounded once, as they are printed, by report_fmt_pct and
 * report_fmt_change. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "output.h"
#include "report-model.h"
#include "xmalloc.h"

/* The columns of the long table (table and CSV): one row per group. A
 * column of figures is named with a leading '>' (see table_new). */
struct row_builder {
	const char **cells;
	char (*buf)[48];
	size_t n;
};

static void
put(struct row_builder *b, const char *s)
{
	b->cells[b->n++] = s;
}

static void
putf(struct row_builder *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
putf(struct row_builder *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(b->buf[b->n], sizeof b->buf[0], fmt, ap);
	va_end(ap);
	b->cells[b->n] = b->buf[b->n];
	b->n++;
}

static void
put_pct(struct row_builder *b, bool has, double percent)
{
	report_fmt_pct(b->buf[b->n], sizeof b->buf[0], has, percent);
	b->cells[b->n] = b->buf[b->n];
	b->n++;
}

static void
put_change(struct row_builder *b, bool has, double change)
{
	report_fmt_change(b->buf[b->n], sizeof b->buf[0], has, change);
	b->cells[b->n] = b->buf[b->n];
	b->n++;
}

/* Builds the header: the same columns, in the same order, as long_row. */
static size_t
long_header(const struct report *r, bool csv, struct row_builder *b)
{
	const struct questionnaire *q = r->q;

	b->n = 0;
	put(b, csv ? ">rank" : ">#");
	for (size_t d = 0; d < r->nby; d++) {
		if (csv) {
			putf(b, "%s", r->by[d]->name);
			putf(b, "%s_label", r->by[d]->name);
		} else {
			put(b, "Mã");
			put(b, r->by[d]->title_vi);
		}
	}
	put(b, ">n");
	put(b, csv ? ">index" : ">Chỉ số %");
	put(b, csv ? ">margin" : ">±");
	put(b, csv ? ">points" : ">Điểm");
	put(b, csv ? ">mean" : ">TB");
	for (size_t e = 0; e < q->nelements; e++)
		putf(b, ">%s", q->elements[e].code);
	for (size_t l = 0; l < report_nlevels(q); l++)
		putf(b, csv ? ">level_%d" : ">M%d%%", q->scale_min + (int)l);
	if (r->cmp_from != NULL) {
		put(b, csv ? ">previous_index" : ">Kỳ trước");
		put(b, csv ? ">change" : ">±điểm");
		put(b, csv ? ">rank_change" : ">±hạng");
	}
	if (r->has_target)
		put(b, csv ? "below_target" : "Mục tiêu");
	put(b, csv ? "low_sample" : "");
	if (csv)
		put(b, "suppressed");
	if (csv)
		for (long i = 1; i <= r->worst; i++) {
			putf(b, "worst_%ld", i);
			putf(b, ">worst_%ld_rate", i);
		}
	return b->n;
}

/* Builds a group's row. */
static size_t
long_row(const struct report *r, const struct report_group *g, bool csv,
    struct row_builder *b)
{
	const struct questionnaire *q = r->q;
	const struct report_figures *f = &g->fig;
	size_t first, flag = 0;

	b->n = 0;
	if (g->rank)
		putf(b, "%ld", g->rank);
	else
		put(b, "");
	for (size_t d = 0; d < r->nby; d++) {
		put(b, g->key[d] ? g->key[d] : "");
		put(b, report_label(g, d));
	}
	first = b->n;
	putf(b, "%ld", f->n);
	put_pct(b, f->has_index, f->index);
	put_pct(b, f->has_margin, f->margin);
	put_pct(b, f->has_index, f->points);
	put_pct(b, f->has_mean, f->mean);
	for (size_t e = 0; e < q->nelements; e++)
		put_pct(b, f->has_element[e], 100.0 * f->element[e]);
	for (size_t l = 0; l < report_nlevels(q); l++)
		put_pct(b, f->has_mean, 100.0 * f->level_share[l]);
	if (r->cmp_from != NULL) {
		put_pct(b, g->has_prev, g->prev_index);
		put_change(b, report_has_change(g), report_change(g));
		if (report_has_rank_change(g))
			putf(b, "%+ld", report_rank_change(g));
		else
			put(b, "-");
	}
	if (r->has_target)
		put(b, csv ? (report_below_target(r, g) ? "true" : "false") :
		    (report_below_target(r, g) ? "dưới" : ""));
	put(b, csv ? (f->low_sample ? "true" : "false") : (f->low_sample ? "*" : ""));
	if (csv) {
		flag = b->n;
		put(b, g->suppressed ? "true" : "false");
	}
	if (csv)
		for (size_t i = 0; i < (size_t)r->worst; i++) {
			if (i < g->nworst) {
				put(b, q->criteria[g->worst[i]].code);
				put_pct(b, true, 100.0 * f->rate[g->worst[i]]);
			} else {
				put(b, "");
				put(b, "");
			}
		}
	/* Not a figure of it shown: empty in CSV, the mark in the table. */
	if (g->suppressed) {
		for (size_t i = first; i < b->n; i++)
			if (i != flag || !csv)
				b->cells[i] = "";
		b->cells[first] = csv ? "" : REPORT_SUPPRESSED;
	}
	return b->n;
}

static void
print_long(const struct report *r, enum output_format fmt, FILE *f)
{
	size_t max = 16 + 2 * r->nby + r->q->nelements + report_nlevels(r->q) +
	    2 * (size_t)r->worst;
	struct row_builder b = { xcalloc(max, sizeof *b.cells), xcalloc(max, sizeof *b.buf), 0 };
	bool csv = fmt == OUTPUT_CSV;
	struct table *t;

	t = table_new(long_header(r, csv, &b), b.cells);
	for (size_t i = 0; i < r->ngroups; i++) {
		long_row(r, &r->groups[i], csv, &b);
		table_add(t, b.cells);
	}
	table_print(t, fmt, f);
	table_free(t);
	free(b.cells);
	free(b.buf);
}


/* Two dimensions on a terminal: the index, rows by the first, columns by
 * the second, margins at the right and at the bottom. */
static void
print_cross(const struct report *r, FILE *f)
{
	struct report_cross x;

	report_cross(r, &x);
	const char **names = xcalloc(x.ncols + 2, sizeof *names);
	char (*cells)[24] = xcalloc(x.ncols, sizeof *cells);
	const char **row = xcalloc(x.ncols + 2, sizeof *row);
	names[0] = "Mã";
	names[1] = r->by[0]->title_vi;
	for (size_t c = 0; c < x.ncols; c++) {
		/* right-aligned: '>' and the key */
		char *h;
		xasprintf(&h, ">%s", x.cols[c]->key[1] ? x.cols[c]->key[1] : "Tổng");
		names[2 + c] = h;
	}
	struct table *t = table_new(x.ncols + 2, names);
	for (size_t i = 0; i < x.nrows; i++) {
		const struct report_group *rg = x.rows[i];
		row[0] = rg->key[0] ? rg->key[0] : "";
		row[1] = report_label(rg, 0);
		for (size_t c = 0; c < x.ncols; c++) {
			const struct report_group *g = report_cell(r, rg, x.cols[c]);
			if (g != NULL && g->suppressed) {
				row[2 + c] = REPORT_SUPPRESSED;
				continue;
			}
			report_fmt_pct(cells[c], sizeof cells[c] - 1, g != NULL && g->fig.has_index,
			    g != NULL ? g->fig.index : 0);
			if (g != NULL && g->fig.has_index)
				strcat(cells[c], g->fig.low_sample ? "*" :
				    report_below_target(r, g) ? "!" : "");
			row[2 + c] = cells[c];
		}
		table_add(t, row);
	}
	table_print(t, OUTPUT_TABLE, f);
	table_free(t);
	for (size_t c = 0; c < x.ncols; c++)
		free((char *)names[2 + c]);
	free(names);
	free(cells);
	free(row);
	report_cross_free(&x);
}

static void
print_table(const struct report *r, FILE *f)
{
	const struct report_group *total = report_total(r);
	char index[24], margin[24], points[24];

	fprintf(f, "Chỉ số hài lòng (SIPAS) theo %s%s%s, phiếu %s, %s đến %s",
	    r->by[0]->title_vi, r->nby == 2 ? " và " : "",
	    r->nby == 2 ? r->by[1]->title_vi : "", r->q->code,
	    r->f.from ? r->f.from : "đầu", r->f.to ? r->f.to : "nay");
	if (r->f.center)
		fprintf(f, ", đơn vị %s", r->f.center);
	if (r->f.area)
		fprintf(f, ", lĩnh vực %s", r->f.area);
	if (r->f.kiosk)
		fprintf(f, ", ki-ốt %s", r->f.kiosk);
	if (r->f.counter)
		fprintf(f, ", quầy %s", r->f.counter);
	if (r->f.officer)
		fprintf(f, ", công chức %s", r->f.officer);
	if (total->suppressed) {
		fprintf(f, "\nToàn bộ: " REPORT_SUPPRESSED "\n\n");
	} else if (total->fig.has_index) {
		report_fmt_pct(index, sizeof index, true, total->fig.index);
		report_fmt_pct(margin, sizeof margin, total->fig.has_margin,
		    total->fig.margin);
		report_fmt_pct(points, sizeof points, true, total->fig.points);
		fprintf(f, "\nToàn bộ: %ld phiếu, chỉ số %s %% (± %s), %s điểm\n\n",
		    total->fig.n, index, margin, points);
	} else {
		fprintf(f, "\nToàn bộ: %ld phiếu, chỉ số -\n\n", total->fig.n);
	}
	if (r->nby == 2)
		print_cross(r, f);
	else
		print_long(r, OUTPUT_TABLE, f);
	if (r->worst > 0) {
		fprintf(f, "\nTiêu chí yếu nhất:\n");
		for (size_t i = 0; i < r->ngroups; i++) {
			const struct report_group *g = &r->groups[i];
			if (g->nworst == 0 || (r->nby == 2 && g->key[0] && g->key[1]))
				continue;
			fprintf(f, "  %s:", report_name(g));
			for (size_t w = 0; w < g->nworst; w++) {
				report_fmt_pct(index, sizeof index, true,
				    100.0 * g->fig.rate[g->worst[w]]);
				fprintf(f, "%s %s %s", w ? "," : "", r->q->criteria[g->worst[w]].code,
				    index);
			}
			fputc('\n', f);
		}
	}
	fprintf(f, "\n%s* mẫu nhỏ: dưới %ld phiếu. ± = sai số biên 95 %%. M1%%...: tỷ lệ "
	    "mỗi mức trong các câu trả lời hợp lệ.", r->nby == 2 ?
	    "Ô: chỉ số %. " : "", r->min_n);
	if (r->has_target)
		fprintf(f, " Mục tiêu %.2f %%%s.", r->target, r->nby == 2 ? " (! = dưới)" : "");
	if (r->cmp_from)
		fprintf(f, " Kỳ trước: %s đến %s.", r->cmp_from, r->cmp_to);
	if (report_by_respondents(r))
		fprintf(f, " " REPORT_SUPPRESSED_NOTE ".", r->min_cell);
	fputc('\n', f);
}

void
report_print(const struct report *r, enum output_format fmt, FILE *f)
{
	switch (fmt) {
	case OUTPUT_JSON:
		report_json(r, f);
		break;
	case OUTPUT_CSV:
		print_long(r, OUTPUT_CSV, f);
		break;
	case OUTPUT_HTML:
		report_html(r, f);
		break;
	case OUTPUT_TABLE:
		print_table(r, f);
		break;
	}
}
