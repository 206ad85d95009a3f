/* responses.c — what adapters show the citizen, through the hub: pages in the hub's layout and
 * language (broker/pages), the auto-POST of the HTTP-POST binding, the way back to the hub after
 * an upstream logout, level names and catalog texts with placeholders. The idhub_services
 * respond_page, respond_autopost, respond_logout_done, level_name, level_of and text_fill
 * (include/idhub/adapter.h), so no adapter renders the hub's patterns by hand. */
#include "responses.h"
#include "host_int.h"
#include "../pages/pages.h"
#include <string.h>

#define LOGOUT_TOKEN_MAX 4096

static int fill(idhub_http_response *resp, int status, const char *html)
{
	if (!html)
		return -1;
	resp->status = status;
	resp->content_type = "text/html; charset=utf-8";
	resp->body = html;
	resp->body_len = strlen(html);
	return 0;
}

int idp_respond_page(idhub_instance *in, idhub_arena *a, idhub_http_response *resp, int status,
                     uint32_t flags, const char *title, const char *body_html)
{
	(void)in;
	page_opts o = {.title = title, .error = (flags & IDHUB_PAGE_ERROR) != 0};
	return fill(resp, status, page_render_opts((arena *)a, &o, body_html));
}

int idp_respond_autopost(idhub_instance *in, idhub_arena *a, idhub_http_response *resp,
                         const char *action, const idhub_kv *fields, size_t nfields,
                         const char *heading, const char *message)
{
	(void)in;
	return fill(resp, 200,
	            page_autopost((arena *)a, action, fields, nfields, heading, message));
}

/* The hub's /logout/upstream (broker/sessions/upstream.c hands the same URL to logout hooks as
 * return_url, with return_param "state"). */
int idp_respond_logout_done(idhub_instance *in, idhub_arena *a, idhub_http_response *resp,
                            const char *token)
{
	if (!token || strlen(token) > LOGOUT_TOKEN_MAX)
		return -1;
	const char *loc = in->svc.url_param(
	    a, arena_printf((arena *)a, "%s/logout/upstream", in->h->cfg->issuer), "state", token);
	if (!loc)
		return -1;
	resp->status = 303;
	resp->location = loc;
	return 0;
}

const char *idp_level_name(idhub_instance *in, idhub_arena *a, int level)
{
	return page_level_name((arena *)a, in->h->cfg, level);
}

int idp_level_of(idhub_instance *in, const char *word)
{
	const hub_conf *cfg = in->h->cfg;
	for (int l = 0; l < cfg->nloas; l++)
		if (strcmp(cfg->loa_acrs[l], word) == 0)
			return l + 1;
	return strlen(word) == 1 && word[0] >= '1' && word[0] <= '0' + cfg->nloas ? word[0] - '0'
	                                                                          : 0;
}

const char *idp_text_fill(idhub_instance *in, idhub_arena *a, const char *key, const char *arg1,
                          const char *arg2)
{
	(void)in;
	return page_fmt((arena *)a, T(key), arg1, arg2);
}
