/* demo_int.h — shared inside broker/demo/ only: the demo services and their helpers. */
#ifndef IDHUB_DEMO_INT_H
#define IDHUB_DEMO_INT_H
#include "../hub/hub.h"
#include "../http/http.h"
#include <jansson.h>

#define LOGIN_COOKIE "demo_login"
#define SESSION_COOKIE "demo_session"

typedef struct demo_app {
	const char *path;      /* "/demo": its pages, and its cookies' Path */
	const char *client_id; /* the service in the config */
	const char *title;
	const char *other; /* the other demo service's path */
} demo_app;

void demo_page(http_req *r, http_resp *resp, const demo_app *app, int status, const char *body);
void demo_show_start(hub *h, http_req *r, http_resp *resp, const demo_app *app, const char *notice);
void demo_set_cookie(hub *h, http_req *r, http_resp *resp, const demo_app *app, const char *name,
                     const char *value, int max_age);
/* The demo session record {claims, idt} of the request's cookie (new reference), or NULL; *key
 * (if non-NULL) gets its store key (arena). */
json_t *demo_session(hub *h, http_req *r, const demo_app *app, char **key);

/* /demoX/logout: ends the demo session and sends the citizen to the hub's end_session_endpoint. */
void demo_logout(hub *h, http_req *r, http_resp *resp, const demo_app *app);
/* POST /demoX/backchannel: Back-Channel Logout 1.0 §2.6, as a careful relying party. */
void demo_backchannel(hub *h, http_req *r, http_resp *resp, const demo_app *app);

#endif
