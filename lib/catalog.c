/* Loading the catalog from PostgreSQL or from the copy sipasd keeps, and
 * looking things up in it. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "catalog.h"
#include "xmalloc.h"

/* The whole catalog as one JSON document, built by PostgreSQL: the daemon
 * asks for it without blocking, keeps it on disk, and reads it back with
 * the same parser. */
const char catalog_sql[] =
    "SELECT json_build_object("
    " 'questionnaires', coalesce((SELECT json_agg(json_build_object("
    "  'id', q.id, 'code', q.code, 'name_vi', q.name_vi,"
    "  'scale_min', q.scale_min, 'scale_max', q.scale_max,"
    "  'satisfied_min', q.satisfied_min, 'active', q.active,"
    "  'levels', coalesce((SELECT json_agg(json_build_object('value', l.value,"
    "   'label_vi', l.label_vi, 'label_en', l.label_en) ORDER BY l.value)"
    "   FROM scale_levels l WHERE l.questionnaire_id = q.id), '[]'),"
    "  'elements', coalesce((SELECT json_agg(json_build_object('id', e.id,"
    "   'code', e.code, 'name_vi', e.name_vi, 'name_en', e.name_en,"
    "   'weight', e.weight) ORDER BY e.position)"
    "   FROM elements e WHERE e.questionnaire_id = q.id), '[]'),"
    "  'criteria', coalesce((SELECT json_agg(json_build_object('id', c.id,"
    "   'code', c.code, 'text_vi', c.text_vi, 'text_en', c.text_en,"
    "   'weight', c.weight, 'element', c.element_id) ORDER BY c.position)"
    "   FROM criteria c WHERE c.questionnaire_id = q.id), '[]')"
    " ) ORDER BY q.id) FROM questionnaires q), '[]'),"
    " 'areas', coalesce((SELECT json_agg(json_build_object('id', a.id,"
    "  'code', a.code, 'name_vi', a.name_vi, 'name_en', a.name_en)"
    "  ORDER BY a.id) FROM service_areas a), '[]'))";

static struct questionnaire *
find_by_id(struct catalog *cat, int id)
{
	for (size_t i = 0; i < cat->nquestionnaires; i++)
		if (cat->questionnaires[i].id == id)
			return &cat->questionnaires[i];
	return NULL;
}

/* A string member, "" when null: texts in English are optional. */
static bool
text(json_t *obj, const char *key, char **out)
{
	json_t *v = json_object_get(obj, key);

	if (v != NULL && !json_is_string(v) && !json_is_null(v))
		return false;
	*out = xstrdup(json_is_string(v) ? json_string_value(v) : "");
	return v != NULL || strcmp(key + strlen(key) - 3, "_en") == 0;
}

static bool
integer(json_t *obj, const char *key, int *out)
{
	json_t *v = json_object_get(obj, key);

	if (!json_is_integer(v) || json_integer_value(v) < -2147483647 ||
	    json_integer_value(v) > 2147483647)
		return false;
	*out = (int)json_integer_value(v);
	return true;
}

static bool
number(json_t *obj, const char *key, double *out)
{
	json_t *v = json_object_get(obj, key);

	if (!json_is_number(v))
		return false;
	*out = json_number_value(v);
	return true;
}

