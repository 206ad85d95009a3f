/* test_metrics.c — unit tests of broker/metrics: labels only from the config (an unknown IdP or
 * service from a request never makes a series), the fixed endpoint table, the exposition of the
 * funnel, the hourly aggregates flushed into the store (adding to what was there) and read back;
 * and the cost of a hook (printed, for the README's overhead figure: no timed assertion). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "metrics/hourly.h"
#include "metrics/listener.h"
#include "metrics/metrics.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static idp_conf idps[2] = {{.id = "sb"}, {.id = "oidc1"}};
static service_conf svcs[1] = {{.client_id = "svc-a"}};
static hub_conf cfg = {.idps = idps, .nidps = 2, .services = svcs, .nservices = 1, .nloas = 3};

static int setup(void **state)
{
	(void)state;
	return metrics_init(&cfg, "node1");
}

static int teardown(void **state)
{
	(void)state;
	metrics_shutdown();
	return 0;
}

static char *render(void)
{
	size_t n;
	char *t = metrics_render(NULL, NULL, &n);
	assert_non_null(t);
	assert_int_equal(strlen(t), n);
	return t;
}

static void has(const char *text, const char *line)
{
	char *want;
	assert_true(asprintf(&want, "\n%s\n", line) > 0);
	if (!strstr(text, want))
		fail_msg("missing line: %s", line);
	free(want);
}

static void labels_come_from_the_config(void **state)
{
	(void)state;
	metrics_journey_step(NULL, "evil-client", MX_STEP_STARTED);
	metrics_journey_step("evil-idp", "svc-a", MX_STEP_IDP_CHOSEN);
	metrics_journey_failed("evil-idp", "evil-client", MX_FAIL_CANCELLED);
	metrics_idp_call("evil-idp", metrics_clock_ns(), 1);
	metrics_idp_document_age("evil-idp", 5);
	char *t = render();
	assert_null(strstr(t, "evil"));
	has(t, "idhub_journeys_started_total{idp=\"none\",service=\"other\"} 1");
	has(t, "idhub_journeys_idp_chosen_total{idp=\"none\",service=\"svc-a\"} 1");
	has(t,
	    "idhub_journeys_failed_total{idp=\"none\",service=\"other\",reason=\"cancelled\"} 1");
	has(t, "idhub_idp_errors_total{idp=\"sb\"} 0");
	assert_null(strstr(t, "idhub_idp_document_age_seconds{"));
	free(t);
}

static void endpoints_are_a_fixed_table(void **state)
{
	(void)state;
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	metrics_http_request("/login/abcdefghijklmnop/cancel", 302, &t0);
	metrics_http_request("/login/abcdefghijklmnop", 200, &t0);
	metrics_http_request("/secret-path-from-a-request", 404, &t0);
	metrics_http_request("/token", 418, &t0);
	metrics_http_request(NULL, 400, &t0);
	char *t = render();
	assert_null(strstr(t, "secret-path"));
	assert_null(strstr(t, "abcdefghijklmnop"));
	has(t, "idhub_http_requests_total{endpoint=\"cancel\",status=\"302\"} 1");
	has(t, "idhub_http_requests_total{endpoint=\"login\",status=\"200\"} 1");
	has(t, "idhub_http_requests_total{endpoint=\"other\",status=\"404\"} 1");
	has(t, "idhub_http_requests_total{endpoint=\"other\",status=\"400\"} 1");
	has(t, "idhub_http_requests_total{endpoint=\"token\",status=\"other\"} 1");
	has(t, "idhub_http_request_duration_seconds_count{endpoint=\"login\"} 1");
	has(t, "idhub_http_request_duration_seconds_bucket{endpoint=\"login\",le=\"+Inf\"} 1");
	free(t);
}

/* A login: started, chosen, back, succeeded after 25 s at the IdP, at level 2, new citizen. */
static void one_login(const char *idp, int new_citizen, int64_t now)
{
	metrics_journey_step(NULL, "svc-a", MX_STEP_STARTED);
	metrics_journey_step(idp, "svc-a", MX_STEP_IDP_CHOSEN);
	metrics_journey_step(idp, "svc-a", MX_STEP_IDP_RETURNED);
	if (new_citizen)
		metrics_new_citizen();
	metrics_journey_succeeded(idp, "svc-a", now - 40, now - 25, now, 2);
}

