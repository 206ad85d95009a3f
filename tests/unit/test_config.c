/* test_config.c — unit tests of broker/config: deploy/dev.conf and deploy/idhub.conf.example load
 * with the expected values, defaults, each class of error with its exact "FILE:LINE:" prefix, the
 * redirect-URI rule, and the lookup helpers. Snippets are written to a mkdtemp directory. Run from
 * the repository root.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "config/config.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef IDHUB_ADAPTER_DIR
#define IDHUB_ADAPTER_DIR "/usr/lib/idhub/adapters"
#endif

#define LOW "http://eidas.europa.eu/LoA/low"
#define SUBST "http://eidas.europa.eu/LoA/substantial"
#define HIGH "http://eidas.europa.eu/LoA/high"
/* SHA-256 of "demo-secret-not-for-production" */
#define HASH "sha256:cEQVfwniIK8tqwAiMWQUBxYxBBEYRaWLRGKc6LImJ8I"

/* line 1 */
#define HUB "hub = { issuer = \"http://127.0.0.1:8080\"; };\n"
/* line 2 */
#define IDP                                                                                        \
	"idps = ( { id = \"sb\"; adapter = \"sandbox\"; display_name = \"Sandbox\"; max_loa = "    \
	"\"" SUBST "\"; } );\n"
/* lines 3-5: the service group starts at line 4; the body starts at line 6 */
#define SVC_HEAD "services = (\n  { client_id = \"a\";\n    name = \"A\";\n"
#define SVC_TAIL "  }\n);\n"
/* a service whose lines 6 and 7 are a secret_hash and a redirect URI, extra from line 8 */
#define SVC(extra)                                                                                 \
	HUB IDP SVC_HEAD "    secret_hash = \"" HASH "\";\n"                                       \
	                 "    redirect_uris = [ \"https://rp.example/cb\" ];\n" extra SVC_TAIL

static char dir[64];
static char path[128];

static int group_setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/idhub-test-config-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof path, "%s/t.conf", dir);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	unlink(path);
	return rmdir(dir);
}

static void write_file(const char *text, size_t len)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static hub_conf *load_text(const char *text, char **err)
{
	write_file(text, strlen(text));
	return config_load(path, err);
}

/* Loading text fails with exactly "PATH:LINE: ..." and a message containing needle. */
static void expect_error(const char *text, int line, const char *needle)
{
	char *err = NULL, prefix[200], got[600];
	hub_conf *c = load_text(text, &err);
	snprintf(prefix, sizeof prefix, "%s:%d: ", path, line);
	snprintf(got, sizeof got, "%s", err ? err : "(none)");
	int ok = !c && err && !strncmp(err, prefix, strlen(prefix)) &&
	         strstr(err + strlen(prefix), needle);
	config_free(c);
	free(err);
	if (!ok)
		fail_msg("expected \"%s...%s...\", got \"%s\" for:\n%s", prefix, needle, got, text);
}

static hub_conf *load_ok(const char *text)
{
	char *err = NULL;
	hub_conf *c = load_text(text, &err);
	if (!c)
		fail_msg("unexpected error: %s\nfor:\n%s", err ? err : "(none)", text);
	assert_null(err);
	return c;
}

static void sha256(const char *s, unsigned char out[32])
{
	unsigned int n = 0;
	assert_int_equal(EVP_Digest(s, strlen(s), out, &n, EVP_sha256(), NULL), 1);
	assert_int_equal(n, 32);
}

/* ---- files in deploy/ ------------------------------------------------------------------------ */

static void test_dev_conf(void **state)
{
	(void)state;
	char *err = NULL;
	unsigned char h[32];
	hub_conf *c = config_load("deploy/dev.conf", &err);
	if (!c)
		fail_msg("deploy/dev.conf: %s", err ? err : "(none)");
	assert_string_equal(c->file, "deploy/dev.conf");
	assert_string_equal(c->issuer, "http://127.0.0.1:8080");
	assert_string_equal(c->listen_host, "127.0.0.1");
	assert_int_equal(c->listen_port, 8080);
	assert_string_equal(c->state_dir, "./var");
	assert_string_equal(c->adapter_dir, "./build/adapters");
	assert_int_equal(c->demo, 1);
	assert_int_equal(c->secure_cookies, 0);
	assert_int_equal(c->threads, 2);
	assert_int_equal(c->code_ttl, 60);
	assert_int_equal(c->nloas, 3);
	assert_string_equal(config_loa_acr(c, 1), LOW);
	assert_string_equal(config_loa_acr(c, 3), HIGH);

	assert_int_equal(c->nidps, 1);
	const idp_conf *idp = config_idp(c, "sandbox");
	assert_non_null(idp);
	assert_string_equal(idp->adapter, "sandbox");
	assert_string_equal(idp->display_name, "Sandbox identity provider");
	assert_int_equal(idp->max_loa, 2);
	assert_int_equal(idp->enabled, 1);
	assert_int_equal(idp->nsettings, 0);

	assert_int_equal(c->nservices, 2); /* demo and demo2, in two sectors (single sign-on) */
	assert_string_equal(config_service(c, "demo2")->sector, "demo2");
	assert_string_equal(config_service(c, "demo2")->backchannel_logout_uri,
	                    "http://127.0.0.1:8080/demo2/backchannel");
	assert_int_equal(c->session_idle_ttl, 1800);
	assert_int_equal(c->session_max_ttl, 28800);
	const service_conf *s = config_service(c, "demo");
	assert_non_null(s);
	assert_string_equal(s->name, "Demo service");
	assert_int_equal(s->auth_method, AUTH_CLIENT_SECRET_BASIC);
	assert_int_equal(s->has_secret, 1);
	sha256("demo-secret-not-for-production", h);
	assert_memory_equal(s->secret_hash, h, 32);
	assert_int_equal(s->nredirect_uris, 1);
	assert_string_equal(s->redirect_uris[0], "http://127.0.0.1:8080/demo/callback");
	assert_string_equal(s->sector, "demo");
	assert_int_equal(s->min_loa, 1);
	assert_int_equal(s->id_token_alg, JWS_ES256); /* set explicitly: the default is RS256 */
	assert_int_equal(s->nidps, 0);
	assert_int_equal(s->nscopes, 2);
	assert_string_equal(s->scopes[0], "openid");
	assert_string_equal(s->scopes[1], "profile");
	assert_null(s->jwks_json);
	assert_null(s->jwks_uri);
	config_free(c);
}

