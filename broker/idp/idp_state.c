/* idp_state.c — operator switches per IdP (see idp_state.h). */
#include "idp_state.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void defaults(idp_state *st)
{
	memset(st, 0, sizeof *st);
	st->enabled = -1;
	st->window_from = st->window_to = -1;
}

void idp_state_get(store *s, const char *id, idp_state *out)
{
	defaults(out);
	void *v;
	size_t n;
	if (store_get(s, NS_IDP_STATE, id, strlen(id), &v, &n, NULL) != 0)
		return;
	json_t *o = json_loadb(v, n, 0, NULL);
	free(v);
	if (!json_is_object(o)) {
		json_decref(o);
		return;
	}
	json_t *e = json_object_get(o, "enabled");
	out->enabled = json_is_boolean(e) ? json_is_true(e) : -1;
	out->unavailable = json_is_true(json_object_get(o, "unavailable"));
	const char *w = json_string_value(json_object_get(o, "window"));
	if (w && idp_state_parse_window(w, &out->window_from, &out->window_to))
		out->window_from = out->window_to = -1;
	const char *note = json_string_value(json_object_get(o, "note"));
	snprintf(out->note, sizeof out->note, "%s", note ? note : "");
	out->updated = json_integer_value(json_object_get(o, "updated"));
	json_decref(o);
}

json_t *idp_state_json(const idp_state *st)
{
	json_t *o = json_object();
	json_object_set_new(o, "enabled",
	                    st->enabled < 0 ? json_null() : json_boolean(st->enabled));
	json_object_set_new(o, "unavailable", json_boolean(st->unavailable));
	if (st->window_from >= 0)
		json_object_set_new(o, "window",
		                    json_sprintf("%02d:%02d-%02d:%02d", st->window_from / 60,
		                                 st->window_from % 60, st->window_to / 60,
		                                 st->window_to % 60));
	else
		json_object_set_new(o, "window", json_null());
	json_object_set_new(o, "note", json_string(st->note));
	json_object_set_new(o, "updated", json_integer(st->updated));
	return o;
}

int idp_state_put(store *s, const char *id, const idp_state *st)
{
	json_t *o = idp_state_json(st);
	char *js = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (!js)
		return STORE_ERR;
	int rc = store_put(s, NS_IDP_STATE, id, strlen(id), js, strlen(js), 0);
	free(js);
	return rc;
}

int idp_state_parse_window(const char *s, int *from, int *to)
{
	int h1, m1, h2, m2;
	char end;
	if (sscanf(s, "%2d:%2d-%2d:%2d%c", &h1, &m1, &h2, &m2, &end) != 4 || h1 < 0 || h1 > 23 ||
	    h2 < 0 || h2 > 24 || m1 < 0 || m1 > 59 || m2 < 0 || m2 > 59 || (h2 == 24 && m2))
		return -1;
	*from = h1 * 60 + m1;
	*to = h2 * 60 + m2;
	return *from == *to ? -1 : 0;
}

int idp_state_offerable(const idp_state *st, int config_enabled, int64_t now)
{
	int enabled = st->enabled < 0 ? config_enabled : st->enabled;
	if (!enabled || st->unavailable)
		return 0;
	if (st->window_from < 0)
		return 1;
	int m = (int)((now % 86400 + 86400) % 86400 / 60);
	/* a window may wrap midnight: 22:00-06:00 */
	return st->window_from < st->window_to ? m >= st->window_from && m < st->window_to
	                                       : m >= st->window_from || m < st->window_to;
}
