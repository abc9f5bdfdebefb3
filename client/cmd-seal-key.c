/* sipas seal-key new: the key pair of sealed comments (docs/privacy.md).
 * The public key goes into sipasd.conf; the secret one never onto the
 * server. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "seal.h"
#include "sipas.h"
#include "xmalloc.h"

static const char usage[] =
    "usage: sipas seal-key new --out PREFIX\n"
    "\n"
    "Writes a new key pair for sealed comments: PREFIX.pub, the public key for\n"
    "comment_seal_key in sipasd.conf, and PREFIX.key, the secret key that\n"
    "'sipas comments --key' opens them with (mode 0600). Neither file may\n"
    "exist already.\n";

/* Writes line to a new file of that mode, refusing to replace one. */
static void
write_new(const char *path, const char *line, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, mode);
	size_t len = strlen(line);

	if (fd < 0)
		cli_die("%s: %s%s", path, strerror(errno),
		    errno == EEXIST ? " (a key exists there: nothing was written)" : "");
	if (write(fd, line, len) != (ssize_t)len || write(fd, "\n", 1) != 1 ||
	    fsync(fd) != 0 || close(fd) != 0)
		cli_die("%s: cannot write: %s", path, strerror(errno));
}

int
cmd_seal_key(int argc, char **argv)
{
	static const struct option longopts[] = { CLI_COMMON_LONGOPTS,
		{ "out", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 } };
	char pk[SEAL_KEY_B64], sk[SEAL_KEY_B64], *pub, *sec;
	const char *out = NULL;
	int ch;

	if (argc < 2 || strcmp(argv[1], "new") != 0)
		cli_usage_error(usage, "seal-key: expected 'new'");
	argc--, argv++;
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (ch == 'o')
			out = optarg;
		else
			cli_common_option(ch, optarg, usage);
	}
	if (out == NULL || optind != argc)
		cli_usage_error(usage, "seal-key new: --out PREFIX is required");
	xasprintf(&pub, "%s.pub", out);
	xasprintf(&sec, "%s.key", out);
	if (access(pub, F_OK) == 0)
		cli_die("%s: a key exists there: nothing was written", pub);
	seal_keypair(pk, sk);
	write_new(sec, sk, 0600);
	write_new(pub, pk, 0644);
	explicit_bzero(sk, sizeof sk);
	printf("wrote %s (public) and %s (secret)\n"
	    "On the server, in sipasd.conf:\n"
	    "    comment_seal_key = %s\n"
	    "then reload sipasd. Keep %s off the server: on the workstation of\n"
	    "whoever answers complaints, or offline on removable media, with a\n"
	    "copy in a safe; the database, its backups and its administrators then\n"
	    "hold only ciphertext. Without it, sealed comments cannot be read.\n",
	    pub, sec, pk, sec);
	free(pub);
	free(sec);
	return 0;
}
