/* serve.c — the wallet adapter's pages under /idp/<id>/: the browser's page with the
 * openid4vp:// link (same device), the request object fetched by the wallet (request_uri), and
 * the response_uri the wallet posts its encrypted answer to (direct_post.jwt). The answer is
 * decrypted with this login's key, verified (verify.c) and, only when verified, parked with its
 * claims in the journey's scratch record for finish, and the wallet is given a redirect_uri with
 * a one-time response code (OpenID4VP 1.0 §8.2, §13.3). A refused answer leaves the login waiting.
 * The page's Back and "choose another way" (/cancel) send the browser to its journey's callback,
 * where finish ends the login. */
#include "wallet_int.h"
#include <openssl/evp.h>
#include <string.h>

/* Progressive enhancement of the waiting page: with JavaScript, it asks the login's status
 * (/status, below) every second and moves on as soon as the wallet has answered; the Refresh
 * header stays for a browser without it. Fixed text, so its hash pins it in the page's CSP (and
 * no other inline script runs); the URLs come from the page's own elements. At most 300 polls
 * (the default response_ttl), one at a time; a failure (e.g. 404 for a login that is gone) waits
 * for the next poll, and the Refresh reload shows a gone login's page. */
const char wallet_wait_script[] =
    "(function(){var q=document.getElementById(\"wallet-qr\"),"
    "c=document.getElementById(\"wallet-continue\"),n=0;"
    "function go(){location.replace(c.href)}"
    "function later(){if(++n<300)setTimeout(poll,1000)}"
    "function poll(){fetch(q.getAttribute(\"data-status\"),{cache:\"no-store\"})"
    ".then(function(r){if(!r.ok)return later();"
    "return r.json().then(function(j){j.ready===true?go():later()})}).catch(later)}"
    "setTimeout(poll,1000)})();";

void wallet_script_hash(wallet *w)
{
	unsigned char d[32];
	unsigned char b64[48];
	EVP_Digest(wallet_wait_script, strlen(wallet_wait_script), d, NULL, EVP_sha256(), NULL);
	EVP_EncodeBlock(b64, d, sizeof d);
	snprintf(w->script_hash, sizeof w->script_hash, "sha256-%s", (const char *)b64);
}

static int answer(idhub_http_response *r, int status, const char *type, const char *body)
{
	/* field by field: the hub allocated *r, shorter when it is older (adapter.h) */
	r->status = status;
	r->content_type = type;
	r->body = body;
	r->body_len = strlen(body);
	return 0;
}

/* A refusal at the response_uri, logged with its reason and counted in the metrics under check,
 * the one that failed (IDHUB_CHECK_UNSAID: the hub's own failure, not the answer's: not counted;
 * no finish runs for it, so the hub would not count it otherwise). */
static void refused(const wallet *w, idhub_check check, const char *why)
{
	w->svc->log(w->svc->inst, 4, "wallet response refused: %s", why);
	if (IDHUB_HAS_SERVICE(w->svc, count_refusal))
		w->svc->count_refusal(w->svc->inst, check);
}

/* ... and answered to the wallet with OAuth's invalid_request. */
static int refuse(const wallet *w, idhub_arena *a, idhub_http_response *r, idhub_check check,
                  const char *why)
{
	const idhub_services *s = w->svc;
	refused(w, check, why);
	json_t *j = json_pack("{s:s,s:s}", "error", "invalid_request", "error_description", why);
	char *t = json_dumps(j, JSON_COMPACT);
	const char *body = s->strdup(a, t ? t : "{}");
	free(t);
	json_decref(j);
	return answer(r, 400, "application/json", body);
}

static json_t *record(const wallet *w, idhub_arena *a, const char *rid, int take)
{
	size_t len = 0;
	const char *t = rid ? w->svc->scratch_get(w->svc->inst, a, rid, &len, take) : NULL;
	return t ? json_loadb(t, len, 0, NULL) : NULL;
}

/* Seconds the login still waits (at least 1 while it does), 0 when its time is up. */
static int64_t left(const wallet *w, json_t *rec)
{
	int64_t e = json_integer_value(json_object_get(rec, "e")) - w->svc->now(w->svc->inst);
	return e > 0 ? e : 0;
}

static int pending(json_t *rec)
{
	const char *st = json_string_value(json_object_get(rec, "s"));
	return st && !strcmp(st, "pending");
}

/* The flow a link was made for: "same" (the wallet's answer returns the browser to its journey
 * with redirect_uri) or "cross" (a QR code: the browser waits, and is sent on by its own page). */
