/* forms.c — the hub's form patterns (GOV.UK style) for adapters' own pages: radios with hints,
 * fields revealed by a radio (CSS only, no JavaScript), text inputs with their hint and error
 * beside them, selects, the fieldset with its legend and buttons, and the error summary that links
 * to each field in error. The idhub_services form_html and error_summary_html
 * (include/idhub/adapter.h): every value is escaped here, the markup is the hub's. */
#include "forms.h"
#include "../pages/pages.h"
#include "../util/buf.h"
#include <string.h>

/* One attribute with an escaped value: ` name="value"`. */
static void attr(buf *b, const char *name, const char *value)
{
	buf_printf(b, " %s=\"", name);
	buf_html(b, value);
	buf_puts(b, "\"");
}

static void radio_field(buf *b, const idhub_field *f, const char *reveal_id)
{
	const char *id = arena_printf(b->a, "%s-%s", f->name, f->value);
	buf_puts(b, "<div class=\"option\"><input type=\"radio\"");
	attr(b, "name", f->name);
	attr(b, "id", id);
	attr(b, "value", f->value);
	buf_puts(b, f->checked ? " checked" : "");
	if (reveal_id)
		attr(b, "aria-controls", reveal_id);
	buf_puts(b, "><label");
	attr(b, "for", id);
	buf_puts(b, ">");
	buf_html(b, f->label);
	if (f->hint) {
		buf_puts(b, "<span class=\"hint\">");
		buf_html(b, f->hint);
		buf_puts(b, "</span>");
	}
	buf_puts(b, "</label></div>\n");
}

static void text_field(buf *b, const idhub_field *f)
{
	const char *hint_id = arena_printf(b->a, "%s-hint", f->name);
	const char *err_id = arena_printf(b->a, "%s-error", f->name);
	buf_puts(b, "<p><label");
	attr(b, "for", f->name);
	buf_puts(b, ">");
	buf_html(b, f->label);
	buf_puts(b, "</label>");
	if (f->hint) {
		buf_puts(b, "<span class=\"hint\"");
		attr(b, "id", hint_id);
		buf_puts(b, ">");
		buf_html(b, f->hint);
		buf_puts(b, "</span>");
	}
	if (f->error) { /* the GOV.UK pattern: "Error:" hidden but read out first */
		buf_puts(b, "<span class=\"error-message\"");
		attr(b, "id", err_id);
		buf_puts(b, "><span class=\"vh\">");
		buf_html(b, T("layout.error_prefix"));
		buf_puts(b, "</span> ");
		buf_html(b, f->error);
		buf_puts(b, "</span>");
	}
	buf_puts(b, "<input type=\"text\"");
	attr(b, "id", f->name);
	attr(b, "name", f->name);
	if (f->flags & IDHUB_FIELD_NO_AUTOFILL)
		buf_puts(b, " autocomplete=\"off\" spellcheck=\"false\"");
	if (f->max)
		buf_printf(b, " maxlength=\"%zu\"", f->max);
	attr(b, "value", f->value ? f->value : "");
	if (f->hint || f->error) /* the ids come from the field's name: escaped as attr() does */
		attr(b, "aria-describedby",
		     arena_printf(b->a, "%s%s%s", f->hint ? hint_id : "",
		                  f->hint && f->error ? " " : "", f->error ? err_id : ""));
	buf_puts(b, "></p>\n");
}

static void select_field(buf *b, const idhub_field *f)
{
	buf_puts(b, "<p><label");
	attr(b, "for", f->name);
	buf_puts(b, ">");
	buf_html(b, f->label);
	buf_puts(b, "</label><br><select");
	attr(b, "id", f->name);
	attr(b, "name", f->name);
	buf_puts(b, ">\n");
	for (size_t i = 0; i < f->noptions; i++) {
		buf_puts(b, "<option");
		attr(b, "value", f->options[i].name);
		buf_puts(b, f->value && !strcmp(f->value, f->options[i].name) ? " selected>" : ">");
		buf_html(b, f->options[i].value);
		buf_puts(b, "</option>\n");
	}
	buf_puts(b, "</select></p>\n");
}

