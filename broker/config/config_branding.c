/* config_branding.c — owns the `branding` group: what citizens see of the deployment (its service
 * name, organisation, logo, colours and footer links), with the WCAG AA colour-contrast check made
 * at load, so a deployment cannot ship unreadable pages. */
#include "config_int.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
	B_SERVICE_NAME,
	B_ORGANISATION,
	B_LOGO_URL,
	B_HEADER_BACKGROUND,
	B_HEADER_TEXT,
	B_LINK_COLOUR,
	B_BUTTON_BACKGROUND,
	B_BUTTON_TEXT,
	B_HELP_URL,
	B_ACCESSIBILITY_URL,
	B_PRIVACY_URL,
	B_COOKIES_URL,
	B_SERVICE_NAME_CY,
	B_COUNT
};
static const char *const names[B_COUNT] = {
    "service_name", "organisation",      "logo_url",       "header_background", "header_text",
    "link_colour",  "button_background", "button_text",    "help_url",          "accessibility_url",
    "privacy_url",  "cookies_url",       "service_name_cy"};

/* The defaults: the GOV.UK palette's black header, blue links and green buttons. */
static const char *const colour_defaults[] = {"#0b0c0c", "#ffffff", "#1d70b8", "#00703c",
                                              "#ffffff"};

static int hex_colour(const char *s, double rgb[3])
{
	if (strlen(s) != 7 || s[0] != '#' || strspn(s + 1, "0123456789abcdefABCDEF") != 6)
		return -1;
	for (int i = 0; i < 3; i++) {
		char part[3] = {s[1 + 2 * i], s[2 + 2 * i], 0};
		rgb[i] = (double)strtol(part, NULL, 16) / 255.0;
	}
	return 0;
}

/* WCAG 2.2 relative luminance and contrast ratio (§1.4.3 definitions). */
static double luminance(const double rgb[3])
{
	double c[3];
	for (int i = 0; i < 3; i++)
		c[i] = rgb[i] <= 0.04045 ? rgb[i] / 12.92 : pow((rgb[i] + 0.055) / 1.055, 2.4);
	return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
}

double cfg_contrast(const char *fg, const char *bg)
{
	double a[3], b[3];
	if (hex_colour(fg, a) || hex_colour(bg, b))
		return 0;
	double la = luminance(a), lb = luminance(b);
	return la > lb ? (la + 0.05) / (lb + 0.05) : (lb + 0.05) / (la + 0.05);
}

/* fg drawn on bg must reach 4.5:1 (WCAG AA for normal text); the error names fg's line, or bg's
 * when fg is the default. */
static int check_pair(loader *l, config_setting_t **f, int fg, int bg, const char *fgv,
                      const char *bgv)
{
	double r = cfg_contrast(fgv, bgv);
	if (r >= 4.5)
		return 0;
	config_setting_t *at = f[fg] || bg < 0 ? f[fg] : f[bg];
	char on[40];
	snprintf(on, sizeof on, bg >= 0 ? "'%s'" : "%s", bg >= 0 ? names[bg] : "the white page");
	return cfg_fail(l, at,
	                "'%s' (%s) on %s (%s) in branding has a contrast of %.2f:1; WCAG AA "
	                "needs at least 4.5:1",
	                names[fg], fgv, on, bgv, r);
}

static int colours(loader *l, config_setting_t **f, branding_conf *b)
{
	char **dst[] = {&b->header_background, &b->header_text, &b->link_colour,
	                &b->button_background, &b->button_text};
	for (int i = 0; i < 5; i++) {
		double rgb[3];
		if (cfg_opt_str(l, f[B_HEADER_BACKGROUND + i], "branding", colour_defaults[i],
		                dst[i]))
			return -1;
		if (hex_colour(*dst[i], rgb))
			return cfg_fail(l, f[B_HEADER_BACKGROUND + i],
			                "'%s' in branding must be a colour written #rrggbb",
			                names[B_HEADER_BACKGROUND + i]);
	}
	return check_pair(l, f, B_HEADER_TEXT, B_HEADER_BACKGROUND, b->header_text,
	                  b->header_background) ||
	       check_pair(l, f, B_BUTTON_TEXT, B_BUTTON_BACKGROUND, b->button_text,
	                  b->button_background) ||
	       check_pair(l, f, B_LINK_COLOUR, -1, b->link_colour, "#ffffff");
}

static int text(loader *l, config_setting_t *s, const char *def, char **out)
{
	if (cfg_opt_str(l, s, "branding", def, out))
		return -1;
	if (*out && (!**out || cfg_text_chars(*out) < 0 || cfg_text_chars(*out) > 80))
		return cfg_fail(l, s, "'%s' in branding must be a text of 1 to 80 characters",
		                cfg_name_of(s));
	return 0;
}

static int url(loader *l, config_setting_t *s, char **out)
{
	char why[160], b[72];
	if (!s)
		return 0;
	if (cfg_opt_str(l, s, "branding", NULL, out))
		return -1;
	if (!cfg_uri_check(*out, NULL, why, sizeof why))
		return cfg_fail(l, s, "'%s' in branding: '%s' %s", cfg_name_of(s),
		                cfg_shown(b, *out), why);
	return 0;
}

int cfg_parse_branding(loader *l, config_setting_t *s)
{
	branding_conf *b = &l->c->branding;
	config_setting_t *f[B_COUNT] = {0};
	if (s && config_setting_type(s) != CONFIG_TYPE_GROUP)
		return cfg_fail(l, s, "'branding' must be a group { ... }");
	if (s && cfg_collect(l, s, "branding", names, B_COUNT, f))
		return -1;
	b->line = s ? config_setting_source_line(s) : 0;
	if (text(l, f[B_SERVICE_NAME], NULL, &b->service_name) ||
	    text(l, f[B_SERVICE_NAME_CY], NULL, &b->service_name_cy) ||
	    text(l, f[B_ORGANISATION], NULL, &b->organisation) ||
	    url(l, f[B_LOGO_URL], &b->logo_url))
		return -1;
	if (colours(l, f, b))
		return -1;
	return url(l, f[B_HELP_URL], &b->help_url) ||
	       url(l, f[B_ACCESSIBILITY_URL], &b->accessibility_url) ||
	       url(l, f[B_PRIVACY_URL], &b->privacy_url) ||
	       url(l, f[B_COOKIES_URL], &b->cookies_url);
}

void cfg_free_branding(branding_conf *b)
{
	char *all[] = {b->service_name_cy, b->service_name,      b->organisation,
	               b->logo_url,        b->header_background, b->header_text,
	               b->link_colour,     b->button_background, b->button_text,
	               b->help_url,        b->accessibility_url, b->privacy_url,
	               b->cookies_url};
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
		free(all[i]);
}
