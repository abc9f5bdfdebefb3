/* Log lines go to stderr. Under systemd (JOURNAL_STREAM set) each line gets
 * the sd-daemon "<N>" prefix so journald keeps the priority; on a terminal
 * each line gets a timestamp instead. */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <syslog.h>
#include <time.h>

#include "log.h"

static const char *log_ident = "sipas";
static enum log_level log_threshold = LOG_LEVEL_INFO;
static bool log_journal;
static bool log_syslog;

static const struct {
	const char *name;
	enum log_level level;
} log_levels[] = {
	{ "error", LOG_LEVEL_ERROR },
	{ "warn", LOG_LEVEL_WARN },
	{ "info", LOG_LEVEL_INFO },
	{ "debug", LOG_LEVEL_DEBUG },
};

void
log_init(const char *ident, enum log_level level)
{
	log_ident = ident;
	log_threshold = level;
	log_journal = getenv("JOURNAL_STREAM") != NULL;
}

void
log_set_level(enum log_level level)
{
	log_threshold = level;
}

void
log_use_syslog(bool on)
{
	if (on && !log_syslog)
		openlog(log_ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	else if (!on && log_syslog)
		closelog();
	log_syslog = on;
}

bool
log_level_parse(const char *name, enum log_level *level)
{
	for (size_t i = 0; i < sizeof log_levels / sizeof log_levels[0]; i++) {
		if (strcasecmp(name, log_levels[i].name) == 0) {
			*level = log_levels[i].level;
			return true;
		}
	}
	return false;
}

const char *
log_level_name(enum log_level level)
{
	for (size_t i = 0; i < sizeof log_levels / sizeof log_levels[0]; i++)
		if (log_levels[i].level == level)
			return log_levels[i].name;
	return "?";
}

bool
log_enabled(enum log_level level)
{
	return level <= log_threshold;
}

static void
log_vwrite(enum log_level level, const char *fmt, va_list ap, const char *suffix)
{
	char msg[2048];
	struct timeval tv;
	struct tm tm;
	char stamp[32];

	vsnprintf(msg, sizeof msg, fmt, ap);
	/* A log line is one line, whatever a message quoted from the network holds. */
	for (char *p = msg; *p != '\0'; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	if (log_syslog) {
		syslog((int)level, "%s%s%s", msg, suffix ? ": " : "",
		    suffix ? suffix : "");
	} else if (log_journal) {
		fprintf(stderr, "<%d>%s%s%s\n", (int)level, msg,
		    suffix ? ": " : "", suffix ? suffix : "");
	} else {
		gettimeofday(&tv, NULL);
		gmtime_r(&tv.tv_sec, &tm);
		strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
		fprintf(stderr, "%s.%03ldZ %s %s: %s%s%s\n", stamp,
		    (long)(tv.tv_usec / 1000), log_ident, log_level_name(level),
		    msg, suffix ? ": " : "", suffix ? suffix : "");
	}
}

#define LOG_FUNC(name, level)					\
void								\
name(const char *fmt, ...)					\
{								\
	va_list ap;						\
								\
	if (!log_enabled(level))				\
		return;						\
	va_start(ap, fmt);					\
	log_vwrite(level, fmt, ap, NULL);			\
	va_end(ap);						\
}

LOG_FUNC(log_error, LOG_LEVEL_ERROR)
LOG_FUNC(log_warn, LOG_LEVEL_WARN)
LOG_FUNC(log_info, LOG_LEVEL_INFO)
LOG_FUNC(log_debug, LOG_LEVEL_DEBUG)

void
fatal(const char *fmt, ...)
{
	va_list ap;
	const char *err = strerror(errno);

	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_ERROR, fmt, ap, err);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_ERROR, fmt, ap, NULL);
	va_end(ap);
	exit(1);
}
