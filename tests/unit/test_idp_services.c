/* test_idp_services.c — owns the unit tests of the adapter host's revision 3 services
 * (broker/idp/: responses.c, claims.c, datetime.c, services.c, settings.c), called as adapters
 * call them, through an instance's bound idhub_services: pages in the hub's layout, the
 * auto-POST, the way back from an upstream logout, level names and words, catalog texts with
 * placeholders, attributes from JSON claims, the freshness check, digests, records, query
 * strings, the MAP setting type, (revision 4) refusals counted in the metrics, and (revision 6)
 * attributes from name/value pairs and the URI and LEVELS setting flags. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "idp/host_int.h"
#include "metrics/listener.h"
#include "metrics/metrics.h"
#include "pages/pages.h"
#include <stdlib.h>
#include <string.h>

static int64_t clock_now = 1000000;
static int64_t fake_now(idhub_instance *in)
{
	(void)in;
	return clock_now;
}

static char *loas[] = {"urn:loa:low", "urn:loa:substantial", "urn:loa:high"};
static idp_conf idps[1] = {{.id = "bank"}};
static hub_conf cfg = {
    .issuer = "https://hub.example", .loa_acrs = loas, .nloas = 3, .idps = idps, .nidps = 1};
static idp_host host = {.cfg = &cfg};
static idhub_instance inst;
static const idhub_services *svc;

static int setup(void **state)
{
	(void)state;
	pages_init(&cfg);
	memset(&inst, 0, sizeof inst);
	assert_int_equal(services_bind(&inst, &host, "bank"), 0);
	inst.svc.now = fake_now;
	svc = &inst.svc;
	assert_true(IDHUB_HAS_SERVICE(svc, url_param));
	assert_true(IDHUB_HAS_REVISION(svc, 3));
	return 0;
}

/* An upstream value over the 1024 bytes an attribute may take (on a). */
static const char *over_long(arena *a)
{
	char *big = arena_alloc(a, 1100);
	memset(big, 'x', 1099);
	big[1099] = 0;
	return big;
}

/* For each map entry in order, the first that yields a value wins; strings and booleans only. */
static void test_attrs_from_json(void **state)
{
	(void)state;
	arena *a = arena_new();
	const char *big = over_long(a);
	char *json = arena_printf(a,
	                          "{\"gn\":\"Ann\",\"first\":\"Anna\",\"ev\":true,\"age\":42,"
	                          "\"long\":\"%s\",\"fam\":\"Lee\"}",
	                          big);
	const idhub_kv map[] = {{"missing", "given_name"}, {"gn", "given_name"},
	                        {"first", "given_name"},   {"ev", "email_verified"},
	                        {"age", "birthdate"},      {"long", "name"},
	                        {"fam", "family_name"}};
	idhub_identity out = {0};
	assert_int_equal(svc->attrs_from_json(svc->inst, (idhub_arena *)a, json, map, 7, &out), 0);
	assert_int_equal(out.nattrs, 3);
	assert_string_equal(out.attrs[0].name, "given_name");
	assert_string_equal(out.attrs[0].value, "Ann");
	assert_string_equal(out.attrs[1].name, "email_verified");
	assert_string_equal(out.attrs[1].value, "true");
	assert_string_equal(out.attrs[2].name, "family_name");
	const idhub_kv same[] = {{"fam", NULL}}; /* no hub name: the upstream one */
	assert_int_equal(svc->attrs_from_json(svc->inst, (idhub_arena *)a, json, same, 1, &out), 0);
	assert_int_equal(out.nattrs, 1);
	assert_string_equal(out.attrs[0].name, "fam");
	assert_string_equal(out.attrs[0].value, "Lee");
	idhub_identity none = {0};
	assert_int_equal(svc->attrs_from_json(svc->inst, (idhub_arena *)a, "[1]", map, 7, &none),
	                 -1);
	assert_int_equal(
	    svc->attrs_from_json(svc->inst, (idhub_arena *)a, "{\"a\":1,\"a\":2}", map, 7, &none),
	    -1); /* duplicate names are refused, as the ID token's were */
	assert_null(none.attrs);
	arena_free(a);
}

