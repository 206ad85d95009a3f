/* wallet_int.h — the OpenID4VP 1.0 verifier adapter's internal interface: its context, settings and
 * the functions each of its files owns (request object, DCQL, JWE, SD-JWT VC, key binding,
 * mapping, the answer's whole verification, ES256 and certificates). */
#ifndef WALLET_INT_H
#define WALLET_INT_H
#include <idhub/adapter.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

enum {
	S_VERIFIER_KEY,
	S_VERIFIER_CERT,
	S_CLIENT_ID_DNS,
	S_TRUST_ANCHORS,
	S_VCT,
	S_CLAIMS,
	S_SUBJECT_CLAIM,
	S_SUBJECT_KEY,
	S_LEVEL,
	S_RESPONSE_TTL,
	S_KB_MAX_AGE,
	S_LEEWAY,
	S_REQUIRE_STATUS,
	S_ISSUER_LEVELS,
	S_TRUST_REFRESH,
	S_LINK_SCHEME,
	S_COUNT
};

typedef struct wallet {
	const idhub_services *svc;
	const idhub_adapter_config *cfg;
	EVP_PKEY *verifier_key;
	json_t *x5c;            /* the verifier's certificate chain, base64 DER, leaf first */
	X509_STORE *anchors;    /* trusted PID issuer CAs, as read at init */
	idhub_doc *anchors_doc; /* the same file, reread by the hub every trust_refresh */
	char client_id[300];    /* "x509_san_dns:<host>" */
	unsigned char subject_key[64];
	size_t subject_key_len;
	char script_hash[64]; /* "sha256-<base64>" of wallet_wait_script, for the page's CSP */
} wallet;

/* The most a wallet's POST, a JWE or an SD-JWT may be. */
#define WALLET_MAX_RESPONSE (48 * 1024)

/* es256.c: ES256 JWS over OpenSSL. sign returns the compact JWS on the arena or NULL. */
const char *wallet_es256_sign(const wallet *w, idhub_arena *a, EVP_PKEY *key, json_t *header,
                              json_t *payload);
/* verify the compact JWS tok with key; 0 with *header and *payload (json, caller decrefs), or -1
 * with why. The header's alg must be ES256. */
int wallet_es256_verify(const wallet *w, idhub_arena *a, EVP_PKEY *key, const char *tok,
                        json_t **header, json_t **payload, char *why, size_t whylen);
/* Decodes a compact JWS's header and payload without checking its signature (-1 if malformed). */
int wallet_jws_parts(const wallet *w, idhub_arena *a, const char *tok, json_t **header,
                     json_t **payload);
/* A public P-256 key from an EC JWK (NULL when it is not one). */
EVP_PKEY *wallet_jwk_to_key(const wallet *w, idhub_arena *a, json_t *jwk);
/* The public JWK of a P-256 key, as json (caller decrefs), or NULL. */
json_t *wallet_key_to_jwk(const wallet *w, idhub_arena *a, EVP_PKEY *key);

/* certs.c: the verifier's key and chain, the trust anchors, an issuer's x5c chain. */
int wallet_load_verifier(wallet *w, idhub_error *err);
int wallet_load_anchors(wallet *w, idhub_error *err);
/* Verifies the x5c header chain against the anchors, and (iss non-NULL) that the leaf names iss
 * as a URI or DNS subjectAltName; the leaf's key in *key (EVP_PKEY_free). */
int wallet_x5c_key(const wallet *w, idhub_arena *a, json_t *x5c, const char *iss, EVP_PKEY **key,
                   char *why, size_t whylen);

/* dcql.c: a PID claim's OIDC name; whether configured claim i is wanted by this login's
 * service; the wanted configured claims (PID names, caller decrefs); the DCQL query for a PID
 * asking for wanted (caller decrefs). */
const char *wallet_oidc_name(const char *pid);
int wallet_claim_wanted(const wallet *w, const idhub_login_request *req, size_t i);
json_t *wallet_wanted(const wallet *w, const idhub_login_request *req);
json_t *wallet_dcql(const wallet *w, json_t *wanted);