static void the_funnel_is_exposed(void **state)
{
	(void)state;
	one_login("sb", 1, 1000000);
	one_login("sb", 0, 1000000);
	metrics_journey_failed("sb", "svc-a", MX_FAIL_LOA);
	metrics_code(MX_CODE_ISSUED);
	metrics_code(MX_CODE_REPLAYED);
	metrics_token(MX_TOKEN_ID);
	metrics_idp_document_age("oidc1", 30);
	char *t = render();
	has(t, "idhub_journeys_started_total{idp=\"none\",service=\"svc-a\"} 2");
	has(t, "idhub_journeys_idp_chosen_total{idp=\"sb\",service=\"svc-a\"} 2");
	has(t, "idhub_journeys_idp_returned_total{idp=\"sb\",service=\"svc-a\"} 2");
	has(t, "idhub_journeys_succeeded_total{idp=\"sb\",service=\"svc-a\"} 2");
	has(t,
	    "idhub_journeys_failed_total{idp=\"sb\",service=\"svc-a\",reason=\"level_too_low\"} 1");
	has(t, "idhub_signins_total{service=\"svc-a\",citizen=\"new\"} 1");
	has(t, "idhub_signins_total{service=\"svc-a\",citizen=\"returning\"} 1");
	has(t, "idhub_signins_by_level_total{service=\"svc-a\",level=\"2\"} 2");
	/* 25 s at the IdP: the bucket le=30, not le=20 */
	has(t, "idhub_idp_time_seconds_bucket{idp=\"sb\",le=\"20\"} 0");
	has(t, "idhub_idp_time_seconds_bucket{idp=\"sb\",le=\"30\"} 2");
	has(t, "idhub_idp_time_seconds_sum{idp=\"sb\"} 50");
	has(t, "idhub_login_duration_seconds_bucket{le=\"60\"} 2");
	has(t, "idhub_codes_total{event=\"issued\"} 1");
	has(t, "idhub_codes_total{event=\"replayed\"} 1");
	has(t, "idhub_tokens_issued_total{type=\"id_token\"} 1");
	assert_non_null(strstr(t, "\nidhub_idp_document_age_seconds{idp=\"oidc1\"} 3"));
	free(t);
}

/* A login that failed after its pairwise record was made leaves no mark on the thread's next. */
static void a_new_citizen_mark_ends_with_its_request(void **state)
{
	(void)state;
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	metrics_new_citizen(); /* the record was made, then the code could not be stored */
	metrics_http_request("/callback/sb", 503, &t0);
	metrics_journey_succeeded("sb", "svc-a", 1000, 1000, 1000, 2);
	char *t = render();
	has(t, "idhub_signins_total{service=\"svc-a\",citizen=\"new\"} 0");
	has(t, "idhub_signins_total{service=\"svc-a\",citizen=\"returning\"} 1");
	free(t);
}

/* A single sign-on from a session went to no IdP: it is a sign-in, with no time at the IdP. */
static void a_single_sign_on_has_no_time_at_the_idp(void **state)
{
	(void)state;
	metrics_journey_succeeded("sb", "svc-a", 1000000, 0, 1000002, 2);
	char *t = render();
	has(t, "idhub_journeys_succeeded_total{idp=\"sb\",service=\"svc-a\"} 1");
	has(t, "idhub_idp_time_seconds_count{idp=\"sb\"} 0");
	has(t, "idhub_login_duration_seconds_bucket{le=\"2\"} 1");
	free(t);
}

typedef struct sums {
	long started, completed, loa, t30, signins, fresh, returning, level2;
} sums;

static int add_row(void *arg, const metrics_hourly_row *row)
{
	sums *s = arg;
	json_t *v = row->val;
	if (row->kind == 'i' && strcmp(row->id, "sb") == 0) {
		s->started += json_integer_value(json_object_get(v, "started"));
		s->completed += json_integer_value(json_object_get(v, "completed"));
		s->loa += json_integer_value(
		    json_object_get(json_object_get(v, "failed"), "level_too_low"));
		s->t30 += json_integer_value(json_array_get(json_object_get(v, "idp_time"), 4));
	} else if (row->kind == 's' && strcmp(row->id, "svc-a") == 0) {
		s->signins += json_integer_value(json_object_get(v, "signins"));
		s->fresh += json_integer_value(json_object_get(v, "new"));
		s->returning += json_integer_value(json_object_get(v, "returning"));
		s->level2 += json_integer_value(json_object_get(json_object_get(v, "levels"), "2"));
	}
	return 0;
}

