/* random.h — unguessable identifiers from the OpenSSL CSPRNG. */
#ifndef IDHUB_RANDOM_H
#define IDHUB_RANDOM_H
#include <stddef.h>

/* Fills out with n random bytes. Returns 0, or -1 if the RNG failed (callers must refuse the
 * request). */
int random_bytes(void *out, size_t n);
/* Writes the base64url of 32 random bytes (43 chars + NUL) into out[44]. Returns 0 or -1. */
int random_token(char out[44]);

#endif
