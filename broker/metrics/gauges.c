/* gauges.c — the series read at scrape time rather than counted: signing keys by state and
 * algorithm (count and the oldest one's age), store use, the process (RSS, open files, threads,
 * CPU) and build info. */
#include "listener.h"
#include "../keys/keys.h"
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#ifndef IDHUB_VERSION
#define IDHUB_VERSION "0.0.0"
#endif

static const char *const key_states[3] = {"next", "current", "retired"};

/* Signing keys by state and algorithm, from the daemon's key snapshot (never re-read from the
 * store, so the scrape touches no private key material). */
static void key_gauges(FILE *f, keys_cache *kc)
{
	keyring *kr = kc ? keys_cache_get(kc) : NULL;
	int64_t now = (int64_t)time(NULL);
	fputs("# HELP idhub_signing_keys Signing keys by state and algorithm.\n"
	      "# TYPE idhub_signing_keys gauge\n",
	      f);
	for (int s = 0; s < 3; s++)
		for (int a = JWS_ES256; a < JWS_ALG_COUNT; a++) {
			long n = 0;
			for (size_t i = 0; kr && i < kr->nkeys; i++)
				n += (int)kr->keys[i].state == s && (int)kr->keys[i].alg == a;
			fprintf(f, "idhub_signing_keys{state=\"%s\",alg=\"%s\"} %ld\n",
			        key_states[s], jws_alg_name((jws_alg)a), n);
		}
	fputs("# HELP idhub_signing_key_age_seconds Age of the oldest key in each state.\n"
	      "# TYPE idhub_signing_key_age_seconds gauge\n",
	      f);
	for (int s = 0; s < 3; s++)
		for (int a = JWS_ES256; a < JWS_ALG_COUNT; a++) {
			int64_t oldest = 0;
			for (size_t i = 0; kr && i < kr->nkeys; i++)
				if ((int)kr->keys[i].state == s && (int)kr->keys[i].alg == a &&
				    (!oldest || kr->keys[i].created < oldest))
					oldest = kr->keys[i].created;
			if (oldest)
				fprintf(
				    f,
				    "idhub_signing_key_age_seconds{state=\"%s\",alg=\"%s\"} %lld\n",
				    key_states[s], jws_alg_name((jws_alg)a),
				    (long long)(now - oldest));
		}
	if (kr)
		keyring_unref(kr);
}

static void store_gauges(FILE *f, store *st, const hub_conf *cfg)
{
	int64_t bytes = store_disk_bytes(st);
	int fill = store_volatile_fill(st);
	fputs("# HELP idhub_store_bytes Bytes the store uses on disk.\n"
	      "# TYPE idhub_store_bytes gauge\n",
	      f);
	fprintf(f, "idhub_store_bytes %lld\n", (long long)(bytes < 0 ? 0 : bytes));
	fputs("# HELP idhub_store_capacity_bytes The store's configured size (hub.store_map_mib, "
	      "each environment).\n# TYPE idhub_store_capacity_bytes gauge\n",
	      f);
	fprintf(f, "idhub_store_capacity_bytes %lld\n", (long long)cfg->store_map_mib << 20);
	fputs("# HELP idhub_store_volatile_fill_percent How full the volatile store is.\n"
	      "# TYPE idhub_store_volatile_fill_percent gauge\n",
	      f);
	fprintf(f, "idhub_store_volatile_fill_percent %d\n", fill < 0 ? 0 : fill);
	fputs("# HELP idhub_store_records Records per namespace (live or expired, not purged).\n"
	      "# TYPE idhub_store_records gauge\n",
	      f);
	for (int ns = 0; ns < NS_COUNT; ns++) {
		long n = store_count(st, (store_ns)ns);
		/* the store's own names: labels from a fixed list, never from requests */
		fprintf(f, "idhub_store_records{namespace=\"%s\"} %ld\n",
		        store_ns_name((store_ns)ns), n < 0 ? 0 : n);
	}
}

/* "Name:  value" from /proc/self/status, or -1. */
static long proc_status(const char *name)
{
	FILE *p = fopen("/proc/self/status", "r");
	char line[256];
	long v = -1;
	size_t n = strlen(name);
	while (p && fgets(line, sizeof line, p))
		if (strncmp(line, name, n) == 0 && line[n] == ':')
			v = strtol(line + n + 1, NULL, 10);
	if (p)
		fclose(p);
	return v;
}

static void process_gauges(FILE *f)
{
	long fds = 0;
	DIR *d = opendir("/proc/self/fd");
	for (struct dirent *e; d && (e = readdir(d));)
		if (e->d_name[0] != '.')
			fds++;
	if (d)
		closedir(d);
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
	             (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
	fprintf(
	    f,
	    "# HELP process_resident_memory_bytes Resident memory size in bytes.\n"
	    "# TYPE process_resident_memory_bytes gauge\n"
	    "process_resident_memory_bytes %ld\n"
	    "# HELP process_open_fds Number of open file descriptors.\n"
	    "# TYPE process_open_fds gauge\n"
	    "process_open_fds %ld\n"
	    "# HELP process_max_fds Maximum number of open file descriptors.\n"
	    "# TYPE process_max_fds gauge\n"
	    "process_max_fds %ld\n"
	    "# HELP process_threads Number of OS threads in the process.\n"
	    "# TYPE process_threads gauge\n"
	    "process_threads %ld\n"
	    "# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.\n"
	    "# TYPE process_cpu_seconds_total counter\n"
	    "process_cpu_seconds_total %.6f\n",
	    proc_status("VmRSS") * 1024, fds, sysconf(_SC_OPEN_MAX), proc_status("Threads"), cpu);
}

void metrics_render_gauges(FILE *f, store *st, keys_cache *kc, const hub_conf *cfg)
{
	key_gauges(f, kc);
	store_gauges(f, st, cfg);
	process_gauges(f);
	fprintf(f,
	        "# HELP idhub_build_info The running idhub's version.\n"
	        "# TYPE idhub_build_info gauge\n"
	        "idhub_build_info{version=\"%s\"} 1\n",
	        IDHUB_VERSION);
}