/* fields[i..i+n) into b; a radio's revealed fields in a div of their own. Returns how many. */
static size_t fields_html(buf *b, const idhub_field *fields, size_t i, size_t n)
{
	size_t end = i + n;
	while (i < end) {
		const idhub_field *f = &fields[i++];
		size_t k = f->kind == IDHUB_FIELD_RADIO && f->reveal <= end - i ? f->reveal : 0;
		/* named after the radio's own id (name-value): unique across radio groups */
		const char *rid = k ? arena_printf(b->a, "%s-%s-fields", f->name, f->value) : NULL;
		if (f->kind == IDHUB_FIELD_RADIO)
			radio_field(b, f, rid);
		else if (f->kind == IDHUB_FIELD_TEXT)
			text_field(b, f);
		else if (f->kind == IDHUB_FIELD_SELECT)
			select_field(b, f);
		if (!k)
			continue;
		int error = 0;
		for (size_t j = i; j < i + k; j++)
			error |= fields[j].error != NULL;
		buf_printf(b, "<div class=\"reveal%s\" id=\"", error ? " form-group-error" : "");
		buf_html(b, rid);
		buf_puts(b, "\">\n");
		i += fields_html(b, fields, i, k);
		buf_puts(b, "</div>\n");
	}
	return n;
}

const char *idp_form_html(idhub_instance *in, idhub_arena *a, const char *action,
                          const idhub_kv *hidden, size_t nhidden, const char *legend,
                          const idhub_field *fields, size_t nfields, const idhub_kv *buttons,
                          size_t nbuttons)
{
	(void)in;
	buf b;
	buf_init(&b, (arena *)a);
	buf_puts(&b, "<form method=\"post\"");
	attr(&b, "action", action);
	buf_puts(&b, " novalidate>\n");
	for (size_t i = 0; i < nhidden; i++) {
		buf_puts(&b, "<input type=\"hidden\"");
		attr(&b, "name", hidden[i].name);
		attr(&b, "value", hidden[i].value);
		buf_puts(&b, ">\n");
	}
	buf_puts(&b, "<fieldset>\n<legend>");
	buf_html(&b, legend);
	buf_puts(&b, "</legend>\n");
	fields_html(&b, fields, 0, nfields);
	buf_puts(&b, "</fieldset>\n");
	for (size_t i = 0; i < nbuttons; i++) { /* the first is the primary action */
		buf_printf(&b, "<button class=\"button%s\" type=\"submit\" name=\"action\"",
		           i ? " secondary" : "");
		attr(&b, "value", buttons[i].name);
		buf_puts(&b, ">");
		buf_html(&b, buttons[i].value);
		buf_puts(&b, "</button>\n");
	}
	buf_puts(&b, "</form>\n");
	return buf_str(&b);
}

const char *idp_error_summary_html(idhub_instance *in, idhub_arena *a, const idhub_field *fields,
                                   size_t nfields)
{
	(void)in;
	buf b;
	buf_init(&b, (arena *)a);
	for (size_t i = 0; i < nfields; i++) {
		if (!fields[i].error)
			continue;
		if (!b.len) {
			buf_puts(&b, "<div class=\"error-summary\" tabindex=\"-1\" autofocus "
			             "aria-labelledby=\"es-title\"><h2 id=\"es-title\">");
			buf_html(&b, T("common.there_is_a_problem"));
			buf_puts(&b, "</h2><ul>");
		}
		buf_puts(&b, "<li><a href=\"#");
		buf_html(&b, fields[i].name);
		buf_puts(&b, "\">");
		buf_html(&b, fields[i].error);
		buf_puts(&b, "</a></li>");
	}
	if (!b.len)
		return "";
	buf_puts(&b, "</ul></div>\n");
	return buf_str(&b);
}
