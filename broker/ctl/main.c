/* main.c — idhubctl, the operator CLI. It opens the same store as the running daemon (LMDB is safe
 * across processes), so every change takes effect without a restart or a signal.
 * Exit codes: 0 ok, 1 failed, 2 usage. */
#include "config/config.h"
#include "keys/keys.h"
#include "store/store.h"
#include "util/b64url.h"
#include "util/random.h"
#include <getopt.h>
#include <jansson.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
	fprintf(f, "usage: idhubctl [--config FILE | --state-dir DIR] [--json] COMMAND\n\n"
		   "commands:\n"
		   "  keys list                      list signing keys and their states\n"
		   "  keys generate --alg ALG        add a key (ES256, RS256, PS256, EdDSA) as next\n"
		   "  status                         store size and key states\n"
		   "  hash-secret                    make a client secret and its config secret_hash\n");
}

static store *open_store(const char *state_dir)
{
	char path[4096], *err = NULL;
	snprintf(path, sizeof path, "%s/store", state_dir);
	store *s = store_open(path, 1024, &err);
	if (!s) {
		fprintf(stderr, "idhubctl: %s\n", err ? err : "cannot open the store");
		free(err);
	}
	return s;
}

static int keys_list(store *s, int as_json)
{
	char *err = NULL;
	keyring *kr = keyring_load(s, &err);
	if (!kr) {
		fprintf(stderr, "idhubctl: %s\n", err ? err : "cannot read keys");
		free(err);
		return 1;
	}
	json_t *arr = json_array();
	if (!as_json)
		printf("%-44s %-6s %-8s %s\n", "KID", "ALG", "STATE", "CREATED");
	for (size_t i = 0; i < kr->nkeys; i++) {
		const signing_key *k = &kr->keys[i];
		if (as_json)
			json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:I, s:I, s:I}", "kid",
							     k->kid, "alg", jws_alg_name(k->alg),
							     "state", key_state_name(k->state),
							     "created", (json_int_t)k->created,
							     "activates", (json_int_t)k->activates,
							     "retires", (json_int_t)k->retires));
		else
			printf("%-44s %-6s %-8s %lld\n", k->kid, jws_alg_name(k->alg),
			       key_state_name(k->state), (long long)k->created);
	}
	if (as_json) {
		char *out = json_dumps(arr, JSON_INDENT(2));
		printf("%s\n", out);
		free(out);
	}
	json_decref(arr);
	keyring_unref(kr);
	return 0;
}

static int hash_secret(void)
{
	char secret[44], hash[44];
	unsigned char d[SHA256_DIGEST_LENGTH];
	if (random_token(secret))
		return 1;
	SHA256((const unsigned char *)secret, strlen(secret), d);
	b64url_encode(hash, d, sizeof d);
	printf("client secret (give it to the service, shown once): %s\n", secret);
	printf("config:  secret_hash = \"sha256:%s\";\n", hash);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
					     {"state-dir", required_argument, NULL, 'd'},
					     {"json", no_argument, NULL, 'j'},
					     {"alg", required_argument, NULL, 'a'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	const char *config = NULL, *state_dir = NULL, *alg = NULL;
	int as_json = 0, o;
	while ((o = getopt_long(argc, argv, "c:d:jh", opts, NULL)) != -1) {
		switch (o) {
		case 'c': config = optarg; break;
		case 'd': state_dir = optarg; break;
		case 'j': as_json = 1; break;
		case 'a': alg = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	const char *cmd = argv[optind], *sub = optind + 1 < argc ? argv[optind + 1] : NULL;
	if (strcmp(cmd, "hash-secret") == 0)
		return hash_secret();
	hub_conf *cfg = NULL;
	if (config) {
		char *err = NULL;
		cfg = config_load(config, &err);
		if (!cfg) {
			fprintf(stderr, "%s\n", err ? err : "cannot read config");
			free(err);
			return 1;
		}
		state_dir = cfg->state_dir;
	}
	if (!state_dir)
		state_dir = "./var";
	int rc = 2;
	if (strcmp(cmd, "keys") == 0 && sub && strcmp(sub, "list") == 0) {
		store *s = open_store(state_dir);
		rc = s ? keys_list(s, as_json) : 1;
		store_close(s);
	} else if (strcmp(cmd, "keys") == 0 && sub && strcmp(sub, "generate") == 0) {
		jws_alg a = jws_alg_from_name(alg ? alg : "ES256");
		if (a == JWS_ALG_NONE) {
			fprintf(stderr, "idhubctl: --alg must be ES256, RS256, PS256 or EdDSA\n");
			rc = 2;
		} else {
			store *s = open_store(state_dir);
			char kid[48];
			rc = s && keys_generate(s, a, KEY_NEXT, kid) == 0 ? 0 : 1;
			if (rc == 0)
				printf("%s\n", kid);
			if (s)
				store_close(s);
		}
	} else if (strcmp(cmd, "status") == 0) {
		store *s = open_store(state_dir);
		if (s) {
			printf("store: %lld bytes on disk\n", (long long)store_disk_bytes(s));
			printf("pairwise subjects: %ld\n", store_count(s, NS_PAIRWISE));
			printf("live journeys: %ld\n", store_count(s, NS_JOURNEY));
			rc = keys_list(s, as_json);
			store_close(s);
		} else {
			rc = 1;
		}
	} else {
		usage(stderr);
	}
	config_free(cfg);
	return rc;
}
