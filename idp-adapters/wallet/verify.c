/* verify.c — the whole chain of checks on a wallet's decrypted answer, run at the response_uri
 * before anything is parked: one PID presentation in the vp_token, the SD-JWT VC (issuer trust
 * and signature, vct, exp/nbf, disclosures, key binding to this login's nonce and time: sdjwt.c),
 * its Token Status List entry (status.c, fetched over the network: the adapter is
 * IDHUB_ADAPTER_NETWORK, so its pages run on the hub's blocking pool) and the claims this login
 * needs (mapping.c). Each refusal names the check that failed, for the metrics. */
#include "wallet_int.h"
#include <string.h>

/* The check a verification refusal names, from its message's fixed prefix (sdjwt.c, disclose.c,
 * kb.c, status.c): the metrics label, from a fixed list (never the message itself). */
static idhub_check check_of(const char *why)
{
	static const struct {
		const char *prefix;
		idhub_check check;
	} map[] = {{"issuer signature", IDHUB_CHECK_SIGNATURE},
	           {"issuer JWT", IDHUB_CHECK_FORMAT},
	           {"issuer: ", IDHUB_CHECK_TRUST},
	           {"vct ", IDHUB_CHECK_TYPE},
	           {"PID expired", IDHUB_CHECK_VALIDITY},
	           {"PID not yet", IDHUB_CHECK_VALIDITY},
	           {"disclosures", IDHUB_CHECK_DISCLOSURE},
	           {"key binding", IDHUB_CHECK_BINDING},
	           {"status list", IDHUB_CHECK_STATUS},
	           {"presentation", IDHUB_CHECK_FORMAT}};
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		if (!strncmp(why, map[i].prefix, strlen(map[i].prefix)))
			return map[i].check;
	return IDHUB_CHECK_FORMAT;
}

static int one_presentation(json_t *vp, const char **p)
{
	/* OpenID4VP 1.0 §8.1: vp_token is an object keyed by the DCQL credential id, each an array
	 * of presentations; we asked for exactly one PID */
	json_t *arr = json_object_get(vp, "pid");
	*p = json_string_value(json_array_get(arr, 0));
	return json_object_size(vp) == 1 && json_array_size(arr) == 1 && *p ? 0 : -1;
}

int wallet_verify_answer(const wallet *w, idhub_arena *a, json_t *vp, const wallet_kb_expect *kb,
                         json_t *wanted, json_t **claims, int64_t *auth_time, idhub_check *chk,
                         char *why, size_t whylen)
{
	const char *pres;
	char sub[256];
	*claims = NULL;
	*chk = IDHUB_CHECK_FORMAT;
	if (one_presentation(vp, &pres)) {
		snprintf(why, whylen, "vp_token: not one PID presentation");
		return -1;
	}
	if (wallet_sdjwt_verify(w, a, pres, kb, claims, auth_time, sub, sizeof sub)) {
		*chk = check_of(sub);
		snprintf(why, whylen, "PID refused: %s", sub);
		return -1;
	}
	int rc = -1;
	/* a presentation that cannot sign the citizen in (a wanted claim withheld, no subject) is
	 * refused here too, so that it never takes the login's one answer; before the status list,
	 * so that such an answer costs no fetch */
	if (wallet_claims_ok(w, wanted, *claims, why, whylen))
		*chk = IDHUB_CHECK_CLAIMS;
	else if (wallet_status_check(w, a, *claims, sub, sizeof sub))
		*chk = IDHUB_CHECK_STATUS, snprintf(why, whylen, "PID refused: %s", sub);
	else
		rc = 0;
	if (rc) {
		json_decref(*claims);
		*claims = NULL;
	}
	return rc;
}
