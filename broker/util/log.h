/* log.h — one-line logs to stderr, as text with syslog priority prefixes (<3>…, which journald
 * reads) or as JSON lines (hub.log_format = "json"), each carrying the request ID and journey ID of
 * the request the calling thread is handling.
 *
 * Never pass a secret, a token, a code or an upstream subject to these functions: log lines leave
 * the hub (journald, a SIEM). Name things by their configured id, or by a hash. */
#ifndef IDHUB_LOG_H
#define IDHUB_LOG_H

enum { LOG_ERR_ = 3, LOG_WARN_ = 4, LOG_NOTICE_ = 5, LOG_INFO_ = 6, LOG_DEBUG_ = 7 };
enum { LOG_TEXT = 0, LOG_JSON = 1 };

/* Sets the highest priority number that is printed (default LOG_INFO_). Call before threads start.
 */
void log_set_level(int level);
/* Sets the line format, LOG_TEXT (default) or LOG_JSON. Call before threads start. */
void log_set_format(int format);
/* 1 when lines of this priority are printed (to skip building fields nobody reads). */
int log_enabled(int level);

void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define log_err(...) log_msg(LOG_ERR_, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN_, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO_, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG_, __VA_ARGS__)

/* A structured field: str, or num when str is NULL. */
typedef struct log_field {
	const char *key;
	const char *str;
	long long num;
} log_field;
/* One line: msg and n fields (JSON members, or " key=value" in text). */
void log_fields(int level, const char *msg, const log_field *f, int n);

/* The calling thread's request context, printed on every line it logs until cleared.
 * log_set_request: the request's ID (copied; at most LOG_ID_MAX characters of [A-Za-z0-9._-]),
 * or NULL to clear both the request and the journey ID when the request ends.
 * log_set_journey: the journey's store key (itself a hash of the sealed journey token); the line
 * carries a further hash of it, so a log reader can tie the lines of one login together
 * but cannot use the ID to load or continue the journey. */
#define LOG_ID_MAX 64
void log_set_request(const char *request_id);
void log_set_journey(const char *journey_key);
/* Sets the journey ID itself (one log_journey_id returned earlier, kept in a record that outlives
 * the request, such as the authorization code's): ignored unless 1..23 ID characters. */
void log_set_journey_id(const char *journey_id);
/* The calling thread's current IDs ("" when none). */
const char *log_request_id(void);
const char *log_journey_id(void);

#endif
