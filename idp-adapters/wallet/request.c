/* request.c — the signed request object (OpenID4VP 1.0 §5, passed by reference with request_uri,
 * JAR typ oauth-authz-req+jwt): client_id with the x509_san_dns prefix and the verifier's chain
 * in x5c, response_mode direct_post.jwt to this login's response_uri, the login's nonce, the DCQL
 * query, and client_metadata carrying the fresh encryption key of this request. */
#include "wallet_int.h"
#include <string.h>

const char *wallet_request_object(const wallet *w, idhub_arena *a, const char *rid,
                                  const char *flow, const char *nonce, json_t *wanted,
                                  json_t *enc_jwk)
{
	const idhub_services *s = w->svc;
	int64_t now = s->now(s->inst);
	const char *response_uri = wallet_url(w, a, "response", rid, flow);
	json_t *hdr =
	    json_pack("{s:s,s:s,s:O}", "alg", "ES256", "typ", "oauth-authz-req+jwt", "x5c", w->x5c);
	json_t *meta = json_pack("{s:{s:[O]},s:[s,s],s:{s:{s:[s],s:[s]}}}", "jwks", "keys", enc_jwk,
	                         "encrypted_response_enc_values_supported", "A128GCM", "A256GCM",
	                         "vp_formats_supported", "dc+sd-jwt", "sd-jwt_alg_values", "ES256",
	                         "kb-jwt_alg_values", "ES256");
	json_t *p = json_pack(
	    "{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:o,s:o,s:I,s:I}", "iss", w->client_id, "aud",
	    "https://self-issued.me/v2", "client_id", w->client_id, "response_type", "vp_token",
	    "response_mode", "direct_post.jwt", "response_uri", response_uri, "nonce", nonce,
	    "dcql_query", wallet_dcql(w, wanted), "client_metadata", meta, "iat", (json_int_t)now,
	    "exp", (json_int_t)(now + w->cfg->values[S_RESPONSE_TTL].num));
	/* state (§5.2) is not needed: the response_uri names the login, and the JWE is encrypted
	 * to this login's key */
	const char *jws = hdr && p ? wallet_es256_sign(w, a, w->verifier_key, hdr, p) : NULL;
	json_decref(hdr);
	json_decref(p);
	return jws;
}
