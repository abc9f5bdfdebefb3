/* Writes N made-up responses in PostgreSQL's COPY text format, for
 *   COPY responses (id, content_hash, kiosk_id, center_id, service_area_id,
 *       questionnaire_id, procedure, submitted_at, answers, counter_id,
 *       officer_id, dossier, gender, age_group, ethnicity, education,
 *       occupation) FROM STDIN
 * In time order, deterministic for a seed. Satisfaction differs by center and criterion and
 * improves slowly over time, so that rankings and trends have something to
 * show; about 3 % of answers are "not applicable" (NULL). Each response is
 * served by one of the officers posted at its kiosk's center (--staff), at
 * the officer's counter; 4 in 5 name a dossier (unique: its row number);
 * each respondent attribute is left out 1 time in 10.
 *
 *   gen-responses --rows N --from YYYY-MM-DD --days D --areas A
 *       --kiosks KIOSK:CENTER,... --questionnaire ID:CRITERIA:MIN:MAX:SAT,...
 *       [--staff CENTER:COUNTER:OFFICER,...] [--seed S] [--first A --count C]
 * The first questionnaire gets 9 responses in 10, the others share the rest.
 * --first and --count write rows A..A+C-1 of the N (for loading in parallel
 * chunks): each row depends only on the seed and its number.
 */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_KIOSKS 4096
#define MAX_QUESTIONNAIRES 8
#define MAX_CRITERIA 128
#define MAX_STAFF 8192

struct staff {
	int center, counter, officer;
};

struct questionnaire {
	int id, ncriteria, min, max, sat;
};

static uint64_t state;

static uint64_t
next(void)
{
	/* xorshift64* */
	state ^= state >> 12;
	state ^= state << 25;
	state ^= state >> 27;
	return state * 2685821657736338717ULL;
}

static double
uniform(void)
{
	return (double)(next() >> 11) / 9007199254740992.0;
}

static void
die(const char *msg)
{
	fprintf(stderr, "gen-responses: %s\n", msg);
	exit(2);
}

static void
hex(char *out, uint64_t v, int digits)
{
	static const char x[] = "0123456789abcdef";

	for (int i = digits - 1; i >= 0; i--, v >>= 4)
		out[i] = x[v & 15];
}

/* \tCOUNTER\tOFFICER: one of the staff of the center, chosen by u. */
static char *
served(char *p, const struct staff *staff, int nstaff, int center, uint64_t u)
{
	int n = 0, pick;

	for (int i = 0; i < nstaff; i++)
		n += staff[i].center == center;
	if (n == 0)
		return p + sprintf(p, "\t\\N\t\\N");
	pick = (int)(u % (uint64_t)n);
	for (int i = 0; i < nstaff; i++)
		if (staff[i].center == center && pick-- == 0)
			return p + sprintf(p, "\t%d\t%d", staff[i].counter, staff[i].officer);
	return p;
}

static char *
dossier(char *p, long long row, uint64_t u)
{
	return u % 5 == 0 ? p + sprintf(p, "\t\\N") : p + sprintf(p, "\tHS-%lld", row);
}

