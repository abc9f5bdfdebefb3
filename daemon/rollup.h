/* Folds the queue of stored responses into the report rollup. */
#ifndef SIPASD_ROLLUP_H
#define SIPASD_ROLLUP_H

#include <event2/event.h>

void rollup_start(struct event_base *base);	/* before db_start */
void rollup_stop(void);

#endif
