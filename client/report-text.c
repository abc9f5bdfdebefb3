/* sipas report as a terminal table (a cross table for two dimensions), CSV
 * or JSON, and the choice of format (HTML is report-html.c). The figures
 * arrive at full precision and are rounded once, as they are printed,
 * through report_fmt_pct, report_fmt_change and json_pct. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "output.h"
#include "report.h"
#include "xmalloc.h"

static json_t *
json_pct(bool has, double percent)
{
	return has ? json_real(report_round2(percent)) : json_null();
}

static json_t *
json_str(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *
group_json(const struct report *r, const struct report_group *g)
{
	const struct questionnaire *q = r->q;
	const struct report_figures *f = &g->fig;
	json_t *o = json_object(), *el = json_object(), *cr = json_object(),
	    *lv = json_object();

	for (size_t d = 0; d < r->nby; d++) {
		char name[64];
		json_object_set_new(o, r->by[d]->name, json_str(g->key[d]));
		snprintf(name, sizeof name, "%s_label", r->by[d]->name);
		json_object_set_new(o, name, json_str(g->key[d] ? g->label[d] : "Tổng cộng"));
	}
	json_object_set_new(o, "n", json_integer(f->n));
	json_object_set_new(o, "rank", g->rank ? json_integer(g->rank) : json_null());
	json_object_set_new(o, "index", json_pct(f->has_index, f->index));
	json_object_set_new(o, "points", json_pct(f->has_index, f->points));
	json_object_set_new(o, "margin", json_pct(f->has_margin, f->margin));
	json_object_set_new(o, "mean", json_pct(f->has_mean, f->mean));
	for (size_t e = 0; e < q->nelements; e++)
		json_object_set_new(el, q->elements[e].code,
		    json_pct(f->has_element[e], 100.0 * f->element[e]));
	json_object_set_new(o, "elements", el);
	for (size_t c = 0; c < q->ncriteria; c++)
		json_object_set_new(cr, q->criteria[c].code,
		    json_pct(f->has_rate[c], 100.0 * f->rate[c]));
	json_object_set_new(o, "criteria", cr);
	for (size_t l = 0; l < report_nlevels(q); l++) {
		char v[16];
		snprintf(v, sizeof v, "%d", q->scale_min + (int)l);
		json_object_set_new(lv, v, json_pct(f->has_mean, 100.0 * f->level_share[l]));
	}
	json_object_set_new(o, "levels", lv);
	json_object_set_new(o, "low_sample", json_boolean(f->low_sample));
	if (r->has_target)
		json_object_set_new(o, "below_target", json_boolean(report_below_target(r, g)));
	if (r->cmp_from != NULL) {
		json_object_set_new(o, "previous_index", json_pct(g->has_prev, g->prev_index));
		json_object_set_new(o, "change", json_pct(report_has_change(g),
		    report_change(g)));
		json_object_set_new(o, "previous_rank",
		    g->has_prev && g->prev_rank ? json_integer(g->prev_rank) : json_null());
		json_object_set_new(o, "rank_change", g->has_prev && g->prev_rank && g->rank ?
		    json_integer(g->prev_rank - g->rank) : json_null());
	}
	if (r->worst > 0) {
		json_t *w = json_array();
		for (size_t i = 0; i < g->nworst; i++) {
			size_t c = g->worst[i];
			json_array_append_new(w, json_pack("{s:s, s:s, s:o}",
			    "code", q->criteria[c].code, "text", q->criteria[c].text_vi,
			    "rate", json_pct(true, 100.0 * f->rate[c])));
		}
		json_object_set_new(o, "worst", w);
	}
	return o;
}

static void
print_json(const struct report *r, FILE *f)
{
	json_t *groups = json_array(), *by = json_array(), *doc;

	for (size_t d = 0; d < r->nby; d++)
		json_array_append_new(by, json_string(r->by[d]->name));
	for (size_t i = 0; i + 1 < r->ngroups; i++)
		json_array_append_new(groups, group_json(r, &r->groups[i]));
	doc = json_pack("{s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:I, s:o, s:o, s:o, s:o}",
	    "questionnaire", r->q->code, "by", by,
	    "from", json_str(r->f.from), "to", json_str(r->f.to),
	    "center", json_str(r->f.center), "area", json_str(r->f.area),
	    "kiosk", json_str(r->f.kiosk), "min_n", (json_int_t)r->min_n,
	    "target", r->has_target ? json_real(r->target) : json_null(),
	    "compare", r->cmp_from ? json_pack("{s:s, s:s}", "from", r->cmp_from,
	        "to", r->cmp_to) : json_null(),
	    "groups", groups, "total", group_json(r, report_total(r)));
	json_dumpf(doc, f, JSON_INDENT(2) | JSON_REAL_PRECISION(12));
	fputc('\n', f);
	json_decref(doc);
}

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

/* Builds the header (g == NULL) or a group's row. */
static size_t
long_row(const struct report *r, const struct report_group *g, bool csv,
    struct row_builder *b)
{
	const struct questionnaire *q = r->q;
	const struct report_figures *f = g ? &g->fig : NULL;

	b->n = 0;
	if (g == NULL) {
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
			for (long i = 1; i <= r->worst; i++) {
				putf(b, "worst_%ld", i);
				putf(b, ">worst_%ld_rate", i);
			}
		return b->n;
	}
	if (g->rank)
		putf(b, "%ld", g->rank);
	else
		put(b, "");
	for (size_t d = 0; d < r->nby; d++) {
		put(b, g->key[d] ? g->key[d] : "");
		put(b, g->key[d] ? g->label[d] : "Tổng cộng");
	}
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
		if (g->has_prev && g->prev_rank && g->rank)
			putf(b, "%+ld", g->prev_rank - g->rank);
		else
			put(b, "-");
	}
	if (r->has_target)
		put(b, csv ? (report_below_target(r, g) ? "true" : "false") :
		    (report_below_target(r, g) ? "dưới" : ""));
	put(b, csv ? (f->low_sample ? "true" : "false") : (f->low_sample ? "*" : ""));
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

	t = table_new(long_row(r, NULL, csv, &b), b.cells);
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
		row[1] = rg->key[0] ? rg->label[0] : "Tổng cộng";
		for (size_t c = 0; c < x.ncols; c++) {
			const struct report_group *g = report_cell(r, rg, x.cols[c]);
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
	fprintf(f, "\nToàn bộ: %ld phiếu, chỉ số ", total->fig.n);
	if (total->fig.has_index) {
		report_fmt_pct(index, sizeof index, true, total->fig.index);
		report_fmt_pct(margin, sizeof margin, total->fig.has_margin,
		    total->fig.margin);
		report_fmt_pct(points, sizeof points, true, total->fig.points);
		fprintf(f, "%s %% (± %s), %s điểm\n\n", index, margin, points);
	} else
		fprintf(f, "-\n\n");
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
			fprintf(f, "  %s:", g->key[0] ? g->label[0] :
			    g->key[1] ? g->label[1] : "Tổng cộng");
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
	fputc('\n', f);
}

void
report_print(const struct report *r, enum output_format fmt, FILE *f)
{
	switch (fmt) {
	case OUTPUT_JSON:
		print_json(r, f);
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
