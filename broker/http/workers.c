/* workers.c — the blocking-handler thread pool (see workers.h). */
#include "workers.h"
#include <pthread.h>
#include <stdlib.h>

typedef struct job {
	void (*fn)(void *);
	void *arg;
	struct job *next;
} job;

struct workers {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	job *head, *tail;
	int stopping;
	int n;
	pthread_t *threads;
};

static void *worker_main(void *arg)
{
	workers *w = arg;
	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (!w->head && !w->stopping)
			pthread_cond_wait(&w->cv, &w->mu);
		job *j = w->head;
		if (!j)
			break; /* stopping and drained */
		w->head = j->next;
		if (!w->head)
			w->tail = NULL;
		pthread_mutex_unlock(&w->mu);
		j->fn(j->arg);
		free(j);
		pthread_mutex_lock(&w->mu);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

workers *workers_new(int n)
{
	workers *w = calloc(1, sizeof *w);
	if (!w)
		return NULL;
	w->threads = calloc((size_t)n, sizeof *w->threads);
	if (!w->threads) {
		free(w);
		return NULL;
	}
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	for (; w->n < n; w->n++)
		if (pthread_create(&w->threads[w->n], NULL, worker_main, w) != 0)
			break;
	if (w->n == 0) {
		workers_free(w);
		return NULL;
	}
	return w;
}

int workers_submit(workers *w, void (*fn)(void *arg), void *arg)
{
	job *j = malloc(sizeof *j);
	if (!j)
		return -1;
	j->fn = fn;
	j->arg = arg;
	j->next = NULL;
	pthread_mutex_lock(&w->mu);
	if (w->stopping) {
		pthread_mutex_unlock(&w->mu);
		free(j);
		return -1;
	}
	if (w->tail)
		w->tail->next = j;
	else
		w->head = j;
	w->tail = j;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	return 0;
}

void workers_free(workers *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->mu);
	w->stopping = 1;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	for (int i = 0; i < w->n; i++)
		pthread_join(w->threads[i], NULL);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
	free(w->threads);
	free(w);
}
