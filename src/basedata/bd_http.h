/*
 * What the HTTP routes of base data (bd_api.c, bd_area_api.c, bd_share_api.c,
 * bd_units_api.c) share: the reader of a request, who acts, and the JSON of
 * the text columns every answer has.
 */
#ifndef GR_BASEDATA_BD_HTTP_H
#define GR_BASEDATA_BD_HTTP_H

#include "basedata/bd_history.h"
#include "http/http.h"

#include <jansson.h>

/* The largest id a body or a query may name (JSON numbers are doubles). */
#define BD_ID_MAX 9e15

/* The reader connection of req; NULL with GR_EUNAVAIL in req->err. */
db_conn *bd_http_reader(http_req *req);
/* The signed-in user of req as the actor of the model's calls. */
void bd_http_actor(const http_req *req, bd_actor *who);
/* s as a JSON string; NULL as null. */
json_t *bd_json_str_or_null(const char *s);
/* A stored comma-separated list ("a,b") as an array of strings; NULL: []. */
json_t *bd_json_list(const char *list);

#endif
