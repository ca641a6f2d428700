/*
 * The formats, private to src/media (and its tests and fuzz target): what a
 * file is from its magic bytes, whether its structure holds together, and the
 * metadata filter that removes EXIF, XMP, IPTC and text chunks from photos.
 *
 * This is a byte-level segment filter, not an image decoder: it walks the
 * container (JPEG markers, PNG chunks, RIFF chunks, ISO-BMFF boxes), copies
 * the parts it keeps whole and drops the others. Nothing here allocates or
 * touches files.
 */
#ifndef GR_MEDIA_MEDIA_DETECT_H
#define GR_MEDIA_MEDIA_DETECT_H

#include "base/err.h"

#include <stddef.h>
#include <stdint.h>

typedef enum media_kind {
    MEDIA_UNKNOWN = 0,
    MEDIA_JPEG,
    MEDIA_PNG,
    MEDIA_WEBP,
    MEDIA_MP4,
} media_kind;

/* Bytes media_sniff needs to tell every kind apart. */
#define MEDIA_SNIFF_BYTES 12

#define MEDIA_PHOTO_LIMIT (10 * 1024 * 1024)
#define MEDIA_VIDEO_LIMIT (50 * 1024 * 1024)

/* The kind the first n bytes announce (their magic), or MEDIA_UNKNOWN. */
media_kind media_sniff(const void *p, size_t n);
/* The kind a Content-Type value names ("image/png; x=y" is PNG; case does
 * not matter), or MEDIA_UNKNOWN (also for NULL). */
media_kind media_kind_of_type(const char *content_type);
/* "image/jpeg" ... or NULL for MEDIA_UNKNOWN. */
const char *media_kind_type(media_kind k);
/* "JPEG", "PNG", "WebP", "MP4", for messages. */
const char *media_kind_label(media_kind k);
/* The size limit in bytes: photos 10 MiB, videos 50 MiB. */
int64_t media_kind_limit(media_kind k);
int media_kind_is_photo(media_kind k);
/* The kind a stored type names ("image/png" exactly), or MEDIA_UNKNOWN. */
media_kind media_kind_of_stored(const char *type);

/*
 * 0 when the first n bytes (n >= MEDIA_SNIFF_BYTES unless the body is
 * shorter) are of the declared kind; else GR_EMEDIA naming "Content-Type":
 * "declared image/png but the content is a JPEG", or "... the content is not
 * a JPEG, PNG, WebP or MP4".
 */
int media_check_magic(media_kind declared, const void *p, size_t n, gr_err *err);

/*
 * Photos: checks the structure of the n bytes at p (of kind k) and removes
 * the metadata in place; *out_len receives the new length (never more than
 * n). GR_EINVAL naming "file" with the reason when the file is truncated or
 * malformed (p is then garbage). Cleaning a cleaned file changes nothing.
 *   JPEG: markers from SOI through the scans to EOI; drops APP1 (Exif, XMP),
 *         APP13 (IPTC, Photoshop), COM, the APP2 MPF index, and everything
 *         after EOI. An Exif orientation other than 1 is kept, alone, in a
 *         36-byte APP1 of its own (only if the segment it replaces is as long).
 *   PNG:  signature, IHDR first, IDAT, IEND; drops eXIf, tEXt, zTXt, iTXt,
 *         tIME and everything after IEND.
 *   WebP: RIFF size equal to the length, VP8/VP8L/VP8X first; drops EXIF and
 *         XMP chunks, clears their VP8X flags, fixes the RIFF size.
 *   MP4:  the box structure (media_mp4_check); kept as it is.
 */
int media_clean(media_kind k, uint8_t *p, size_t n, size_t *out_len, gr_err *err);

/* Reads n bytes at off into buf: 0, or -1 when they are not all there. */
typedef int (*media_read_at)(void *arg, uint64_t off, void *buf, size_t n);
/*
 * MP4 (ISO-BMFF) of size bytes read through rd: an 'ftyp' box first with a
 * known brand (isom, iso2..iso6, mp41, mp42, avc1, M4V ...), then boxes that
 * tile the file exactly, with a 'moov' among them. GR_EINVAL naming "file".
 */
int media_mp4_check(media_read_at rd, void *arg, uint64_t size, gr_err *err);

#endif