static void test_example_conf(void **state)
{
	(void)state;
	char *err = NULL;
	unsigned char h[32];
	hub_conf *c = config_load("deploy/idhub.conf.example", &err);
	if (!c)
		fail_msg("deploy/idhub.conf.example: %s", err ? err : "(none)");
	assert_string_equal(c->issuer, "https://id.example.gov");
	assert_int_equal(c->secure_cookies, 1);
	assert_int_equal(c->listen_port, 8080);
	assert_int_equal(c->threads, 4);
	assert_int_equal(c->store_map_mib, 4096);
	assert_int_equal(c->nidps, 2);
	assert_int_equal(c->idps[0].nsettings, 3);
	assert_string_equal(c->idps[0].settings[0].name, "issuer");
	assert_int_equal(config_idp(c, "eid-card")->max_loa, 3);
	assert_int_equal(c->nservices, 2);

	const service_conf *tax = config_service(c, "tax-portal");
	const service_conf *health = config_service(c, "health-records");
	assert_non_null(tax);
	assert_non_null(health);
	assert_string_not_equal(tax->sector, health->sector);
	sha256("replace-this-secret", h);
	assert_memory_equal(tax->secret_hash, h, 32);
	assert_int_equal(tax->min_loa, 2);
	assert_int_equal(health->auth_method, AUTH_PRIVATE_KEY_JWT);
	assert_int_equal(health->has_secret, 0);
	assert_string_equal(health->jwks_uri, "https://health.example.gov/.well-known/jwks.json");
	assert_int_equal(health->id_token_alg, JWS_PS256);
	assert_int_equal(health->nredirect_uris, 2);
	assert_int_equal(health->min_loa, 3);
	assert_false(service_allows_idp(health, "bankid"));
	assert_true(service_allows_idp(health, "eid-card"));
	assert_true(service_allows_scope(health, "email"));
	assert_false(service_allows_scope(tax, "email"));
	config_free(c);
}

/* ---- values and defaults --------------------------------------------------------------------- */

/* A service relaxes its policy only by saying so; address and phone are known scopes. */
static void test_service_policy(void **state)
{
	(void)state;
	hub_conf *c = load_ok(SVC("    require_pkce = false;\n    require_nonce = false;\n"
	                          "    require_state = false;\n"
	                          "    scopes = [ \"openid\", \"address\", \"phone\" ];\n"));
	const service_conf *s = config_service(c, "a");
	assert_non_null(s);
	assert_int_equal(s->require_pkce, 0);
	assert_int_equal(s->require_nonce, 0);
	assert_int_equal(s->require_state, 0);
	assert_null(service_policy_error(s));
	assert_true(service_allows_scope(s, "address"));
	assert_true(service_allows_scope(s, "phone"));
	assert_false(service_allows_scope(s, "profile"));
	config_free(c);
}

static void test_defaults(void **state)
{
	(void)state;
	hub_conf *c = load_ok("hub = { issuer = \"https://id.example.org\"; };\n");
	assert_string_equal(c->file, path);
	assert_string_equal(c->issuer, "https://id.example.org");
	assert_string_equal(c->listen_host, "127.0.0.1");
	assert_int_equal(c->listen_port, 443);
	assert_string_equal(c->state_dir, "./var");
	assert_string_equal(c->adapter_dir, IDHUB_ADAPTER_DIR);
	assert_int_equal(c->threads, 2);
	assert_int_equal(c->demo, 0);
	assert_int_equal(c->secure_cookies, 1);
	assert_int_equal(c->code_ttl, 60);
	assert_int_equal(c->id_token_ttl, 300);
	assert_int_equal(c->access_token_ttl, 300);
	assert_int_equal(c->journey_ttl, 900);
	assert_int_equal(c->jwks_max_age, 300);
	assert_int_equal(c->clock_leeway, 30);
	assert_int_equal(c->store_map_mib, 1024);
	assert_string_equal(c->log_level, "info");
	assert_string_equal(c->log_format, "text");
	assert_int_equal(c->nloas, 3);
	assert_string_equal(c->loa_acrs[0], LOW);
	assert_string_equal(c->loa_acrs[1], SUBST);
	assert_string_equal(c->loa_acrs[2], HIGH);
	assert_int_equal(c->nidps, 0);
	assert_int_equal(c->nservices, 0);
	config_free(c);

	c = load_ok("hub = { issuer = \"http://localhost\"; };\n");
	assert_int_equal(c->listen_port, 80);
	assert_int_equal(c->secure_cookies, 0);
	config_free(c);
	c = load_ok("hub = { issuer = \"https://id.example.org:8443/hub\"; };\n");
	assert_int_equal(c->listen_port, 8443);
	config_free(c);

	/* idp and service defaults */
	c = load_ok(SVC(""));
	assert_int_equal(c->idps[0].enabled, 1);
	assert_null(c->idps[0].description);
	assert_int_equal(c->idps[0].line, 2);
	const service_conf *s = config_service(c, "a");
	assert_non_null(s);
	assert_int_equal(s->line, 4);
	assert_int_equal(s->auth_method, AUTH_CLIENT_SECRET_BASIC);
	assert_string_equal(s->sector, "a");
	assert_int_equal(s->min_loa, 1);
	/* RS256: the registration default (OIDC Dynamic Client Registration §2) */
	assert_int_equal(s->id_token_alg, JWS_RS256);
	/* the policy is strict unless the service relaxes it */
	assert_int_equal(s->require_pkce, 1);
	assert_int_equal(s->require_nonce, 1);
	assert_int_equal(s->require_state, 1);
	assert_int_equal(s->nidps, 0);
	assert_int_equal(s->nscopes, 3);
	assert_string_equal(s->scopes[0], "openid");
	assert_string_equal(s->scopes[1], "profile");
	assert_string_equal(s->scopes[2], "email");
	config_free(c);
}

static void test_all_hub_settings(void **state)
{
	(void)state;
	hub_conf *c = load_ok("hub: {\n"
	                      "  issuer = \"http://[::1]:9000\";\n"
	                      "  listen = \"::1\"; port = 9001; state_dir = \"/tmp/x\";\n"
	                      "  adapter_dir = \"/opt/a\"; threads = 64; demo = true;\n"
	                      "  code_ttl = 600; id_token_ttl = 86400; access_token_ttl = 60;\n"
	                      "  journey_ttl = 61; jwks_max_age = 0; clock_leeway = 300;\n"
	                      "  store_map_mib = 1048576; log_level = \"debug\";\n"
	                      "  log_format = \"json\";\n"
	                      "};\n"
	                      "loa = [ \"one\", \"two\" ];\n");
	assert_string_equal(c->issuer, "http://[::1]:9000");
	assert_string_equal(c->listen_host, "::1");
	assert_int_equal(c->listen_port, 9001);
	assert_string_equal(c->state_dir, "/tmp/x");
	assert_string_equal(c->adapter_dir, "/opt/a");
	assert_int_equal(c->threads, 64);
	assert_int_equal(c->demo, 1);
	assert_int_equal(c->code_ttl, 600);
	assert_int_equal(c->id_token_ttl, 86400);
	assert_int_equal(c->access_token_ttl, 60);
	assert_int_equal(c->journey_ttl, 61);
	assert_int_equal(c->jwks_max_age, 0);
	assert_int_equal(c->clock_leeway, 300);
	assert_int_equal(c->store_map_mib, 1048576);
	assert_string_equal(c->log_level, "debug");
	assert_string_equal(c->log_format, "json");
	assert_int_equal(c->nloas, 2);
	assert_int_equal(config_loa_level(c, "two"), 2);
	assert_int_equal(config_loa_level(c, LOW), 0);
	config_free(c);
}

