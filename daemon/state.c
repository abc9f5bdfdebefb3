/* What sipasd keeps in state_dir to start and serve without the database:
 * the catalog, the kiosk registry and the organisation as last read from
 * it. Each file is
 * written whole, to a temporary name, fsync'ed and renamed over the old
 * one, so that a power cut leaves the old copy or the new, never half. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "state.h"
#include "xmalloc.h"

#define STATE_MAX (64 * 1024 * 1024)	/* a province's registry is far smaller */

static char *dir;

void
state_init(const char *state_dir)
{
	free(dir);
	dir = state_dir != NULL ? xstrdup(state_dir) : NULL;
}

bool
state_save(const char *name, const char *data, size_t len)
{
	char *path, *tmp;
	int fd = -1, dfd = -1;
	bool ok = false;

	if (dir == NULL)
		return false;
	xasprintf(&path, "%s/%s", dir, name);
	xasprintf(&tmp, "%s/.%s.new", dir, name);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) == -1)
		goto out;
	for (size_t off = 0; off < len;) {
		ssize_t n = write(fd, data + off, len - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			goto out;
		off += (size_t)n;
	}
	if (fsync(fd) == -1 || close(fd) == -1) {
		fd = -1;
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) == -1 ||
	    (dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    fsync(dfd) == -1)
		goto out;
	ok = true;
out:
	if (!ok) {
		log_error("cannot keep %s in state_dir %s: %s", name, dir,
		    strerror(errno));
		unlink(tmp);
	}
	if (fd != -1)
		close(fd);
	if (dfd != -1)
		close(dfd);
	free(path);
	free(tmp);
	return ok;
}

void
state_touch(const char *name)
{
	char *path;

	if (dir == NULL)
		return;
	xasprintf(&path, "%s/%s", dir, name);
	/* Not synced: after a power cut the copy only looks older. */
	if (utimensat(AT_FDCWD, path, NULL, 0) == -1 && errno != ENOENT)
		log_warn("state_dir: cannot touch %s: %s", path, strerror(errno));
	free(path);
}

char *
state_read(const char *name, size_t *len, time_t *written)
{
	char *path, *buf = NULL;
	struct stat st;
	int fd;

	if (dir == NULL)
		return NULL;
	xasprintf(&path, "%s/%s", dir, name);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		if (errno != ENOENT)
			log_error("cannot read %s: %s", path, strerror(errno));
		free(path);
		return NULL;
	}
	if (fstat(fd, &st) == 0 && st.st_size > 0 && st.st_size <= STATE_MAX) {
		size_t got = 0;
		buf = xmalloc((size_t)st.st_size + 1);
		while (got < (size_t)st.st_size) {
			ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
			if (n <= 0)
				break;
			got += (size_t)n;
		}
		if (got != (size_t)st.st_size) {
			log_error("cannot read %s: %s", path, strerror(errno));
			free(buf);
			buf = NULL;
		} else {
			buf[got] = '\0';
			*len = got;
			*written = st.st_mtime;
		}
	}
	close(fd);
	free(path);
	return buf;
}
