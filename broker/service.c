/* service.c — systemd notifications (READY, STOPPING) and the watchdog thread that pings systemd
 * only while the hub's own listener answers (see service.h). */
#include "service.h"
#include "util/log.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

struct service_watchdog {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	int stopping;
	uint64_t half_usec;
	struct sockaddr_storage addr;
	socklen_t addr_len;
};

/* The address to probe: the listen address, or loopback when it is a wildcard. */
static int probe_addr(service_watchdog *w, const char *host, int port)
{
	struct sockaddr_in *a4 = (struct sockaddr_in *)&w->addr;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&w->addr;
	if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
		if (a4->sin_addr.s_addr == htonl(INADDR_ANY))
			a4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)port);
		w->addr_len = sizeof *a4;
		return 0;
	}
	if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
		if (IN6_IS_ADDR_UNSPECIFIED(&a6->sin6_addr))
			a6->sin6_addr = in6addr_loopback;
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		w->addr_len = sizeof *a6;
		return 0;
	}
	return -1;
}

/* 1 when GET /healthz on the hub's listener answers 200 within the half interval. */
static int probe(service_watchdog *w)
{
	int fd = socket(w->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	struct timeval tv = {.tv_sec = (time_t)(w->half_usec / 1000000),
	                     .tv_usec = (suseconds_t)(w->half_usec % 1000000)};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv); /* bounds connect, send and recv */
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	static const char req[] = "GET /healthz HTTP/1.0\r\nHost: localhost\r\n\r\n";
	char buf[64];
	size_t got = 0;
	int ok = 0;
	if (connect(fd, (struct sockaddr *)&w->addr, w->addr_len) == 0 &&
	    send(fd, req, sizeof req - 1, MSG_NOSIGNAL) == (ssize_t)(sizeof req - 1)) {
		while (got < 12) {
			ssize_t n = recv(fd, buf + got, sizeof buf - 1 - got, 0);
			if (n <= 0)
				break;
			got += (size_t)n;
		}
		buf[got] = 0;
		ok =
		    got >= 12 && strncmp(buf, "HTTP/1.", 7) == 0 && strncmp(buf + 9, "200", 3) == 0;
	}
	close(fd);
	return ok;
}

static void *watchdog_main(void *arg)
{
	service_watchdog *w = arg;
	pthread_mutex_lock(&w->lock);
	while (!w->stopping) {
		pthread_mutex_unlock(&w->lock);
		if (probe(w))
			sd_notify(0, "WATCHDOG=1");
		else
			log_warn("watchdog: the hub's listener did not answer /healthz; no ping");
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += (time_t)(w->half_usec / 1000000);
		until.tv_nsec += (long)(w->half_usec % 1000000) * 1000;
		if (until.tv_nsec >= 1000000000) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000;
		}
		pthread_mutex_lock(&w->lock);
		while (!w->stopping && pthread_cond_timedwait(&w->wake, &w->lock, &until) == 0)
			;
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

service_watchdog *service_ready(const char *host, int port)
{
	sd_notifyf(0, "READY=1\nSTATUS=listening on %s:%d\nMAINPID=%lu", host, port,
	           (unsigned long)getpid());
	uint64_t usec = 0;
	if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0)
		return NULL;
	service_watchdog *w = calloc(1, sizeof *w);
	if (!w)
		return NULL;
	w->half_usec = usec / 2;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->wake, NULL);
	if (probe_addr(w, host, port) || pthread_create(&w->thread, NULL, watchdog_main, w)) {
		log_err("watchdog: cannot start; systemd will restart the hub at WatchdogSec");
		pthread_cond_destroy(&w->wake);
		pthread_mutex_destroy(&w->lock);
		free(w);
		return NULL;
	}
	log_info("watchdog: pinging systemd every %llu ms while /healthz answers",
	         (unsigned long long)(w->half_usec / 1000));
	return w;
}

void service_stopping(service_watchdog *w)
{
	sd_notify(0, "STOPPING=1");
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	w->stopping = 1;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	pthread_cond_destroy(&w->wake);
	pthread_mutex_destroy(&w->lock);
	free(w);
}
