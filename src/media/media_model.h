/*
 * Media, the model: private to src/media (and its tests). Storing an upload
 * (check, strip, hash, write the file, record the row), the rows in SQL, and
 * who may read what. Other modules use media.h only.
 *
 * Strings in media_info belong to the arena given to the call that filled
 * them, or are static (type).
 */
#ifndef GR_MEDIA_MEDIA_MODEL_H
#define GR_MEDIA_MEDIA_MODEL_H

#include "media/media.h"
#include "media/media_detect.h"

/*
 * An upload in progress. Photos collect in memory (at most 10 MiB: the filter
 * needs them whole); videos stream into a temporary file under DATA/media/tmp
 * and are hashed on the way, so a 50 MiB video is never held in memory.
 * Owned by whoever opened it; media_sink_free removes what was not committed.
 */
typedef struct media_sink media_sink;

/* Starts an upload of kind k (already checked against its magic bytes).
 * expected: the announced length, or -1 when unknown (a hint only). */
int media_sink_open(gr_ctx *ctx, media_kind k, int64_t expected, media_sink **out, gr_err *err);
/* Adds n bytes; GR_ETOOBIG (field "file") past the kind's limit. */
int media_sink_write(media_sink *s, const void *p, size_t n, gr_err *err);
/*
 * Checks the structure (GR_EINVAL naming "file"), strips the metadata of a
 * photo, hashes the result, stores it as DATA/media/ab/cd/<sha256> (written
 * to a temporary file, fsynced and renamed; kept as it is when that content
 * is already stored), and only then records the upload (a row per upload,
 * private and unlinked; uploaded_by 0 for anonymous). out receives the row.
 */
int media_sink_commit(media_sink *s, int64_t uploaded_by, media_info *out, gr_err *err);
/* Frees s (NULL is fine) and removes its temporary file, if any. */
void media_sink_free(media_sink *s);

/* The whole upload path for bytes in memory (tests, imports). */
int media_store_bytes(gr_ctx *ctx, media_kind k, const void *p, size_t n, int64_t uploaded_by,
                      media_info *out, gr_err *err);

/* GR_ETOOBIG naming "file" with the limit of kind k. */
int media_err_too_big(media_kind k, gr_err *err);

/* Where the file with this sha256 (64 hex digits) is stored. */
void media_file_path(const char *data_dir, const char *sha256, char *out, size_t len);

/*
 * Whether req's principal may read m: anyone when m is public; otherwise its
 * uploader, or a signed-in staff member (any role but resident) whose scope
 * covers m's scope_org_id. An API token sees public media only: its scopes
 * name actions, and none covers reading someone's private evidence. Leaves
 * req->err as it was.
 */
int media_may_read(http_req *req, const media_info *m);

#endif