/* \tGENDER\tAGE_GROUP\tETHNICITY\tEDUCATION\tOCCUPATION, each \N 1 time in 10. */
static char *
respondent(char *p, uint64_t u)
{
	static const char *const values[][8] = {
		{ "male", "female", "other", NULL },
		{ "18-25", "26-34", "35-49", "50-60", "60+", NULL },
		{ "kinh", "other", NULL },
		{ "none", "primary", "lower-secondary", "upper-secondary", "vocational",
		  "university", NULL },
		{ "farmer", "worker", "public-sector", "business", "student", "retired",
		  "other", NULL },
	};

	for (size_t a = 0; a < sizeof values / sizeof values[0]; a++, u /= 80) {
		uint64_t n = 0;
		while (values[a][n] != NULL)
			n++;
		if (u % 10 == 0)
			p += sprintf(p, "\t\\N");
		else
			p += sprintf(p, "\t%s", values[a][u / 10 % 8 % n]);
	}
	return p;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "rows", required_argument, NULL, 'n' },
		{ "from", required_argument, NULL, 'f' },
		{ "days", required_argument, NULL, 'd' },
		{ "areas", required_argument, NULL, 'a' },
		{ "kiosks", required_argument, NULL, 'k' },
		{ "questionnaire", required_argument, NULL, 'q' },
		{ "seed", required_argument, NULL, 's' },
		{ "first", required_argument, NULL, 'A' },
		{ "count", required_argument, NULL, 'C' },
		{ "staff", required_argument, NULL, 'S' },
		{ NULL, 0, NULL, 0 } };
	static struct staff staff[MAX_STAFF];
	int nstaff = 0;
	int kiosk[MAX_KIOSKS], center[MAX_KIOSKS], nkiosks = 0, nq = 0;
	struct questionnaire q[MAX_QUESTIONNAIRES];
	long long rows = 0, first = 0, count = -1, days = 365, areas = 25;
	unsigned long long seed = 1;
	struct tm from = { 0 };
	time_t start;
	char *tok, *save;
	int ch;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'n': rows = atoll(optarg); break;
		case 'd': days = atoll(optarg); break;
		case 'a': areas = atoll(optarg); break;
		case 's': seed = strtoull(optarg, NULL, 10); break;
		case 'A': first = atoll(optarg); break;
		case 'C': count = atoll(optarg); break;
		case 'f':
			if (sscanf(optarg, "%d-%d-%d", &from.tm_year, &from.tm_mon,
			    &from.tm_mday) != 3)
				die("--from: not YYYY-MM-DD");
			from.tm_year -= 1900;
			from.tm_mon -= 1;
			break;
		case 'k':
			for (tok = strtok_r(optarg, ",", &save); tok != NULL;
			    tok = strtok_r(NULL, ",", &save)) {
				if (nkiosks == MAX_KIOSKS ||
				    sscanf(tok, "%d:%d", &kiosk[nkiosks], &center[nkiosks]) != 2)
					die("--kiosks: KIOSK:CENTER,...");
				nkiosks++;
			}
			break;
		case 'S':
			for (tok = strtok_r(optarg, ",", &save); tok != NULL;
			    tok = strtok_r(NULL, ",", &save)) {
				struct staff *x = &staff[nstaff];
				if (nstaff == MAX_STAFF || sscanf(tok, "%d:%d:%d", &x->center,
				    &x->counter, &x->officer) != 3)
					die("--staff: CENTER:COUNTER:OFFICER,...");
				nstaff++;
			}
			break;
		case 'q':
			for (tok = strtok_r(optarg, ",", &save); tok != NULL;
			    tok = strtok_r(NULL, ",", &save)) {
				struct questionnaire *x = &q[nq];
				if (nq == MAX_QUESTIONNAIRES ||
				    sscanf(tok, "%d:%d:%d:%d:%d", &x->id, &x->ncriteria,
				    &x->min, &x->max, &x->sat) != 5 ||
				    x->ncriteria < 1 || x->ncriteria > MAX_CRITERIA ||
				    x->min >= x->sat || x->sat > x->max)
					die("--questionnaire: ID:CRITERIA:MIN:MAX:SAT,...");
				nq++;
			}
			break;
		default:
			die("bad option; see the comment at the top of bench/gen-responses.c");
		}
	}
	if (rows <= 0 || nkiosks == 0 || nq == 0 || days <= 0 || areas <= 0 ||
	    from.tm_mday == 0)
		die("--rows, --from, --kiosks and --questionnaire are required");
	start = timegm(&from) - 7 * 3600;	/* midnight in Vietnam */
	if (count < 0 || first + count > rows)
		count = rows - first;

	static char line[4096];
	for (long long row = first; row < first + count; row++) {
		uint64_t r[8];
		double u[MAX_CRITERIA * 2];
		state = (seed + 1) * 0x9E3779B97F4A7C15ULL ^ ((uint64_t)row + 1) * 0xBF58476D1CE4E5B9ULL;
		for (int i = 0; i < 4; i++)
			next();
		for (int i = 0; i < 8; i++)
			r[i] = next();
		for (int i = 0; i < MAX_CRITERIA * 2; i++)
			u[i] = uniform();

		int k = (int)(r[2] % (uint64_t)nkiosks);
		const struct questionnaire *qq = &q[nq == 1 || r[3] % 10 != 0 ? 0 :
		    1 + (int)(r[3] / 10 % (uint64_t)(nq - 1))];
		long long area = 1 + (long long)(r[4] % (uint64_t)areas);
		/* In the order kiosks send them: time grows with the row. */
		double when = (double)days * 86400.0 *
		    ((double)row + (double)(r[5] >> 11) / 9007199254740992.0) / (double)rows;
		time_t t = start + (time_t)when;
		struct tm tm;
		gmtime_r(&t, &tm);
		/* Centers differ by up to 14 points; 3 points better a year. */
		double base = 0.76 + 0.01 * (double)(center[k] % 15) +
		    0.03 * when / (365.0 * 86400.0);

		char *p = line;
		hex(p, r[0] >> 32, 8), p += 8, *p++ = '-';
		hex(p, r[0] >> 16, 4), p += 4, *p++ = '-';
		*p++ = '4', hex(p, r[0], 3), p += 3, *p++ = '-';
		*p++ = "89ab"[r[1] & 3], hex(p, r[1] >> 2, 3), p += 3, *p++ = '-';
		hex(p, r[1] >> 16, 12), p += 12;
		p += sprintf(p, "\t\\\\x");
		for (int i = 0; i < 4; i++)
			hex(p, r[(i + 5) % 8] ^ r[i], 16), p += 16;
		p += sprintf(p, "\t%d\t%d\t%lld\t%d\t%lld.%03d\t"
		    "%04d-%02d-%02d %02d:%02d:%02d+00\t{",
		    kiosk[k], center[k], area, qq->id, area, (int)(r[6] % 200),
		    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		    tm.tm_min, tm.tm_sec);
		for (int c = 0; c < qq->ncriteria; c++) {
			double pc = base - 0.015 * (double)(c % 7), a = u[2 * c], b = u[2 * c + 1];
			int v;
			if (c > 0)
				*p++ = ',';
			if (a < 0.03) {
				p += sprintf(p, "NULL");
				continue;
			}
			if (b < pc)	/* satisfied: top level 45 % of the time */
				v = qq->max > qq->sat && b < pc * 0.45 ? qq->max : qq->sat;
			else
				v = qq->min + (int)((b - pc) / (1 - pc) * (qq->sat - qq->min));
			if (v >= qq->sat && b >= pc)
				v = qq->sat - 1;
			p += sprintf(p, "%d", v);
		}
		*p++ = '}';
		p = served(p, staff, nstaff, center[k], r[7]);
		p = dossier(p, row, r[7] >> 16);
		p = respondent(p, r[7] >> 24);
		*p++ = '\n';
		fwrite(line, 1, (size_t)(p - line), stdout);
	}
	return fflush(stdout) == 0 ? 0 : 1;
}