static void test_idp_settings(void **state)
{
	(void)state;
	hub_conf *c =
	    load_ok(HUB "idps = (\n"
	                "  { id = \"x-1\"; adapter = \"oidc\"; display_name = \"Pankki\xc3\xa4\";\n"
	                "    description = \"d\"; max_loa = \"" HIGH "\"; enabled = false;\n"
	                "    settings = {\n"
	                "      url = \"https://op.example\";\n"
	                "      n = 42;\n"
	                "      big = 5000000000L;\n"
	                "      on = true; off = false;\n"
	                "      ratio = 0.1;\n"
	                "      neg = -7;\n"
	                "    };\n"
	                "  }\n"
	                ");\n");
	const idp_conf *p = config_idp(c, "x-1");
	assert_non_null(p);
	assert_int_equal(p->line, 3);
	assert_string_equal(p->display_name, "Pankki\xc3\xa4");
	assert_string_equal(p->description, "d");
	assert_int_equal(p->max_loa, 3);
	assert_int_equal(p->enabled, 0);
	assert_int_equal(p->nsettings, 7);
	static const struct {
		const char *name, *value;
		int line;
	} want[] = {
	    {"url", "https://op.example", 6},
	    {"n", "42", 7},
	    {"big", "5000000000", 8},
	    {"on", "true", 9},
	    {"off", "false", 9},
	    {"ratio", "0.1", 10},
	    {"neg", "-7", 11},
	};
	for (size_t i = 0; i < 7; i++) {
		assert_string_equal(p->settings[i].name, want[i].name);
		assert_string_equal(p->settings[i].value, want[i].value);
		assert_int_equal(p->settings[i].line, want[i].line);
	}
	config_free(c);
}

static void test_service_values(void **state)
{
	(void)state;
	hub_conf *c = load_ok(
	    HUB
	    "loa = [ \"l1\", \"l2\", \"l3\" ];\n"
	    "idps = (\n"
	    "  { id = \"one\"; adapter = \"sandbox\"; display_name = \"One\"; max_loa = \"l2\"; "
	    "},\n"
	    "  { id = \"two\"; adapter = \"sandbox\"; display_name = \"Two\"; max_loa = \"l3\"; }\n"
	    ");\n"
	    "services = (\n"
	    "  { client_id = \"urn:x.y-z_1\"; name = \"S\"; auth_method = \"client_secret_post\";\n"
	    "    secret_hash = \"" HASH "\";\n"
	    "    redirect_uris = ( \"https://rp.example/a?x=1\", \"http://localhost:3000/cb\" );\n"
	    "    sector = \"shared\"; min_loa = \"l3\"; id_token_alg = \"EdDSA\";\n"
	    "    idps = [ \"two\" ]; scopes = [ \"email\" ]; },\n"
	    "  { client_id = \"k\"; name = \"K\"; auth_method = \"private_key_jwt\";\n"
	    "    jwks = \"{\\\"keys\\\":[{\\\"kty\\\":\\\"EC\\\",\\\"crv\\\":\\\"P-256\\\"}]}\";\n"
	    "    redirect_uris = [ \"https://k.example/cb\" ]; id_token_alg = \"RS256\"; }\n"
	    ");\n");
	const service_conf *s = config_service(c, "urn:x.y-z_1");
	assert_non_null(s);
	assert_int_equal(s->auth_method, AUTH_CLIENT_SECRET_POST);
	assert_int_equal(s->nredirect_uris, 2);
	assert_string_equal(s->redirect_uris[1], "http://localhost:3000/cb");
	assert_string_equal(s->sector, "shared");
	assert_int_equal(s->min_loa, 3);
	assert_int_equal(s->id_token_alg, JWS_EDDSA);
	assert_int_equal(s->nscopes, 2);
	assert_string_equal(s->scopes[0], "openid");
	assert_string_equal(s->scopes[1], "email");
	assert_int_equal(s->nidps, 1);

	const service_conf *k = config_service(c, "k");
	assert_non_null(k);
	assert_int_equal(k->auth_method, AUTH_PRIVATE_KEY_JWT);
	assert_int_equal(k->has_secret, 0);
	assert_string_equal(k->jwks_json, "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\"}]}");
	assert_null(k->jwks_uri);
	assert_int_equal(k->id_token_alg, JWS_RS256);
	assert_string_equal(k->sector, "k");
	config_free(c);
}

/* ---- errors ---------------------------------------------------------------------------------- */

static void test_error_syntax(void **state)
{
	(void)state;
	expect_error("hub = {\n  issuer = ;\n};\n", 2, "syntax error");
	expect_error(HUB "\n\nx = = 1;\n", 4, "syntax error");
	expect_error("hub = {\n  issuer = \"a\";\n  issuer = \"b\";\n};\n", 3, "duplicate");
	/* a string token the parser discards (libconfig leaks it; see config.c) */
	expect_error("hub = {\n  issuer \"http://127.0.0.1\";\n};\n", 2, "syntax error");
	expect_error(HUB "\"b\"\n", 2, "syntax error");
	/* at the end of the file: the line after the last one */
	expect_error(HUB "services = (\n  { client_id = \"a\" \n", 4, "syntax error");
}

static void test_error_io(void **state)
{
	(void)state;
	char *err = NULL, want[200];
	char missing[160];
	snprintf(missing, sizeof missing, "%s/nope.conf", dir);
	assert_null(config_load(missing, &err));
	snprintf(want, sizeof want, "%s:0: cannot open: ", missing);
	assert_non_null(err);
	assert_memory_equal(err, want, strlen(want));
	free(err);

	err = NULL;
	assert_null(config_load(dir, &err));
	assert_non_null(strstr(err, ":0: "));
	free(err);

	/* a NUL byte: refused with its line */
	write_file(HUB "\n# x\0y\n", sizeof HUB + 6);
	err = NULL;
	assert_null(config_load(path, &err));
	snprintf(want, sizeof want, "%s:3: NUL byte", path);
	assert_non_null(err);
	assert_memory_equal(err, want, strlen(want));
	free(err);

	/* err may be NULL */
	assert_null(config_load(missing, NULL));
}

static void test_error_unknown_setting(void **state)
{
	(void)state;
	expect_error("hub = {\n  issuer = \"http://127.0.0.1:8080\";\n  foo = 1;\n};\n", 3,
	             "unknown setting 'foo' in hub");
	expect_error(HUB "\nbar = 1;\n", 3, "unknown setting 'bar'");
	expect_error(HUB "idps = ( { id = \"x\"; adapter = \"a\"; display_name = \"X\";\n"
	                 "  max_loa = \"" LOW "\"; colour = \"red\"; } );\n",
	             3, "unknown setting 'colour' in idp");
	expect_error(SVC("    secret = \"plain\";\n"), 8, "unknown setting 'secret' in service");
}

