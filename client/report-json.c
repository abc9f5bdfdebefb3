/* sipas report --format json: one document with the selection, every
 * group and the total. Figures are rounded once, as they are written, by
 * json_pct; a figure the formula leaves out is null. */
#include <stdio.h>

#include <jansson.h>

#include "report-model.h"

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
		json_object_set_new(o, name, json_str(report_label(g, d)));
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
	json_object_set_new(o, "suppressed", json_boolean(g->suppressed));
	if (r->has_target)
		json_object_set_new(o, "below_target", json_boolean(report_below_target(r, g)));
	if (r->cmp_from != NULL) {
		json_object_set_new(o, "previous_index", json_pct(g->has_prev, g->prev_index));
		json_object_set_new(o, "change", json_pct(report_has_change(g),
		    report_change(g)));
		json_object_set_new(o, "previous_rank",
		    g->has_prev && g->prev_rank ? json_integer(g->prev_rank) : json_null());
		json_object_set_new(o, "rank_change", report_has_rank_change(g) ?
		    json_integer(report_rank_change(g)) : json_null());
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
	/* Not a figure of it: null, as what the formula leaves out, and the
	 * flag that tells the two apart. */
	if (g->suppressed) {
		static const char *const hidden[] = { "n", "rank", "index", "points", "margin",
			"mean", "elements", "criteria", "levels", "low_sample", "below_target",
			"previous_index", "change", "previous_rank", "rank_change" };
		for (size_t i = 0; i < sizeof hidden / sizeof hidden[0]; i++)
			if (json_object_get(o, hidden[i]) != NULL)
				json_object_set_new(o, hidden[i], json_null());
	}
	return o;
}

void
report_json(const struct report *r, FILE *f)
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
	json_object_set_new(doc, "counter", json_str(r->f.counter));
	json_object_set_new(doc, "officer", json_str(r->f.officer));
	json_object_set_new(doc, "min_cell", report_by_respondents(r) ?
	    json_integer(r->min_cell) : json_null());
	json_dumpf(doc, f, JSON_INDENT(2) | JSON_REAL_PRECISION(12));
	fputc('\n', f);
	json_decref(doc);
}
