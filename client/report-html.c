/* sipas report --format html: one self-contained page for officials who
 * will not read a CSV. Vietnamese labels; charts are inline SVG written
 * here, so the file opens anywhere, offline, and prints as it shows. Reads
 * the report model (report-model.h) only. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report-model.h"
#include "utf8.h"
#include "xmalloc.h"

static void
esc(FILE *f, const char *s)
{
	for (; s != NULL && *s != '\0'; s++) {
		switch (*s) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		default: fputc(*s, f);
		}
	}
}

/* The heading of level l (value scale_min + l) in the catalog, or the
 * value itself where the catalog has no label for it: the header has a
 * column for every level the rows have. */
static void
level_heading(FILE *f, const struct questionnaire *q, size_t l)
{
	int value = q->scale_min + (int)l;

	for (size_t i = 0; i < q->nlevels; i++)
		if (q->levels[i].value == value) {
			esc(f, q->levels[i].label_vi);
			return;
		}
	fprintf(f, "%d", value);
}

static void
pct(FILE *f, bool has, double percent)
{
	char buf[32];

	report_fmt_pct(buf, sizeof buf, has, percent);
	fputs(buf, f);
}

static void
change(FILE *f, bool has, double points)
{
	char buf[32];

	report_fmt_change(buf, sizeof buf, has, points);
	fputs(buf, f);
}

static const char style[] =
    "body{font-family:'Segoe UI',Roboto,'Noto Sans',Arial,sans-serif;margin:2em auto;"
    "max-width:70em;color:#222;padding:0 1em}"
    "h1{font-size:1.5em;margin-bottom:.2em}h2{font-size:1.15em;margin-top:2em}"
    ".scope{color:#555}.headline{display:flex;gap:2em;align-items:baseline;margin:1em 0}"
    ".big{font-size:3em;font-weight:600;color:#0b5394}.note{color:#666;font-size:.9em}"
    "table{border-collapse:collapse;font-size:.9em}th,td{padding:.3em .6em;"
    "border-bottom:1px solid #ddd;text-align:right}th{background:#f3f6fa}"
    "td.l,th.l{text-align:left;min-width:14em}tr.total td{font-weight:600;border-top:2px solid #888}"
    ".low{color:#999}.suppressed{color:#666;font-style:italic}.below{color:#b00020;font-weight:600}"
    "svg text{font-family:inherit;font-size:12px}.wide{overflow-x:auto}";

/* The axis runs between round numbers around the values shown (and the
 * target), so that differences of a few points are visible; a suppressed
 * group's index is not shown, and does not move it. */
struct axis {
	double lo, hi;
};

static struct axis
axis_of(const struct report_group *const *g, size_t n, const struct report *r)
{
	struct axis a = { 100, 0 };

	for (size_t i = 0; i < n; i++)
		if (g[i]->fig.has_index && !g[i]->suppressed) {
			a.lo = fmin(a.lo, g[i]->fig.index);
			a.hi = fmax(a.hi, g[i]->fig.index);
		}
	if (r->has_target) {
		a.lo = fmin(a.lo, r->target);
		a.hi = fmax(a.hi, r->target);
	}
	a.lo = fmax(0, floor((a.lo - 2) / 5) * 5);
	a.hi = fmin(100, ceil((a.hi + 2) / 5) * 5);
	if (a.hi <= a.lo)
		a = (struct axis){ 0, 100 };
	return a;
}

/* The label of a bar: with_n, as figures by officer always are, followed
 * by its n and the low-sample mark. The caller frees it. */
static char *
bar_label(const struct report_group *g, bool with_n)
{
	char *s;

	if (with_n && !g->suppressed)
		xasprintf(&s, "%s (n = %ld)%s", report_label(g, 0), g->fig.n,
		    g->fig.low_sample ? "*" : "");
	else
		s = xstrdup(report_label(g, 0));
	return s;
}

/* Horizontal bars, one per group, with the target. A suppressed group has
 * its label and the mark, no bar. */
