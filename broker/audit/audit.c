/* audit.c — the audit log (see audit.h): records written alone, in a change's batch, or riding with
 * a change's write (store_attach). */
#include "audit.h"
#include "../util/random.h"
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

const char *audit_actor(char *buf, size_t len)
{
	struct passwd *pw = getpwuid(getuid());
	const char *user = pw ? pw->pw_name : "?";
	const char *sudo = getenv("SUDO_USER");
	if (sudo && *sudo)
		snprintf(buf, len, "%s (via sudo by %s)", user, sudo);
	else
		snprintf(buf, len, "%s", user);
	return buf;
}

/* The record's key (time-ordered) and its JSON (malloc'd); 0 or STORE_ERR. */
static int make_record(unsigned char key[16], char **json, const char *who, const char *what,
                       const char *target, const json_t *before, const json_t *after)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	uint64_t us = (uint64_t)tv.tv_sec * 1000000u + (uint64_t)tv.tv_usec;
	for (int i = 0; i < 8; i++)
		key[i] = (unsigned char)(us >> (56 - 8 * i));
	if (random_bytes(key + 8, 8))
		return STORE_ERR;
	json_t *rec = json_pack("{s:I, s:s, s:s, s:s}", "at", (json_int_t)tv.tv_sec, "who", who,
	                        "what", what, "target", target ? target : "");
	if (before)
		json_object_set(rec, "before", (json_t *)before);
	if (after)
		json_object_set(rec, "after", (json_t *)after);
	*json = json_dumps(rec, JSON_COMPACT);
	json_decref(rec);
	return *json ? STORE_OK : STORE_ERR;
}

int audit_append(store *s, const char *who, const char *what, const char *target,
                 const json_t *before, const json_t *after)
{
	unsigned char key[16];
	char *js;
	if (make_record(key, &js, who, what, target, before, after))
		return STORE_ERR;
	int rc = store_put_new(s, NS_AUDIT, key, sizeof key, js, strlen(js), 0);
	free(js);
	return rc;
}

int audit_batch_put(store_batch *b, const char *who, const char *what, const char *target,
                    const json_t *before, const json_t *after)
{
	unsigned char key[16];
	char *js;
	if (make_record(key, &js, who, what, target, before, after))
		return STORE_ERR;
	store_batch_put_new(b, NS_AUDIT, key, sizeof key, js, strlen(js), 0);
	free(js);
	return STORE_OK;
}

int audit_attach(store *s, const char *who, const char *what, const char *target,
                 const json_t *before, const json_t *after)
{
	unsigned char key[16];
	char *js;
	if (make_record(key, &js, who, what, target, before, after))
		return STORE_ERR;
	int rc = store_attach(s, NS_AUDIT, key, sizeof key, js, strlen(js));
	free(js);
	return rc;
}

struct each_ctx {
	int (*fn)(void *arg, const json_t *rec);
	void *arg;
};

static int each_one(void *arg, const void *key, size_t klen, const void *val, size_t vlen,
                    int64_t expires)
{
	(void)key;
	(void)klen;
	(void)expires;
	struct each_ctx *c = arg;
	json_t *rec = json_loadb(val, vlen, 0, NULL);
	int rc = rec ? c->fn(c->arg, rec) : 0;
	json_decref(rec);
	return rc;
}

int audit_each(store *s, int (*fn)(void *arg, const json_t *rec), void *arg)
{
	struct each_ctx c = {fn, arg};
	return store_iter(s, NS_AUDIT, each_one, &c);
}