static void test_error_wrong_type(void **state)
{
	(void)state;
	expect_error("hub = {\n  issuer = \"http://127.0.0.1\";\n  threads = \"2\";\n};\n", 3,
	             "'threads' in hub must be an integer");
	expect_error("hub = {\n  issuer = \"http://127.0.0.1\";\n  demo = 1;\n};\n", 3,
	             "'demo' in hub must be true or false");
	expect_error("hub = {\n  issuer = \"http://127.0.0.1\";\n  port = 80.0;\n};\n", 3,
	             "'port' in hub must be an integer");
	expect_error("hub = {\n  issuer = 8080;\n};\n", 2, "'issuer' in hub must be a string");
	expect_error("hub = \"x\";\n", 1, "'hub' must be a group");
	expect_error(HUB "idps = ( \"sandbox\" );\n", 2, "each entry of 'idps' must be a group");
	expect_error(HUB "idps = { };\n", 2, "'idps' must be a list of groups");
	expect_error(SVC("    scopes = \"openid\";\n"), 8, "'scopes' in service must be a list");
	expect_error(HUB IDP SVC_HEAD "    secret_hash = \"" HASH "\";\n"
	                              "    redirect_uris = \"https://rp.example/cb\";\n" SVC_TAIL,
	             7, "'redirect_uris' in service must be a list of strings");
	expect_error(HUB IDP SVC_HEAD "    secret_hash = \"" HASH "\";\n"
	                              "    redirect_uris = [ 1 ];\n" SVC_TAIL,
	             7, "must be a string");
	expect_error(HUB "idps = ( { id = \"x\"; adapter = \"a\"; display_name = \"X\";\n"
	                 "  max_loa = \"" LOW "\";\n"
	                 "  settings = { nested = { a = 1; }; }; } );\n",
	             4, "'nested' in settings must be a string, number or boolean");
}

/* The limits against floods and hostile clients: defaults, values, and errors at their line. */
static void test_limits(void **state)
{
	(void)state;
	hub_conf *c = load_ok(HUB IDP);
	assert_int_equal(c->ntrusted_proxies, 0);
	assert_int_equal(c->connections_per_source, 64);
	assert_int_equal(c->header_timeout, 10);
	assert_int_equal(c->journeys_per_minute, 600);
	assert_int_equal(c->upstream_threads, 32);
	assert_int_equal(c->idps[0].max_concurrent, 8);
	config_free(c);
	c = load_ok(
	    "hub = { issuer = \"http://127.0.0.1:8080\"; trusted_proxies = [ \"127.0.0.1\", "
	    "\"::1\" ]; connections_per_source = 0; header_timeout = 3; "
	    "journeys_per_minute = 5; upstream_threads = 4; };\n"
	    "idps = ( { id = \"sb\"; adapter = \"sandbox\"; display_name = \"S\"; "
	    "max_loa = \"" SUBST "\"; max_concurrent = 4; } );\n");
	assert_int_equal(c->ntrusted_proxies, 2);
	assert_string_equal(c->trusted_proxies[1], "::1");
	assert_int_equal(c->connections_per_source, 0);
	assert_int_equal(c->header_timeout, 3);
	assert_int_equal(c->journeys_per_minute, 5);
	assert_int_equal(c->upstream_threads, 4);
	assert_int_equal(c->idps[0].max_concurrent, 4);
	config_free(c);
	expect_error(
	    "hub = {\n  issuer = \"http://127.0.0.1\";\n  trusted_proxies = [ \"10.0.0.0/8\" "
	    "];\n};\n",
	    3, "each of 'trusted_proxies' in hub must be an IP address");
	expect_error("hub = {\n  issuer = \"http://127.0.0.1\";\n  header_timeout = 0;\n};\n", 3,
	             "must be between");
	expect_error("hub = {\n  issuer = \"http://127.0.0.1\";\n  upstream_threads = 0;\n};\n", 3,
	             "must be between");
	/* an IdP may not be allowed more calls at once than the whole pool has threads */
	expect_error("hub = { issuer = \"http://127.0.0.1\"; upstream_threads = 4; };\nidps = ( {\n"
	             "  id = \"sb\"; adapter = \"sandbox\"; display_name = \"S\";\n"
	             "  max_loa = \"" SUBST "\";\n  max_concurrent = 5;\n} );\n",
	             5, "must be between 1 and 4");
}

static void test_error_range(void **state)
{
	(void)state;
	static const char *const bad[] = {
	    "threads = 0;",
	    "threads = 65;",
	    "code_ttl = 9;",
	    "code_ttl = 601;",
	    "id_token_ttl = 59;",
	    "access_token_ttl = 86401;",
	    "journey_ttl = 4;",
	    "jwks_max_age = -1;",
	    "clock_leeway = 301;",
	    "port = 0;",
	    "port = 65536;",
	    "store_map_mib = 15;",
	    "store_map_mib = 1048577;",
	    "store_high_water = 9;",
	    "store_high_water = 86;",
	    "audit_tree_head_interval = 0;",
	    "audit_tree_head_interval = 86401;",
	    "audit_retention_days = -1;",
	    "audit_retention_days = 36501;",
	};
	char text[300];
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(text, sizeof text, "hub = {\n  issuer = \"http://127.0.0.1\";\n  %s\n};\n",
		         bad[i]);
		expect_error(text, 3, "must be between");
	}
	expect_error("hub = {\n  issuer = \"http://127.0.0.1\";\n  log_level = \"trace\";\n};\n", 3,
	             "'log_level' in hub must be");
	expect_error("hub = {\n  issuer = \"http://127.0.0.1\";\n  log_format = \"xml\";\n};\n", 3,
	             "'log_format' in hub must be \"text\" or \"json\"");
	expect_error("hub = {\n  issuer = \"http://127.0.0.1\";\n  listen = \"localhost\";\n};\n",
	             3, "'listen' in hub must be an IP address");
	expect_error("hub = {\n  issuer = \"http://127.0.0.1\";\n  state_dir = \"\";\n};\n", 3,
	             "'state_dir' in hub must be a non-empty");
}