/* Revision 6: name/value pairs (SAML attributes by Name and FriendlyName), in their order: the
 * first pair that yields a value for an attribute wins; one pair may feed several attributes;
 * empty, over-long and nameless pairs yield nothing. */
static void test_attrs_from_pairs(void **state)
{
	(void)state;
	arena *a = arena_new();
	const char *big = over_long(a);
	const idhub_kv pairs[] = {{"urn:oid:2.5.4.4", "Lee"},
	                          {"sn", "Li"},
	                          {NULL, "nameless"},
	                          {"givenName", "Ann"},
	                          {"gn", "Anna"},
	                          {"givenName", "Bo"},
	                          {"mail", ""},
	                          {"long", big}};
	const idhub_kv map[] = {{"urn:oid:2.5.4.42", "given_name"},
	                        {"gn", "given_name"},
	                        {"givenName", "given_name"},
	                        {"mail", "email"},
	                        {"long", "name"},
	                        {"sn", "family_name"},
	                        {"urn:oid:2.5.4.4", "family_name"},
	                        {"gn", "nickname"}};
	idhub_identity out = {0};
	assert_int_equal(svc->attrs_from_pairs(svc->inst, (idhub_arena *)a, pairs, 8, map, 8, &out),
	                 0);
	assert_int_equal(out.nattrs, 3);
	assert_string_equal(out.attrs[0].name, "family_name");
	assert_string_equal(out.attrs[0].value, "Lee"); /* the pairs' order, not the map's */
	assert_string_equal(out.attrs[1].name, "given_name");
	assert_string_equal(out.attrs[1].value, "Ann");
	assert_string_equal(out.attrs[2].name, "nickname");
	assert_string_equal(out.attrs[2].value, "Anna");
	const idhub_kv same[] = {{"givenName", NULL}};
	assert_int_equal(
	    svc->attrs_from_pairs(svc->inst, (idhub_arena *)a, pairs, 8, same, 1, &out), 0);
	assert_int_equal(out.nattrs, 1);
	assert_string_equal(out.attrs[0].name, "givenName");
	assert_string_equal(out.attrs[0].value, "Ann");
	assert_int_equal(svc->attrs_from_pairs(svc->inst, (idhub_arena *)a, NULL, 0, map, 8, &out),
	                 0);
	assert_int_equal(out.nattrs, 0);
	arena_free(a);
}

/* max_age and prompt=login, with leeway, on the hub's clock. */
static void test_auth_fresh(void **state)
{
	(void)state;
	idhub_login_request req = {
	    .flags = IDHUB_LOGIN_MAX_AGE, .max_age = 300, .started_at = clock_now - 20};
	assert_int_equal(svc->auth_fresh(svc->inst, &req, clock_now - 100, 30), 0);
	assert_int_equal(svc->auth_fresh(svc->inst, &req, 0, 30), IDHUB_FRESH_NO_TIME);
	assert_int_equal(svc->auth_fresh(svc->inst, &req, clock_now - 331, 30),
	                 IDHUB_FRESH_TOO_OLD);
	assert_int_equal(svc->auth_fresh(svc->inst, &req, clock_now - 330, 30), 0);
	req.flags = IDHUB_LOGIN_FORCE;
	assert_int_equal(svc->auth_fresh(svc->inst, &req, clock_now - 51, 30),
	                 IDHUB_FRESH_BEFORE_LOGIN);
	assert_int_equal(svc->auth_fresh(svc->inst, &req, clock_now - 50, 30), 0);
	assert_int_equal(svc->auth_fresh(svc->inst, &req, 0, 30), 0); /* no time, no demand */
	req.flags = 0;
	assert_int_equal(svc->auth_fresh(svc->inst, &req, 1, 0), 0);
}

