/* kiosk-load: a load generator for sipasd (or anything speaking its
 * protocol). N keep-alive mutual-TLS connections, each a kiosk sending
 * realistic responses with fresh ids, one request in flight per
 * connection; closed loop (as fast as answers come) or open loop at a
 * fixed total rate, where latency counts from when a request was due so
 * that a stall is not hidden (no coordinated omission). Optionally holds
 * many idle connections open meanwhile (each sends one request first, as a
 * kiosk that submitted and now waits). Prints rates, latency percentiles
 * and statuses. --wait holds the connections open that long before
 * measuring: a kiosk already connected when an attack starts. */
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <arpa/inet.h>
#include <unistd.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

struct conn {
	struct bufferevent *bev;
	int index;
	bool busy;		/* a request is in flight */
	bool idle_only;		/* part of --idle: one request, then silence */
	bool slow;		/* part of --slowloris: a byte a second, never done */
	bool flood;		/* part of --flood: handshake, hang up, again */
	size_t sent_bytes;
	bool connected;
	unsigned queued;	/* open loop: requests due but not yet sent */
	double due[64];		/* their due times, FIFO */
	unsigned due_head;
	double sent_at;		/* due time of the request in flight */
	size_t items;		/* responses in the request in flight */
};

static struct {
	const char *host, *path;
	int port;
	int connections, idle, slow, flood, batch, duration;
	double wait;		/* seconds from the start before measuring */
	const char *source;	/* bind to this address before connecting */
	uint64_t handshakes;	/* completed by --flood connections */
	long count;
	double rate;
	SSL_CTX *ctx;
	struct event_base *base;
	struct conn *conns;
	int connected, idle_connected, idle_ready, slow_connected;
	uint64_t slow_closed;
	double t0, start, end;
	bool measuring, done, shown_error;
	uint64_t requests, responses, errors_conn;
	uint64_t status[600];
	uint32_t *lat;		/* microseconds */
	size_t nlat, caplat;
	uint64_t rng;
	char when[40];
} L = { .host = "127.0.0.1", .path = "/v1/responses", .port = 8443,
	.connections = 64, .duration = 10, .batch = 0 };

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t
rnd(void)
{
	/* xorshift64*: fast, and good enough for ids and answers */
	L.rng ^= L.rng >> 12;
	L.rng ^= L.rng << 25;
	L.rng ^= L.rng >> 27;
	return L.rng * 2685821657736338717ULL;
}

static void
uuid4(char out[37])
{
	static const char hex[] = "0123456789abcdef";
	uint64_t a = rnd(), b = rnd();
	int j = 0;

	for (int i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			out[i] = '-';
			continue;
		}
		uint64_t *src = j < 16 ? &a : &b;
		out[i] = hex[*src & 15];
		*src >>= 4;
		j++;
	}
	out[14] = '4';
	out[19] = hex[8 + (b & 3)];
	out[36] = '\0';
}

/* One response as a kiosk sends it: mostly satisfied answers. */
static void
add_response(struct evbuffer *b)
{
	static const char *const areas[] = { "dat-dai", "ho-tich", "chung-thuc",
		"xay-dung", "lai-xe", "dang-ky-kinh-doanh", "lao-dong", "dau-tu" };
	static const char *const codes[] = { "TC1", "TC2", "TC3", "TC4", "TT1",
		"TT2", "TT3", "TT4", "CC1", "CC2", "CC3", "CC4", "CC5", "KQ1", "KQ2",
		"KQ3", "PA1", "PA2", "PA3" };
	char id[37];

	uuid4(id);
	evbuffer_add_printf(b, "{\"id\":\"%s\",\"questionnaire\":\"sipas-dv-2023\","
	    "\"submitted_at\":\"%s\",\"service_area\":\"%s\",\"procedure\":\"1.%06u\","
	    "\"answers\":{", id, L.when, areas[rnd() % 8], (unsigned)(rnd() % 15000));
	for (int i = 0; i < 19; i++) {
		uint64_t r = rnd() % 100;
		if (i >= 16 && r < 10)
			evbuffer_add_printf(b, "%s\"%s\":null", i ? "," : "", codes[i]);
		else
			evbuffer_add_printf(b, "%s\"%s\":%d", i ? "," : "", codes[i],
			    r < 85 ? 4 + (int)(r % 2) : 1 + (int)(r % 3));
	}
	evbuffer_add_printf(b, "},\"overall\":%d,\"respondent\":{\"gender\":\"%s\","
	    "\"age_group\":\"35-49\"}}", 3 + (int)(rnd() % 3),
	    rnd() % 2 ? "female" : "male");
}