static const char *flow_of(const idhub_http_request *r)
{
	const char *f = idhub_param(r, "flow", NULL);
	return f && !strcmp(f, "cross") ? "cross" : "same";
}

const char *wallet_url(const wallet *w, idhub_arena *a, const char *page, const char *rid,
                       const char *flow)
{
	const idhub_services *s = w->svc;
	const char *u = s->sprintf(a, "%s/idp/%s/%s", w->cfg->hub_base_url, s->instance_id, page);
	return s->url_param(a, s->url_param(a, u, "rid", rid), "flow", flow);
}

static const char *link_for(const wallet *w, idhub_arena *a, const char *rid, const char *flow)
{
	const idhub_services *s = w->svc;
	const char *l = s->sprintf(a, "%s://", w->cfg->values[S_LINK_SCHEME].str);
	return s->url_param(a, s->url_param(a, l, "client_id", w->client_id), "request_uri",
	                    wallet_url(w, a, "request", rid, flow));
}

/* Where the browser goes back to its journey: the callback, with the one-time response code once
 * the wallet has answered (code), else with nothing (the login no longer waits) or with cancel=1
 * (the citizen left the waiting page); finish tells them apart. */
static const char *back_to_journey(const wallet *w, idhub_arena *a, const char *rid,
                                   const char *code)
{
	const idhub_services *s = w->svc;
	const char *u = s->url_param(a, w->cfg->callback_url, "state", rid);
	return code ? s->url_param(a, u, "response_code", code) : u;
}

/* A 303 to where the browser goes on (POST/redirect/GET: Back and reload never repost). */
static int see_other(idhub_http_response *r, const char *location)
{
	r->status = 303;
	r->content_type = "text/plain";
	r->body = "";
	r->body_len = 0;
	r->location = location;
	return 0;
}

/* The words of the wallet's pages, from the hub's catalogs (broker/pages/po/, wallet.*), in the
 * citizen's language, escaped for HTML. */
#define TX(key) s->html_escape(a, s->text(s->inst, key))

/* The citizen's way off the waiting page, as the sandbox IdP's page has it: a POST (it ends the
 * login), to /cancel below, which sends the browser to its journey's callback (cancel=1). cls
 * and label: the Back link-button at the top, or the "choose another way" secondary button. */
static const char *cancel_form(const wallet *w, idhub_arena *a, const char *rid, const char *cls,
                               const char *label)
{
	const idhub_services *s = w->svc;
	return s->sprintf(a,
	                  "<form method=\"post\" action=\"/idp/%s/cancel\" novalidate><input "
	                  "type=\"hidden\" name=\"rid\" value=\"%s\"><button class=\"%s\" "
	                  "type=\"submit\">%s</button></form>\n",
	                  s->html_escape(a, s->instance_id), s->html_escape(a, rid), cls, label);
}

/* The browser's page: the same-device link, the QR code for a wallet on another device, and a
 * refresh (header) that brings the browser on once the wallet has answered (no script needed;
 * with JavaScript, wallet_wait_script moves it on sooner), with a way off it (Back, and "choose
 * another way"). Once the login no longer waits (answered, cancelled, its time up or never
 * there), the page sends the browser to the callback, with the response code if the wallet
 * answered: only the browser holding the journey's cookie gets further than that, and the hub's
 * journey shows it its own page (signed in, already finished, or a way forward). A missing record
 * is taken for a login that no longer waits only because nothing takes the record of a login
 * that still does: the response_uri reads it and replaces it only to park an answer (park),
 * and finish takes it only behind the callback, which has spent the journey's state already; so
 * no POST, by anyone who saw the QR code, can make this page end a waiting login. */
