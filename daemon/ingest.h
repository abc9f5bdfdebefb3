/* The kiosk endpoints (route.c lists them). */
#ifndef SIPASD_INGEST_H
#define SIPASD_INGEST_H

struct request;

void ingest_questionnaire(struct request *req);	/* GET /v1/questionnaire */
void ingest_response(struct request *req);	/* POST /v1/responses */
void ingest_batch(struct request *req);		/* POST /v1/responses/batch */

#endif
