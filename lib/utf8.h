/* UTF-8 helpers: the comment rule of the protocol and terminal widths. */
#ifndef SIPAS_UTF8_H
#define SIPAS_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* True if s (valid UTF-8) holds a control character other than newline and
 * tab: C0, DEL or C1. */
bool utf8_has_control(const char *s, size_t len);
/* Replaces in place every byte of s that is not part of valid UTF-8, and
 * every C0 control character, with '?': for text quoted back to a peer. */
void utf8_sanitize(char *s);
/* Columns s takes in a terminal: combining marks take none, wide
 * characters two. Needs a UTF-8 LC_CTYPE. Invalid bytes count one each. */
size_t utf8_width(const char *s);

#endif
