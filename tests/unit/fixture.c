/* The test catalog, built the way catalog_load() would from the seed rows. */
#include <string.h>

#include "fixture.h"
#include "xmalloc.h"

static void
add_questionnaire(struct catalog *into, int id, const char *code, int max,
    int satisfied_min, bool active, const char *const *elements,
    const char *const *criteria)
{
	struct questionnaire *q;

	into->questionnaires = xreallocarray(into->questionnaires,
	    into->nquestionnaires + 1, sizeof *q);
	q = &into->questionnaires[into->nquestionnaires++];
	memset(q, 0, sizeof *q);
	q->id = id;
	q->code = xstrdup(code);
	q->name_vi = xstrdup(code);
	q->scale_min = 1;
	q->scale_max = max;
	q->satisfied_min = satisfied_min;
	q->active = active;
	for (size_t e = 0; elements[e] != NULL; e++) {
		q->elements = xreallocarray(q->elements, e + 1, sizeof *q->elements);
		memset(&q->elements[e], 0, sizeof q->elements[e]);
		q->elements[e].id = id * 100 + (int)e;
		q->elements[e].code = xstrdup(elements[e]);
		q->elements[e].name_vi = xstrdup(elements[e]);
		q->elements[e].name_en = xstrdup(elements[e]);
		q->elements[e].weight = 1;
		q->nelements++;
	}
	/* Criterion codes start with their element's code. */
	for (size_t i = 0; criteria[i] != NULL; i++) {
		struct criterion *c;
		q->criteria = xreallocarray(q->criteria, i + 1, sizeof *c);
		c = &q->criteria[i];
		memset(c, 0, sizeof *c);
		c->id = id * 100 + (int)i;
		c->code = xstrdup(criteria[i]);
		c->text_vi = xstrdup(criteria[i]);
		c->text_en = xstrdup(criteria[i]);
		c->weight = 1;
		for (size_t e = 0; e < q->nelements; e++)
			if (strncmp(criteria[i], q->elements[e].code,
			    strlen(q->elements[e].code)) == 0)
				c->element = e;
		q->ncriteria++;
	}
}

struct catalog *
fixture_catalog(void)
{
	static const char *const dv_elements[] = { "TC", "TT", "CC", "KQ", "PA", NULL };
	static const char *const dv_criteria[] = { "TC1", "TC2", "TC3", "TC4",
		"TT1", "TT2", "TT3", "TT4", "CC1", "CC2", "CC3", "CC4", "CC5",
		"KQ1", "KQ2", "KQ3", "PA1", "PA2", "PA3", NULL };
	static const char *const qy_elements[] = { "QY", NULL };
	static const char *const qy_criteria[] = { "QYTD", "QYHD", "QYTG", NULL };
	static const char *const old_elements[] = { "X", NULL };
	static const char *const old_criteria[] = { "X1", NULL };
	static const char *const areas[] = { "dat-dai", "ho-tich" };
	struct catalog *c = xcalloc(1, sizeof *c);

	add_questionnaire(c, 1, "sipas-dv-2023", 5, 4, true, dv_elements, dv_criteria);
	add_questionnaire(c, 2, "quay-2023", 3, 2, true, qy_elements, qy_criteria);
	add_questionnaire(c, 3, "old-2019", 5, 4, false, old_elements, old_criteria);
	c->areas = xcalloc(2, sizeof *c->areas);
	for (size_t i = 0; i < 2; i++) {
		c->areas[i].id = (int)i + 1;
		c->areas[i].code = xstrdup(areas[i]);
		c->areas[i].name_vi = xstrdup(areas[i]);
		c->areas[i].name_en = xstrdup(areas[i]);
	}
	c->nareas = 2;
	catalog_render(c);
	return c;
}

struct catalog *cat;

int
fixture_setup(void **state)
{
	cat = fixture_catalog();
	return 0;
}

int
fixture_teardown(void **state)
{
	catalog_free(cat);
	cat = NULL;
	return 0;
}
