/* hub_fixture.h — for unit tests of the sessions code: a hub with a real LMDB store in a fresh
 * temporary directory, a fake clock starting at HUB_FIXTURE_T0, and an arena. The test sets the
 * hub_conf fields it needs in its setup after hub_fixture_open. Include after cmocka.h. */
#ifndef IDHUB_TEST_HUB_FIXTURE_H
#define IDHUB_TEST_HUB_FIXTURE_H
#include "hub/hub.h"
#include "util/arena.h"
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HUB_FIXTURE_T0 1800000000

static int64_t fake_now = HUB_FIXTURE_T0;
static int64_t fake_clock(void)
{
	return fake_now;
}

struct fx {
	char dir[64];
	hub h;
	hub_conf cfg;
	arena *a;
};

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

/* A fixture whose store lives under /tmp/idhub-test-<name>-XXXXXX. */
static struct fx *hub_fixture_open(const char *name)
{
	struct fx *f = calloc(1, sizeof *f);
	assert_non_null(f);
	snprintf(f->dir, sizeof f->dir, "/tmp/idhub-test-%s-XXXXXX", name);
	assert_non_null(mkdtemp(f->dir));
	char *err = NULL;
	f->h.st = store_open(f->dir, 64, &err);
	assert_non_null(f->h.st);
	store_set_clock(f->h.st, fake_clock);
	f->h.cfg = &f->cfg;
	f->a = arena_new();
	fake_now = HUB_FIXTURE_T0;
	return f;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	store_close(f->h.st);
	nftw(f->dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
	arena_free(f->a);
	free(f);
	return 0;
}

#endif