static void
bar_chart(FILE *f, const struct report *r, const char *id, const char *title,
    const struct report_group **bars, size_t n, bool with_n)
{
	size_t longest = 0;
	const double width = 520, row = 22;
	char **labels;

	if (n == 0)
		return;
	labels = xcalloc(n, sizeof *labels);
	for (size_t i = 0; i < n; i++) {
		labels[i] = bar_label(bars[i], with_n);
		size_t w = utf8_width(labels[i]);
		longest = w > longest ? w : longest;
	}
	/* Room for the longest label at about 6.5 pixels a character. */
	const double left = fmin(480, fmax(100, 6.5 * (double)longest + 16));
	struct axis a = axis_of(bars, n, r);
	double lo = a.lo, span = a.hi - a.lo;
	double height = row * (double)n + 30;
	fprintf(f, "<svg id=\"%s\" role=\"img\" width=\"%.0f\" height=\"%.0f\" "
	    "viewBox=\"0 0 %.0f %.0f\" xmlns=\"http://www.w3.org/2000/svg\">\n", id,
	    left + width + 80, height, left + width + 80, height);
	fputs("<title>Chỉ số hài lòng theo ", f);
	esc(f, title);
	fputs("</title>\n", f);
	for (int t = 0; t <= 5; t++) {
		double v = lo + span * t / 5, x = left + width * t / 5;
		fprintf(f, "<line x1=\"%.1f\" y1=\"0\" x2=\"%.1f\" y2=\"%.0f\" stroke=\"#e3e3e3\"/>"
		    "<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\" fill=\"#666\">%.0f</text>\n",
		    x, x, height - 24, x, height - 8, v);
	}
	for (size_t i = 0; i < n; i++) {
		const struct report_group *g = bars[i];
		double y = row * (double)i + 4;
		double w = g->fig.has_index ? width * (g->fig.index - lo) / span : 0;
		bool below = report_below_target(r, g);
		fprintf(f, "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">", left - 8, y + 14);
		esc(f, labels[i]);
		fputs("</text>", f);
		if (g->suppressed) {
			fprintf(f, "<text x=\"%.0f\" y=\"%.1f\" fill=\"#666\">" REPORT_SUPPRESSED
			    "</text>\n", left + 4, y + 14);
			continue;
		}
		fprintf(f, "<rect x=\"%.0f\" y=\"%.1f\" width=\"%.1f\" height=\"16\" "
		    "fill=\"%s\" opacity=\"%s\"/>", left, y + 2, w < 0 ? 0 : w,
		    below ? "#d9534f" : "#3d85c6", g->fig.low_sample ? "0.45" : "1");
		fprintf(f, "<text x=\"%.1f\" y=\"%.1f\">", left + (w < 0 ? 0 : w) + 4, y + 14);
		pct(f, g->fig.has_index, g->fig.index);
		fputs(g->fig.low_sample ? "*" : "", f);
		fputs("</text>\n", f);
	}
	if (r->has_target) {
		double x = left + width * (r->target - lo) / span;
		fprintf(f, "<line x1=\"%.1f\" y1=\"0\" x2=\"%.1f\" y2=\"%.0f\" stroke=\"#b00020\" "
		    "stroke-width=\"2\" stroke-dasharray=\"5,3\"/><text x=\"%.1f\" y=\"%.0f\" "
		    "fill=\"#b00020\">Mục tiêu %.2f</text>\n", x, x, height - 24, x + 4,
		    height - 26, r->target);
	}
	fputs("</svg>\n", f);
	for (size_t i = 0; i < n; i++)
		free(labels[i]);
	free(labels);
}

/* The bars of the report: one per group of the first dimension. */
static void
group_chart(FILE *f, const struct report *r)
{
	const struct report_group **bars = xcalloc(r->ngroups, sizeof *bars);
	size_t n = 0;

	for (size_t i = 0; i < r->ngroups; i++) {
		const struct report_group *g = &r->groups[i];
		if (g->key[0] != NULL && (r->nby == 1 || g->key[1] == NULL))
			bars[n++] = g;
	}
	bar_chart(f, r, "chart-groups", r->by[0]->title_vi, bars, n,
	    r->by[0]->kind == DIM_PERSONNEL);
	free(bars);
}

/* The total index over time, with the target. */
static void
trend_chart(FILE *f, const struct report *r)
{
	const double left = 50, width = 640, top = 20, plot = 200;
	size_t n = r->ntrend;

	if (n < 2)
		return;
	const struct report_group *points[n];
	for (size_t i = 0; i < n; i++)
		points[i] = &r->trend[i];
	struct axis a = axis_of(points, n, r);
	double lo = a.lo, span = a.hi - a.lo;
	fprintf(f, "<h2>Diễn biến theo %s</h2>\n", r->trend_by->title_vi);
	fprintf(f, "<svg id=\"chart-trend\" role=\"img\" width=\"%.0f\" height=\"%.0f\" "
	    "viewBox=\"0 0 %.0f %.0f\" xmlns=\"http://www.w3.org/2000/svg\">\n"
	    "<title>Chỉ số hài lòng theo %s</title>\n", left + width + 40, top + plot + 50,
	    left + width + 40, top + plot + 50, r->trend_by->title_vi);
#define Y(v) (top + plot * (1 - ((v) - lo) / span))
#define X(i) (left + width * ((double)(i) + 0.5) / (double)n)
	for (int t = 0; t <= 5; t++) {
		double v = lo + span * t / 5;
		fprintf(f, "<line x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\" stroke=\"#e3e3e3\"/>"
		    "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\" fill=\"#666\">%.0f</text>\n",
		    left, Y(v), left + width, Y(v), left - 6, Y(v) + 4, v);
	}
	if (r->has_target)
		fprintf(f, "<line x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\" stroke=\"#b00020\" "
		    "stroke-width=\"2\" stroke-dasharray=\"5,3\"/>\n", left, Y(r->target),
		    left + width, Y(r->target));
	fputs("<polyline fill=\"none\" stroke=\"#0b5394\" stroke-width=\"2.5\" points=\"", f);
	for (size_t i = 0; i < n; i++)
		if (r->trend[i].fig.has_index)
			fprintf(f, "%.1f,%.1f ", X(i), Y(r->trend[i].fig.index));
	fputs("\"/>\n", f);
	for (size_t i = 0; i < n; i++) {
		const struct report_group *g = &r->trend[i];
		if (g->fig.has_index) {
			fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"#0b5394\"/>"
			    "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">",
			    X(i), Y(g->fig.index), X(i), Y(g->fig.index) - 8);
			pct(f, true, g->fig.index);
			fputs("</text>\n", f);
		}
		fprintf(f, "<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\" fill=\"#444\">",
		    X(i), top + plot + 18);
		esc(f, g->key[0]);
		fputs("</text>\n", f);
	}
#undef X
#undef Y
	fputs("</svg>\n", f);
}

