/* The systemd notification protocol (sd_notify), without libsystemd. */
#ifndef SIPASD_NOTIFY_H
#define SIPASD_NOTIFY_H

/* Sends state ("READY=1", "STATUS=...") to $NOTIFY_SOCKET; a no-op when
 * not started by systemd with Type=notify. */
void notify(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