static int wallet_page(const wallet *w, idhub_arena *a, const char *rid, json_t *rec,
                       idhub_http_response *r)
{
	const idhub_services *s = w->svc;
	if (!pending(rec))
		return see_other(
		    r, back_to_journey(w, a, rid, json_string_value(json_object_get(rec, "rc"))));
	const char *qr = wallet_qr_svg(w, a, link_for(w, a, rid, "cross"), TX("wallet.qr_title"));
	const char *html = s->sprintf(
	    a,
	    "%s<h1>%s</h1>\n<p>%s</p>\n<h2>%s</h2>\n<p><a class=\"button\" id=\"wallet-link\" "
	    "href=\"%s\">%s</a></p>\n<h2>%s</h2>\n<p>%s</p>\n<div id=\"wallet-qr\" "
	    "data-status=\"%s\">%s</div>\n<p><a id=\"wallet-continue\" href=\"%s\">%s</a></p>\n"
	    "%s<script>%s</script>",
	    cancel_form(w, a, rid, "link-button back", TX("layout.back")), TX("wallet.title"),
	    TX("wallet.intro"), TX("wallet.same_device"),
	    s->html_escape(a, link_for(w, a, rid, "same")), TX("wallet.open"),
	    TX("wallet.other_device"), TX("wallet.scan"),
	    s->html_escape(a, s->url_param(a, "status", "rid", rid)), qr ? qr : "",
	    s->html_escape(a, s->url_param(a, "wallet", "rid", rid)), TX("wallet.continue"),
	    cancel_form(w, a, rid, "button secondary", TX("problem.choose_another")),
	    wallet_wait_script);
	if (s->respond_page(s->inst, a, r, 200, 0, s->text(s->inst, "wallet.title"), html))
		return -1;
	/* The page reloads every 3 s until the wallet has answered: by a Refresh header, as a meta
	 * refresh under 20 hours fails WCAG 2.2.1 (axe's meta-refresh rule) while the header is no
	 * element of the page. CSP-Script lets the page's one script run (its hash). */
	idhub_kv *h = s->alloc(a, 2 * sizeof *h);
	if (!h)
		return -1;
	h[0] = (idhub_kv){"Refresh", "3"};
	h[1] = (idhub_kv){"CSP-Script", w->script_hash};
	r->headers = h;
	r->nheaders = 2;
	return 0;
}

/* The waiting page's Back and "choose another way" (POST): the browser goes to its journey's
 * callback with cancel=1, and finish ends the login there (access_denied: the journey shows what
 * it shows for a cancel at any IdP). Nothing changes here: this page is anonymous (the login's
 * rid is in its QR code, so another browser may know it), and only the callback checks that the
 * browser is the one whose journey this is, so finish, behind that check, marks the login
 * cancelled. Another browser's cancel meets the callback's "started in another browser" page and
 * leaves the login waiting. */
static int cancel(const wallet *w, idhub_arena *a, const char *rid, const idhub_http_request *req,
                  idhub_http_response *r)
{
	/* Our own page's form only: a cross-site form could otherwise end a victim's login in their
	 * browser (whose cookie the callback would find). Sec-Fetch-Site says so where the browser
	 * sends it; else an Origin, when not "null" (our Referrer-Policy no-referrer makes a
	 * browser send "null" on its POSTs), must be the hub's own. 404 otherwise. (A cross-site
	 * link to the callback itself ends any adapter's login as much: the callback spends the
	 * state of every answer it takes; that is the hub's to guard, not this page's.) */
	const char *site = req->header(req, "Sec-Fetch-Site"), *origin = req->header(req, "Origin");
	const char *base = w->cfg->hub_base_url, *host = strstr(base, "://");
	size_t olen = host ? (size_t)(host + 3 - base) + strcspn(host + 3, "/") : strlen(base);
	if (site && strcmp(site, "same-origin"))
		return -1;
	if (origin && strcmp(origin, "null") &&
	    (strlen(origin) != olen || strncmp(origin, base, olen)))
		return -1;
	return see_other(r, w->svc->url_param(a, back_to_journey(w, a, rid, NULL), "cancel", "1"));
}

/* The login's status for the waiting page's script: {"ready":true} once the wallet has answered
 * (or the login was cancelled: the page then moves on to the callback), else {"ready":false};
 * nothing else (no response code: the page itself hands that over, to the browser whose cookie the
 * callback then checks). Anonymous, like the page, and no dearer: one read of the scratch record
 * the page reads too, no write, so polling cannot grow the store; it runs under the IdP's
 * concurrency gate like the adapter's other pages. */
static int status(json_t *rec, idhub_http_response *r)
{
	return answer(r, 200, "application/json",
	              pending(rec) ? "{\"ready\":false}" : "{\"ready\":true}");
}

static int request_object(const wallet *w, idhub_arena *a, const char *rid, const char *flow,
                          json_t *rec, idhub_http_response *r)
{
	EVP_PKEY *k = wallet_ephemeral_load(w, a, json_string_value(json_object_get(rec, "k")));
	json_t *jwk = k ? wallet_key_to_jwk(w, a, k) : NULL;
	EVP_PKEY_free(k);
	if (!jwk)
		return -1;
	json_object_set_new(jwk, "kid",
	                    json_string(json_string_value(json_object_get(rec, "kid"))));
	json_object_set_new(jwk, "use", json_string("enc"));
	json_object_set_new(jwk, "alg", json_string("ECDH-ES"));
	const char *jws =
	    wallet_request_object(w, a, rid, flow, json_string_value(json_object_get(rec, "n")),
	                          json_object_get(rec, "c"), jwk);
	json_decref(jwk);
	return jws ? answer(r, 200, "application/oauth-authz-req+jwt", jws) : -1;
}