static void test_url_param_and_digest(void **state)
{
	(void)state;
	arena *a = arena_new();
	idhub_arena *ia = (idhub_arena *)a;
	assert_string_equal(svc->url_param(ia, "https://idp/auth", "state", "a b&c"),
	                    "https://idp/auth?state=a%20b%26c");
	assert_string_equal(svc->url_param(ia, "https://idp/auth?x=1", "n", "v"),
	                    "https://idp/auth?x=1&n=v");
	assert_string_equal(svc->url_param(ia, "https://idp/auth?", "n", "v"),
	                    "https://idp/auth?n=v");
	assert_string_equal(svc->url_param(ia, "https://idp/auth?x=1&", "n", "v"),
	                    "https://idp/auth?x=1&n=v");
	/* RFC 7636 appendix B: the S256 challenge of this verifier */
	const char *v = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
	assert_string_equal(svc->digest_b64url(ia, v, strlen(v)),
	                    "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
	arena_free(a);
}

static void test_record(void **state)
{
	(void)state;
	arena *a = arena_new();
	idhub_arena *ia = (idhub_arena *)a;
	const idhub_kv kv[] = {{"n", "someone@idp"}, {"f", NULL}, {"q", ""}, {"i", "s\"1"}};
	const char *r = svc->record(ia, kv, 4, 4096);
	assert_string_equal(r, "{\"n\":\"someone@idp\",\"i\":\"s\\\"1\"}");
	assert_string_equal(svc->record_get(ia, r, "i"), "s\"1");
	assert_null(svc->record_get(ia, r, "f"));
	assert_null(svc->record_get(ia, "not json", "n"));
	assert_null(svc->record_get(ia, NULL, "n"));
	assert_null(svc->record(ia, kv, 4, 20)); /* longer than max */
	arena_free(a);
}

static void test_levels_and_texts(void **state)
{
	(void)state;
	arena *a = arena_new();
	idhub_arena *ia = (idhub_arena *)a;
	assert_int_equal(svc->level_of(svc->inst, "urn:loa:substantial"), 2);
	assert_int_equal(svc->level_of(svc->inst, "3"), 3);
	assert_int_equal(svc->level_of(svc->inst, "4"), 0);
	assert_int_equal(svc->level_of(svc->inst, "urn:loa:other"), 0);
	assert_int_equal(svc->level_of(svc->inst, ""), 0);
	assert_string_equal(svc->level_name(svc->inst, ia, 2), T("level.2"));
	assert_string_equal(svc->level_name(svc->inst, ia, 2),
	                    page_level_name(a, &cfg, 2)); /* as the hub's own pages say it */
	const char *t = svc->text_fill(svc->inst, ia, "sandbox.needs", "Substantial", NULL);
	assert_non_null(strstr(t, "Substantial"));
	assert_null(strstr(t, "%s"));
	arena_free(a);
}

static void test_responses(void **state)
{
	(void)state;
	arena *a = arena_new();
	idhub_arena *ia = (idhub_arena *)a;
	idhub_http_response r = {0};
	assert_int_equal(
	    svc->respond_page(svc->inst, ia, &r, 400, IDHUB_PAGE_ERROR, "Sign <in>", "<p>body</p>"),
	    0);
	assert_int_equal(r.status, 400);
	assert_string_equal(r.content_type, "text/html; charset=utf-8");
	assert_int_equal(r.body_len, strlen(r.body));
	assert_non_null(strstr(r.body, "<title>Error: Sign &lt;in&gt; – "));
	assert_non_null(strstr(r.body, "<p>body</p>"));

	idhub_http_response p = {0};
	const idhub_kv f[] = {{"assertion", "a\"b"}, {"state", "s"}};
	assert_int_equal(svc->respond_autopost(svc->inst, ia, &p, "https://hub.example/cb?x=1&y=2",
	                                       f, 2, "Returning", "Wait"),
	                 0);
	assert_int_equal(p.status, 200);
	assert_non_null(strstr(p.body, "<form method=\"post\" "
	                               "action=\"https://hub.example/cb?x=1&amp;y=2\">\n"
	                               "<input type=\"hidden\" name=\"assertion\" "
	                               "value=\"a&quot;b\">\n<input type=\"hidden\" "
	                               "name=\"state\" value=\"s\">"));
	assert_non_null(strstr(p.body, "<script>document.forms[0].submit();</script>"));

	idhub_http_response l = {0};
	assert_int_equal(svc->respond_logout_done(svc->inst, ia, &l, "tok en/="), 0);
	assert_int_equal(l.status, 303);
	assert_string_equal(l.location, "https://hub.example/logout/upstream?state=tok%20en%2F%3D");
	char *huge = arena_alloc(a, 5000);
	memset(huge, 'x', 4999);
	idhub_http_response none = {0};
	assert_int_equal(svc->respond_logout_done(svc->inst, ia, &none, huge), -1);
	assert_int_equal(none.status, 0);
	arena_free(a);
}

/* The hub's form patterns: radios, a revealed group holding a text input in error and a select,
 * hidden fields and buttons, every value escaped; the error summary links to the field. */
static void test_forms(void **state)
{
	(void)state;
	arena *a = arena_new();
	idhub_arena *ia = (idhub_arena *)a;
	const idhub_kv opts[] = {{"1", "Low"}, {"2", "Substantial"}};
	idhub_field f[] = {
	    {IDHUB_FIELD_RADIO, "who", "ann", "Ann <A>", "a hint", .checked = 1},
	    {IDHUB_FIELD_RADIO, "who", "other", "Someone else", .reveal = 2},
	    {IDHUB_FIELD_TEXT, "user", "x\"y", "User name", "Letters", "Enter a name", .max = 64,
	     .flags = IDHUB_FIELD_NO_AUTOFILL},
	    {IDHUB_FIELD_SELECT, "loa", "2", "Level", .options = opts, .noptions = 2}};
	const idhub_kv hidden[] = {{"req", "r&1"}}, buttons[] = {{"go", "Go"}, {"stop", "Stop"}};
	const char *html =
	    svc->form_html(svc->inst, ia, "/idp/t/login", hidden, 1, "Who?", f, 4, buttons, 2);
	const char *want =
	    "<form method=\"post\" action=\"/idp/t/login\" novalidate>\n"
	    "<input type=\"hidden\" name=\"req\" value=\"r&amp;1\">\n<fieldset>\n<legend>Who?"
	    "</legend>\n<div class=\"option\"><input type=\"radio\" name=\"who\" id=\"who-ann\" "
	    "value=\"ann\" checked><label for=\"who-ann\">Ann &lt;A&gt;<span class=\"hint\">a "
	    "hint</span></label></div>\n<div class=\"option\"><input type=\"radio\" name=\"who\" "
	    "id=\"who-other\" value=\"other\" aria-controls=\"who-other-fields\"><label "
	    "for=\"who-other\">Someone else</label></div>\n<div class=\"reveal form-group-error\" "
	    "id=\"who-other-fields\">\n<p><label for=\"user\">User name</label><span "
	    "class=\"hint\" "
	    "id=\"user-hint\">Letters</span><span class=\"error-message\" id=\"user-error\">"
	    "<span class=\"vh\">Error:</span> Enter a name</span><input type=\"text\" "
	    "id=\"user\" name=\"user\" autocomplete=\"off\" spellcheck=\"false\" "
	    "maxlength=\"64\" value=\"x&quot;y\" aria-describedby=\"user-hint user-error\"></p>\n"
	    "<p><label for=\"loa\">Level</label><br><select id=\"loa\" name=\"loa\">\n<option "
	    "value=\"1\">Low</option>\n<option value=\"2\" selected>Substantial</option>\n"
	    "</select></p>\n</div>\n</fieldset>\n<button class=\"button\" type=\"submit\" "
	    "name=\"action\" value=\"go\">Go</button>\n<button class=\"button secondary\" "
	    "type=\"submit\" name=\"action\" value=\"stop\">Stop</button>\n</form>\n";
	assert_string_equal(html, want);
	assert_string_equal(
	    svc->error_summary_html(svc->inst, ia, f, 4),
	    "<div class=\"error-summary\" tabindex=\"-1\" autofocus "
	    "aria-labelledby=\"es-title\"><h2 id=\"es-title\">There is a "
	    "problem</h2><ul><li><a href=\"#user\">Enter a name</a></li></ul></div>\n");
	f[2].error = NULL; /* no error: no summary, no error class, hint only */
	assert_string_equal(svc->error_summary_html(svc->inst, ia, f, 4), "");
	html = svc->form_html(svc->inst, ia, "/x", NULL, 0, "L", f, 4, buttons, 1);
	assert_non_null(strstr(html, "<div class=\"reveal\" id=\"who-other-fields\">"));
	assert_non_null(strstr(html, "aria-describedby=\"user-hint\">"));
	/* two radio groups with the same revealing value: each its own revealed block */
	idhub_field g[] = {{IDHUB_FIELD_RADIO, "a", "other", "A", .reveal = 1},
	                   {IDHUB_FIELD_TEXT, "ta", "", "TA", .max = 9},
	                   {IDHUB_FIELD_RADIO, "b", "other", "B", .reveal = 1},
	                   {IDHUB_FIELD_TEXT, "tb", "", "TB", .max = 9}};
	html = svc->form_html(svc->inst, ia, "/x", NULL, 0, "L", g, 4, buttons, 1);
	assert_non_null(strstr(html, "aria-controls=\"a-other-fields\""));
	assert_non_null(strstr(html, "id=\"a-other-fields\""));
	assert_non_null(strstr(html, "aria-controls=\"b-other-fields\""));
	assert_non_null(strstr(html, "id=\"b-other-fields\""));
	arena_free(a);
}

/* IDHUB_SET_MAP: FROM=TO pairs, split at the last '=' (or the first), TO among the choices. */
static int map_parse(const char *value, uint32_t flags, const char *const *choices, char **err)
{
	idhub_setting_decl d[] = {
	    {"m", IDHUB_SET_MAP, NULL, 0, 3, choices, flags | IDHUB_SET_SPACES, NULL}};
	idhub_adapter ops = {.name = "t", .settings = d, .nsettings = 1};
	idp_setting s = {"m", value, 7};
	idp_conf ic = {.id = "bank", .settings = &s, .nsettings = 1, .line = 5};
	settings_free(&inst);
	return settings_parse(&inst, "idhub.conf", &ic, &ops, err);
}

static void test_settings_map(void **state)
{
	(void)state;
	char *err = NULL;
	assert_int_equal(map_parse("urn:a=b=2 x=1", 0, NULL, &err), 0);
	const idhub_value *v = &inst.values[0];
	assert_int_equal(v->nitems, 2);
	assert_string_equal(v->items[0], "urn:a=b");
	assert_string_equal(v->items[1], "2");
	assert_string_equal(v->items[2], "x");
	assert_string_equal(v->items[3], "1");
	assert_null(v->items[4]);
	assert_int_equal(map_parse("claim=urn:x=y,z", IDHUB_SET_FIRST_EQ, NULL, &err), 0);
	assert_string_equal(inst.values[0].items[0], "claim");
	assert_string_equal(inst.values[0].items[1], "urn:x=y,z");

	static const char *const attrs[] = {"given_name", "email", NULL};
	assert_int_equal(map_parse("fn=given_name mail=email", 0, attrs, &err), 0);
	const char *bad[] = {"fn=surname", "fn", "=given_name",
	                     "fn=", "a=email b=email c=email d=email"};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		err = NULL;
		assert_int_equal(map_parse(bad[i], 0, attrs, &err), -1);
		assert_non_null(err);
		assert_non_null(strstr(err, "idhub.conf:7: idp 'bank': m: "));
		free(err);
	}
	settings_free(&inst);
}

