/* claims.h — the identity claims the hub releases to a service (OIDC Core §5), shared by the
 * OpenID Provider (the claims parameter at /authorize, the release when a code is minted,
 * discovery) and the journey (what an adapter asks its IdP for): which standard claim each scope
 * covers (§5.4), the claims request parameter (§5.5) reduced to the claim names the hub knows, what
 * each kind of IdP adapter can assert (for discovery), and the release rule.
 *
 * Release rule: a claim reaches a service only when (1) one of the scopes the service is allowed
 * covers it, (2) the IdP asserted it in this login, and (3) the request asked for it, by a granted
 * scope or by name in the claims parameter (for the ID token, the userinfo answer, or both).
 * Essential and voluntary claims are treated alike: a claim the hub does not have is left out. */
#ifndef IDHUB_CLAIMS_H
#define IDHUB_CLAIMS_H
#include "../hub/hub.h"
#include "../util/arena.h"
#include <idhub/adapter.h>
#include <jansson.h>

/* The longest claims parameter accepted: it is validated at /authorize and only its reduced form
 * (two bit sets of the standard claims, at most 17 characters) travels sealed in the picker's
 * URL. */
#define CLAIMS_PARAM_MAX 2048

/* The scope that covers a standard claim ("profile", "email", "address", "phone"), or NULL when
 * the claim is not one the hub releases. */
const char *claims_scope_of(const char *claim);

/* Parses the claims request parameter: a JSON object whose optional "id_token" and "userinfo"
 * members are objects of claim name -> null or {"essential", "value", "values"}. Returns the
 * reduced request, "<id_token bits>.<userinfo bits>" in hex over the standard claims asked for
 * (arena), or NULL: with *why NULL when nothing the hub releases was asked for, with *why set when
 * the parameter is malformed (invalid_request). */
const char *claims_request_parse(arena *a, const char *param, const char **why);

/* The claims released from identity id to service svc, for the granted scope and the reduced
 * claims request (NULL: none): *userinfo and *id_token get new objects (json_decref). */
void claims_release(const service_conf *svc, const char *scope, const char *request,
                    const idhub_identity *id, json_t **userinfo, json_t **id_token);

/* The standard claims service svc may receive and asked for (the release rule's (1) and (3)): by
 * a granted scope or by name in the reduced claims request. An array on a of static names; *n
 * gets its length. What an adapter asks its IdP for (idhub_login_request.claims). */
const char **claims_wanted(arena *a, const service_conf *svc, const char *scope,
                           const char *request, size_t *n);

/* Whether any configured, enabled IdP's adapter can assert claim. */
int claims_idps_assert(const hub *h, const char *claim);

/* The standard claims the configured IdPs can assert, in the table's order (new array). */
json_t *claims_idp_claims(const hub *h);

#endif