/* request.c: the signed request object for one login (compact JWS on the arena) or NULL. */
const char *wallet_request_object(const wallet *w, idhub_arena *a, const char *rid,
                                  const char *flow, const char *nonce, json_t *wanted,
                                  json_t *enc_jwk);

/* serve.c: the waiting page's script (progressive enhancement: polls the login's status and
 * moves on as soon as the wallet has answered), and its hash for the CSP, set at init. */
extern const char wallet_wait_script[];
void wallet_script_hash(wallet *w);
/* serve.c: the URL of the adapter's page (request, response) for login rid and flow. */
const char *wallet_url(const wallet *w, idhub_arena *a, const char *page, const char *rid,
                       const char *flow);

/* qr.c: text as a QR code in SVG named by title (escaped HTML), on the arena, or NULL. */
const char *wallet_qr_svg(const wallet *w, idhub_arena *a, const char *text, const char *title);

/* jwe.c: an ephemeral P-256 key per request, and ECDH-ES + A128GCM/A256GCM decryption. */
EVP_PKEY *wallet_ephemeral_new(void);
char *wallet_ephemeral_save(const wallet *w, idhub_arena *a, EVP_PKEY *k);
EVP_PKEY *wallet_ephemeral_load(const wallet *w, idhub_arena *a, const char *saved);
/* Decrypts compact JWE jwe with key (kid must match); the plaintext on the arena, or NULL with
 * why. */
char *wallet_jwe_decrypt(const wallet *w, idhub_arena *a, EVP_PKEY *key, const char *kid,
                         const char *jwe, size_t *len, char *why, size_t whylen);

/* sdjwt.c: verifies an SD-JWT VC presentation (issuer signature, x5c chain, vct, exp/nbf,
 * disclosures, key binding); on 0 *claims holds the disclosed payload (caller decrefs). */
typedef struct wallet_kb_expect {
	const char *nonce;
	int64_t now;
	int64_t started; /* when the login began: a KB-JWT cannot be older (0: not checked) */
} wallet_kb_expect;
int wallet_sdjwt_verify(const wallet *w, idhub_arena *a, const char *sdjwt,
                        const wallet_kb_expect *kb, json_t **claims, int64_t *auth_time, char *why,
                        size_t whylen);
/* disclose.c: the selective disclosures (every one referenced once, no duplicate digest). */
int wallet_disclose(const wallet *w, idhub_arena *a, json_t *payload, char **disclosures, size_t n,
                    char *why, size_t whylen);
/* kb.c: the key-binding JWT against the cnf key, aud, nonce, iat and sd_hash. */
int wallet_kb_verify(const wallet *w, idhub_arena *a, json_t *payload, const char *kbjwt,
                     const char *presented, size_t presented_len, const wallet_kb_expect *kb,
                     int64_t *iat, char *why, size_t whylen);

/* status.c: the Token Status List entry the PID names, if any (fetched, signature, zlib). */
int wallet_status_check(const wallet *w, idhub_arena *a, json_t *claims, char *why, size_t whylen);

/* mapping.c: the level for a PID issuer (its iss): issuer_levels, else level; -1 if malformed. */
int wallet_issuer_level(const wallet *w, const char *iss);
/* mapping.c: the hub identity from verified PID claims. */
int wallet_map(const wallet *w, idhub_arena *a, const idhub_login_request *req, json_t *claims,
               int64_t auth_time, const char *upstream_id, idhub_identity *out, idhub_error *err);
/* mapping.c: 0 when claims hold every wanted claim (an array of PID names) and a subject, else -1
 * with why (wallet_map's reasons). */
int wallet_claims_ok(const wallet *w, json_t *wanted, json_t *claims, char *why, size_t whylen);

/* verify.c: the whole chain of checks on a decrypted vp_token (one PID presentation,
 * wallet_sdjwt_verify with kb, the status list, wallet_claims_ok for wanted); 0 with *claims
 * (caller decrefs) and *auth_time, or -1 with the check that failed and why ("PID refused: ..."
 * for the credential's own checks). May fetch the status list (blocking). */
int wallet_verify_answer(const wallet *w, idhub_arena *a, json_t *vp, const wallet_kb_expect *kb,
                         json_t *wanted, json_t **claims, int64_t *auth_time, idhub_check *chk,
                         char *why, size_t whylen);
#endif