/* Revision 6: IDHUB_SET_URI on a string and on a list, IDHUB_SET_LEVELS (one word per level, "-"
 * allowed, the hub's level names when absent). value NULL: the setting is absent. */
static int flags_parse(idhub_setting_type type, uint32_t flags, const char *value, char **err)
{
	idhub_setting_decl d[] = {{"u", type, NULL, 0, 0, NULL, flags, NULL}};
	idhub_adapter ops = {.name = "t", .settings = d, .nsettings = 1};
	idp_setting s = {"u", value, 9};
	idp_conf ic = {.id = "bank", .settings = &s, .nsettings = value ? 1 : 0, .line = 5};
	settings_free(&inst);
	*err = NULL;
	return settings_parse(&inst, "idhub.conf", &ic, &ops, err);
}

static void test_settings_uri_and_levels(void **state)
{
	(void)state;
	char *err = NULL;
	const uint32_t levels = IDHUB_SET_SPACES | IDHUB_SET_URI | IDHUB_SET_LEVELS;
	assert_int_equal(
	    flags_parse(IDHUB_SET_STRING, IDHUB_SET_URI, "https://idp.example/x", &err), 0);
	const char *bad_uris[] = {"", "a b", "x\"y", "<x>", "a&b"};
	for (size_t i = 0; i < sizeof bad_uris / sizeof *bad_uris; i++) {
		assert_int_equal(flags_parse(IDHUB_SET_STRING, IDHUB_SET_URI, bad_uris[i], &err),
		                 -1);
		assert_string_equal(err, "idhub.conf:9: idp 'bank': u: must be a URI");
		free(err);
	}
	assert_int_equal(flags_parse(IDHUB_SET_LIST, levels, "urn:a - urn:c", &err), 0);
	assert_int_equal(inst.values[0].nitems, 3);
	assert_string_equal(inst.values[0].items[1], "-");
	/* absent: the hub's level names */
	assert_int_equal(flags_parse(IDHUB_SET_LIST, levels, NULL, &err), 0);
	assert_int_equal(inst.values[0].nitems, 3);
	assert_string_equal(inst.values[0].items[0], "urn:loa:low");
	assert_string_equal(inst.values[0].items[2], "urn:loa:high");
	assert_int_equal(flags_parse(IDHUB_SET_LIST, levels, "urn:a urn:b", &err), -1);
	assert_string_equal(err,
	                    "idhub.conf:9: idp 'bank': u: one word per level: 2 given, 3 levels");
	free(err);
	assert_int_equal(flags_parse(IDHUB_SET_LIST, levels, "urn:a <b> urn:c", &err), -1);
	assert_string_equal(err, "idhub.conf:9: idp 'bank': u: an entry is not allowed");
	free(err);
	settings_free(&inst);
}

