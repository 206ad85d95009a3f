/* workers.h — a fixed pool of threads for request handlers that may wait on the network (an
 * upstream IdP's token endpoint, metadata), so a slow IdP never stalls the connections that share
 * an event-loop thread with the waiting one. */
#ifndef IDHUB_WORKERS_H
#define IDHUB_WORKERS_H

typedef struct workers workers;

/* Starts n threads. NULL on error. */
workers *workers_new(int n);
/* Queues fn(arg). Returns 0, or -1 when the pool is stopping (the caller runs the job itself). */
int workers_submit(workers *w, void (*fn)(void *arg), void *arg);
/* Refuses new jobs, runs every queued one, joins the threads and frees the pool. */
void workers_free(workers *w);

#endif
