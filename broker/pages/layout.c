/* layout.c — the page shell and stylesheet every hub page uses (see pages.h). */
#include "pages.h"
#include "../util/buf.h"

const char PAGE_CSS[] =
    "*,*::before,*::after{box-sizing:border-box}"
    "body{margin:0;font:19px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif;"
    "color:#0b0c0c;background:#fff}"
    ".skip{position:absolute;left:-9999px}.skip:focus{left:8px;top:8px;background:#fd0;padding:8px}"
    "header{background:#0b0c0c;color:#fff;padding:12px 24px;font-weight:700}"
    "header a{color:#fff;text-decoration:none}"
    "main{max-width:720px;margin:0 auto;padding:24px}"
    "h1{font-size:2rem;line-height:1.2;margin:0 0 16px}"
    "fieldset{border:0;padding:0;margin:0 0 24px}legend{font-size:1.3rem;font-weight:700;"
    "margin-bottom:12px}"
    ".option{display:flex;align-items:flex-start;gap:12px;margin:0 0 12px}"
    ".option input[type=radio]{width:28px;height:28px;margin:0;flex:none}"
    ".option label{cursor:pointer}.hint{display:block;color:#505a5f;font-size:.9rem}"
    "input[type=text],select{font:inherit;padding:6px;border:2px solid #0b0c0c;min-width:16em}"
    ".button{font:inherit;font-weight:600;background:#00703c;color:#fff;border:0;"
    "box-shadow:0 2px 0 #002d18;padding:10px 18px;cursor:pointer;margin:0 12px 12px 0;"
    "display:inline-block;text-decoration:none}"
    ".button.secondary{background:#f3f2f1;color:#0b0c0c;box-shadow:0 2px 0 #929191}"
    "a{color:#1d70b8}"
    ":focus-visible{outline:3px solid #fd0;outline-offset:0;box-shadow:0 -2px #fd0,0 4px #0b0c0c}"
    ".error-summary{border:5px solid #d4351c;padding:16px;margin-bottom:24px}"
    ".error-summary h2{margin-top:0}.error-message{color:#d4351c;font-weight:700;display:block}"
    "dl.claims{display:grid;grid-template-columns:max-content 1fr;gap:6px 16px}"
    "dl.claims dt{font-weight:700}dl.claims dd{margin:0;word-break:break-all;"
    "font-family:ui-monospace,monospace}"
    "footer{max-width:720px;margin:32px auto;padding:0 24px;color:#505a5f;font-size:.85rem}"
    ".env-banner{background:#fd0;color:#0b0c0c;padding:8px 24px;font-weight:700;"
    "border-bottom:4px solid #0b0c0c}";

/* Set once at start-up (pages_init), read-only while threads serve: part of the config snapshot. */
static int integration_env;

void pages_init(int integration)
{
	integration_env = integration;
}

const char *page_render(arena *a, const char *title, const char *body_html)
{
	buf b;
	buf_init(&b, a);
	buf_puts(&b, "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	             "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	             "<title>");
	buf_html(&b, title);
	buf_puts(&b, " – idhub</title>\n<link rel=\"stylesheet\" href=\"/assets/idhub.css\">\n"
	             "</head>\n<body>\n<a class=\"skip\" href=\"#main\">Skip to main content</a>\n"
	             "<header role=\"banner\">idhub · prove who you are</header>\n");
	if (integration_env)
		buf_puts(&b,
		         "<div class=\"env-banner\" role=\"note\" id=\"integration-environment\">"
		         "Integration environment: this is not the real service. Use test "
		         "identities only.</div>\n");
	buf_puts(&b, "<main id=\"main\" tabindex=\"-1\">\n");
	buf_puts(&b, body_html);
	buf_puts(&b, "\n</main>\n<footer role=\"contentinfo\">idhub identity hub</footer>\n"
	             "</body>\n</html>\n");
	return buf_str(&b);
}

const char *page_error(arena *a, const char *heading, const char *message, const char *actions_html)
{
	buf b;
	buf_init(&b, a);
	buf_puts(&b, "<h1>");
	buf_html(&b, heading);
	buf_puts(&b, "</h1>\n<p>");
	buf_html(&b, message);
	buf_puts(&b, "</p>\n");
	if (actions_html)
		buf_puts(&b, actions_html);
	return page_render(a, heading, buf_str(&b));
}
