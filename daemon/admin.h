/* The operators' endpoints on the admin listener (route.c lists them). */
#ifndef SIPASD_ADMIN_H
#define SIPASD_ADMIN_H

struct request;

void admin_start(void);		/* before db_start */
void admin_healthz(struct request *req);	/* GET /healthz */
void admin_readyz(struct request *req);	/* GET /readyz */
void admin_metrics(struct request *req);	/* GET /metrics */

#endif
