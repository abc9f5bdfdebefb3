/* sipasd --spool-inspect: every record of DIR's spool and of what was
 * set aside, one JSON object a line, for the operator. Read-only and
 * independent of the running spool: safe while sipasd runs. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "spool-record.h"
#include "spool.h"
#include "xmalloc.h"

/* One line of JSON per record of path, in file order. */
static bool
inspect_file(const char *path, const char *state, FILE *out, size_t *count)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	off_t off = 0;

	if (fd == -1)
		return errno == ENOENT;
	if (fstat(fd, &st) == -1) {
		close(fd);
		return false;
	}
	while (off < st.st_size) {
		unsigned char *buf;
		size_t len = spool_record_read(fd, off, st.st_size, &buf);
		json_t *line, *doc;
		char *text;

		if (len == 0) {
			off_t next = spool_record_next(fd, off, st.st_size);
			/* At the end: being written now, or cut short by a power
			 * cut (and never answered). */
			line = json_pack("{s:s, s:s, s:I, s:I}", "file", path, "state",
			    next == st.st_size ? "incomplete" : "damaged", "offset",
			    (json_int_t)off, "length", (json_int_t)(next - off));
			off = next;
		} else {
			doc = json_loadb((const char *)buf + SPOOL_RECORD_HEADER,
			    len - SPOOL_RECORD_HEADER, 0, NULL);
			line = json_pack("{s:s, s:s, s:I}", "file", path, "state",
			    state, "offset", (json_int_t)off);
			if (strcmp(state, "set aside") == 0 && json_is_object(doc))
				json_object_update(line, doc);
			else
				json_object_set(line, "record", doc ? doc : json_null());
			json_decref(doc);
			free(buf);
			off += (off_t)len;
		}
		text = json_dumps(line, JSON_COMPACT | JSON_ENSURE_ASCII);
		fprintf(out, "%s\n", text);
		free(text);
		json_decref(line);
		(*count)++;
	}
	close(fd);
	return true;
}

bool
spool_inspect(const char *dir, FILE *out, char *err, size_t errlen)
{
	char *path, *aside;
	size_t waiting = 0, kept = 0;
	bool ok;

	xasprintf(&path, "%s/responses.spool", dir);
	xasprintf(&aside, "%s/responses.aside", dir);
	ok = inspect_file(path, "waiting", out, &waiting) &&
	    inspect_file(aside, "set aside", out, &kept);
	if (!ok)
		snprintf(err, errlen, "spool %s: %s", dir, strerror(errno));
	else
		fprintf(stderr, "sipasd: %s: %zu record(s) waiting for the database "
		    "(replayed ones stay until the file is emptied), %zu set aside\n",
		    dir, waiting, kept);
	free(path);
	free(aside);
	return ok;
}