/* The check a JWE refusal names: one encrypted to another login's key is an answer for another
 * login (REPLAY); any other is a malformed or forged JWE (FORMAT). */
static idhub_check jwe_check(const char *why)
{
	return strstr(why, "another request's key") ? IDHUB_CHECK_REPLAY : IDHUB_CHECK_FORMAT;
}

/* Parks a verified answer for finish, once. The record is never taken here (a POST that is
 * refused leaves it as it was, untouched): while a login waits, its record is always there, so
 * the waiting page and its status (anonymous: the rid is in the QR code) never see a waiting
 * login as gone, whatever anyone posts to its response_uri meanwhile. Two genuine answers racing
 * for one login get one parking: the first to claim the login's answer in the replay cache (an
 * atomic insert, kept until the login's deadline) parks it; the second is refused as a replay.
 * A cancel that lands between the caller's read and this claim is seen by the second read: an
 * answer for a login that ended is not parked. */
static int park(const wallet *w, idhub_arena *a, const char *rid, json_t *rec, const char *txt,
                const char **why, idhub_check *chk)
{
	const idhub_services *s = w->svc;
	int64_t e = json_integer_value(json_object_get(rec, "e"));
	int seen = left(w, rec) ? s->replay_seen(s->inst, s->sprintf(a, "answer:%s", rid), e) : -1;
	json_t *now = seen ? NULL : record(w, a, rid, 0);
	const char *kid = json_string_value(json_object_get(rec, "kid"));
	int same = pending(now) && kid &&
	           !strcmp(kid, json_string_value(json_object_get(now, "kid")) ?: "");
	json_decref(now);
	*chk = seen < 0 ? IDHUB_CHECK_UNSAID : IDHUB_CHECK_REPLAY;
	*why = seen < 0 ? "cannot park the answer"
	       : seen   ? "this login was already answered"
	                : "this login no longer waits";
	if (seen || !same)
		return -1;
	*chk = IDHUB_CHECK_UNSAID, *why = "cannot park the answer";
	return s->scratch_put(s->inst, rid, txt, strlen(txt), left(w, rec)) ? -1 : 0;
}

/* The decrypted answer's vp_token, verified (verify.c) against this login's record: its nonce, its
 * start and the claims it asked for. 0 with *claims and *auth_time, or -1 with why and *chk. */
static int verified(const wallet *w, idhub_arena *a, json_t *rec, json_t *vp, json_t **claims,
                    int64_t *auth_time, idhub_check *chk, char *why, size_t whylen)
{
	const char *nonce = json_string_value(json_object_get(rec, "n"));
	if (!nonce) {
		*chk = IDHUB_CHECK_UNSAID;
		snprintf(why, whylen, "the login's record is unreadable");
		return -1;
	}
	wallet_kb_expect kb = {nonce, w->svc->now(w->svc->inst),
	                       json_integer_value(json_object_get(rec, "t"))};
	return wallet_verify_answer(w, a, vp, &kb, json_object_get(rec, "c"), claims, auth_time,
	                            chk, why, whylen);
}

/* Decrypts the answer, verifies it (the whole chain finish ran before: anyone who saw the QR code
 * has the request object's encryption key, so a well-formed forgery must be refused here, before
 * it can take the login's one answer and lock the genuine wallet out) and parks only a verified
 * one (park, above), with its claims and auth_time and a response code. 0 answered (200), or
 * refused (400, counted with its check: the login exists, and waits on for a genuine answer). */
