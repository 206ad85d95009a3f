/* log.c — stderr logging with journald priority prefixes (see log.h). */
#include "log.h"
#include <stdarg.h>
#include <stdio.h>

static int log_level = LOG_INFO_; /* set once in main before threads start */

void log_set_level(int level)
{
	log_level = level;
}

void log_msg(int level, const char *fmt, ...)
{
	if (level > log_level)
		return;
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	/* one fprintf per line so lines from several threads do not interleave */
	fprintf(stderr, "<%d>%s\n", level, line);
}