static void hourly_aggregates_add_up_in_the_store(void **state)
{
	(void)state;
	char dir[] = "/tmp/idhub-test-metrics-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char *err = NULL;
	store *st = store_open(dir, 64, &err);
	assert_non_null(st);
	one_login("sb", 1, 1000000);
	metrics_journey_failed("sb", "svc-a", MX_FAIL_LOA);
	assert_int_equal(metrics_hourly_flush(st), 0);
	one_login("sb", 0, 1000000); /* a second flush adds to this node's record */
	assert_int_equal(metrics_hourly_flush(st), 0);
	assert_int_equal(metrics_hourly_flush(st), 0); /* nothing new: nothing changes */
	sums s = {0};
	assert_int_equal(metrics_hourly_iter(st, add_row, &s), 0);
	assert_int_equal(s.started, 2);
	assert_int_equal(s.completed, 2);
	assert_int_equal(s.loa, 1);
	assert_int_equal(s.t30, 2); /* bucket 4 is (20, 30] */
	assert_int_equal(s.signins, 2);
	assert_int_equal(s.fresh, 1);
	assert_int_equal(s.returning, 1);
	assert_int_equal(s.level2, 2);
	store_close(st);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

static int count_idp_rows(void *arg, const metrics_hourly_row *row)
{
	if (row->kind == 'i' && strcmp(row->id, "sb") == 0)
		++*(int *)arg;
	return 0;
}

/* Two nodes sharing a store: each adds to records of its own, so neither overwrites the other. */
static void two_nodes_never_overwrite_each_other(void **state)
{
	(void)state;
	char dir[] = "/tmp/idhub-test-metrics-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char *err = NULL;
	store *st = store_open(dir, 64, &err);
	assert_non_null(st);
	one_login("sb", 1, 1000000);
	assert_int_equal(metrics_hourly_flush(st), 0);
	metrics_shutdown();
	assert_int_equal(metrics_init(&cfg, NULL), 0); /* another node: a random id */
	one_login("sb", 0, 1000000);
	one_login("sb", 0, 1000000);
	assert_int_equal(metrics_hourly_flush(st), 0);
	int rows = 0;
	sums s = {0};
	assert_int_equal(metrics_hourly_iter(st, count_idp_rows, &rows), 0);
	assert_int_equal(metrics_hourly_iter(st, add_row, &s), 0);
	assert_int_equal(rows, 2);
	assert_int_equal(s.completed, 3);
	assert_int_equal(s.fresh, 1);
	assert_int_equal(s.returning, 2);
	store_close(st);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

/* ---- the cost of a hook (printed) ---------------------------------------------------------- */

#define BENCH_N 2000000
static void *bench_thread(void *arg)
{
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < BENCH_N; i++)
		metrics_http_request("/token", 200, &t0);
	return arg;
}

/* CPU time of the process, in ns: what the hooks cost the server, whatever else the machine runs.
 */
static int64_t cpu_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* CPU ns per HTTP hook call, with `threads` threads calling at once. */
static double bench(int threads)
{
	pthread_t t[4];
	int64_t a = cpu_ns();
	for (int i = 0; i < threads; i++)
		pthread_create(&t[i], NULL, bench_thread, NULL);
	for (int i = 0; i < threads; i++)
		pthread_join(t[i], NULL);
	return (double)(cpu_ns() - a) / ((double)BENCH_N * threads);
}

static void hook_cost_is_printed(void **state)
{
	(void)state;
	double one = bench(1), two = bench(2);
	int64_t a = cpu_ns();
	for (int i = 0; i < BENCH_N / 4; i++)
		one_login("sb", i & 1, 1000000);
	double login = (double)(cpu_ns() - a) / (BENCH_N / 4);
	/* a login: 8 HTTP requests, the journey hooks, 2 IdP calls and 4 code/token counters */
	double per_login = 8 * (two > one ? two : one) + login + 2 * one + 4 * one / 4;
	printf("metrics: CPU per HTTP hook (counter + histogram + clock) %.1f ns on one thread, "
	       "%.1f ns with two threads at once; the journey hooks of one login %.1f ns; about "
	       "%.2f us per login, %.2f %% of 0.45 ms\n",
	       one, two, login, per_login / 1000, per_login / 4500);
	/* the counts are right under contention too */
	char *t = render();
	has(t, "idhub_http_requests_total{endpoint=\"token\",status=\"200\"} 6000000");
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(labels_come_from_the_config, setup, teardown),
	    cmocka_unit_test_setup_teardown(endpoints_are_a_fixed_table, setup, teardown),
	    cmocka_unit_test_setup_teardown(the_funnel_is_exposed, setup, teardown),
	    cmocka_unit_test_setup_teardown(a_new_citizen_mark_ends_with_its_request, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(a_single_sign_on_has_no_time_at_the_idp, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(hourly_aggregates_add_up_in_the_store, setup, teardown),
	    cmocka_unit_test_setup_teardown(two_nodes_never_overwrite_each_other, setup, teardown),
	    cmocka_unit_test_setup_teardown(hook_cost_is_printed, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
