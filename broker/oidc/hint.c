/* hint.c — verifying the hub's own ID tokens sent back as hints (see hint.h). */
#include "hint.h"
#include "../tokens/jws.h"
#include <string.h>
#include <strings.h>

#define HINT_MAX 8192

static int audiences(arena *a, json_t *aud, id_hint *out)
{
	size_t n = json_is_array(aud) ? json_array_size(aud) : 1;
	if (n == 0 || n > 16)
		return -2;
	out->aud = arena_alloc(a, (n + 1) * sizeof *out->aud);
	if (json_is_string(aud)) {
		out->aud[0] = arena_strdup(a, json_string_value(aud));
		return 0;
	}
	if (!json_is_array(aud))
		return -2;
	for (size_t i = 0; i < n; i++) {
		const char *s = json_string_value(json_array_get(aud, i));
		if (!s)
			return -2;
		out->aud[i] = arena_strdup(a, s);
	}
	return 0;
}

int oidc_id_hint(hub *h, arena *a, const char *tok, id_hint *out)
{
	memset(out, 0, sizeof *out);
	jws_parsed p;
	if (!tok || jws_parse(a, tok, HINT_MAX, &p))
		return -1;
	int rc = 0;
	keyring *kr = keys_cache_get(h->keys);
	const signing_key *k = p.kid && kr ? keyring_find(kr, p.kid) : NULL;
	const char *typ = json_string_value(json_object_get(p.header, "typ"));
	const char *iss = json_string_value(json_object_get(p.payload, "iss"));
	const char *sub = json_string_value(json_object_get(p.payload, "sub"));
	/* the algorithm is the key's (jws_verify also checks the header names it): an access token
	 * (typ at+jwt) signed by the same keys is not an ID token */
	if (!k || jws_verify(&p, k->pkey, k->alg) != 0 || !typ || strcasecmp(typ, "JWT") != 0 ||
	    !iss || strcmp(iss, h->cfg->issuer) != 0 || !sub)
		rc = -2;
	else
		rc = audiences(a, json_object_get(p.payload, "aud"), out);
	if (rc == 0) {
		out->sub = arena_strdup(a, sub);
		out->sid = arena_strdup(a, json_string_value(json_object_get(p.payload, "sid")));
	}
	keyring_unref(kr);
	jws_parsed_free(&p);
	return rc;
}

int oidc_id_hint_for(const id_hint *hint, const char *client_id)
{
	for (size_t i = 0; hint->aud && hint->aud[i]; i++)
		if (strcmp(hint->aud[i], client_id) == 0)
			return 1;
	return 0;
}
