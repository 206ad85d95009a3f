/* form.h — strict parser for application/x-www-form-urlencoded data (query strings and POST
 * bodies).
 *
 * Untrusted input: every limit is enforced here, so nothing above sees an oversized or malformed
 * parameter. Duplicated names are kept (in order) so that callers can refuse them where OAuth says
 * a parameter must not repeat (RFC 6749 §3.1).
 */
#ifndef IDHUB_FORM_H
#define IDHUB_FORM_H
#include "arena.h"
#include <idhub/adapter.h>
#include <stddef.h>

enum { FORM_MAX_PARAMS = 64, FORM_MAX_VALUE = 4096, FORM_MAX_NAME = 128 };

enum { FORM_OK = 0, FORM_BAD_ENCODING = -1, FORM_TOO_MANY = -2, FORM_TOO_LONG = -3 };

typedef struct form {
	idhub_kv *kv; /* decoded name/value pairs, arena-owned */
	size_t n;
} form;

/* Parses len bytes of s, appending to f (which may already hold pairs: query then body).
 * '+' is a space, %XX is decoded; a bad escape, a NUL byte after decoding, a name over
 * FORM_MAX_NAME, a value over max_value, or more than FORM_MAX_PARAMS pairs in total is an error.
 * Empty names are skipped ("a=1&&b=2"). Returns FORM_OK or a negative FORM_ code. */
int form_parse(arena *a, form *f, const char *s, size_t len, size_t max_value);
/* Percent-decodes into the arena; NULL on a bad escape or an embedded NUL. '+' becomes a space when
 * plus_is_space. */
char *form_decode(arena *a, const char *s, size_t len, int plus_is_space);
/* The value of name, or NULL. *count (if non-NULL) receives how many times name occurs. */
const char *form_get(const form *f, const char *name, int *count);
/* Like form_get, but a parameter with an empty value counts as absent: RFC 6749 §3.1 says
 * "parameters sent without a value MUST be treated as if they were omitted". For OAuth endpoints.
 * Repetition still counts every occurrence: with two or more (empty or not) *count is their
 * number, so a caller that refuses *count > 1 refuses "x=&x=1"; *count == 1 means a non-empty
 * value is returned. */
const char *form_param(const form *f, const char *name, int *count);
/* Human-readable text for a FORM_ code. */
const char *form_strerror(int code);

/* Whether the space-separated list (an OAuth scope, prompt or acr_values) holds word exactly. */
int form_has_word(const char *list, const char *word);

#endif
