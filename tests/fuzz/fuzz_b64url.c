/* fuzz_b64url.c — libFuzzer target for base64url and base64 (broker/util/b64url.c): the input is
 * decoded with both decoders into exactly-sized buffers; whenever b64url_decode accepts it,
 * re-encoding must give back exactly the input (one encoding per value); b64_decode must agree
 * with it on inputs of the shared alphabet; and the input as raw bytes must round-trip through
 * b64url_encode and b64url_decode. abort() on any violation.
 */
#include "util/b64url.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	size_t cap = size * 3 / 4 + 1;
	unsigned char *d1 = malloc(cap), *d2 = malloc(cap);
	if (!d1 || !d2)
		abort();

	long n1 = b64url_decode(d1, in, size);
	long n2 = b64_decode(d2, in, size);
	if (n1 < -1 || n2 < -1 || n1 >= (long)cap || n2 >= (long)cap)
		abort();
	if (n1 >= 0) {
		if ((size_t)n1 != size * 3 / 4 || b64url_enc_len((size_t)n1) != size)
			abort();
		char *e = malloc(size + 1);
		if (!e)
			abort();
		if (b64url_encode(e, d1, (size_t)n1) != size || memcmp(e, in, size) != 0 || e[size])
			abort();
		free(e);
		/* without '-' and '_' the standard decoder accepts the same text, unpadded */
		if (!memchr(in, '-', size) && !memchr(in, '_', size)) {
			if (n2 != n1 || memcmp(d1, d2, (size_t)n1) != 0)
				abort();
		}
	}
	/* whatever b64_decode accepts contains no URL-only character and re-encodes to its input */
	if (n2 >= 0) {
		if (memchr(in, '-', size) || memchr(in, '_', size))
			abort();
		size_t el = b64url_enc_len((size_t)n2);
		char *e = malloc(el + 1);
		if (!e)
			abort();
		b64url_encode(e, d2, (size_t)n2);
		for (size_t i = 0; i < el; i++)
			if (e[i] == '-')
				e[i] = '+';
			else if (e[i] == '_')
				e[i] = '/';
		if (el > size || memcmp(e, in, el) != 0)
			abort();
		for (size_t i = el; i < size; i++)
			if (in[i] != '=')
				abort();
		free(e);
	}
	free(d1);
	free(d2);

	/* the input as raw bytes: encode, then decode */
	size_t el = b64url_enc_len(size);
	char *e = malloc(el + 1);
	unsigned char *back = malloc(el * 3 / 4 + 1);
	if (!e || !back)
		abort();
	if (b64url_encode(e, data, size) != el || strlen(e) != el)
		abort();
	if (b64url_decode(back, e, el) != (long)size || (size && memcmp(back, data, size) != 0))
		abort();
	free(e);
	free(back);
	return 0;
}
