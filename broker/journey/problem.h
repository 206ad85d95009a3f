/* problem.h — the journey's error pages: each problem says what happened in its own words and
 * offers one obvious next step (back to the service with the OAuth error when the request is
 * known and its redirect_uri still registered; else "choose another way"/"try again" for a live
 * journey; else the deployment's help link). */
#ifndef IDHUB_PROBLEM_H
#define IDHUB_PROBLEM_H
#include "journey.h"

typedef enum journey_problem {
	JP_INVALID,         /* a link that is not one of ours (tampered, truncated, unknown) */
	JP_EXPIRED,         /* the journey's time ran out */
	JP_FINISHED,        /* the journey already ended (signed in, or cancelled) */
	JP_OTHER_BROWSER,   /* bound to another browser */
	JP_IDP_UNAVAILABLE, /* the IdP could not be reached, or is saturated */
	JP_BUSY,            /* the hub's store is at its high-water mark */
	JP_TOO_MANY,        /* the source's journey budget for this minute is spent */
	JP_LOA,             /* the IdP asserted a level below the service's */
	JP_CANCELLED,       /* the citizen cancelled at the IdP */
	JP_STALE,           /* max_age / prompt=login not met by the IdP's sign-in */
	JP_LOGIN_REQUIRED,  /* the IdP needs an interaction it was told not to have */
	JP_REFUSED,         /* the IdP's answer could not be accepted */
	JP_TIMED_OUT,       /* the IdP's login ran out of time before an answer (a wallet) */
	JP_COUNT
} journey_problem;

/* The page for problem p. j: the journey when known (its client and redirect_uri may be set even
 * when it is gone), else NULL. live: j can still go on (choose another way, try again, cancel).
 * idp_name: the IdP's display name for JP_IDP_UNAVAILABLE, or NULL. */
void journey_problem_page(hub *h, http_req *r, http_resp *resp, journey_problem p, const journey *j,
                          int live, const char *idp_name);
/* The problem for a journey that journey_load could not load (j->gone). */
journey_problem journey_gone_problem(const journey *j);
/* The service's redirect_uri with an OAuth error, its state and iss, when j names a service that
 * still registers that redirect_uri; else NULL. */
const char *journey_error_url(hub *h, arena *a, const journey *j, const char *error,
                              const char *description);
/* An HTML error page (status, heading, message, optional safe HTML actions): the same page as
 * oidc_error_page, for the journey's own requests. */
void journey_error_page(http_req *r, http_resp *resp, int status, const char *heading,
                        const char *message, const char *actions_html);
#endif
