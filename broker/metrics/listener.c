/* listener.c — the /metrics listener: a second libmicrohttpd daemon with one internal thread, on
 * hub.metrics_listen (loopback by default), apart from the public port so the figures never leak
 * through the front proxy. It answers GET (and HEAD) /metrics and 404 to everything else. */
#include "listener.h"
#include "metrics_int.h"
#include "../util/log.h"
#include <arpa/inet.h>
#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>

struct metrics_listener {
	struct MHD_Daemon *d;
	store *st;
	keys_cache *kc;
	const hub_conf *cfg;
};

char *metrics_render(store *st, keys_cache *kc, size_t *len)
{
	char *text = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&text, &n);
	if (!f)
		return NULL;
	metrics_render_registry(f);
	if (st && mx_reg)
		metrics_render_gauges(f, st, kc, mx_reg->cfg);
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	*len = n;
	return text;
}

static enum MHD_Result answer(struct MHD_Connection *con, unsigned status, char *body, size_t len,
                              const char *ct)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(
	    len, body, body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", ct);
	MHD_add_response_header(r, "Cache-Control", "no-store");
	enum MHD_Result ret = MHD_queue_response(con, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *con, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_size, void **state)
{
	metrics_listener *l = cls;
	if (!*state) { /* headers only so far: wait for the (empty) body */
		*state = l;
		return MHD_YES;
	}
	if (*upload_size) {
		*upload_size = 0; /* a body is not expected: ignored */
		return MHD_YES;
	}
	if (strcmp(url, "/metrics") != 0)
		return answer(con, 404, NULL, 0, "text/plain; charset=utf-8");
	if (strcmp(method, "GET") && strcmp(method, "HEAD"))
		return answer(con, 405, NULL, 0, "text/plain; charset=utf-8");
	size_t len = 0;
	char *text = metrics_render(l->st, l->kc, &len);
	if (!text)
		return answer(con, 500, NULL, 0, "text/plain; charset=utf-8");
	return answer(con, 200, text, len, "text/plain; version=0.0.4; charset=utf-8");
}

metrics_listener *metrics_listener_start(const hub_conf *cfg, store *st, keys_cache *kc, char **err)
{
	*err = NULL;
	if (!cfg->metrics_host)
		return NULL; /* "off" */
	struct sockaddr_in a4 = {.sin_family = AF_INET, .sin_port = htons(cfg->metrics_port)};
	struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_port = htons(cfg->metrics_port)};
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
	struct sockaddr *sa = (struct sockaddr *)&a4;
	if (inet_pton(AF_INET6, cfg->metrics_host, &a6.sin6_addr) == 1) {
		sa = (struct sockaddr *)&a6;
		flags |= MHD_USE_IPv6;
	} else if (inet_pton(AF_INET, cfg->metrics_host, &a4.sin_addr) != 1) {
		*err = strdup("hub.metrics_listen: not an IP address");
		return NULL;
	}
	metrics_listener *l = calloc(1, sizeof *l);
	if (!l)
		return NULL;
	l->st = st;
	l->kc = kc;
	l->cfg = cfg;
	l->d =
	    MHD_start_daemon(flags, (uint16_t)cfg->metrics_port, NULL, NULL, on_request, l,
	                     MHD_OPTION_SOCK_ADDR, sa, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10,
	                     MHD_OPTION_CONNECTION_LIMIT, (unsigned)64, MHD_OPTION_END);
	if (!l->d) {
		if (asprintf(err, "cannot listen for metrics on %s (in use, or not permitted)",
		             cfg->metrics_listen) < 0)
			*err = NULL;
		free(l);
		return NULL;
	}
	/* the figures are for operators: say so when they are reachable beyond this machine */
	if (strcmp(cfg->metrics_host, "127.0.0.1") && strcmp(cfg->metrics_host, "::1"))
		log_warn("metrics: /metrics listens on %s, beyond loopback: keep it off the public "
		         "network",
		         cfg->metrics_listen);
	return l;
}

void metrics_listener_stop(metrics_listener *l)
{
	if (!l)
		return;
	MHD_stop_daemon(l->d);
	free(l);
}
