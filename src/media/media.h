/*
 * Media: photos (JPEG, PNG, WebP) and short videos (MP4) attached to reports.
 * The type comes from the magic bytes, never the name or the header; sizes
 * are limited; files are content-addressed under DATA/media/; EXIF (GPS!) is
 * stripped from photos before storing. Reading follows the owner's access
 * rules: a medium linked to a private case is not public.
 */
#ifndef GR_MEDIA_MEDIA_H
#define GR_MEDIA_MEDIA_H

#include "http/http.h"

typedef struct media_info {
    int64_t id;
    char sha256[65];
    const char *type; /* "image/jpeg" | "image/png" | "image/webp" | "video/mp4" */
    int64_t size;
    int64_t uploaded_by;    /* user id, 0 when anonymous */
    int is_public;          /* readable by anyone */
    int64_t scope_org_id;   /* when linked: staff in this subtree may read it */
    const char *owner_kind; /* "case" ... or NULL while unlinked */
    int64_t owner_id;
    int64_t created_at;
} media_info;

void media_api_register(http_router *r);

int media_get(db_conn *c, arena *a, int64_t id, media_info *out, gr_err *err);
/* Inside a db_write function: ties a medium to its owner (e.g. a case) and
 * sets who may read it. GR_ENOTFOUND for an unknown id, GR_ECONFLICT when
 * it already belongs to another owner. */
int media_link(db_conn *c, int64_t media_id, const char *owner_kind, int64_t owner_id,
               int is_public, int64_t scope_org_id, gr_err *err);
/* Inside a db_write function: the owner's visibility changed. is_public -1:
 * each medium keeps its own (the owner only moved to scope_org_id). */
int media_set_visibility(db_conn *c, const char *owner_kind, int64_t owner_id, int is_public,
                         int64_t scope_org_id, gr_err *err);

#endif
