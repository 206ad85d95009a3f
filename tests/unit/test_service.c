/* test_service.c — unit tests of the systemd notifications (broker/service.c) against a fake
 * NOTIFY_SOCKET: READY=1 at start; with WATCHDOG_USEC set, WATCHDOG=1 pings while the hub's
 * listener answers /healthz 200 (a wildcard listen address is probed on loopback), none while it
 * answers an error; STOPPING=1 at the end; and nothing at all without NOTIFY_SOCKET.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "service.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static atomic_int healthy = 1;
static atomic_int stop_server;
static int listen_fd;

/* A stand-in for the hub's listener: answers every request 200 or 503 per `healthy`. */
static void *fake_listener(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop_server)) {
		int c = accept(listen_fd, NULL, NULL);
		if (c < 0)
			continue;
		char buf[256];
		ssize_t n = recv(c, buf, sizeof buf, 0);
		(void)n;
		const char *r = atomic_load(&healthy)
		                    ? "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n"
		                    : "HTTP/1.1 503 Busy\r\nContent-Length: 0\r\n\r\n";
		ssize_t w = send(c, r, strlen(r), MSG_NOSIGNAL);
		(void)w;
		close(c);
	}
	return NULL;
}

static int notify_fd;

/* The next datagram within ms milliseconds into buf; 0 when none came. */
static int next_msg(char *buf, size_t cap, int ms)
{
	struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
	setsockopt(notify_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	ssize_t n = recv(notify_fd, buf, cap - 1, 0);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	return 1;
}

/* 1 when a datagram containing what arrives within ms milliseconds (bounded count). */
static int wait_for(const char *what, int ms)
{
	char buf[512];
	for (int i = 0; i < 100 && next_msg(buf, sizeof buf, ms); i++)
		if (strstr(buf, what))
			return 1;
	return 0;
}

static void watchdog_pings_only_while_healthy(void **state)
{
	(void)state;
	char dir[] = "/tmp/idhub-notify-XXXXXX";
	assert_non_null(mkdtemp(dir));
	struct sockaddr_un su = {.sun_family = AF_UNIX};
	snprintf(su.sun_path, sizeof su.sun_path, "%s/notify", dir);
	notify_fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	assert_int_equal(bind(notify_fd, (struct sockaddr *)&su, sizeof su), 0);

	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof a;
	listen_fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(bind(listen_fd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(listen(listen_fd, 16), 0);
	getsockname(listen_fd, (struct sockaddr *)&a, &al);
	struct timeval tv = {.tv_sec = 0, .tv_usec = 100000}; /* so the thread sees stop_server */
	setsockopt(listen_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	pthread_t th;
	pthread_create(&th, NULL, fake_listener, NULL);

	char pid[32];
	snprintf(pid, sizeof pid, "%d", (int)getpid());
	setenv("NOTIFY_SOCKET", su.sun_path, 1);
	setenv("WATCHDOG_USEC", "200000", 1); /* WatchdogSec=200ms: a ping every 100 ms */
	setenv("WATCHDOG_PID", pid, 1);

	service_watchdog *w = service_ready("0.0.0.0", ntohs(a.sin_port));
	assert_non_null(w);
	assert_true(wait_for("READY=1", 5000));
	assert_true(wait_for("WATCHDOG=1", 5000));

	/* the listener answers 503: after one half interval for a probe in flight, no ping for
	 * four more half intervals */
	atomic_store(&healthy, 0);
	char buf[512];
	while (next_msg(buf, sizeof buf, 150))
		;
	assert_false(wait_for("WATCHDOG=1", 400));
	atomic_store(&healthy, 1);
	assert_true(wait_for("WATCHDOG=1", 5000));

	service_stopping(w);
	assert_true(wait_for("STOPPING=1", 5000));

	atomic_store(&stop_server, 1);
	pthread_join(th, NULL);
	close(listen_fd);
	close(notify_fd);
	unlink(su.sun_path);
	rmdir(dir);
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
}

static void nothing_without_systemd(void **state)
{
	(void)state;
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	assert_null(service_ready("127.0.0.1", 9));
	service_stopping(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(watchdog_pings_only_while_healthy),
	    cmocka_unit_test(nothing_without_systemd),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
