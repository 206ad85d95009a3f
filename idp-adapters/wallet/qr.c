/* qr.c — the cross-device QR code: the openid4vp:// link drawn server-side as an SVG with
 * libqrencode, so the page needs no script. One path of horizontal strokes, a row's runs of dark
 * modules each "h<length>" after a relative move over the light ones, and a quiet zone of four
 * modules: a few KB, so the page with its stylesheet stays within the pages' 15 KB. */
#include "wallet_int.h"
#include <qrencode.h>
#include <string.h>

/* The strokes of row y (row y + 4 of the picture): appended at out + len, returns the new len. */
static size_t row(const QRcode *q, int y, char *out, size_t len, size_t cap)
{
	int n = q->width, at = -1; /* at: where the pen is (-1: not yet on this row) */
	for (int x = 0; x < n;) {
		int run = 0;
		while (x + run < n && (q->data[y * n + x + run] & 1))
			run++;
		if (!run) {
			x++;
			continue;
		}
		len +=
		    (size_t)(at < 0
		                 ? snprintf(out + len, cap - len, "M%d %d.5h%d", x + 4, y + 4, run)
		                 : snprintf(out + len, cap - len, "m%d 0h%d", x + 4 - at, run));
		at = x + 4 + run;
		x += run;
	}
	return len;
}

const char *wallet_qr_svg(const wallet *w, idhub_arena *a, const char *text, const char *title)
{
	QRcode *q = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	if (!q)
		return NULL;
	int n = q->width, size = n + 8;
	/* at most "M%d %d.5h%d" (~14 bytes) per run, a run per two modules at most */
	size_t cap = (size_t)n * (size_t)n * 8 + 512 + strlen(title), len = 0;
	char *out = w->svc->alloc(a, cap);
	len += (size_t)snprintf(
	    out + len, cap - len,
	    "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" width=\"%d\" "
	    "height=\"%d\" role=\"img\" aria-labelledby=\"qr-title\" "
	    "shape-rendering=\"crispEdges\">"
	    "<title id=\"qr-title\">%s</title><rect width=\"%d\" height=\"%d\" fill=\"#fff\"/>"
	    "<path fill=\"none\" stroke=\"#000\" d=\"",
	    size, size, size * 6, size * 6, title, size, size);
	for (int y = 0; y < n; y++)
		len = row(q, y, out, len, cap);
	snprintf(out + len, cap - len, "\"/></svg>");
	QRcode_free(q);
	return out;
}
