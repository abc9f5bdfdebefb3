/* An in-memory catalog like the one sql/ seeds, for tests without a database. */
#ifndef SIPAS_TEST_FIXTURE_H
#define SIPAS_TEST_FIXTURE_H

#include "catalog.h"

/* sipas-dv-2023 (5 elements, 19 criteria, scale 1-5, satisfied >= 4),
 * quay-2023 (1 element, 3 criteria, scale 1-3, satisfied >= 2),
 * old-2019 (inactive), and the areas dat-dai and ho-tich. */
struct catalog *fixture_catalog(void);

/* cmocka group setup and teardown that keep fixture_catalog() in cat. */
extern struct catalog *cat;
int fixture_setup(void **state);
int fixture_teardown(void **state);

#endif
