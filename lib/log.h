/* Logging for both programs: one line per event on stderr, with the <N>
 * priority prefix journald understands when run under systemd. */
#ifndef SIPAS_LOG_H
#define SIPAS_LOG_H

#include <stdbool.h>

enum log_level {
	LOG_LEVEL_ERROR = 3,
	LOG_LEVEL_WARN = 4,
	LOG_LEVEL_INFO = 6,
	LOG_LEVEL_DEBUG = 7,
};

void log_init(const char *ident, enum log_level level);
void log_set_level(enum log_level level);
/* Sends lines to syslog (facility daemon) instead of stderr, or back. */
void log_use_syslog(bool on);
bool log_level_parse(const char *name, enum log_level *level);
const char *log_level_name(enum log_level level);
bool log_enabled(enum log_level level);

void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* fatal() appends strerror(errno); fatalx() does not. Both exit(1). */
void fatal(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));

#endif