static void
send_request(struct conn *c, double due)
{
	struct evbuffer *body = evbuffer_new();
	struct evbuffer *out = bufferevent_get_output(c->bev);

	if (L.batch > 0) {
		evbuffer_add(body, "[", 1);
		for (int i = 0; i < L.batch; i++) {
			if (i)
				evbuffer_add(body, ",", 1);
			add_response(body);
		}
		evbuffer_add(body, "]", 1);
		c->items = (size_t)L.batch;
	} else {
		add_response(body);
		c->items = 1;
	}
	evbuffer_add_printf(out, "POST %s HTTP/1.1\r\nHost: %s\r\n"
	    "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
	    L.path, L.host, evbuffer_get_length(body));
	evbuffer_add_buffer(out, body);
	evbuffer_free(body);
	c->busy = true;
	c->sent_at = due;
}

static void
record(struct conn *c, double latency, int status, size_t items)
{
	if (c->idle_only) {
		L.idle_ready++;
		return;
	}
	if (!L.measuring)
		return;
	L.requests++;
	if (status >= 200 && status < 300)
		L.responses += items;
	if (status > 0 && status < 600)
		L.status[status]++;
	if (L.nlat == L.caplat) {
		L.caplat = L.caplat ? L.caplat * 2 : 1 << 16;
		L.lat = realloc(L.lat, L.caplat * sizeof *L.lat);
	}
	L.lat[L.nlat++] = (uint32_t)(latency * 1e6);
}

static void
next(struct conn *c)
{
	if (L.done || c->idle_only)
		return;
	if (L.rate > 0) {
		if (c->queued > 0) {
			double due = c->due[c->due_head++ % 64];
			c->queued--;
			send_request(c, due);
		}
		return;
	}
	if (L.count > 0 && (long)L.requests >= L.count) {
		L.done = true;
		event_base_loopexit(L.base, NULL);
		return;
	}
	send_request(c, now());
}

/* Reads one whole response if it is there: status line, headers with
 * Content-Length, body. */
static void
on_read(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);

	for (;;) {
		struct evbuffer_ptr end = evbuffer_search(in, "\r\n\r\n", 4, NULL);
		char head[2048], *cl;
		size_t hlen, blen = 0;
		int status = 0;

		if (end.pos < 0)
			return;
		hlen = (size_t)end.pos + 4;
		if (hlen >= sizeof head) {
			fprintf(stderr, "kiosk-load: huge response header\n");
			exit(1);
		}
		evbuffer_copyout(in, head, hlen);
		head[hlen] = '\0';
		sscanf(head, "HTTP/1.%*d %d", &status);
		for (cl = head; (cl = strcasestr(cl, "\ncontent-length:")) != NULL; cl++)
			blen = strtoul(cl + 16, NULL, 10);
		if (evbuffer_get_length(in) < hlen + blen)
			return;
		if ((status < 200 || status >= 300) && !L.shown_error) {
			char body[512];
			size_t n = blen < sizeof body - 1 ? blen : sizeof body - 1;
			evbuffer_drain(in, hlen);
			evbuffer_copyout(in, body, n);
			body[n] = '\0';
			fprintf(stderr, "kiosk-load: first error reply: %d %s\n", status, body);
			L.shown_error = true;
			evbuffer_drain(in, blen);
		} else {
			evbuffer_drain(in, hlen + blen);
		}
		record(c, now() - c->sent_at, status, c->items);
		c->busy = false;
		next(c);
	}
}

static void connect_one(struct conn *c);