static int response(const wallet *w, idhub_arena *a, const char *rid, const char *flow, json_t *rec,
                    const char *jwe, idhub_http_response *r)
{
	const idhub_services *s = w->svc;
	EVP_PKEY *k = wallet_ephemeral_load(w, a, json_string_value(json_object_get(rec, "k")));
	char why[300] = "", code[44];
	size_t len = 0;
	char *pt = k ? wallet_jwe_decrypt(w, a, k, json_string_value(json_object_get(rec, "kid")),
	                                  jwe, &len, why, sizeof why)
	             : NULL;
	EVP_PKEY_free(k);
	idhub_check chk = k ? jwe_check(why) : IDHUB_CHECK_UNSAID;
	if (!k)
		snprintf(why, sizeof why, "the login's key is unreadable");
	json_t *body = pt ? json_loadb(pt, len, JSON_REJECT_DUPLICATES, NULL) : NULL,
	       *claims = NULL;
	json_t *vp = json_object_get(body, "vp_token");
	int64_t auth_time = 0;
	int bad = !pt;
	if (pt && !json_is_object(vp)) {
		snprintf(why, sizeof why, "decrypted response has no vp_token object");
		chk = IDHUB_CHECK_FORMAT, bad = 1;
	} else if (pt && verified(w, a, rec, vp, &claims, &auth_time, &chk, why, sizeof why))
		bad = 1;
	else if (pt && s->random_token(s->inst, code)) {
		snprintf(why, sizeof why, "cannot make a response code");
		chk = IDHUB_CHECK_UNSAID, bad = 1;
	}
	json_decref(body);
	if (bad) {
		json_decref(claims);
		return refuse(w, a, r, chk, why);
	}
	json_t *parked = json_pack("{s:s,s:O,s:s,s:o,s:I,s:O}", "s", "answered", "n",
	                           json_object_get(rec, "n"), "rc", code, "claims", claims, "at",
	                           (json_int_t)auth_time, "e", json_object_get(rec, "e"));
	char *txt = parked ? json_dumps(parked, JSON_COMPACT) : NULL;
	json_decref(parked);
	const char *no = "cannot park the answer";
	int rc = txt ? park(w, a, rid, rec, txt, &no, &chk) : (chk = IDHUB_CHECK_UNSAID, -1);
	free(txt);
	if (rc)
		return refuse(w, a, r, chk, no);
	/* cross-device: no redirect_uri, the browser that waits is sent on by its own page */
	json_t *j = strcmp(flow, "same")
	                ? json_object()
	                : json_pack("{s:s}", "redirect_uri", back_to_journey(w, a, rid, code));
	char *t = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	answer(r, 200, "application/json", s->strdup(a, t ? t : "{}"));
	free(t);
	return 0;
}

static int post_response(const wallet *w, idhub_arena *a, const char *rid,
                         const idhub_http_request *req, idhub_http_response *r)
{
	int n;
	const char *jwe = idhub_param(req, "response", &n);
	if (strcmp(req->method, "POST"))
		return -1;
	json_t *rec = record(w, a, rid, 0); /* read only: see park */
	if (!rec) {
		/* no login waits for it (404): gone, or never was. Not counted, and logged at debug
		 * only: the response_uri is anonymous, and a POST with a made-up rid says nothing
		 * about any login (a refusal metric or a warning for each would be anyone's to
		 * inflate). */
		w->svc->log(w->svc->inst, 7, "wallet response for no waiting login (404)");
		return -1;
	}
	/* after a cancel too (finish left "cancelled" for the rest of the login's time): an answer
	 * for a login that ended is never parked */
	const char *st = json_string_value(json_object_get(rec, "s"));
	int rc;
	if (!jwe || n != 1)
		/* direct_post.jwt only: a plain vp_token would be readable by anyone on the way */
		rc = refuse(w, a, r, IDHUB_CHECK_FORMAT,
		            idhub_param(req, "vp_token", NULL)
		                ? "unencrypted response (direct_post.jwt requires a JWE)"
		                : "response parameter missing");
	else if (!pending(rec))
		rc = refuse(w, a, r, IDHUB_CHECK_REPLAY,
		            st && !strcmp(st, "cancelled") ? "this login was cancelled"
		                                           : "this login was already answered");
	else
		rc = response(w, a, rid, flow_of(req), rec, jwe, r);
	json_decref(rec);
	return rc;
}

int wallet_serve(void *ctx, idhub_arena *a, const idhub_http_request *r, idhub_http_response *resp)
{
	const wallet *w = ctx;
	int n;
	const char *rid = idhub_param(r, "rid", &n);
	if (!rid || n != 1 || strlen(rid) != 43)
		return -1;
	if (!strcmp(r->path, "/response"))
		return post_response(w, a, rid, r, resp);
	if (!strcmp(r->path, "/cancel"))
		return strcmp(r->method, "POST") ? -1 : cancel(w, a, rid, r, resp);
	json_t *rec = record(w, a, rid, 0);
	int rc = -1, get = !strcmp(r->method, "GET");
	if (get && !strcmp(r->path, "/wallet"))
		rc = wallet_page(w, a, rid, rec, resp);
	else if (rec && get && !strcmp(r->path, "/status"))
		rc = status(rec, resp);
	else if (pending(rec) && get && !strcmp(r->path, "/request"))
		rc = request_object(w, a, rid, flow_of(r), rec, resp);
	json_decref(rec);
	return rc;
}