/* The header of the long table: a column for each of long_row's cells. */
static void
long_head(FILE *f, const struct report *r)
{
	const struct questionnaire *q = r->q;

	fputs("<thead><tr><th>Hạng</th>", f);
	for (size_t d = 0; d < r->nby; d++) {
		fputs("<th class=\"l\">", f);
		esc(f, r->by[d]->title_vi);
		fputs("</th>", f);
	}
	fputs("<th>Số phiếu</th><th>Chỉ số %</th><th>Sai số ±</th><th>Điểm</th>"
	    "<th>Điểm TB</th>", f);
	for (size_t e = 0; e < q->nelements; e++) {
		fputs("<th title=\"", f);
		esc(f, q->elements[e].name_vi);
		fputs("\">", f);
		esc(f, q->elements[e].code);
		fputs("</th>", f);
	}
	for (size_t l = 0; l < report_nlevels(q); l++) {
		fputs("<th>", f);
		level_heading(f, q, l);
		fputs(" %</th>", f);
	}
	if (r->cmp_from)
		fputs("<th>Kỳ trước</th><th>Thay đổi</th><th>Thay đổi hạng</th>", f);
	fputs("</tr></thead>\n", f);
}

/* The columns of figures of long_head, from n on. */
static size_t
long_columns(const struct report *r)
{
	return 5 + r->q->nelements + report_nlevels(r->q) + (r->cmp_from ? 3 : 0);
}

