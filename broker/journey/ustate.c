/* ustate.c — upstream request ids that say whether the hub made them, and until when (ustate.h).
 *
 * 32 bytes, base64url: 16 random bytes (the id's 128 bits of unguessability), the expiry
 * (8 bytes, big-endian UNIX seconds: the journey's own end, as the NS_USTATE record's TTL), and
 * the first 8 bytes of HMAC-SHA256 under the journey seal secret of a label and the first 24. A
 * made-up state fails the MAC with probability 1 - 2^-64; one that passed by chance still finds
 * nothing in the store, so the MAC decides the wording of a refusal and never lets a state in. */
#include "ustate.h"
#include "journey.h"
#include "../util/b64url.h"
#include "../util/random.h"
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <string.h>

#define RND_LEN 16
#define EXP_LEN 8
#define MAC_LEN 8
#define RID_LEN (RND_LEN + EXP_LEN + MAC_LEN)

/* a label of its own: the seal secret's other HMACs (journey.c's token keys) take 16-byte salts */
static const unsigned char rid_label[] = "idhub upstream state v1";

static int rid_mac(const hub *h, const unsigned char in[RND_LEN + EXP_LEN],
                   unsigned char mac[MAC_LEN])
{
	unsigned char msg[sizeof rid_label - 1 + RND_LEN + EXP_LEN], d[32];
	unsigned int n = sizeof d;
	memcpy(msg, rid_label, sizeof rid_label - 1);
	memcpy(msg + sizeof rid_label - 1, in, RND_LEN + EXP_LEN);
	if (!HMAC(EVP_sha256(), h->seal_key, sizeof h->seal_key, msg, sizeof msg, d, &n))
		return -1;
	memcpy(mac, d, MAC_LEN);
	return 0;
}

int ustate_new(const hub *h, int64_t expires, char out[44])
{
	unsigned char raw[RID_LEN];
	if (random_bytes(raw, RND_LEN))
		return -1;
	for (int i = 0; i < EXP_LEN; i++)
		raw[RND_LEN + i] = (unsigned char)((uint64_t)expires >> (8 * (EXP_LEN - 1 - i)));
	if (rid_mac(h, raw, raw + RND_LEN + EXP_LEN))
		return -1;
	b64url_encode(out, raw, RID_LEN);
	return 0;
}

int ustate_gone(const hub *h, const char *rid)
{
	unsigned char raw[RID_LEN + 2], mac[MAC_LEN];
	if (!rid || strlen(rid) != 43 || b64url_decode(raw, rid, 43) != RID_LEN ||
	    rid_mac(h, raw, mac) || CRYPTO_memcmp(mac, raw + RND_LEN + EXP_LEN, MAC_LEN))
		return JOURNEY_GONE_INVALID;
	uint64_t e = 0;
	for (int i = 0; i < EXP_LEN; i++)
		e = e << 8 | raw[RND_LEN + i];
	/* a state of ours the store no longer holds: its time ran out, or it was spent (taken by
	 * the callback that finished or refused its login) */
	return hub_now(h) >= (int64_t)e ? JOURNEY_GONE_EXPIRED : JOURNEY_GONE_FINISHED;
}
