/*
 * Open311 GeoReport v2 under /open311 (docs/open311.md): discovery, services
 * and their definitions, requests (create, query, one), tokens, and
 * FixMyStreet's servicerequestupdates feed, each as .xml and .json. Cases are
 * the requests: only public ones are shown, and never a reporter's data.
 *
 * Everything under /open311 answers errors in the spec's own format
 * (<errors><error><code/><description/></error></errors>, or a JSON array of
 * {code, description}), not problem+json.
 */
#ifndef GR_OPEN311_OPEN311_H
#define GR_OPEN311_OPEN311_H

#include "cases/cases.h"
#include "http/http.h"

void open311_api_register(http_router *r);

/* ---- the form-encoded body of POST requests ---- */

enum {
    O311_BODY_MAX = 64 * 1024, /* bytes */
    O311_FIELDS_MAX = 256
};

typedef struct o311_field {
    const char *key;   /* decoded: "lat", "attribute[urgency]", "attribute[tags][]" */
    const char *value; /* decoded; "" for "key=" and "key" */
} o311_field;

typedef struct o311_form {
    o311_field *fields;
    size_t n;
} o311_form;

/* Parses application/x-www-form-urlencoded text (strings in a): GR_EINVAL
 * naming the key for bad percent-encoding, an empty key, more than
 * O311_FIELDS_MAX pairs, NUL bytes or invalid UTF-8, and for a key other than
 * a list key ("...[]") given twice. */
int open311_form_parse(arena *a, const char *body, size_t len, o311_form *out, gr_err *err);
/* The value of key, or NULL when absent. An empty value counts as absent, as
 * the spec says of optional arguments. */
const char *open311_form_get(const o311_form *f, const char *key);

/* ---- statuses ---- */

/* "open" or "closed" (closed, rejected, cancelled, merged). */
const char *open311_status(case_state s);
/* FixMyStreet's extended status in lower case: "investigating", "fixed" ... */
const char *open311_status_ext(case_state s);
/* The detailed state in plain words, for status_notes. */
const char *open311_status_notes(case_state s);

/* ---- output: one JSON tree, written as JSON or as XML ---- */

/* The XML for v under the element root: arrays repeat their singular child
 * (services/service, attributes/attribute, errors/error ...), null is left
 * out, text is escaped (& < > " ') and characters XML 1.0 cannot carry are
 * dropped. Appends to out, after the XML declaration. */
void open311_xml_write(buf *out, const char *root, json_t *v);

#endif
