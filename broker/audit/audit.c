/* audit.c — the audit log (see audit.h): records written alone, in a change's batch, or riding with
 * a change's write (store_attach). */
#include "audit.h"
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

/* The record's JSON (malloc'd); 0 or STORE_ERR. Its key, the sequence number, is given by the
 * store inside the write transaction (store_append). */
static int make_record(char **json, const char *who, const char *what, const char *target,
                       const json_t *before, const json_t *after)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	json_t *rec = json_pack("{s:I, s:s, s:s, s:s}", "at", (json_int_t)tv.tv_sec, "who", who,
	                        "what", what, "target", target ? target : "");
	if (!rec)
		return STORE_ERR;
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
	char *js;
	if (make_record(&js, who, what, target, before, after))
		return STORE_ERR;
	int rc = store_append(s, NS_AUDIT, js, strlen(js));
	free(js);
	return rc;
}

int audit_batch_put(store_batch *b, const char *who, const char *what, const char *target,
                    const json_t *before, const json_t *after)
{
	char *js;
	if (make_record(&js, who, what, target, before, after))
		return STORE_ERR;
	store_batch_append(b, NS_AUDIT, js, strlen(js));
	free(js);
	return STORE_OK;
}

int audit_attach(store *s, const char *who, const char *what, const char *target,
                 const json_t *before, const json_t *after)
{
	char *js;
	if (make_record(&js, who, what, target, before, after))
		return STORE_ERR;
	int rc = store_attach_append(s, NS_AUDIT, js, strlen(js));
	free(js);
	return rc;
}

int audit_token(store *s, const char *service, const char *sub, const char *idp, int loa,
                const char *assertion, const char *jti)
{
	json_t *after =
	    json_pack("{s:s, s:s, s:s, s:i, s:s?, s:s}", "service", service, "sub", sub, "idp",
	              idp ? idp : "", "loa", loa, "assertion", assertion, "jti", jti);
	char *js;
	int rc = STORE_ERR;
	if (after && make_record(&js, "idhub", "token.issue", sub, NULL, after) == STORE_OK) {
		store_batch *b = store_batch_new();
		store_batch_append(b, NS_AUDIT, js, strlen(js));
		/* grouped with the other records of the last 10 ms in one synced commit: a login
		 * does not wait for an fsync of its own (see README, "the audit log") */
		rc = b ? store_batch_commit_deferred(s, b) : STORE_ERR;
		free(js);
	}
	json_decref(after);
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
