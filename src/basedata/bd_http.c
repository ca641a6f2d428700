#include "basedata/bd_http.h"

#include <string.h>

db_conn *bd_http_reader(http_req *req)
{
    db_conn *c = db_reader(req->db);

    if (!c)
        err_set(&req->err, GR_EUNAVAIL, "", "the database does not answer");
    return c;
}

void bd_http_actor(const http_req *req, bd_actor *who)
{
    who->user_id = req->who.user_id;
    who->role = req->who.role;
    who->scope_org_id = req->who.scope_org_id;
}

json_t *bd_json_str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

json_t *bd_json_list(const char *list)
{
    json_t *a = json_array();
    const char *s = list, *e;

    while (s && *s) {
        e = strchr(s, ',');
        json_array_append_new(a, e ? json_stringn(s, (size_t)(e - s)) : json_string(s));
        s = e ? e + 1 : NULL;
    }
    return a;
}
