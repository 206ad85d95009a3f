/* busy.c — the 503 "busy" page of a refused new journey (see busy.h; worded in problem.c). */
#include "busy.h"
#include "problem.h"
#include "../metrics/metrics.h"

void journey_busy_page(hub *h, http_req *r, http_resp *resp, const journey *j)
{
	metrics_journey_failed(j->idp, j->client_id, MX_FAIL_BUSY);
	journey_problem_page(h, r, resp, JP_BUSY, j, 1, NULL);
}
