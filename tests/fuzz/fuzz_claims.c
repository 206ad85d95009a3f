/* fuzz_claims.c — libFuzzer target for the claims request parameter (broker/claims/claims.c): each
 * input is parsed as the parameter, and the result is checked: never both a request and an error;
 * an error for anything over CLAIMS_PARAM_MAX; a request is its reduced form, two non-empty hex
 * bit sets of at most 17 characters in all, small enough for the sealed first leg. The
 * request is then released against a fixed identity for a service allowed only "profile": nothing
 * outside that scope may come out. abort() on any violation.
 */
#include "claims/claims.h"
#include "util/arena.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_request(const char *req)
{
	unsigned int idt, ui;
	char end;
	if (strlen(req) > 17 || sscanf(req, "%x.%x%c", &idt, &ui, &end) != 2 || !(idt | ui))
		abort();
}

static void check_release(const char *req)
{
	static char *scopes[] = {"openid", "profile"};
	service_conf svc = {.scopes = scopes, .nscopes = 2};
	static const idhub_kv attrs[] = {{"name", "A B"},
	                                 {"email", "a@example.org"},
	                                 {"phone_number", "+44"},
	                                 {"address", "{\"country\":\"GB\"}"}};
	idhub_identity id = {.subject = "s", .attrs = attrs, .nattrs = 4};
	json_t *ui, *idt;
	claims_release(&svc, "openid", req, &id, &ui, &idt);
	const char *k;
	json_t *v;
	json_object_foreach(ui, k, v) if (strcmp(k, "name")) abort();
	json_object_foreach(idt, k, v) if (strcmp(k, "name")) abort();
	json_decref(ui);
	json_decref(idt);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = 0;
	arena *a = arena_new();
	const char *why = NULL;
	const char *req = a ? claims_request_parse(a, s, &why) : NULL;
	if (req && why)
		abort();
	if (strlen(s) > CLAIMS_PARAM_MAX && !why)
		abort();
	if (req) {
		check_request(req);
		check_release(req);
	}
	arena_free(a);
	free(s);
	return 0;
}