/* A group's row, the columns of long_head. */
static void
long_row(FILE *f, const struct report *r, const struct report_group *g)
{
	const struct questionnaire *q = r->q;
	const struct report_figures *x = &g->fig;
	bool total = g->key[0] == NULL && g->key[1] == NULL;
	bool below = report_below_target(r, g);

	fprintf(f, "<tr class=\"%s%s\"><td>", total ? "total" : "",
	    g->suppressed ? " suppressed" : x->low_sample ? " low" : "");
	if (g->rank)
		fprintf(f, "%ld", g->rank);
	fputs("</td>", f);
	for (size_t d = 0; d < r->nby; d++) {
		fputs("<td class=\"l\">", f);
		esc(f, report_label(g, d));
		fputs("</td>", f);
	}
	if (g->suppressed) {
		fputs("<td>" REPORT_SUPPRESSED "</td>", f);
		for (size_t i = 1; i < long_columns(r); i++)
			fputs("<td></td>", f);
		fputs("</tr>\n", f);
		return;
	}
	fprintf(f, "<td>%ld%s</td><td class=\"%s\">", x->n, x->low_sample ? "*" : "",
	    below ? "below" : "");
	pct(f, x->has_index, x->index);
	fputs("</td><td>", f);
	pct(f, x->has_margin, x->margin);
	fputs("</td><td>", f);
	pct(f, x->has_index, x->points);
	fputs("</td><td>", f);
	pct(f, x->has_mean, x->mean);
	fputs("</td>", f);
	for (size_t e = 0; e < q->nelements; e++) {
		fputs("<td>", f);
		pct(f, x->has_element[e], 100.0 * x->element[e]);
		fputs("</td>", f);
	}
	for (size_t l = 0; l < report_nlevels(q); l++) {
		fputs("<td>", f);
		pct(f, x->has_mean, 100.0 * x->level_share[l]);
		fputs("</td>", f);
	}
	if (r->cmp_from) {
		fputs("<td>", f);
		pct(f, g->has_prev, g->prev_index);
		fputs("</td><td>", f);
		change(f, report_has_change(g), report_change(g));
		fputs("</td>", f);
		if (report_has_rank_change(g))
			fprintf(f, "<td>%+ld</td>", report_rank_change(g));
		else
			fputs("<td>-</td>", f);
	}
	fputs("</tr>\n", f);
}

static void
long_table(FILE *f, const struct report *r)
{
	fputs("<table id=\"report-table\">\n", f);
	long_head(f, r);
	fputs("<tbody>\n", f);
	for (size_t i = 0; i < r->ngroups; i++)
		long_row(f, r, &r->groups[i]);
	fputs("</tbody></table>\n", f);
}

/* Two dimensions: the index in a grid, shaded from the lowest to the
 * highest cell, with the target and the low-sample marks. */
