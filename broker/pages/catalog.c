/* catalog.c — message catalogs in GNU .mo form (made by msgfmt from broker/pages/po/, linked in by
 * catalogs.S) and the per-request language (see catalog.h). Read in place through the .mo's own
 * hash table (its sorted keys when it has none); nothing is allocated. */
#include "catalog.h"
#include <stdint.h>
#include <string.h>
#include <strings.h>

extern const unsigned char idhub_mo_en[], idhub_mo_en_end[], idhub_mo_cy[], idhub_mo_cy_end[];

static const unsigned char *const mo_start[LANG_COUNT] = {idhub_mo_en, idhub_mo_cy};
static const unsigned char *const mo_end[LANG_COUNT] = {idhub_mo_en_end, idhub_mo_cy_end};
static const char *const codes[LANG_COUNT] = {"en", "cy"};

/* The language of the request this thread serves: set at its start (pages_pick_lang). */
static _Thread_local int current;

static uint32_t word(const unsigned char *mo, size_t off)
{
	uint32_t v;
	memcpy(&v, mo + off, 4);
	return v; /* msgfmt writes the build machine's byte order, which is ours */
}

/* The string of entry i of a table (0: keys, 1: texts), or NULL when the catalog is malformed. */
static const char *entry(int lang, int table, size_t i)
{
	const unsigned char *mo = mo_start[lang];
	size_t size = (size_t)(mo_end[lang] - mo);
	if (size < 28 || word(mo, 0) != 0x950412deu || i >= word(mo, 8))
		return NULL;
	size_t t = word(mo, table ? 16 : 12) + 8 * i;
	if (t + 8 > size)
		return NULL;
	size_t len = word(mo, t), off = word(mo, t + 4);
	if (off >= size || len >= size - off || mo[off + len])
		return NULL;
	return (const char *)mo + off;
}

size_t catalog_count(int lang)
{
	const unsigned char *mo = mo_start[lang];
	return mo_end[lang] - mo >= 28 && word(mo, 0) == 0x950412deu ? word(mo, 8) : 0;
}

const char *catalog_key(int lang, size_t i)
{
	return entry(lang, 0, i);
}

/* The entry's text, or NULL when it is untranslated (an empty text: the caller falls back). */
static const char *text_of(int lang, size_t i)
{
	const char *v = entry(lang, 1, i);
	return v && *v ? v : NULL;
}

/* A binary search of the sorted keys: for a catalog made without a hash table (--no-hash). */
static const char *search(int lang, const char *key)
{
	size_t lo = 0, hi = catalog_count(lang);
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const char *k = entry(lang, 0, mid);
		if (!k)
			return NULL;
		int c = strcmp(key, k);
		if (c == 0)
			return text_of(lang, mid);
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/* gettext's hashpjw, the hash msgfmt filled the catalog's table with. */
static uint32_t hash_key(const char *s)
{
	uint32_t h = 0;
	for (; *s; s++) {
		h = (h << 4) + (unsigned char)*s;
		uint32_t g = h & 0xf0000000u;
		if (g)
			h ^= (g >> 24) ^ g;
	}
	return h;
}

/* The catalog's own hash table (double hashing, as gettext reads it): one or two probes where a
 * binary search takes seven. Each slot holds an entry's index + 1, or 0 for none. */
static const char *lookup(int lang, const char *key)
{
	const unsigned char *mo = mo_start[lang];
	size_t size = (size_t)(mo_end[lang] - mo);
	uint32_t n = size >= 28 ? word(mo, 20) : 0, off = n ? word(mo, 24) : 0;
	if (n < 3 || off > size || n > (size - off) / 4)
		return search(lang, key);
	uint32_t h = hash_key(key), i = h % n, step = 1 + h % (n - 2);
	for (uint32_t probes = 0; probes < n; probes++) {
		uint32_t e = word(mo, off + 4 * (size_t)i);
		if (e == 0)
			return NULL;
		const char *k = entry(lang, 0, e - 1); /* NULL when out of range */
		if (k && strcmp(k, key) == 0)
			return text_of(lang, e - 1);
		i = i >= n - step ? i - (n - step) : i + step;
	}
	return NULL;
}

const char *T_in(int lang, const char *key)
{
	const char *v = lang > LANG_EN && lang < LANG_COUNT ? lookup(lang, key) : NULL;
	if (!v)
		v = lookup(LANG_EN, key);
	return v ? v : key;
}

const char *T(const char *key)
{
	return T_in(current, key);
}

int pages_lang(void)
{
	return current;
}

const char *pages_lang_code(void)
{
	return codes[current];
}

const char *pages_lang_name(int lang)
{
	return lang >= 0 && lang < LANG_COUNT ? codes[lang] : NULL;
}

void pages_set_lang(int lang)
{
	current = lang >= 0 && lang < LANG_COUNT ? lang : LANG_EN;
}

int pages_lang_parse(const char *list)
{
	/* "cy-GB en;q=0.8" or "cy, en-GB;q=0.9": the first tag whose primary subtag we speak (a
	 * q=0 tag is a refusal, skipped) */
	for (const char *p = list; p && *p;) {
		p += strspn(p, " \t,");
		size_t n = strcspn(p, " \t,;-");
		size_t all = strcspn(p, " \t,");
		int refused = memmem(p, all, "q=0", 3) && !memmem(p, all, "q=0.", 4);
		for (int l = 0; l < LANG_COUNT && !refused; l++)
			if (n == 2 && strncasecmp(p, codes[l], 2) == 0)
				return l;
		p += all;
	}
	return -1;
}
