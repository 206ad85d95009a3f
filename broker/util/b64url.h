/* b64url.h — base64url (RFC 4648 §5, no padding) and standard base64 decoding. */
#ifndef IDHUB_B64URL_H
#define IDHUB_B64URL_H
#include <stddef.h>

/* Size of the encoding of n bytes, without terminator. */
size_t b64url_enc_len(size_t n);
/* Encodes n bytes into out (b64url_enc_len(n)+1 bytes) and NUL-terminates it. Returns the length.
 */
size_t b64url_encode(char *out, const void *in, size_t n);
/* Decodes base64url without padding (padding '=' is refused, as JOSE requires). out needs
 * (len*3)/4+1 bytes. Returns the decoded length, or -1 on any invalid character or shape. */
long b64url_decode(void *out, const char *in, size_t len);
/* Decodes standard base64 with optional padding (HTTP Basic). Same contract as b64url_decode. */
long b64_decode(void *out, const char *in, size_t len);

#endif