static void
reconnect(evutil_socket_t fd, short what, void *arg)
{
	connect_one(arg);
}

static void
on_event(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;

	if ((what & BEV_EVENT_CONNECTED) && c->flood) {
		L.handshakes++;
		bufferevent_free(bev);
		c->bev = NULL;
		if (!L.done)
			connect_one(c);
		return;
	}
	if (what & BEV_EVENT_CONNECTED) {
		int one = 1;
		setsockopt(bufferevent_getfd(bev), IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof one);
		c->connected = true;
		c->sent_bytes = 0;
		if (c->slow)
			L.slow_connected++;
		else if (c->idle_only)
			L.idle_connected++;
		else
			L.connected++;
		if (c->slow)
			return;		/* the slowloris timer feeds it */
		if (c->idle_only)
			send_request(c, now());	/* a kiosk that submitted, then waits */
		else if (L.rate <= 0)
			next(c);
		return;
	}
	/* The server closed or failed: count it and open a new connection. */
	if (c->busy && L.measuring)
		L.errors_conn++;
	if (c->connected) {
		if (c->slow) {
			L.slow_connected--;
			L.slow_closed++;
		} else if (c->idle_only) {
			L.idle_connected--;
		} else {
			L.connected--;
		}
	}
	c->connected = false;
	c->busy = false;
	bufferevent_free(bev);
	c->bev = NULL;
	if (!L.done) {
		/* Not at once: a refused connection would spin. */
		struct timeval later = { 0, 50000 };
		event_base_once(L.base, -1, EV_TIMEOUT, reconnect, c, &later);
	}
}

static void
connect_one(struct conn *c)
{
	struct sockaddr_in sin;
	SSL *ssl = SSL_new(L.ctx);

	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)L.port);
	inet_pton(AF_INET, L.host, &sin.sin_addr);
	SSL_set_tlsext_host_name(ssl, "localhost");
	evutil_socket_t fd = -1;
	if (L.source != NULL) {
		struct sockaddr_in src;
		memset(&src, 0, sizeof src);
		src.sin_family = AF_INET;
		inet_pton(AF_INET, L.source, &src.sin_addr);
		fd = socket(AF_INET, SOCK_STREAM, 0);
		if (fd == -1 || bind(fd, (struct sockaddr *)&src, sizeof src) != 0 ||
		    evutil_make_socket_nonblocking(fd) != 0) {
			fprintf(stderr, "kiosk-load: bind %s: %s\n", L.source,
			    strerror(errno));
			exit(1);
		}
	}
	c->bev = bufferevent_openssl_socket_new(L.base, fd, ssl,
	    BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE);
	bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
	bufferevent_setcb(c->bev, on_read, NULL, on_event, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	if (bufferevent_socket_connect(c->bev, (struct sockaddr *)&sin, sizeof sin) != 0) {
		fprintf(stderr, "kiosk-load: connect: %s\n", strerror(errno));
		exit(1);
	}
}

/* Open loop: hands out due requests to connections in turn. */
static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
	static double next_due;
	static int rr;
	double t = now();

	if (!L.measuring)
		return;		/* the rate counts from the start of the measurement */
	if (next_due == 0)
		next_due = t;
	while (next_due <= t) {
		for (int tries = 0; tries < L.connections; tries++) {
			struct conn *c = &L.conns[rr++ % L.connections];
			if (!c->connected || c->queued >= 64)
				continue;
			c->due[(c->due_head + c->queued) % 64] = next_due;
			c->queued++;
			if (!c->busy)
				next(c);
			break;
		}
		next_due += 1.0 / L.rate;
	}
}

/* Slowloris: every connection of --slowloris sends one more byte of a
 * request that never ends. */
static void
on_trickle(evutil_socket_t fd, short what, void *arg)
{
	static const char req[] = "POST /v1/responses HTTP/1.1\r\nHost: k\r\n"
	    "Content-Type: application/json\r\nX-Padding: aaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

	for (int i = L.connections + L.idle; i < L.connections + L.idle + L.slow; i++) {
		struct conn *c = &L.conns[i];
		if (!c->connected || c->bev == NULL)
			continue;
		bufferevent_write(c->bev, req + c->sent_bytes % (sizeof req - 1), 1);
		c->sent_bytes++;
	}
}

