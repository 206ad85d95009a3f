/* authorize.h — the authorization endpoint (/authorize). */
#ifndef IDHUB_OIDC_AUTHORIZE_H
#define IDHUB_OIDC_AUTHORIZE_H
#include "../hub/hub.h"
#include "../http/http.h"

void oidc_authorize(hub *h, http_req *r, http_resp *resp);

#endif
