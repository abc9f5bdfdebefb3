/* Copies of what sipasd read from the database last, kept in state_dir so
 * that it can start and serve while the database is away. */
#ifndef SIPASD_STATE_H
#define SIPASD_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

/* Where the files go; NULL keeps nothing (the fuzzer, the unit tests). */
void state_init(const char *state_dir);
/* Replaces state_dir/name with data, durably; false (logged) on failure. */
bool state_save(const char *name, const char *data, size_t len);
/* Marks state_dir/name as confirmed by the database now (its mtime). */
void state_touch(const char *name);
/* The content of state_dir/name, NUL-terminated, and when it was last
 * written or confirmed; NULL when there is none. Caller frees. */
char *state_read(const char *name, size_t *len, time_t *written);

#endif