/* hub.metrics_listen: HOST:PORT or "off", never the public listener; errors name the line. */
static void test_metrics_listen(void **state)
{
	(void)state;
	hub_conf *c = load_ok("hub = { issuer = \"http://127.0.0.1:8080\"; };\n");
	assert_string_equal(c->metrics_host, "127.0.0.1");
	assert_int_equal(c->metrics_port, 9464);
	assert_int_equal(c->metrics_flush_seconds, 60);
	config_free(c);
	c = load_ok("hub = { issuer = \"http://127.0.0.1:8080\"; metrics_listen = \"off\"; };\n");
	assert_null(c->metrics_host);
	config_free(c);
	c = load_ok("hub = { issuer = \"http://127.0.0.1:8080\"; metrics_listen = \"[::1]:9100\"; "
	            "metrics_flush_seconds = 5; };\n");
	assert_string_equal(c->metrics_host, "::1");
	assert_int_equal(c->metrics_port, 9100);
	assert_int_equal(c->metrics_flush_seconds, 5);
	config_free(c);
	static const char *const bad[][2] = {
	    {"metrics_listen = \"9464\";", "must be \"HOST:PORT\" or \"off\""},
	    {"metrics_listen = \"127.0.0.1:0\";", "must be \"HOST:PORT\" or \"off\""},
	    {"metrics_listen = \"127.0.0.1:70000\";", "must be \"HOST:PORT\" or \"off\""},
	    {"metrics_listen = \"localhost:9464\";", "the host must be an IP address"},
	    {"metrics_listen = \"127.0.0.1:8080\";", "must differ from the public port"},
	    {"metrics_flush_seconds = 0;", "must be between"},
	};
	char text[300];
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(text, sizeof text,
		         "hub = {\n  issuer = \"http://127.0.0.1:8080\";\n  %s\n};\n", bad[i][0]);
		expect_error(text, 3, bad[i][1]);
	}
}

/* hub.store: the backend and its settings, each error at its line. */
static void test_store_backend(void **state)
{
	(void)state;
	hub_conf *c = load_ok("hub = {\n  issuer = \"http://127.0.0.1\";\n};\n");
	assert_string_equal(c->store, "lmdb");
	assert_null(c->store_conninfo);
	config_free(c);
	c = load_ok("hub = {\n  issuer = \"http://127.0.0.1\";\n  store = \"postgresql\";\n"
	            "  store_conninfo = \"host=/run/postgresql dbname=idhub\";\n"
	            "  store_pool = 8;\n};\n");
	assert_string_equal(c->store, "postgresql");
	assert_string_equal(c->store_conninfo, "host=/run/postgresql dbname=idhub");
	assert_int_equal(c->store_pool, 8);
	config_free(c);
	expect_error("hub = {\n  issuer = \"http://127.0.0.1\";\n  store = \"redis\";\n};\n", 3,
	             "'store' in hub must be \"lmdb\" or \"postgresql\"");
	expect_error("hub = {\n  issuer = \"http://127.0.0.1\";\n  store = \"postgresql\";\n};\n",
	             3, "'store_conninfo' (a libpq connection string) is required");
	expect_error("hub = {\n  issuer = \"http://127.0.0.1\";\n  store = \"postgresql\";\n"
	             "  store_conninfo = \"host=x bogus_option=1\";\n};\n",
	             4, "'store_conninfo' in hub: bad store_conninfo");
	expect_error("hub = {\n  issuer = \"http://127.0.0.1\";\n"
	             "  store_conninfo = \"dbname=idhub\";\n};\n",
	             3, "'store_conninfo' in hub needs store = \"postgresql\"");
	expect_error("hub = {\n  issuer = \"http://127.0.0.1\";\n  store_pool = 0;\n};\n", 3,
	             "must be between");
}

static void test_error_missing_required(void **state)
{
	(void)state;
	expect_error("# no hub\nloa = [ \"a\" ];\n", 1, "missing required setting 'hub'");
	expect_error("# c\nhub = {\n  threads = 2;\n};\n", 2,
	             "missing required setting 'issuer' in hub");
	expect_error(
	    HUB "idps = (\n  { id = \"x\"; adapter = \"a\";\n    display_name = \"X\"; }\n);\n", 3,
	    "missing required setting 'max_loa' in idp");
	expect_error(HUB IDP "services = (\n  {\n    name = \"A\";\n  }\n);\n", 4,
	             "missing required setting 'client_id' in service");
	expect_error(HUB IDP SVC_HEAD "    secret_hash = \"" HASH "\";\n" SVC_TAIL, 4,
	             "missing required setting 'redirect_uris' in service");
	expect_error(HUB IDP SVC_HEAD
	             "    redirect_uris = [ \"https://rp.example/cb\" ];\n" SVC_TAIL,
	             4, "missing required setting 'secret_hash' in service");
}

static void test_error_issuer(void **state)
{
	(void)state;
	static const struct {
		const char *issuer, *needle;
	} bad[] = {
	    {"http://example.com", "loopback"},
	    {"http://127.0.0.2:8080", "loopback"},
	    {"https://id.example/", "ends with '/'"},
	    {"https://id.example?x=1", "query"},
	    {"https://id.example#f", "fragment"},
	    {"https://user@id.example", "userinfo"},
	    {"ftp://id.example", "scheme"},
	    {"id.example", "absolute"},
	    {"https://", "empty host"},
	    {"https://id.example:0", "port"},
	    {"https://id.example:99999", "port"},
	    {"", "empty"},
	};
	char text[300];
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(text, sizeof text, "hub = {\n  threads = 2;\n  issuer = \"%s\";\n};\n",
		         bad[i].issuer);
		expect_error(text, 3, bad[i].needle);
	}
}

static void test_error_idps(void **state)
{
	(void)state;
	expect_error(
	    HUB "idps = (\n  { id = \"x\"; adapter = \"a\"; display_name = \"X\"; max_loa = \"" LOW
	        "\"; },\n  { id = \"x\"; adapter = \"b\"; display_name = \"Y\"; max_loa = \"" LOW
	        "\"; }\n);\n",
	    4, "duplicate idp id 'x' (first at line 3)");
	expect_error(HUB "idps = (\n  { id = \"Upper\"; adapter = \"a\"; display_name = \"X\"; "
	                 "max_loa = \"" LOW "\"; }\n);\n",
	             3, "'id' in idp must be");
	expect_error(HUB "idps = (\n  { id = \"x\"; adapter = \"a-b\"; display_name = \"X\"; "
	                 "max_loa = \"" LOW "\"; }\n);\n",
	             3, "'adapter' in idp must be");
	expect_error(HUB "idps = (\n  { id = \"x\"; adapter = \"a\"; display_name = \"\"; "
	                 "max_loa = \"" LOW "\"; }\n);\n",
	             3, "'display_name' in idp must be");
	expect_error(HUB "idps = (\n  { id = \"x\"; adapter = \"a\"; display_name = \"\\xff\"; "
	                 "max_loa = \"" LOW "\"; }\n);\n",
	             3, "'display_name' in idp must be");
	/* unknown level of assurance */
	expect_error(HUB "idps = (\n  { id = \"x\"; adapter = \"a\"; display_name = \"X\";\n"
	                 "    max_loa = \"http://eidas.europa.eu/LoA/extreme\"; }\n);\n",
	             4, "is not one of the loa levels");
	expect_error("hub = { issuer = \"http://127.0.0.1\"; };\nloa = [ \"a\", \"b\", \"a\" ];\n",
	             2, "duplicate level 'a'");
	expect_error("hub = { issuer = \"http://127.0.0.1\"; };\nloa = [ ];\n", 2,
	             "must have 1 to 8 entries");
	expect_error("hub = { issuer = \"http://127.0.0.1\"; };\nloa = [ \"has space\" ];\n", 2,
	             "each level in 'loa'");
}

