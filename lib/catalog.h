/* The catalog: questionnaires and service areas as loaded from the database.
 * The daemon validates against it, the kiosk is served it, the report
 * computes with it. Read-only once loaded. */
#ifndef SIPAS_CATALOG_H
#define SIPAS_CATALOG_H

#include <stdbool.h>
#include <stddef.h>

#include <libpq-fe.h>

/* Keeps a response's answer array, and the validator's stack buffers, small. */
#define CATALOG_MAX_CRITERIA 128

struct scale_level {
	int value;
	char *label_vi;
	char *label_en;
};

struct element {
	int id;
	char *code;
	char *name_vi;
	char *name_en;
	double weight;
};

struct criterion {
	int id;
	char *code;
	char *text_vi;
	char *text_en;
	size_t element;		/* index into questionnaire.elements */
	double weight;
};

struct questionnaire {
	int id;
	char *code;
	char *name_vi;
	int scale_min, scale_max;
	int satisfied_min;	/* answers >= this count as satisfied */
	bool active;
	struct scale_level *levels;
	size_t nlevels;
	struct element *elements;	/* in position order */
	size_t nelements;
	struct criterion *criteria;	/* in position order: the answers array order */
	size_t ncriteria;
	char *json;		/* what GET /v1/questionnaire returns */
};

struct service_area {
	int id;
	char *code;
	char *name_vi;
	char *name_en;
};

struct catalog {
	struct questionnaire *questionnaires;
	size_t nquestionnaires;
	struct service_area *areas;
	size_t nareas;
};

/* The query whose one value is the whole catalog as JSON. */
extern const char catalog_sql[];
/* Builds the catalog from that JSON (what the query returned, or a copy of
 * it kept on disk); on failure err says why. */
bool catalog_parse(const char *doc, size_t len, struct catalog **out, char *err,
    size_t errlen) __attribute__((warn_unused_result));
/* Reads the whole catalog with a blocking query on conn. */
bool catalog_load(PGconn *conn, struct catalog **out, char *err, size_t errlen)
    __attribute__((warn_unused_result));
/* Builds q->json, the questionnaire as served to kiosks. */
void catalog_render(struct catalog *cat);
void catalog_free(struct catalog *cat);

const struct questionnaire *catalog_questionnaire(const struct catalog *cat,
    const char *code);
const struct questionnaire *catalog_questionnaire_by_id(const struct catalog *cat,
    int id);
/* The one kiosks show when their registry row names none: the first active. */
const struct questionnaire *catalog_default_questionnaire(const struct catalog *cat);
const struct service_area *catalog_area(const struct catalog *cat,
    const char *code);
/* Index of the criterion in q->criteria, or -1. */
int questionnaire_criterion(const struct questionnaire *q, const char *code);

#endif