static void
cross_table(FILE *f, const struct report *r)
{
	struct report_cross x;
	double lo = 100, hi = 0;

	report_cross(r, &x);
	for (size_t i = 0; i < r->ngroups; i++)
		if (r->groups[i].fig.has_index && !r->groups[i].suppressed) {
			lo = fmin(lo, r->groups[i].fig.index);
			hi = fmax(hi, r->groups[i].fig.index);
		}
	fprintf(f, "<h2>Chỉ số theo %s và %s</h2>\n<table id=\"cross-table\"><thead><tr>"
	    "<th class=\"l\">%s</th>", r->by[0]->title_vi, r->by[1]->title_vi,
	    r->by[0]->title_vi);
	for (size_t c = 0; c < x.ncols; c++) {
		fputs("<th>", f);
		esc(f, report_label(x.cols[c], 1));
		fputs("</th>", f);
	}
	fputs("</tr></thead><tbody>\n", f);
	for (size_t i = 0; i < x.nrows; i++) {
		fprintf(f, "<tr%s><td class=\"l\">", x.rows[i]->key[0] ? "" : " class=\"total\"");
		esc(f, report_label(x.rows[i], 0));
		fputs("</td>", f);
		for (size_t c = 0; c < x.ncols; c++) {
			const struct report_group *g = report_cell(r, x.rows[i], x.cols[c]);
			if (g != NULL && g->suppressed) {
				fputs("<td class=\"suppressed\">" REPORT_SUPPRESSED "</td>", f);
				continue;
			}
			if (g == NULL || !g->fig.has_index) {
				fputs("<td>-</td>", f);
				continue;
			}
			double shade = hi > lo ? (g->fig.index - lo) / (hi - lo) : 1;
			bool below = report_below_target(r, g);
			fprintf(f, "<td class=\"%s%s\" style=\"background:hsl(%s,60%%,%.0f%%)\">",
			    below ? "below" : "", g->fig.low_sample ? " low" : "",
			    below ? "0" : "210", 96 - 26 * shade);
			pct(f, true, g->fig.index);
			fprintf(f, "%s</td>", g->fig.low_sample ? "*" : "");
		}
		fputs("</tr>\n", f);
	}
	fputs("</tbody></table>\n", f);
	report_cross_free(&x);
}

static void
worst_list(FILE *f, const struct report *r, const char *heading, const char *who)
{
	fprintf(f, "<h2>%s</h2>\n<table id=\"worst\"><thead><tr>"
	    "<th class=\"l\">%s</th><th class=\"l\">Tiêu chí</th><th>Tỷ lệ hài lòng %%</th>"
	    "</tr></thead><tbody>\n", heading, who);
	for (size_t i = 0; i < r->ngroups; i++) {
		const struct report_group *g = &r->groups[i];
		if (r->nby == 2 && g->key[0] && g->key[1])
			continue;
		for (size_t w = 0; w < g->nworst; w++) {
			const struct criterion *c = &r->q->criteria[g->worst[w]];
			fputs("<tr><td class=\"l\">", f);
			if (w == 0)
				esc(f, report_name(g));
			fputs("</td><td class=\"l\">", f);
			esc(f, c->code);
			fputs(" - ", f);
			esc(f, c->text_vi);
			fputs("</td><td>", f);
			pct(f, true, 100.0 * g->fig.rate[g->worst[w]]);
			fputs("</td></tr>\n", f);
		}
	}
	fputs("</tbody></table>\n", f);
}

/* The selection the page reports on. */
static void
scope(FILE *f, const struct report *r)
{
	const struct { const char *name, *code; } sel[] = {
		{ "đơn vị", r->f.center }, { "lĩnh vực", r->f.area }, { "ki-ốt", r->f.kiosk },
		{ "quầy", r->f.counter }, { "công chức", r->f.officer },
	};

	fprintf(f, "<p class=\"scope\">Theo %s", r->by[0]->title_vi);
	if (r->nby == 2)
		fprintf(f, " và %s", r->by[1]->title_vi);
	fprintf(f, "; kỳ báo cáo: %s đến %s", r->f.from ? r->f.from : "đầu", r->f.to ? r->f.to : "nay");
	for (size_t i = 0; i < sizeof sel / sizeof sel[0]; i++)
		if (sel[i].code != NULL) {
			fprintf(f, "; %s: ", sel[i].name);
			esc(f, sel[i].code);
		}
	fputs("; phiếu: ", f);
	esc(f, r->q->name_vi);
	fputs("</p>\n", f);
}

