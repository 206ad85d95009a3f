/* fuzz_form.c — libFuzzer target for the x-www-form-urlencoded parser (broker/util/form.c): each
 * input is parsed as a query (FORM_MAX_VALUE) and as a POST body (524288) in a fresh arena, and the
 * result is checked: a known FORM_ code; on success at most FORM_MAX_PARAMS pairs, every name
 * non-empty and at most FORM_MAX_NAME bytes, every value at most the limit, each a NUL-terminated
 * string with no NUL inside what it decodes from, and form_get agreeing with the pairs. abort() on
 * any violation.
 */
#include "util/arena.h"
#include "util/form.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Checks the result of one form_parse of size input bytes with limit max_value. */
static void check(const form *f, int rc, size_t max_value, size_t size)
{
	if (rc != FORM_OK && rc != FORM_BAD_ENCODING && rc != FORM_TOO_MANY && rc != FORM_TOO_LONG)
		abort();
	if (rc != FORM_OK)
		return;
	if (f->n > FORM_MAX_PARAMS)
		abort();
	if (f->n && !f->kv)
		abort();
	for (size_t i = 0; i < f->n; i++) {
		const char *name = f->kv[i].name, *value = f->kv[i].value;
		if (!name || !value)
			abort();
		/* strnlen bounded by the input size: a missing terminator shows as reaching the
		 * bound (and as an ASan report when it runs off the allocation) */
		size_t ln = strnlen(name, size + 1), lv = strnlen(value, size + 1);
		if (ln > size || lv > size)
			abort();
		if (ln == 0 || ln > FORM_MAX_NAME || lv > max_value)
			abort();
		int count = -1;
		const char *first = form_get(f, name, &count);
		if (!first || count < 1 || (size_t)count > f->n)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* a copy of exactly size bytes, so reading past len is an ASan report */
	char *s = malloc(size ? size : 1);
	if (!s)
		return 0;
	if (size)
		memcpy(s, data, size);
	static const size_t limits[] = {FORM_MAX_VALUE, 524288};
	for (size_t k = 0; k < 2; k++) {
		arena *a = arena_new();
		if (!a)
			abort();
		form f = {0};
		int rc = form_parse(a, &f, s, size, limits[k]);
		check(&f, rc, limits[k], size);
		/* parsing the same input again, appended, never exceeds the total limit */
		if (rc == FORM_OK) {
			size_t before = f.n;
			rc = form_parse(a, &f, s, size, limits[k]);
			check(&f, rc, limits[k], size);
			if (rc == FORM_OK && f.n != 2 * before)
				abort();
		}
		arena_free(a);
	}
	free(s);
	return 0;
}