static void test_error_services(void **state)
{
	(void)state;
	/* duplicate client_id: the line of the second one */
	expect_error(HUB IDP "services = (\n"
	                     "  { client_id = \"a\"; name = \"A\"; secret_hash = \"" HASH "\";\n"
	                     "    redirect_uris = [ \"https://rp.example/cb\" ]; },\n"
	                     "  { name = \"B\";\n"
	                     "    client_id = \"a\"; secret_hash = \"" HASH "\";\n"
	                     "    redirect_uris = [ \"https://rp.example/cb\" ]; }\n"
	                     ");\n",
	             7, "duplicate client_id 'a' (first at line 4)");
	expect_error(HUB IDP "services = (\n  { client_id = \"a b\"; name = \"A\";\n"
	                     "    secret_hash = \"" HASH
	                     "\"; redirect_uris = [ \"https://a.example/\" ]; }\n);\n",
	             4, "'client_id' in service must be");
	/* unknown idp reference */
	expect_error(SVC("    idps = [ \"sb\", \"nope\" ];\n"), 8, "unknown idp 'nope' in service");
	expect_error(SVC("    idps = [\n      \"sb\",\n      \"sb\",\n      \"x\"\n    ];\n"), 10,
	             "duplicate idp 'sb'");
	/* unknown alg */
	expect_error(SVC("    id_token_alg = \"HS256\";\n"), 8, "unknown id_token_alg 'HS256'");
	expect_error(SVC("    id_token_alg = \"none\";\n"), 8, "unknown id_token_alg 'none'");
	/* unknown loa */
	expect_error(SVC("    min_loa = \"urn:medium\";\n"), 8,
	             "'min_loa' in service: 'urn:medium' is not one of the loa levels");
	expect_error(SVC("    auth_method = \"client_secret_jwt\";\n"), 8,
	             "'auth_method' in service must be");
	expect_error(SVC("    scopes = [ \"openid\", \"payroll\" ];\n"), 8,
	             "unknown scope 'payroll'");
	expect_error(SVC("    require_pkce = \"no\";\n"), 8, "require_pkce");
	expect_error(SVC("    require_nonce = 0;\n"), 8, "require_nonce");
	expect_error(SVC("    scopes = [ \"email\", \"email\" ];\n"), 8, "duplicate scope 'email'");
	expect_error(SVC("    sector = \"\";\n"), 8, "'sector' in service must be");
	expect_error(SVC("    jwks_uri = \"https://rp.example/jwks\";\n"), 8,
	             "'jwks_uri' in service is used only with private_key_jwt");
	expect_error(HUB IDP "services = (\n  { client_id = \"a\"; name = \"\\n\";\n"
	                     "    secret_hash = \"" HASH
	                     "\"; redirect_uris = [ \"https://a.example/\" ]; }\n);\n",
	             4, "'name' in service must be");
}

static void test_error_redirect_uris(void **state)
{
	(void)state;
	static const struct {
		const char *uri, *needle;
	} bad[] = {
	    {"https://rp.example/cb#frag", "fragment"},
	    {"https://*.rp.example/cb", "wildcard"},
	    {"https://rp.example/*", "wildcard"},
	    {"http://rp.example/cb", "loopback"},
	    {"/cb", "absolute"},
	    {"rp.example/cb", "absolute"},
	    {"https://user:pw@rp.example/cb", "userinfo"},
	    {"https://rp.example@evil.example/cb", "userinfo"},
	    {"https://rp.example/a b", "whitespace"},
	    {"https:///cb", "empty host"},
	    {"javascript:alert(1)", "absolute"},
	};
	char text[600];
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(text, sizeof text,
		         HUB IDP SVC_HEAD "    secret_hash = \"" HASH "\";\n"
		                          "    redirect_uris = [\n"
		                          "      \"https://rp.example/ok\",\n"
		                          "      \"%s\",\n"
		                          "      \"https://rp.example/ok2\" ];\n" SVC_TAIL,
		         bad[i].uri);
		expect_error(text, 9, bad[i].needle);
	}
	expect_error(HUB IDP SVC_HEAD "    secret_hash = \"" HASH "\";\n"
	                              "    redirect_uris = [ \"https://a.example/\",\n"
	                              "      \"https://a.example/\" ];\n" SVC_TAIL,
	             8, "duplicate redirect URI");
	expect_error(HUB IDP SVC_HEAD "    secret_hash = \"" HASH "\";\n"
	                              "    redirect_uris = [ ];\n" SVC_TAIL,
	             7, "must have 1 to 16 entries");
}

static void test_error_client_auth(void **state)
{
	(void)state;
	static const char *const bad_hash[] = {
	    "cEQVfwniIK8tqwAiMWQUBxYxBBEYRaWLRGKc6LImJ8I",         /* no prefix */
	    "sha256:cEQVfwniIK8tqwAiMWQUBxYxBBEYRaWLRGKc6LImJ8",   /* 42 chars */
	    "sha256:cEQVfwniIK8tqwAiMWQUBxYxBBEYRaWLRGKc6LImJ8I=", /* padding */
	    "sha256:cEQVfwniIK8tqwAiMWQUBxYxBBEYRaWLRGKc6LImJ8+",  /* not base64url */
	    "sha256:cEQVfwniIK8tqwAiMWQUBxYxBBEYRaWLRGKc6LImJ8J",  /* non-canonical bits */
	    "sha1:cEQVfwniIK8tqwAiMWQUBxYxBBEY",
	    "",
	};
	char text[600];
	for (size_t i = 0; i < sizeof bad_hash / sizeof bad_hash[0]; i++) {
		snprintf(text, sizeof text,
		         HUB IDP SVC_HEAD "    redirect_uris = [ \"https://rp.example/cb\" ];\n"
		                          "    secret_hash = \"%s\";\n" SVC_TAIL,
		         bad_hash[i]);
		expect_error(text, 7, "'secret_hash' in service must be");
	}
	/* private_key_jwt without jwks: the service's line */
	expect_error(HUB IDP SVC_HEAD
	             "    auth_method = \"private_key_jwt\";\n"
	             "    redirect_uris = [ \"https://rp.example/cb\" ];\n" SVC_TAIL,
	             4, "private_key_jwt needs 'jwks' or 'jwks_uri'");
	expect_error(SVC("    auth_method = \"private_key_jwt\";\n"), 6,
	             "'secret_hash' in service is not used with private_key_jwt");
#define PKJ(extra)                                                                                 \
	HUB IDP SVC_HEAD "    auth_method = \"private_key_jwt\";\n"                                \
	                 "    redirect_uris = [ \"https://rp.example/cb\" ];\n" extra SVC_TAIL
	expect_error(PKJ("    jwks = \"{\\\"keys\\\":[{\\\"kty\\\":\\\"EC\\\"}]}\";\n"
	                 "    jwks_uri = \"https://rp.example/jwks\";\n"),
	             9, "set only one");
	expect_error(PKJ("    jwks = \"{not json\";\n"), 8, "'jwks' in service is not valid JSON");
	expect_error(PKJ("    jwks = \"[]\";\n"), 8, "non-empty \"keys\" array");
	expect_error(PKJ("    jwks = \"{\\\"keys\\\":{}}\";\n"), 8, "non-empty \"keys\" array");
	expect_error(PKJ("    jwks = \"{\\\"keys\\\":[]}\";\n"), 8, "non-empty \"keys\" array");
	expect_error(PKJ("    jwks = \"{\\\"keys\\\":[1]}\";\n"), 8, "\"kty\"");
	expect_error(
	    PKJ("    jwks = \"{\\\"keys\\\":[{\\\"kty\\\":\\\"EC\\\",\\\"d\\\":\\\"x\\\"}]}\";\n"),
	    8, "private key");
	expect_error(PKJ("    jwks_uri = \"http://rp.example/jwks\";\n"), 8, "loopback");

	hub_conf *c = load_ok(PKJ("    jwks_uri = \"http://127.0.0.1:9/jwks\";\n"));
	assert_string_equal(c->services[0].jwks_uri, "http://127.0.0.1:9/jwks");
	config_free(c);
#undef PKJ
}