/* The series of idhub_idp_refusals_total for the instance and check, as exposed. */
static unsigned long long refusals(const char *check)
{
	size_t n;
	char *t = metrics_render(NULL, NULL, &n), *want;
	assert_non_null(t);
	assert_true(
	    asprintf(&want, "\nidhub_idp_refusals_total{idp=\"bank\",check=\"%s\"} ", check) > 0);
	const char *at = strstr(t, want);
	assert_non_null(at);
	unsigned long long v = strtoull(at + strlen(want), NULL, 10);
	free(want);
	free(t);
	return v;
}

/* Revision 4: a refusal the adapter made at its own pages is counted under its check, for its
 * instance; an unsaid or unknown check is not counted (and makes no series). */
static void test_count_refusal(void **state)
{
	(void)state;
	assert_true(IDHUB_HAS_SERVICE(svc, count_refusal));
	assert_true(IDHUB_HAS_REVISION(svc, 4));
	assert_int_equal(metrics_init(&cfg, "node1"), 0);
	svc->count_refusal(svc->inst, IDHUB_CHECK_REPLAY);
	svc->count_refusal(svc->inst, IDHUB_CHECK_REPLAY);
	svc->count_refusal(svc->inst, IDHUB_CHECK_FORMAT);
	svc->count_refusal(svc->inst, IDHUB_CHECK_UNSAID);
	svc->count_refusal(svc->inst, IDHUB_CHECK_COUNT);
	svc->count_refusal(svc->inst, (idhub_check)-1);
	assert_int_equal(refusals("replay"), 2);
	assert_int_equal(refusals("format"), 1);
	assert_int_equal(refusals("signature"), 0);
	metrics_shutdown();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_attrs_from_json), cmocka_unit_test(test_attrs_from_pairs),
	    cmocka_unit_test(test_auth_fresh),      cmocka_unit_test(test_url_param_and_digest),
	    cmocka_unit_test(test_record),          cmocka_unit_test(test_levels_and_texts),
	    cmocka_unit_test(test_responses),       cmocka_unit_test(test_forms),
	    cmocka_unit_test(test_settings_map),    cmocka_unit_test(test_settings_uri_and_levels),
	    cmocka_unit_test(test_count_refusal),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