static bool
parse_questionnaire(json_t *jq, struct questionnaire *q, char *err, size_t errlen)
{
	json_t *levels = json_object_get(jq, "levels");
	json_t *elements = json_object_get(jq, "elements");
	json_t *criteria = json_object_get(jq, "criteria");
	json_t *v;
	size_t i;

	if (!integer(jq, "id", &q->id) || !text(jq, "code", &q->code) ||
	    !text(jq, "name_vi", &q->name_vi) ||
	    !integer(jq, "scale_min", &q->scale_min) ||
	    !integer(jq, "scale_max", &q->scale_max) ||
	    !integer(jq, "satisfied_min", &q->satisfied_min) ||
	    !json_is_boolean(json_object_get(jq, "active")) ||
	    !json_is_array(levels) || !json_is_array(elements) ||
	    !json_is_array(criteria))
		goto bad;
	q->active = json_is_true(json_object_get(jq, "active"));
	if (json_array_size(criteria) > CATALOG_MAX_CRITERIA) {
		snprintf(err, errlen, "questionnaire %s has more than %d criteria",
		    q->code, CATALOG_MAX_CRITERIA);
		return false;
	}
	q->levels = xcalloc(json_array_size(levels) + 1, sizeof *q->levels);
	json_array_foreach(levels, i, v) {
		struct scale_level *l = &q->levels[q->nlevels++];
		if (!integer(v, "value", &l->value) ||
		    !text(v, "label_vi", &l->label_vi) ||
		    !text(v, "label_en", &l->label_en))
			goto bad;
	}
	q->elements = xcalloc(json_array_size(elements) + 1, sizeof *q->elements);
	json_array_foreach(elements, i, v) {
		struct element *e = &q->elements[q->nelements++];
		if (!integer(v, "id", &e->id) || !text(v, "code", &e->code) ||
		    !text(v, "name_vi", &e->name_vi) ||
		    !text(v, "name_en", &e->name_en) ||
		    !number(v, "weight", &e->weight))
			goto bad;
	}
	q->criteria = xcalloc(json_array_size(criteria) + 1, sizeof *q->criteria);
	json_array_foreach(criteria, i, v) {
		struct criterion *c = &q->criteria[q->ncriteria++];
		int element_id;
		if (!integer(v, "id", &c->id) || !text(v, "code", &c->code) ||
		    !text(v, "text_vi", &c->text_vi) ||
		    !text(v, "text_en", &c->text_en) ||
		    !number(v, "weight", &c->weight) ||
		    !integer(v, "element", &element_id))
			goto bad;
		for (c->element = 0; c->element < q->nelements; c->element++)
			if (q->elements[c->element].id == element_id)
				break;
		if (c->element == q->nelements) {
			snprintf(err, errlen, "criterion %s of questionnaire %s "
			    "belongs to no element of it", c->code, q->code);
			return false;
		}
	}
	return true;
bad:
	snprintf(err, errlen, "questionnaire %s: a member is missing or of the "
	    "wrong type", q->code ? q->code : "?");
	return false;
}

bool
catalog_parse(const char *doc, size_t len, struct catalog **out, char *err,
    size_t errlen)
{
	struct catalog *cat = xcalloc(1, sizeof *cat);
	json_error_t jerr;
	json_t *root = json_loadb(doc, len, 0, &jerr), *qs, *areas, *v;
	size_t i;

	qs = json_object_get(root, "questionnaires");
	areas = json_object_get(root, "areas");
	if (!json_is_array(qs) || !json_is_array(areas)) {
		snprintf(err, errlen, "the catalog is not a JSON object with "
		    "questionnaires and areas%s%s", root == NULL ? ": " : "",
		    root == NULL ? jerr.text : "");
		goto fail;
	}
	cat->questionnaires = xcalloc(json_array_size(qs) + 1,
	    sizeof *cat->questionnaires);
	json_array_foreach(qs, i, v) {
		if (!parse_questionnaire(v, &cat->questionnaires[cat->nquestionnaires++],
		    err, errlen))
			goto fail;
	}
	cat->areas = xcalloc(json_array_size(areas) + 1, sizeof *cat->areas);
	json_array_foreach(areas, i, v) {
		struct service_area *a = &cat->areas[cat->nareas++];
		if (!integer(v, "id", &a->id) || !text(v, "code", &a->code) ||
		    !text(v, "name_vi", &a->name_vi) ||
		    !text(v, "name_en", &a->name_en)) {
			snprintf(err, errlen, "service area %zu: a member is missing "
			    "or of the wrong type", i + 1);
			goto fail;
		}
	}
	json_decref(root);
	catalog_render(cat);
	*out = cat;
	return true;
fail:
	json_decref(root);
	catalog_free(cat);
	return false;
}

bool
catalog_load(PGconn *conn, struct catalog **out, char *err, size_t errlen)
{
	PGresult *res = PQexec(conn, catalog_sql);
	bool ok;

	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
		snprintf(err, errlen, "reading the catalog: %s",
		    PQresultErrorMessage(res));
		PQclear(res);
		return false;
	}
	ok = catalog_parse(PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0),
	    out, err, errlen);
	PQclear(res);
	return ok;
}

