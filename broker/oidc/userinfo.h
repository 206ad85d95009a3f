/* userinfo.h — GET/POST /userinfo. */
#ifndef IDHUB_USERINFO_H
#define IDHUB_USERINFO_H
#include "../hub/hub.h"
#include "../http/http.h"

void oidc_userinfo(hub *h, http_req *r, http_resp *resp);

#endif