static void
on_second(evutil_socket_t fd, short what, void *arg)
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(L.when, sizeof L.when, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void
on_start(evutil_socket_t fd, short what, void *arg)
{
	struct timeval tv = { L.duration, 0 };

	/* Slowloris and flood connections get a few seconds to get going;
	 * the server may well refuse most of them. */
	if (L.connected < L.connections || L.idle_ready < L.idle ||
	    (L.slow + L.flood > 0 && now() - L.t0 < 3.0) || now() - L.t0 < L.wait) {
		struct timeval again = { 0, 100000 };
		event_add(arg, &again);
		return;
	}
	fprintf(stderr, "kiosk-load: %d connections up (%d idle, %d slow), "
	    "measuring\n", L.connected, L.idle_connected, L.slow_connected);
	L.handshakes = 0;
	L.measuring = true;
	L.start = now();
	if (L.count == 0)
		event_base_loopexit(L.base, &tv);
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static double
pct(double p)
{
	size_t i;

	if (L.nlat == 0)
		return 0;
	i = (size_t)(p / 100.0 * (double)(L.nlat - 1) + 0.5);
	return L.lat[i] / 1000.0;
}

static void
usage(void)
{
	fprintf(stderr, "usage: kiosk-load --ca CA --cert CERT --key KEY [--host IP] "
	    "[--port N] [--path P]\n"
	    "                  [--connections N] [--duration S | --count N] "
	    "[--batch N] [--rate R] [--idle N] [--slowloris N]\n"
	    "                  [--flood N] [--source IP] [--wait S]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "host", required_argument, NULL, 'H' },
		{ "port", required_argument, NULL, 'p' },
		{ "path", required_argument, NULL, 'P' },
		{ "ca", required_argument, NULL, 'a' },
		{ "cert", required_argument, NULL, 'c' },
		{ "key", required_argument, NULL, 'k' },
		{ "connections", required_argument, NULL, 'n' },
		{ "duration", required_argument, NULL, 'd' },
		{ "count", required_argument, NULL, 'N' },
		{ "batch", required_argument, NULL, 'b' },
		{ "rate", required_argument, NULL, 'r' },
		{ "idle", required_argument, NULL, 'i' },
		{ "slowloris", required_argument, NULL, 's' },
		{ "flood", required_argument, NULL, 'f' },
		{ "source", required_argument, NULL, 'S' },
		{ "wait", required_argument, NULL, 'w' },
		{ NULL, 0, NULL, 0 },
	};
	const char *ca = NULL, *cert = NULL, *key = NULL;
	struct event *start, *tick = NULL, *second, *trickle = NULL;
	struct timeval tv = { 0, 0 }, one = { 1, 0 };
	struct rlimit rl;
	double elapsed;
	int ch;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'H': L.host = optarg; break;
		case 'p': L.port = atoi(optarg); break;
		case 'P': L.path = optarg; break;
		case 'a': ca = optarg; break;
		case 'c': cert = optarg; break;
		case 'k': key = optarg; break;
		case 'n': L.connections = atoi(optarg); break;
		case 'd': L.duration = atoi(optarg); break;
		case 'N': L.count = atol(optarg); break;
		case 'b': L.batch = atoi(optarg); break;
		case 'r': L.rate = atof(optarg); break;
		case 'i': L.idle = atoi(optarg); break;
		case 's': L.slow = atoi(optarg); break;
		case 'f': L.flood = atoi(optarg); break;
		case 'S': L.source = optarg; break;
		case 'w': L.wait = atof(optarg); break;
		default: usage();
		}
	}
	if (ca == NULL || cert == NULL || key == NULL || L.connections < 0 ||
	    (L.connections == 0 && L.slow + L.flood == 0))
		usage();
	L.t0 = now();
	if (L.batch > 0 && strcmp(L.path, "/v1/responses") == 0)
		L.path = "/v1/responses/batch";
	signal(SIGPIPE, SIG_IGN);
	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	L.rng = (((uint64_t)time(NULL) * 2654435761u) ^ ((uint64_t)getpid() << 32)) | 1;
	on_second(-1, 0, NULL);

	L.ctx = SSL_CTX_new(TLS_client_method());
	if (SSL_CTX_load_verify_locations(L.ctx, ca, NULL) != 1 ||
	    SSL_CTX_use_certificate_chain_file(L.ctx, cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(L.ctx, key, SSL_FILETYPE_PEM) != 1) {
		ERR_print_errors_fp(stderr);
		return 1;
	}
	SSL_CTX_set_verify(L.ctx, SSL_VERIFY_PEER, NULL);
	{
		/* Open-loop due times need better than epoll's millisecond. */
		struct event_config *cfg = event_config_new();
		event_config_set_flag(cfg, EVENT_BASE_FLAG_PRECISE_TIMER);
		L.base = event_base_new_with_config(cfg);
		event_config_free(cfg);
	}
	int total = L.connections + L.idle + L.slow + L.flood;
	L.conns = calloc((size_t)total, sizeof *L.conns);
	for (int i = 0; i < total; i++) {
		L.conns[i].index = i;
		L.conns[i].idle_only = i >= L.connections;
		L.conns[i].slow = i >= L.connections + L.idle &&
		    i < L.connections + L.idle + L.slow;
		L.conns[i].flood = i >= L.connections + L.idle + L.slow;
		connect_one(&L.conns[i]);
	}
	if (L.slow > 0) {
		struct timeval sec = { 1, 0 };
		trickle = event_new(L.base, -1, EV_PERSIST, on_trickle, NULL);
		event_add(trickle, &sec);
	}
	start = evtimer_new(L.base, on_start, NULL);
	event_assign(start, L.base, -1, 0, on_start, start);
	event_add(start, &tv);
	second = event_new(L.base, -1, EV_PERSIST, on_second, NULL);
	event_add(second, &one);
	if (L.rate > 0) {
		struct timeval ms = { 0, 200 };
		tick = event_new(L.base, -1, EV_PERSIST, on_tick, NULL);
		event_add(tick, &ms);
	}
	event_base_dispatch(L.base);
	L.done = true;
	elapsed = now() - L.start;

	if (L.nlat > 0)
		qsort(L.lat, L.nlat, sizeof *L.lat, cmp_u32);
	printf("requests: %llu in %.1f s\n", (unsigned long long)L.requests, elapsed);
	printf("requests_per_s: %.0f\n", (double)L.requests / elapsed);
	printf("responses_per_s: %.0f\n", (double)L.responses / elapsed);
	printf("latency_ms: p50 %.2f p99 %.2f p99.9 %.2f max %.2f\n", pct(50),
	    pct(99), pct(99.9), L.nlat ? L.lat[L.nlat - 1] / 1000.0 : 0);
	printf("statuses:");
	for (int s = 0; s < 600; s++)
		if (L.status[s])
			printf(" %d=%llu", s, (unsigned long long)L.status[s]);
	printf(" broken_connections=%llu\n", (unsigned long long)L.errors_conn);
	if (L.slow > 0)
		printf("slowloris: %d connections open at the end, %llu closed by the "
		    "server (and reopened)\n", L.slow_connected,
		    (unsigned long long)L.slow_closed);
	if (L.flood > 0)
		printf("flood: %llu handshakes completed, %.0f/s\n",
		    (unsigned long long)L.handshakes, (double)L.handshakes / elapsed);
	fflush(stdout);

	/* Tidy, so that a sanitized build reports only real leaks. */
	for (int i = 0; i < total; i++)
		if (L.conns[i].bev != NULL)
			bufferevent_free(L.conns[i].bev);
	event_free(start);
	event_free(second);
	if (tick != NULL)
		event_free(tick);
	if (trickle != NULL)
		event_free(trickle);
	event_base_free(L.base);
	SSL_CTX_free(L.ctx);
	free(L.conns);
	free(L.lat);
	return 0;
}