static json_t *
render_questionnaire(const struct catalog *cat, const struct questionnaire *q)
{
	json_t *scale = json_array(), *elements = json_array();
	json_t *areas = json_array();

	for (size_t i = 0; i < q->nlevels; i++)
		json_array_append_new(scale, json_pack("{s:i, s:s, s:s, s:b}",
		    "value", q->levels[i].value, "label_vi", q->levels[i].label_vi,
		    "label_en", q->levels[i].label_en,
		    "satisfied", q->levels[i].value >= q->satisfied_min));
	for (size_t e = 0; e < q->nelements; e++) {
		json_t *criteria = json_array();
		for (size_t i = 0; i < q->ncriteria; i++) {
			const struct criterion *c = &q->criteria[i];
			if (c->element != e)
				continue;
			json_array_append_new(criteria, json_pack(
			    "{s:s, s:s, s:s}", "code", c->code, "text_vi",
			    c->text_vi, "text_en", c->text_en));
		}
		json_array_append_new(elements, json_pack("{s:s, s:s, s:s, s:o}",
		    "code", q->elements[e].code, "name_vi", q->elements[e].name_vi,
		    "name_en", q->elements[e].name_en, "criteria", criteria));
	}
	for (size_t i = 0; i < cat->nareas; i++)
		json_array_append_new(areas, json_pack("{s:s, s:s, s:s}",
		    "code", cat->areas[i].code, "name_vi", cat->areas[i].name_vi,
		    "name_en", cat->areas[i].name_en));
	return json_pack("{s:s, s:s, s:{s:i, s:i, s:i, s:o}, s:o, s:o}",
	    "code", q->code, "name_vi", q->name_vi,
	    "scale", "min", q->scale_min, "max", q->scale_max,
	    "satisfied_min", q->satisfied_min, "levels", scale,
	    "elements", elements, "service_areas", areas);
}

void
catalog_render(struct catalog *cat)
{
	for (size_t i = 0; i < cat->nquestionnaires; i++) {
		struct questionnaire *q = &cat->questionnaires[i];
		json_t *doc = render_questionnaire(cat, q);
		free(q->json);
		q->json = json_dumps(doc, JSON_COMPACT);
		json_decref(doc);
	}
}

void
catalog_free(struct catalog *cat)
{
	if (cat == NULL)
		return;
	for (size_t i = 0; i < cat->nquestionnaires; i++) {
		struct questionnaire *q = &cat->questionnaires[i];
		for (size_t j = 0; j < q->nlevels; j++) {
			free(q->levels[j].label_vi);
			free(q->levels[j].label_en);
		}
		for (size_t j = 0; j < q->nelements; j++) {
			free(q->elements[j].code);
			free(q->elements[j].name_vi);
			free(q->elements[j].name_en);
		}
		for (size_t j = 0; j < q->ncriteria; j++) {
			free(q->criteria[j].code);
			free(q->criteria[j].text_vi);
			free(q->criteria[j].text_en);
		}
		free(q->levels);
		free(q->elements);
		free(q->criteria);
		free(q->code);
		free(q->name_vi);
		free(q->json);
	}
	for (size_t i = 0; i < cat->nareas; i++) {
		free(cat->areas[i].code);
		free(cat->areas[i].name_vi);
		free(cat->areas[i].name_en);
	}
	free(cat->questionnaires);
	free(cat->areas);
	free(cat);
}

const struct questionnaire *
catalog_questionnaire(const struct catalog *cat, const char *code)
{
	for (size_t i = 0; i < cat->nquestionnaires; i++)
		if (strcmp(cat->questionnaires[i].code, code) == 0)
			return &cat->questionnaires[i];
	return NULL;
}

const struct questionnaire *
catalog_questionnaire_by_id(const struct catalog *cat, int id)
{
	return find_by_id((struct catalog *)cat, id);
}

const struct questionnaire *
catalog_default_questionnaire(const struct catalog *cat)
{
	for (size_t i = 0; i < cat->nquestionnaires; i++)
		if (cat->questionnaires[i].active)
			return &cat->questionnaires[i];
	return NULL;
}

const struct service_area *
catalog_area(const struct catalog *cat, const char *code)
{
	for (size_t i = 0; i < cat->nareas; i++)
		if (strcmp(cat->areas[i].code, code) == 0)
			return &cat->areas[i];
	return NULL;
}

int
questionnaire_criterion(const struct questionnaire *q, const char *code)
{
	for (size_t i = 0; i < q->ncriteria; i++)
		if (strcmp(q->criteria[i].code, code) == 0)
			return (int)i;
	return -1;
}
