/* random.c — CSPRNG wrappers (see random.h). */
#include "random.h"
#include "b64url.h"
#include <openssl/rand.h>

int random_bytes(void *out, size_t n)
{
	return RAND_bytes(out, (int)n) == 1 ? 0 : -1;
}

int random_token(char out[44])
{
	unsigned char r[32];
	if (random_bytes(r, sizeof r))
		return -1;
	b64url_encode(out, r, sizeof r);
	return 0;
}
