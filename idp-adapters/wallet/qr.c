/* qr.c — the cross-device QR code: the openid4vp:// link drawn server-side as an SVG (one path of
 * unit squares, a quiet zone of four modules) with libqrencode, so the page needs no script. */
#include "wallet_int.h"
#include <qrencode.h>
#include <string.h>

const char *wallet_qr_svg(const wallet *w, idhub_arena *a, const char *text)
{
	QRcode *q = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	if (!q)
		return NULL;
	int n = q->width, size = n + 8;
	/* at most "M%d %dh1v1h-1z" (~16 bytes) per module */
	size_t cap = (size_t)n * (size_t)n * 18 + 512, len = 0;
	char *out = w->svc->alloc(a, cap);
	len +=
	    (size_t)snprintf(out + len, cap - len,
	                     "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" "
	                     "width=\"%d\" height=\"%d\" role=\"img\" aria-labelledby=\"qr-title\" "
	                     "shape-rendering=\"crispEdges\"><title id=\"qr-title\">QR code to "
	                     "scan with your wallet</title><rect width=\"%d\" height=\"%d\" "
	                     "fill=\"#fff\"/><path fill=\"#000\" d=\"",
	                     size, size, size * 6, size * 6, size, size);
	for (int y = 0; y < n; y++)
		for (int x = 0; x < n; x++)
			if (q->data[y * n + x] & 1)
				len += (size_t)snprintf(out + len, cap - len, "M%d %dh1v1h-1z",
				                        x + 4, y + 4);
	snprintf(out + len, cap - len, "\"/></svg>");
	QRcode_free(q);
	return out;
}
