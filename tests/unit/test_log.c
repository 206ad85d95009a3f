/* test_log.c — unit tests of the log lines (broker/util/log.c) and the request ID helpers
 * (broker/http/request_id.c): JSON lines parse whatever a message holds (quotes, control
 * characters, invalid UTF-8, a message longer than a line), carry the thread's request and journey
 * IDs and only while they are set; the journey ID is a hash, not the key; a front proxy's ID is
 * accepted only as 1..64 ID characters; access paths mask anything that could be a token.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "http/request_id.h"
#include "util/log.h"
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Runs fn with stderr sent to a temporary file and returns what it wrote (malloc'd). */
static char *capture(void (*fn)(void))
{
	fflush(stderr);
	int saved = dup(2);
	FILE *tmp = tmpfile();
	assert_non_null(tmp);
	dup2(fileno(tmp), 2);
	fn();
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	long n = ftell(tmp);
	char *out = calloc(1, (size_t)n + 1);
	rewind(tmp);
	assert_int_equal(fread(out, 1, (size_t)n, tmp), (size_t)n);
	fclose(tmp);
	return out;
}

static json_t *parse_line(const char *line)
{
	json_error_t e;
	json_t *o = json_loads(line, 0, &e);
	if (!o)
		fail_msg("not JSON (%s): %s", e.text, line);
	assert_true(json_is_object(o));
	return o;
}

static const char *str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static void log_awkward(void)
{
	log_set_request("abcDEF123_-.");
	log_set_journey("some-journey-key");
	log_info("quote \" backslash \\ newline \n tab \t bell \a bad \xff\xfe utf8 \xc3\xa9 end");
	log_set_request(NULL);
	log_info("outside");
	char big[3000];
	memset(big, '"', sizeof big - 1);
	big[sizeof big - 1] = 0;
	log_info("%s", big);
	log_field f[] = {{"n", NULL, -42}, {"s", "x\"y", 0}};
	log_fields(LOG_WARN_, "fields", f, 2);
	log_debug("not printed at info");
}

static void json_lines_parse(void **state)
{
	(void)state;
	log_set_format(LOG_JSON);
	char *out = capture(log_awkward);
	char *save = NULL, *line = strtok_r(out, "\n", &save);
	json_t *o = parse_line(line);
	assert_string_equal(str(o, "level"), "info");
	assert_string_equal(str(o, "request_id"), "abcDEF123_-.");
	const char *jid = str(o, "journey_id");
	assert_non_null(jid);
	assert_int_equal(strlen(jid), 16);
	assert_null(strstr(jid, "journey")); /* a hash, not the key */
	const char *msg = str(o, "msg");
	assert_non_null(strstr(msg, "quote \" backslash \\ newline \n tab"));
	assert_non_null(strstr(msg, "bad \xef\xbf\xbd\xef\xbf\xbd utf8 \xc3\xa9 end"));
	json_decref(o);

	o = parse_line(strtok_r(NULL, "\n", &save));
	assert_string_equal(str(o, "msg"), "outside");
	assert_null(json_object_get(o, "request_id"));
	assert_null(json_object_get(o, "journey_id"));
	json_decref(o);

	o = parse_line(strtok_r(NULL, "\n", &save)); /* cut at 1023 characters, still one line */
	assert_int_equal(strlen(str(o, "msg")), 1023);
	json_decref(o);

	o = parse_line(strtok_r(NULL, "\n", &save));
	assert_string_equal(str(o, "level"), "warning");
	assert_int_equal(json_integer_value(json_object_get(o, "n")), -42);
	assert_string_equal(str(o, "s"), "x\"y");
	json_decref(o);
	assert_null(strtok_r(NULL, "\n", &save));
	free(out);
	log_set_format(LOG_TEXT);
}

static void log_text_line(void)
{
	log_set_request("rid1");
	log_warn("hello %d", 7);
	log_set_request(NULL);
}

static void text_lines_keep_the_prefix(void **state)
{
	(void)state;
	char *out = capture(log_text_line);
	assert_string_equal(out, "<4>hello 7 request_id=rid1\n");
	free(out);
}

static void request_ids_are_sanitised(void **state)
{
	(void)state;
	/* a request id with other characters is cut at the first one: nothing can break a line */
	log_set_request("ok\n{\"x\":1}");
	assert_string_equal(log_request_id(), "ok");
	log_set_request(NULL);
	assert_string_equal(log_request_id(), "");
	assert_string_equal(log_journey_id(), "");
	log_set_journey("k1");
	char a[24];
	strcpy(a, log_journey_id());
	log_set_journey("k2");
	assert_string_not_equal(a, log_journey_id());
	log_set_journey("k1");
	assert_string_equal(a, log_journey_id());
	log_set_request(NULL);
	/* a journey ID read back from a stored record: only a well-formed one is adopted */
	log_set_journey_id(a);
	assert_string_equal(log_journey_id(), a);
	log_set_request(NULL);
	log_set_journey_id("bad id");
	log_set_journey_id("0123456789abcdef01234567");
	log_set_journey_id(NULL);
	assert_string_equal(log_journey_id(), "");

	assert_true(request_id_acceptable("a"));
	assert_true(request_id_acceptable(
	    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"));
	assert_false(request_id_acceptable(
	    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0"));
	assert_false(request_id_acceptable(""));
	assert_false(request_id_acceptable(NULL));
	assert_false(request_id_acceptable("a b"));
	assert_false(request_id_acceptable("a\"b"));

	request_id q1, q2;
	request_id_start(&q1);
	request_id_start(&q2);
	assert_int_equal(strlen(q1.id), REQUEST_ID_LEN);
	assert_string_not_equal(q1.id, q2.id);
	/* distinct over many requests, and always ID characters */
	static request_id many[2000];
	for (int i = 0; i < 2000; i++) {
		request_id_start(&many[i]);
		assert_true(request_id_acceptable(many[i].id));
		for (int k = 0; k < i; k++)
			assert_string_not_equal(many[i].id, many[k].id);
	}
}

static void access_paths_mask_tokens(void **state)
{
	(void)state;
	char out[160];
	request_id_log_path("/login/abcdefghijabcdefghijabcdefghijabcdefghijabc", out, sizeof out);
	assert_string_equal(out, "/login/*");
	request_id_log_path("/callback/sandbox", out, sizeof out);
	assert_string_equal(out, "/callback/sandbox");
	request_id_log_path("/a%20b/c", out, sizeof out);
	assert_string_equal(out, "/*/c");
	request_id_log_path("/", out, sizeof out);
	assert_string_equal(out, "/");
	request_id_log_path("/x/y/z", out, 5);
	assert_string_equal(out, "/x/y");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(json_lines_parse),
	    cmocka_unit_test(text_lines_keep_the_prefix),
	    cmocka_unit_test(request_ids_are_sanitised),
	    cmocka_unit_test(access_paths_mask_tokens),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