/* ---- redirect URIs and lookups --------------------------------------------------------------- */

static void test_redirect_uri_ok(void **state)
{
	(void)state;
	static const struct {
		const char *uri;
		int ok;
	} cases[] = {
	    {"https://rp.example/cb", 1},
	    {"https://rp.example", 1},
	    {"https://rp.example:8443/cb?x=1&y=2", 1},
	    {"https://RP.Example/Cb", 1},
	    {"http://127.0.0.1:8080/demo/callback", 1},
	    {"http://127.0.0.1/cb", 1},
	    {"http://[::1]:3000/cb", 1},
	    {"http://localhost:3000/cb", 1},
	    {"http://LOCALHOST/cb", 1},
	    {"https://[2001:db8::1]/cb", 1},
	    {"https://rp.example/cb#", 0},
	    {"https://rp.example/cb#x", 0},
	    {"https://*.rp.example/cb", 0},
	    {"https://rp.example/c*b", 0},
	    {"http://rp.example/cb", 0},
	    {"http://127.0.0.1.evil.example/cb", 0},
	    {"http://localhost.evil.example/cb", 0},
	    {"http://[::2]/cb", 0},
	    {"http://127.0.0.1@evil.example/cb", 0},
	    {"https://user@rp.example/cb", 0},
	    {"https://rp.example\\@evil.example/", 0},
	    {"https://evil.example\\.rp.example/", 0},
	    {"/cb", 0},
	    {"cb", 0},
	    {"", 0},
	    {"https://", 0},
	    {"https:///cb", 0},
	    {"https://:443/cb", 0},
	    {"https://rp.example:/cb", 0},
	    {"https://rp.example:65536/cb", 0},
	    {"https://rp.example:x/cb", 0},
	    {"https://[::1/cb", 0},
	    {"https://[]/cb", 0},
	    {"HTTPS://rp.example/cb", 0},
	    {"javascript://rp.example/%0aalert(1)", 0},
	    {"data:text/html,x", 0},
	    {"https://rp.example/a b", 0},
	    {"https://rp.example/a\tb", 0},
	    {"https://rp.example/a\nb", 0},
	    {"https://rp.example/\x7f", 0},
	    {"https://rp.example/\xc3\xa4", 0},
	    {" https://rp.example/cb", 0},
	    {"https://rp.example/cb ", 0},
	};
	char why[128];
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		why[0] = 0;
		int ok = config_redirect_uri_ok(cases[i].uri, why, sizeof why);
		if (ok != cases[i].ok)
			fail_msg("config_redirect_uri_ok(\"%s\") = %d (%s), want %d", cases[i].uri,
			         ok, why, cases[i].ok);
		if (!ok)
			assert_true(why[0] != 0);
	}
	/* length limit: 2048 is fine, 2049 is not */
	char *long_uri = malloc(2050);
	assert_non_null(long_uri);
	memcpy(long_uri, "https://rp.example/", 19);
	memset(long_uri + 19, 'a', 2048 - 19);
	long_uri[2048] = 0;
	assert_true(config_redirect_uri_ok(long_uri, why, sizeof why));
	long_uri[2048] = 'a';
	long_uri[2049] = 0;
	assert_false(config_redirect_uri_ok(long_uri, why, sizeof why));
	assert_non_null(strstr(why, "2048"));
	free(long_uri);
	/* why may be NULL */
	assert_false(config_redirect_uri_ok("http://x.example/", NULL, 0));
	assert_false(config_redirect_uri_ok(NULL, why, sizeof why));
}

static void test_service_allows(void **state)
{
	(void)state;
	hub_conf *c = load_ok(
	    HUB "idps = (\n"
	        "  { id = \"p\"; adapter = \"sandbox\"; display_name = \"P\"; max_loa = \"" LOW
	        "\"; },\n"
	        "  { id = \"q\"; adapter = \"sandbox\"; display_name = \"Q\"; max_loa = \"" HIGH
	        "\"; }\n"
	        ");\n"
	        "services = (\n"
	        "  { client_id = \"all\"; name = \"All\"; secret_hash = \"" HASH "\";\n"
	        "    redirect_uris = [ \"https://a.example/cb\" ]; idps = [ ]; },\n"
	        "  { client_id = \"onlyq\"; name = \"Q\"; secret_hash = \"" HASH "\";\n"
	        "    redirect_uris = [ \"https://q.example/cb\" ]; idps = [ \"q\" ];\n"
	        "    scopes = [ ]; }\n"
	        ");\n");
	const service_conf *all = config_service(c, "all");
	const service_conf *onlyq = config_service(c, "onlyq");
	assert_non_null(all);
	assert_non_null(onlyq);
	assert_true(service_allows_idp(all, "p"));
	assert_true(service_allows_idp(all, "q"));
	assert_false(service_allows_idp(onlyq, "p"));
	assert_true(service_allows_idp(onlyq, "q"));
	assert_false(service_allows_idp(onlyq, "Q"));
	assert_false(service_allows_idp(onlyq, NULL));
	assert_false(service_allows_idp(NULL, "q"));

	assert_true(service_allows_scope(all, "openid"));
	assert_true(service_allows_scope(all, "profile"));
	assert_true(service_allows_scope(all, "email"));
	assert_false(service_allows_scope(all, "phone"));
	assert_false(service_allows_scope(all, ""));
	assert_int_equal(onlyq->nscopes, 1);
	assert_true(service_allows_scope(onlyq, "openid"));
	assert_false(service_allows_scope(onlyq, "profile"));
	assert_false(service_allows_scope(onlyq, NULL));
	assert_false(service_allows_scope(NULL, "openid"));
	config_free(c);
}

