/*
 * The two output formats from one JSON tree, and the mapping of our states
 * onto Open311's. XML is written here rather than with libxml2: the documents
 * are flat, schemaless and namespace-free, so escaping is the whole job, and
 * a tree library would cost a dependency and a copy of every response.
 */
#include "open311/open311.h"

#include <stdio.h>
#include <string.h>

/* ---- statuses ---- */

typedef struct state_map {
    const char *ext;   /* FixMyStreet's extended status, lower case */
    const char *notes; /* plain words, never personal */
} state_map;

static const state_map states[CS_NSTATES] = {
    [CS_REPORTED] = {"open", "reported, waiting to be accepted"},
    [CS_ACCEPTED] = {"investigating", "accepted, being assessed"},
    [CS_REJECTED] = {"not_councils_responsibility", "not accepted: outside what is handled here"},
    [CS_FILED] = {"investigating", "filed, waiting to be dispatched"},
    [CS_DISPATCHED] = {"action_scheduled", "dispatched to the responsible department"},
    [CS_SIGNED] = {"in_progress", "the department has taken it on"},
    [CS_REWORK] = {"in_progress", "being handled again after a failed check"},
    [CS_HANDLED] = {"in_progress", "handled, waiting to be checked"},
    [CS_RETURNED] = {"investigating", "returned by the department, being reassigned"},
    [CS_DISPUTED] = {"investigating", "responsibility being decided"},
    [CS_BACKLOG] = {"action_scheduled", "on hold until it can be handled"},
    [CS_VERIFIED] = {"fixed", "checked as fixed, about to be closed"},
    [CS_CLOSED] = {"fixed", "closed as fixed"},
    [CS_REVIEW] = {"in_progress", "reopened for review after the resident's feedback"},
    [CS_CANCELLED] = {"no_further_action", "cancelled"},
    [CS_MERGED] = {"duplicate", "merged into another request about the same problem"},
};

static const state_map *state_of(case_state s)
{
    static const state_map unknown = {"open", "in progress"};

    return (unsigned)s < CS_NSTATES ? &states[s] : &unknown;
}

const char *open311_status(case_state s)
{
    return s == CS_CLOSED || case_state_final(s) ? "closed" : "open";
}

const char *open311_status_ext(case_state s)
{
    return state_of(s)->ext;
}

const char *open311_status_notes(case_state s)
{
    return state_of(s)->notes;
}

/* ---- XML ---- */

/* The element each member of a list is written as. */
static const char *singular(const char *list)
{
    static const char *const names[][2] = {
        {"services", "service"},
        {"service_requests", "request"},
        {"service_request_updates", "request_update"},
        {"errors", "error"},
        {"attributes", "attribute"},
        {"values", "value"},
        {"endpoints", "endpoint"},
        {"formats", "format"},
    };
    size_t i;

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(list, names[i][0]) == 0)
            return names[i][1];
    return "item";
}

/* Valid UTF-8 in, text content out. */
static void xml_escape(buf *b, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;

    for (; *p; p++) {
        switch (*p) {
        case '&':
            buf_puts(b, "&amp;");
            break;
        case '<':
            buf_puts(b, "&lt;");
            break;
        case '>':
            buf_puts(b, "&gt;");
            break;
        case '"':
            buf_puts(b, "&quot;");
            break;
        case '\'':
            buf_puts(b, "&apos;");
            break;
        default:
            /* XML 1.0 has no way to carry other C0 controls, even as references. */
            if (*p >= 0x20 || *p == '\t' || *p == '\n' || *p == '\r')
                buf_append(b, p, 1);
        }
    }
}

static void xml_element(buf *b, const char *name, json_t *v)
{
    const char *key;
    json_t *child;
    size_t i;

    if (json_is_null(v))
        return;
    buf_printf(b, "<%s>", name);
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        json_object_foreach(v, key, child) xml_element(b, key, child);
        break;
    case JSON_ARRAY:
        for (i = 0; i < json_array_size(v); i++)
            xml_element(b, singular(name), json_array_get(v, i));
        break;
    case JSON_STRING:
        xml_escape(b, json_string_value(v));
        break;
    case JSON_INTEGER:
        buf_printf(b, "%lld", (long long)json_integer_value(v));
        break;
    case JSON_REAL:
        buf_printf(b, "%.12g", json_real_value(v));
        break;
    case JSON_TRUE:
        buf_puts(b, "true");
        break;
    default:
        buf_puts(b, "false");
        break;
    }
    buf_printf(b, "</%s>", name);
}

void open311_xml_write(buf *out, const char *root, json_t *v)
{
    buf_puts(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    if (json_is_null(v))
        buf_printf(out, "<%s></%s>", root, root);
    else
        xml_element(out, root, v);
    buf_puts(out, "\n");
}
