/* Loading the catalog from PostgreSQL and looking things up in it. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "catalog.h"
#include "xmalloc.h"

static PGresult *
query(PGconn *conn, const char *sql, char *err, size_t errlen)
{
	PGresult *res = PQexec(conn, sql);

	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		snprintf(err, errlen, "reading the catalog: %s",
		    PQresultErrorMessage(res));
		PQclear(res);
		return NULL;
	}
	return res;
}

static char *
field(PGresult *res, int row, int col)
{
	return xstrdup(PQgetvalue(res, row, col));
}

static int
ifield(PGresult *res, int row, int col)
{
	return atoi(PQgetvalue(res, row, col));
}

static struct questionnaire *
find_by_id(struct catalog *cat, int id)
{
	for (size_t i = 0; i < cat->nquestionnaires; i++)
		if (cat->questionnaires[i].id == id)
			return &cat->questionnaires[i];
	return NULL;
}

/* Rows come ordered by questionnaire and position, so appending keeps order. */
static bool
load_questionnaires(PGconn *conn, struct catalog *cat, char *err, size_t errlen)
{
	PGresult *res;
	int i, n;

	if ((res = query(conn, "SELECT id, code, name_vi, scale_min, scale_max, "
	    "satisfied_min, active FROM questionnaires ORDER BY id", err,
	    errlen)) == NULL)
		return false;
	n = PQntuples(res);
	cat->questionnaires = xcalloc((size_t)n, sizeof *cat->questionnaires);
	for (i = 0; i < n; i++) {
		struct questionnaire *q = &cat->questionnaires[i];
		q->id = ifield(res, i, 0);
		q->code = field(res, i, 1);
		q->name_vi = field(res, i, 2);
		q->scale_min = ifield(res, i, 3);
		q->scale_max = ifield(res, i, 4);
		q->satisfied_min = ifield(res, i, 5);
		q->active = PQgetvalue(res, i, 6)[0] == 't';
	}
	cat->nquestionnaires = (size_t)n;
	PQclear(res);

	if ((res = query(conn, "SELECT questionnaire_id, value, label_vi, label_en "
	    "FROM scale_levels ORDER BY questionnaire_id, value", err,
	    errlen)) == NULL)
		return false;
	for (i = 0; i < PQntuples(res); i++) {
		struct questionnaire *q = find_by_id(cat, ifield(res, i, 0));
		struct scale_level *l;
		q->levels = xreallocarray(q->levels, q->nlevels + 1, sizeof *l);
		l = &q->levels[q->nlevels++];
		l->value = ifield(res, i, 1);
		l->label_vi = field(res, i, 2);
		l->label_en = field(res, i, 3);
	}
	PQclear(res);

	if ((res = query(conn, "SELECT questionnaire_id, id, code, name_vi, "
	    "name_en, weight FROM elements ORDER BY questionnaire_id, position",
	    err, errlen)) == NULL)
		return false;
	for (i = 0; i < PQntuples(res); i++) {
		struct questionnaire *q = find_by_id(cat, ifield(res, i, 0));
		struct element *e;
		q->elements = xreallocarray(q->elements, q->nelements + 1, sizeof *e);
		e = &q->elements[q->nelements++];
		e->id = ifield(res, i, 1);
		e->code = field(res, i, 2);
		e->name_vi = field(res, i, 3);
		e->name_en = field(res, i, 4);
		e->weight = strtod(PQgetvalue(res, i, 5), NULL);
	}
	PQclear(res);

	if ((res = query(conn, "SELECT questionnaire_id, id, code, text_vi, "
	    "text_en, weight, element_id FROM criteria "
	    "ORDER BY questionnaire_id, position", err, errlen)) == NULL)
		return false;
	for (i = 0; i < PQntuples(res); i++) {
		struct questionnaire *q = find_by_id(cat, ifield(res, i, 0));
		struct criterion *c;
		int element_id = ifield(res, i, 6);
		if (q->ncriteria == CATALOG_MAX_CRITERIA) {
			snprintf(err, errlen, "questionnaire %s has more than %d "
			    "criteria", q->code, CATALOG_MAX_CRITERIA);
			PQclear(res);
			return false;
		}
		q->criteria = xreallocarray(q->criteria, q->ncriteria + 1, sizeof *c);
		c = &q->criteria[q->ncriteria++];
		c->id = ifield(res, i, 1);
		c->code = field(res, i, 2);
		c->text_vi = field(res, i, 3);
		c->text_en = field(res, i, 4);
		c->weight = strtod(PQgetvalue(res, i, 5), NULL);
		for (c->element = 0; c->element < q->nelements; c->element++)
			if (q->elements[c->element].id == element_id)
				break;
	}
	PQclear(res);
	return true;
}

static bool
load_areas(PGconn *conn, struct catalog *cat, char *err, size_t errlen)
{
	PGresult *res;
	int n;

	if ((res = query(conn, "SELECT id, code, name_vi, name_en "
	    "FROM service_areas ORDER BY id", err, errlen)) == NULL)
		return false;
	n = PQntuples(res);
	cat->areas = xcalloc((size_t)n, sizeof *cat->areas);
	for (int i = 0; i < n; i++) {
		cat->areas[i].id = ifield(res, i, 0);
		cat->areas[i].code = field(res, i, 1);
		cat->areas[i].name_vi = field(res, i, 2);
		cat->areas[i].name_en = field(res, i, 3);
	}
	cat->nareas = (size_t)n;
	PQclear(res);
	return true;
}

bool
catalog_load(PGconn *conn, struct catalog **out, char *err, size_t errlen)
{
	struct catalog *cat = xcalloc(1, sizeof *cat);

	if (!load_questionnaires(conn, cat, err, errlen) ||
	    !load_areas(conn, cat, err, errlen)) {
		catalog_free(cat);
		return false;
	}
	catalog_render(cat);
	*out = cat;
	return true;
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