static void
headline(FILE *f, const struct report *r)
{
	const struct report_group *t = report_total(r);

	fputs("<div class=\"headline\"><div class=\"big\" id=\"headline\">", f);
	if (t->suppressed) {
		fputs(REPORT_SUPPRESSED "</div></div>\n", f);
		return;
	}
	pct(f, t->fig.has_index, t->fig.index);
	fputs(" %</div><div>", f);
	if (t->fig.has_index) {
		pct(f, true, t->fig.points);
		fputs(" điểm / 10<br>", f);
	}
	if (t->fig.has_margin) {
		fputs("sai số ± ", f);
		pct(f, true, t->fig.margin);
		fputs(" (95 %)<br>", f);
	}
	fprintf(f, "%ld phiếu khảo sát", t->fig.n);
	if (r->cmp_from && t->has_prev) {
		fprintf(f, "<br>kỳ trước (%s đến %s): ", r->cmp_from, r->cmp_to);
		pct(f, true, t->prev_index);
		fputs(" %, thay đổi ", f);
		change(f, report_has_change(t), report_change(t));
	}
	if (r->has_target)
		fprintf(f, "<br>mục tiêu: %.2f %%", r->target);
	fputs("</div></div>\n", f);
}

/* The page of a center's counters and officers (report_staff_page), for
 * its director: the officers' bars with their n, the weakest criteria of
 * each, the counters' bars. */
static void
staff_sections(FILE *f, const struct report *r)
{
	const struct report_group **bars = xcalloc(r->ncounters + 1, sizeof *bars);

	fputs("<h2>Chỉ số hài lòng theo công chức</h2>\n", f);
	group_chart(f, r);
	worst_list(f, r, "Các tiêu chí yếu nhất của từng công chức", "Công chức");
	for (size_t i = 0; i < r->ncounters; i++)
		bars[i] = &r->counters[i];
	fputs("<h2>Chỉ số hài lòng theo quầy</h2>\n", f);
	bar_chart(f, r, "chart-counters", "Quầy", bars, r->ncounters, true);
	free(bars);
}

void
report_html(const struct report *r, FILE *f)
{
	bool staff = report_staff_page(r);

	fputs("<!DOCTYPE html>\n<html lang=\"vi\">\n<head>\n<meta charset=\"utf-8\">\n"
	    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	    "<title>Báo cáo chỉ số hài lòng</title>\n<style>", f);
	fputs(style, f);
	fprintf(f, "</style>\n</head>\n<body>\n<h1 id=\"title\">%s</h1>\n", staff ?
	    "Quầy và công chức: chỉ số hài lòng của người dân, tổ chức (SIPAS)" :
	    "Báo cáo chỉ số hài lòng của người dân, tổ chức (SIPAS)");
	scope(f, r);
	headline(f, r);
	if (staff) {
		staff_sections(f, r);
	} else {
		fprintf(f, "<h2>Chỉ số hài lòng theo %s</h2>\n", r->by[0]->title_vi);
		group_chart(f, r);
	}
	trend_chart(f, r);
	if (r->nby == 2)
		cross_table(f, r);
	fputs("<h2>Bảng số liệu</h2>\n<div class=\"wide\">", f);
	long_table(f, r);
	fputs("</div>\n", f);
	if (r->worst > 0 && !staff)
		worst_list(f, r, "Các tiêu chí yếu nhất", "Nhóm");
	fprintf(f, "<p class=\"note\">Chỉ số = bình quân các yếu tố, mỗi yếu tố = bình quân "
	    "tỷ lệ hài lòng của các tiêu chí; câu trả lời \"không áp dụng\" không được tính. "
	    "* mẫu nhỏ: dưới %ld phiếu. Sai số biên với độ tin cậy 95 %%.", r->min_n);
	if (report_by_respondents(r))
		fprintf(f, " " REPORT_SUPPRESSED_NOTE ".", r->min_cell);
	if (staff)
		fputs(" Số liệu theo công chức là đánh giá một người khi làm việc: đọc cùng số "
		    "phiếu (n), không so sánh nhóm mẫu nhỏ, chỉ dùng trong đơn vị.", f);
	fputs("</p>\n</body>\n</html>\n", f);
}