static void test_lookups(void **state)
{
	(void)state;
	hub_conf *c = load_ok(SVC(""));
	assert_non_null(config_service(c, "a"));
	assert_null(config_service(c, "A"));
	assert_null(config_service(c, ""));
	assert_null(config_service(c, NULL));
	assert_null(config_service(NULL, "a"));
	assert_string_equal(config_idp(c, "sb")->display_name, "Sandbox");
	assert_null(config_idp(c, "sandbox"));
	assert_null(config_idp(c, NULL));
	assert_int_equal(config_loa_level(c, LOW), 1);
	assert_int_equal(config_loa_level(c, SUBST), 2);
	assert_int_equal(config_loa_level(c, HIGH), 3);
	assert_int_equal(config_loa_level(c, "http://eidas.europa.eu/LoA/"), 0);
	assert_int_equal(config_loa_level(c, NULL), 0);
	assert_string_equal(config_loa_acr(c, 2), SUBST);
	assert_null(config_loa_acr(c, 0));
	assert_null(config_loa_acr(c, 4));
	assert_null(config_loa_acr(c, -1));
	assert_null(config_loa_acr(NULL, 1));
	config_free(c);
	config_free(NULL);

	assert_string_equal(client_auth_method_name(AUTH_CLIENT_SECRET_BASIC),
	                    "client_secret_basic");
	assert_string_equal(client_auth_method_name(AUTH_CLIENT_SECRET_POST), "client_secret_post");
	assert_string_equal(client_auth_method_name(AUTH_PRIVATE_KEY_JWT), "private_key_jwt");
	assert_null(client_auth_method_name(AUTH_METHOD_COUNT));
}

/* Errors at every depth, after partial allocation, must free all: LeakSanitizer checks at exit.
 * This walks a valid config and fails it at every later setting in turn. */
static void test_free_partial(void **state)
{
	(void)state;
	static const char *const tails[] = {
	    "",
	    "    sector = \"s\"; min_loa = \"" SUBST
	    "\"; idps = [ \"sb\" ]; scopes = [ \"email\" ];\n",
	    "    sector = \"s\"; min_loa = \"" SUBST "\"; idps = [ \"sb\" ]; scopes = [ \"x\" ];\n",
	    "    sector = \"s\"; min_loa = \"" SUBST "\"; idps = [ \"zz\" ];\n",
	    "    sector = \"s\"; min_loa = \"nope\";\n",
	    "    sector = \"s\"; id_token_alg = \"x\";\n",
	    "    sector = 5;\n",
	};
	for (int round = 0; round < 3; round++) {
		for (size_t i = 0; i < sizeof tails / sizeof tails[0]; i++) {
			char text[1200], *err = NULL;
			snprintf(text, sizeof text,
			         HUB IDP SVC_HEAD
			         "    secret_hash = \"" HASH "\";\n"
			         "    redirect_uris = [ \"https://rp.example/cb\" ];\n%s" SVC_TAIL,
			         tails[i]);
			hub_conf *c = load_text(text, &err);
			assert_true((c != NULL) == (i < 2));
			assert_true((err != NULL) == (i >= 2));
			config_free(c);
			free(err);
		}
	}
	/* settings fail after some were converted */
	char *err = NULL;
	assert_null(load_text(HUB "idps = ( { id = \"x\"; adapter = \"a\"; display_name = \"X\";\n"
	                          "  max_loa = \"" LOW
	                          "\"; settings = { a = 1; b = \"s\"; c = [1]; }; } );\n",
	                      &err));
	assert_non_null(strstr(err, ":3: 'c' in settings"));
	free(err);
}

/* branding: colours checked for WCAG AA contrast at load; the error names the colour's line */
static void test_branding(void **state)
{
	(void)state;
	hub_conf *c = load_ok(HUB);
	assert_null(c->branding.service_name); /* the catalog's name, in the citizen's language */
	assert_string_equal(c->branding.header_background, "#0b0c0c");
	assert_null(c->branding.help_url);
	config_free(c);
	c = load_ok(HUB
	            "branding = {\n  service_name = \"Sign in to council services\";\n"
	            "  organisation = \"Example Council\";\n  header_background = \"#1d3557\";\n"
	            "  help_url = \"https://example.org/help\";\n};\n");
	assert_string_equal(c->branding.service_name, "Sign in to council services");
	assert_string_equal(c->branding.organisation, "Example Council");
	assert_string_equal(c->branding.help_url, "https://example.org/help");
	config_free(c);
	/* grey #777777 on white is 4.48:1: just below AA */
	expect_error(
	    HUB "branding = {\n  service_name = \"S\";\n  link_colour = \"#777777\";\n};\n", 4,
	    "'link_colour' (#777777) on the white page (#ffffff) in branding has a contrast of "
	    "4.48:1");
	expect_error(HUB "branding = {\n  header_background = \"#ffdd00\";\n};\n", 3,
	             "'header_text' (#ffffff) on 'header_background' (#ffdd00)");
	expect_error(HUB "branding = {\n  button_background = \"#00703c\";\n  button_text = "
	                 "\"#000000\";\n};\n",
	             4, "WCAG AA needs at least 4.5:1");
	expect_error(HUB "branding = {\n  header_text = \"white\";\n};\n", 3, "#rrggbb");
	expect_error(HUB "branding = {\n  help_url = \"not a url\";\n};\n", 3, "'help_url'");
	expect_error(HUB "branding = {\n  logo = \"x\";\n};\n", 3, "unknown setting 'logo'");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_dev_conf),
	    cmocka_unit_test(test_example_conf),
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_service_policy),
	    cmocka_unit_test(test_all_hub_settings),
	    cmocka_unit_test(test_idp_settings),
	    cmocka_unit_test(test_service_values),
	    cmocka_unit_test(test_error_syntax),
	    cmocka_unit_test(test_error_io),
	    cmocka_unit_test(test_error_unknown_setting),
	    cmocka_unit_test(test_error_wrong_type),
	    cmocka_unit_test(test_error_range),
	    cmocka_unit_test(test_error_missing_required),
	    cmocka_unit_test(test_error_issuer),
	    cmocka_unit_test(test_error_idps),
	    cmocka_unit_test(test_error_services),
	    cmocka_unit_test(test_error_redirect_uris),
	    cmocka_unit_test(test_error_client_auth),
	    cmocka_unit_test(test_redirect_uri_ok),
	    cmocka_unit_test(test_service_allows),
	    cmocka_unit_test(test_lookups),
	    cmocka_unit_test(test_free_partial),
	    cmocka_unit_test(test_metrics_listen),
	    cmocka_unit_test(test_store_backend),
	    cmocka_unit_test(test_branding),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
