/* fuzz_config.c — libFuzzer target for broker/config: writes each input to one temporary file per
 * process (/tmp/fuzz_config.<pid>), loads it with config_load, exercises the lookups on success
 * and checks that an error is "PATH:LINE: message", then frees everything.
 */
#include "config/config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char path[64];

static void remove_file(void)
{
	if (path[0])
		unlink(path);
}

static void exercise(const hub_conf *c)
{
	char why[128];
	for (size_t i = 0; i < c->nservices; i++) {
		const service_conf *s = &c->services[i];
		if (config_service(c, s->client_id) != s || !service_allows_scope(s, "openid"))
			abort();
		for (size_t j = 0; j < s->nredirect_uris; j++)
			if (!config_redirect_uri_ok(s->redirect_uris[j], why, sizeof why))
				abort();
		for (size_t j = 0; j < c->nidps; j++)
			service_allows_idp(s, c->idps[j].id);
		if (!config_loa_acr(c, s->min_loa) || !client_auth_method_name(s->auth_method))
			abort();
	}
	for (size_t i = 0; i < c->nidps; i++)
		if (config_idp(c, c->idps[i].id) == NULL || !config_loa_acr(c, c->idps[i].max_loa))
			abort();
	for (int i = 1; i <= c->nloas; i++)
		if (config_loa_level(c, config_loa_acr(c, i)) != i)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* @include would read other files (or /dev/zero): not this target's business */
	if (memmem(data, size, "include", 7))
		return 0;
	if (!path[0]) {
		snprintf(path, sizeof path, "/tmp/fuzz_config.%d", (int)getpid());
		atexit(remove_file);
	}
	FILE *f = fopen(path, "wb");
	if (!f)
		abort();
	if (fwrite(data, 1, size, f) != size || fclose(f))
		abort();

	char *err = NULL;
	hub_conf *c = config_load(path, &err);
	if (c) {
		if (err)
			abort();
		exercise(c);
		config_free(c);
	} else {
		/* every error is "PATH:LINE: message" */
		size_t n = strlen(path);
		if (!err || strncmp(err, path, n) || err[n] != ':')
			abort();
		char *end = NULL;
		long line = strtol(err + n + 1, &end, 10);
		if (line < 0 || end == err + n + 1 || end[0] != ':' || end[1] != ' ')
			abort();
		free(err);
	}
	return 0;
}
