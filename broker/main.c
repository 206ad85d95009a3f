/* main.c — the idhub daemon: parses the command line, loads the config, opens the hub, serves until
 * SIGTERM or SIGINT, and shuts down cleanly (so the store is marked cleanly closed). */
#include "config/config.h"
#include "daemon.h"
#include "http/server.h"
#include "metrics/hourly.h"
#include "metrics/listener.h"
#include "metrics/metrics.h"
#include "router.h"
#include "service.h"
#include "util/log.h"
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef IDHUB_VERSION /* the Makefile passes debian/changelog's */
#define IDHUB_VERSION "0.0.0"
#endif

static void usage(FILE *f)
{
	fprintf(f, "usage: idhub --config FILE        serve\n"
	           "       idhub --check-config FILE  validate a config file and exit\n"
	           "       idhub --version\n");
}

static int log_level_of(const char *name)
{
	if (!name || strcmp(name, "info") == 0)
		return LOG_INFO_;
	if (strcmp(name, "error") == 0)
		return LOG_ERR_;
	if (strcmp(name, "warning") == 0)
		return LOG_WARN_;
	return LOG_DEBUG_;
}

/* The command line: --config FILE or --check-config FILE. Returns -1 to go on, else the exit
 * status (after --version, --help or a usage error). */
static int parse_args(int argc, char **argv, const char **config, const char **check)
{
	static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
	                                     {"check-config", required_argument, NULL, 'k'},
	                                     {"version", no_argument, NULL, 'V'},
	                                     {"help", no_argument, NULL, 'h'},
	                                     {NULL, 0, NULL, 0}};
	int o;
	while ((o = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (o) {
		case 'c':
			*config = optarg;
			break;
		case 'k':
			*check = optarg;
			break;
		case 'V':
			printf("idhub %s\n", IDHUB_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || (!*config && !*check)) {
		usage(stderr);
		return 2;
	}
	return -1;
}

/* --check-config FILE: the config and each IdP's adapter and settings, without starting anything.
 */
static int check_config(const char *check)
{
	char *err = NULL;
	hub_conf *c = config_load(check, &err);
	if (!c || config_check_adapters(c, &err)) {
		fprintf(stderr, "%s\n", err ? err : "cannot read config");
		free(err);
		config_free(c);
		return 1;
	}
	config_free(c);
	printf("%s: ok\n", check);
	return 0;
}

/* Prints "idhub: " and err (or fallback), frees err; returns 1, main's exit status. */
static int fail(char *err, const char *fallback)
{
	fprintf(stderr, "idhub: %s\n", err ? err : fallback);
	free(err);
	return 1;
}

/* Serves on the open hub h until SIGTERM or SIGINT (blocked in set), then stops what it started. */
static int serve(hub *h, sigset_t *set)
{
	char *err = NULL;
	/* /metrics on its own listener (hub.metrics_listen) */
	metrics_listener *ml = metrics_listener_start(h->cfg, h->st, h->keys, &err);
	if (!ml && err)
		return fail(err, "out of memory");
	metrics_hourly *mh = metrics_hourly_start(h->st, (int)h->cfg->metrics_flush_seconds);
	/* upstream IdP calls wait on the network: they get a pool of their own */
	http_server *srv = http_server_start(h, h->cfg, hub_route, hub_route_blocks, &err);
	if (!srv) {
		metrics_hourly_stop(mh);
		metrics_listener_stop(ml);
		return fail(err, "cannot listen");
	}
	log_info("idhub %s listening on %s:%d, issuer %s", IDHUB_VERSION, h->cfg->listen_host,
	         h->cfg->listen_port, h->cfg->issuer);
	if (h->cfg->demo)
		log_info("sandbox mode: open %s/demo", h->cfg->issuer);
	/* under systemd (Type=notify): ready now, and the watchdog when the unit asks for one */
	service_watchdog *wd = service_ready(h->cfg->listen_host, h->cfg->listen_port);
	int sig = 0;
	while (sigwait(set, &sig) == 0 && sig == SIGHUP)
		log_info("SIGHUP ignored: keys and services reload without a signal");
	log_info("signal %d: shutting down", sig);
	service_stopping(wd);
	http_server_stop(srv);
	metrics_hourly_stop(mh); /* a last flush of the hourly aggregates */
	metrics_listener_stop(ml);
	return 0;
}

int main(int argc, char **argv)
{
	const char *config = NULL, *check = NULL;
	int rc = parse_args(argc, argv, &config, &check);
	if (rc >= 0)
		return rc;
	if (check)
		return check_config(check);
	char *err = NULL;
	hub_conf *cfg = config_load(config, &err);
	if (!cfg) {
		fprintf(stderr, "%s\n", err ? err : "cannot read config");
		free(err);
		return 1;
	}
	log_set_level(log_level_of(cfg->log_level));
	log_set_format(strcmp(cfg->log_format, "json") == 0 ? LOG_JSON : LOG_TEXT);

	/* signals are taken by sigwait in serve; every thread started after this inherits the mask
	 */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	/* counters before the adapters start (they fetch their documents then) */
	if (metrics_init(cfg, NULL)) {
		fprintf(stderr, "idhub: out of memory\n");
		config_free(cfg);
		return 1;
	}
	hub *h = daemon_open(cfg, &err);
	rc = h ? serve(h, &set) : fail(err, "cannot start");
	daemon_close(h);
	metrics_shutdown();
	return rc;
}
