/* service.h — the daemon's side of systemd's service protocol (Type=notify): READY=1 once the hub
 * listens, STOPPING=1 when it shuts down, and the watchdog. Without NOTIFY_SOCKET (not started by
 * systemd) every call does nothing. */
#ifndef IDHUB_SERVICE_H
#define IDHUB_SERVICE_H

typedef struct service_watchdog service_watchdog;

/* Tells systemd the hub is ready. When the unit sets WatchdogSec, starts a thread that sends
 * WATCHDOG=1 every half interval, but only after a GET /healthz to the hub's own listener
 * (host:port; a wildcard address is probed on loopback) was answered 200 within that half
 * interval: a wedged event loop stops the pings and systemd restarts the hub. Returns the thread's
 * handle, or NULL when there is no watchdog (or it cannot start: then it logs why). */
service_watchdog *service_ready(const char *host, int port);
/* Tells systemd the hub is stopping, and stops and frees the watchdog thread (w may be NULL). */
void service_stopping(service_watchdog *w);

#endif
