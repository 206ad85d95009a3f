/* cmd_store.c — idhubctl backup, restore and status: the store as a whole (audit: cmd_audit.c). */
#include "ctl.h"
#include "audit/audit.h"
#include "keys/keys.h"
#include <curl/curl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

int cmd_backup(ctl *c, int argc, char **argv)
{
	if (argc != 2 || argv[1][0] == '-')
		return ctl_usage("backup", "one argument: the directory to write the backup into");
	char *err = NULL;
	if (!ctl_store(c))
		return CTL_FAIL;
	if (store_backup(c->st, argv[1], &err) != 0) {
		int rc = ctl_fail("%s", err ? err : "backup failed");
		free(err);
		return rc;
	}
	char path[4096];
	snprintf(path, sizeof path, "%s/data.mdb", argv[1]);
	struct stat st;
	long long size = stat(path, &st) == 0 ? (long long)st.st_size : -1;
	json_t *o = json_pack("{s:s, s:I}", "backup", path, "bytes", (json_int_t)size);
	ctl_audit(c, "store.backup", argv[1], NULL, o);
	if (c->json)
		ctl_print_json(o);
	else {
		printf("backup written to %s (%lld bytes, mode 0600)\n", path, size);
		json_decref(o);
	}
	return CTL_OK;
}

int cmd_restore(ctl *c, int argc, char **argv)
{
	if (argc != 2 || argv[1][0] == '-')
		return ctl_usage("restore", "one argument: the directory holding the backup");
	char dir[4096], *err = NULL;
	store_config sc;
	hub_conf_store(c->cfg, &sc, dir, sizeof dir);
	if (!store_config_can_backup(&sc))
		return ctl_fail("the %s store has no restore here: restore the database with its "
		                "own tools (pg_restore, a base backup)",
		                c->cfg->store);
	/* not opened first: opening would itself hold the store that restore must find unused */
	int rc = store_restore(dir, argv[1], &err);
	if (rc != 0) {
		int r = ctl_fail("%s", err ? err : "restore failed");
		free(err);
		return r;
	}
	json_t *o = json_pack("{s:s, s:s}", "restored_from", argv[1], "store", dir);
	if (ctl_store(c))
		ctl_audit(c, "store.restore", argv[1], NULL, o);
	if (c->json)
		ctl_print_json(o);
	else {
		printf("restored %s from %s; the previous durable store was kept beside it\n", dir,
		       argv[1]);
		json_decref(o);
	}
	return CTL_OK;
}

static size_t discard(void *p, size_t size, size_t n, void *u)
{
	(void)p;
	(void)u;
	return size * n;
}

/* 1 when the daemon answers /healthz on its listen address. */
static int daemon_up(const hub_conf *cfg)
{
	CURL *h = curl_easy_init();
	if (!h)
		return 0;
	char url[512];
	snprintf(url, sizeof url,
	         strchr(cfg->listen_host, ':') ? "http://[%s]:%d/healthz" : "http://%s:%d/healthz",
	         cfg->listen_host, cfg->listen_port);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 3L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
	long code = 0;
	int ok = curl_easy_perform(h) == CURLE_OK &&
	         curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code) == CURLE_OK && code == 200;
	curl_easy_cleanup(h);
	return ok;
}

int cmd_status(ctl *c, int argc, char **argv)
{
	(void)argv;
	if (argc != 1)
		return ctl_usage("status", "no arguments");
	int up = daemon_up(c->cfg);
	if (!ctl_store(c))
		return CTL_FAIL;
	char *err = NULL;
	keyring *kr = keyring_load(c->st, &err);
	free(err);
	json_t *keys = json_object();
	for (size_t i = 0; kr && i < kr->nkeys; i++) {
		char k[32];
		snprintf(k, sizeof k, "%s %s", jws_alg_name(kr->keys[i].alg),
		         key_state_name(kr->keys[i].state));
		json_object_set_new(keys, k,
		                    json_integer(json_integer_value(json_object_get(keys, k)) + 1));
	}
	keyring_unref(kr);
	json_t *o =
	    json_pack("{s:b, s:s, s:I, s:I, s:I, s:I, s:o}", "daemon_up", up, "issuer",
	              c->cfg->issuer, "store_bytes", (json_int_t)store_disk_bytes(c->st),
	              "pairwise_subjects", (json_int_t)store_count(c->st, NS_PAIRWISE), "journeys",
	              (json_int_t)store_count(c->st, NS_JOURNEY), "registered_services",
	              (json_int_t)store_count(c->st, NS_CLIENTS), "keys", keys);
	/* how close new logins are to the busy page (hub.store_high_water) */
	json_object_set_new(o, "volatile_fill_percent", json_integer(store_volatile_fill(c->st)));
	if (c->json) {
		ctl_print_json(o);
	} else {
		printf("daemon:    %s (%s:%d)\n", up ? "up" : "not answering", c->cfg->listen_host,
		       c->cfg->listen_port);
		printf("issuer:    %s\n", c->cfg->issuer);
		printf("store:     %lld bytes on disk\n", (long long)store_disk_bytes(c->st));
		printf("pairwise:  %ld subjects\n", store_count(c->st, NS_PAIRWISE));
		printf("journeys:  %ld (live or awaiting purge)\n", store_count(c->st, NS_JOURNEY));
		int fill = store_volatile_fill(c->st);
		if (fill >= 0)
			printf("volatile:  %d%% of the map in use (new logins wait at %lld%%)\n",
			       fill, (long long)c->cfg->store_high_water);
		else
			printf("volatile:  no fill level (the %s store manages its own space)\n",
			       store_backend_name(c->st));
		printf("services:  %zu in the config, %ld registered\n", c->cfg->nservices,
		       store_count(c->st, NS_CLIENTS));
		const char *k;
		json_t *v;
		json_object_foreach(keys, k, v)
		{
			printf("keys:      %lld %s\n", (long long)json_integer_value(v), k);
		}
		json_decref(o);
	}
	return up ? CTL_OK : CTL_FAIL;
}
