/*
 * The formats: magic bytes, structure checks and the metadata filter (see
 * media_detect.h). Every length read from the file is checked against what
 * remains before it is used, and the filter only ever moves bytes towards the
 * start of the buffer, so it works in place.
 */
#include "media/media_detect.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const struct kind_info {
    const char *type;
    const char *label;
    const char *article; /* "a JPEG", "an MP4" */
    int64_t limit;
} kinds[] = {
    [MEDIA_UNKNOWN] = {NULL, "unknown", "an", 0},
    [MEDIA_JPEG] = {"image/jpeg", "JPEG", "a", MEDIA_PHOTO_LIMIT},
    [MEDIA_PNG] = {"image/png", "PNG", "a", MEDIA_PHOTO_LIMIT},
    [MEDIA_WEBP] = {"image/webp", "WebP", "a", MEDIA_PHOTO_LIMIT},
    [MEDIA_MP4] = {"video/mp4", "MP4", "an", MEDIA_VIDEO_LIMIT},
};
#define NKINDS (sizeof(kinds) / sizeof(kinds[0]))

static const struct kind_info *info(media_kind k)
{
    return (size_t)k < NKINDS ? &kinds[k] : &kinds[MEDIA_UNKNOWN];
}

const char *media_kind_type(media_kind k)
{
    return info(k)->type;
}

const char *media_kind_label(media_kind k)
{
    return info(k)->label;
}

int64_t media_kind_limit(media_kind k)
{
    return info(k)->limit;
}

int media_kind_is_photo(media_kind k)
{
    return k == MEDIA_JPEG || k == MEDIA_PNG || k == MEDIA_WEBP;
}

media_kind media_kind_of_stored(const char *type)
{
    size_t k;

    for (k = 1; type && k < NKINDS; k++)
        if (strcmp(type, kinds[k].type) == 0)
            return (media_kind)k;
    return MEDIA_UNKNOWN;
}

media_kind media_kind_of_type(const char *ct)
{
    size_t n, k;

    if (!ct)
        return MEDIA_UNKNOWN;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    n = strcspn(ct, "; \t");
    for (k = 1; k < NKINDS; k++)
        if (strlen(kinds[k].type) == n && strncasecmp(ct, kinds[k].type, n) == 0)
            return (media_kind)k;
    return MEDIA_UNKNOWN;
}

media_kind media_sniff(const void *v, size_t n)
{
    const uint8_t *p = v;

    if (n >= 3 && p[0] == 0xFF && p[1] == 0xD8 && p[2] == 0xFF)
        return MEDIA_JPEG;
    if (n >= 8 && memcmp(p, "\x89PNG\r\n\x1a\n", 8) == 0)
        return MEDIA_PNG;
    if (n >= 12 && memcmp(p, "RIFF", 4) == 0 && memcmp(p + 8, "WEBP", 4) == 0)
        return MEDIA_WEBP;
    if (n >= 8 && memcmp(p + 4, "ftyp", 4) == 0)
        return MEDIA_MP4;
    return MEDIA_UNKNOWN;
}

int media_check_magic(media_kind declared, const void *p, size_t n, gr_err *err)
{
    media_kind got = media_sniff(p, n);

    if (got == declared && got != MEDIA_UNKNOWN)
        return 0;
    if (got == MEDIA_UNKNOWN)
        return err_set(err, GR_EMEDIA, "Content-Type",
                       "declared %s but the content is not a JPEG, PNG, WebP or MP4",
                       declared ? media_kind_type(declared) : "nothing usable");
    return err_set(err, GR_EMEDIA, "Content-Type", "declared %s but the content is %s %s",
                   declared ? media_kind_type(declared) : "nothing usable", info(got)->article,
                   info(got)->label);
}

/* ---- helpers ---- */

static int bad(gr_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int bad(gr_err *err, const char *fmt, ...)
{
    char msg[200];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return err_set(err, GR_EINVAL, "file", "%s", msg);
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static void put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

/* Moves p[from, to) down to the write position *w (never past from). */
static void keep(uint8_t *p, size_t *w, size_t from, size_t to)
{
    if (*w != from)
        memmove(p + *w, p + from, to - from);
    *w += to - from;
}

/* A box or chunk type for messages: printable ASCII or '?'. */
static void fourcc_text(const uint8_t *t, char out[5])
{
    int i;

    for (i = 0; i < 4; i++)
        out[i] = t[i] >= 0x20 && t[i] < 0x7F ? (char)t[i] : '?';
    out[4] = '\0';
}

/* ---- JPEG ---- */

static int jpeg_is_frame(uint8_t m)
{
    /* SOF0..SOF15 but DHT (C4), JPG (C8) and DAC (CC), which share the range. */
    return m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC;
}

/* Segments that carry where, when and with what a photo was taken, or who
 * took it: APP1 (Exif with its GPS IFD and thumbnail, XMP), APP13 (IPTC,
 * Photoshop), COM, and the APP2 MPF index of the extra images after EOI,
 * which are dropped with everything else after EOI. */
static int jpeg_drop(uint8_t m, const uint8_t *payload, size_t len)
{
    if (m == 0xE1 || m == 0xED || m == 0xFE)
        return 1;
    return m == 0xE2 && len >= 4 && memcmp(payload, "MPF\0", 4) == 0;
}

static unsigned rd16(const uint8_t *p, int le)
{
    return le ? (unsigned)p[1] << 8 | p[0] : (unsigned)p[0] << 8 | p[1];
}

static uint32_t rd32(const uint8_t *p, int le)
{
    return le ? le32(p) : be32(p);
}

/* The Orientation (tag 0x0112, a SHORT) in IFD0 of an Exif APP1 payload:
 * 2..8, or 0 when it is absent, 1 (the default) or unreadable. */
static unsigned exif_orientation(const uint8_t *p, size_t n)
{
    size_t ifd, count, i, e;
    unsigned v;
    int le;

    if (n < 14 || memcmp(p, "Exif\0\0", 6) != 0)
        return 0;
    p += 6;
    n -= 6;
    if (memcmp(p, "II*\0", 4) == 0)
        le = 1;
    else if (memcmp(p, "MM\0*", 4) == 0)
        le = 0;
    else
        return 0;
    ifd = rd32(p + 4, le);
    if (ifd < 8 || ifd > n - 2)
        return 0;
    count = rd16(p + ifd, le);
    for (i = 0; i < count; i++) {
        e = ifd + 2 + 12 * i;
        if (e > n - 12)
            return 0;
        if (rd16(p + e, le) != 0x0112)
            continue;
        /* A single SHORT sits in the first two bytes of the value field. */
        v = rd16(p + e + 8, le);
        return rd16(p + e + 2, le) == 3 && rd32(p + e + 4, le) == 1 && v >= 2 && v <= 8 ? v : 0;
    }
    return 0;
}

/* An APP1 segment with an Exif IFD0 of one entry, the orientation: phones
 * record portrait photos sideways and say so there, and browsers turn them
 * upright by it. Nothing else of the Exif data survives. */
#define ORIENTATION_SEG_LEN 36

static void put_orientation(uint8_t *out, unsigned v)
{
    static const uint8_t seg[ORIENTATION_SEG_LEN] = {
        0xFF, 0xE1, 0,   34,              /* APP1 and its length */
        'E',  'x',  'i', 'f', 0, 0,       /* the Exif header */
        'M',  'M',  0,   42,  0, 0, 0, 8, /* TIFF, big-endian, IFD0 at 8 */
        0,    1,                          /* one entry: */
        0x01, 0x12, 0,   3,   0, 0, 0, 1, /* Orientation, SHORT, one value */
        0,    0,    0,   0,               /* the value, set below */
        0,    0,    0,   0,               /* no next IFD */
    };

    memcpy(out, seg, sizeof(seg));
    out[29] = (uint8_t)v; /* a big-endian SHORT at 28 */
}

/* The end of the entropy-coded data that starts at i: the first 0xFF run
 * followed by a real marker (not a stuffed 0x00 or a restart RSTn). */
static int jpeg_scan_end(const uint8_t *p, size_t n, size_t i, size_t *end)
{
    const uint8_t *ff;
    size_t f;

    for (;;) {
        ff = i < n ? memchr(p + i, 0xFF, n - i) : NULL;
        if (!ff)
            return -1;
        f = (size_t)(ff - p);
        i = f;
        while (i < n && p[i] == 0xFF)
            i++;
        if (i >= n)
            return -1;
        if (p[i] == 0x00 || (p[i] >= 0xD0 && p[i] <= 0xD7)) {
            i++;
            continue;
        }
        *end = f;
        return 0;
    }
}

static int jpeg_clean(uint8_t *p, size_t n, size_t *out_len, gr_err *err)
{
    size_t i = 2, w = 2, start, len, data_end;
    int seen_frame = 0, seen_scan = 0, oriented = 0;
    unsigned o;
    uint8_t m;

    if (n < 2 || p[0] != 0xFF || p[1] != 0xD8)
        return bad(err, "does not start with a JPEG SOI marker");
    for (;;) {
        start = i;
        if (i >= n)
            return bad(err, "is truncated: it has no end of image (EOI) marker");
        if (p[i] != 0xFF)
            return bad(err, "is malformed: no marker at byte %zu where one must start", i);
        while (i < n && p[i] == 0xFF)
            i++; /* fill bytes may precede a marker */
        if (i >= n)
            return bad(err, "is truncated: it ends inside a marker");
        m = p[i++];
        if (m == 0xD9) {
            if (!seen_scan)
                return bad(err, "is malformed: it ends (EOI) before any image data (SOS)");
            keep(p, &w, start, i);
            break;
        }
        if (m == 0x00 || m == 0xD8 || (m >= 0xD0 && m <= 0xD7))
            return bad(err, "is malformed: marker 0x%02X out of place at byte %zu", m, i - 1);
        if (m == 0x01) { /* TEM: a marker without a length */
            keep(p, &w, start, i);
            continue;
        }
        if (n - i < 2)
            return bad(err, "is truncated: a segment length at byte %zu is cut off", i);
        len = (size_t)p[i] << 8 | p[i + 1];
        if (len < 2)
            return bad(err, "is malformed: the segment at byte %zu has length %zu", start, len);
        if (len > n - i)
            return bad(err, "is truncated: the segment at byte %zu runs past the end", start);
        i += len;
        if (jpeg_is_frame(m))
            seen_frame = 1;
        if (!jpeg_drop(m, p + i - len + 2, len - 2)) {
            keep(p, &w, start, i);
        } else if (m == 0xE1 && !oriented && i - start >= ORIENTATION_SEG_LEN &&
                   (o = exif_orientation(p + i - len + 2, len - 2)) != 0) {
            /* Read before written: the new segment ends before i. */
            put_orientation(p + w, o);
            w += ORIENTATION_SEG_LEN;
            oriented = 1;
        }
        if (m != 0xDA)
            continue;
        if (!seen_frame)
            return bad(err, "is malformed: image data (SOS) before a frame header (SOF)");
        seen_scan = 1;
        if (jpeg_scan_end(p, n, i, &data_end))
            return bad(err, "is truncated: the image data has no end of image (EOI) marker");
        keep(p, &w, i, data_end);
        i = data_end;
    }
    *out_len = w;
    return 0;
}

/* ---- PNG ---- */

static int png_drop(const uint8_t *t)
{
    static const char drop[][5] = {"eXIf", "tEXt", "zTXt", "iTXt", "tIME"};
    size_t k;

    for (k = 0; k < sizeof(drop) / sizeof(drop[0]); k++)
        if (memcmp(t, drop[k], 4) == 0)
            return 1;
    return 0;
}

static int png_type_valid(const uint8_t *t)
{
    int k;

    for (k = 0; k < 4; k++)
        if (!((t[k] >= 'A' && t[k] <= 'Z') || (t[k] >= 'a' && t[k] <= 'z')))
            return 0;
    return 1;
}

static int png_clean(uint8_t *p, size_t n, size_t *out_len, gr_err *err)
{
    size_t i = 8, w = 8, len, end;
    int first = 1, seen_idat = 0;
    const uint8_t *t;

    if (n < 8 || memcmp(p, "\x89PNG\r\n\x1a\n", 8) != 0)
        return bad(err, "does not start with the PNG signature");
    for (;;) {
        if (n - i < 12)
            return bad(err, "is truncated: it has no IEND chunk");
        len = be32(p + i);
        t = p + i + 4;
        if (!png_type_valid(t))
            return bad(err, "is malformed: the chunk at byte %zu has an invalid type", i);
        if (len > 0x7FFFFFFFu)
            return bad(err, "is malformed: the %.4s chunk at byte %zu is longer than 2^31 - 1",
                       (const char *)t, i);
        if (len > n - i - 12)
            return bad(err, "is truncated: the %.4s chunk at byte %zu runs past the end",
                       (const char *)t, i);
        end = i + 12 + len;
        if (first != (memcmp(t, "IHDR", 4) == 0))
            return bad(err, "is malformed: %s",
                       first ? "the first chunk is not IHDR" : "it has a second IHDR chunk");
        if (first && len != 13)
            return bad(err, "is malformed: the IHDR chunk is %zu bytes, not 13", len);
        first = 0;
        if (memcmp(t, "IDAT", 4) == 0)
            seen_idat = 1;
        if (memcmp(t, "IEND", 4) == 0) {
            if (!seen_idat)
                return bad(err, "is malformed: it has no image data (IDAT)");
            keep(p, &w, i, end);
            break; /* anything after IEND is not part of the image */
        }
        if (!png_drop(t))
            keep(p, &w, i, end);
        i = end;
    }
    *out_len = w;
    return 0;
}

/* ---- WebP ---- */

#define VP8X_EXIF_FLAG 0x08
#define VP8X_XMP_FLAG  0x04

static int webp_clean(uint8_t *p, size_t n, size_t *out_len, gr_err *err)
{
    size_t i = 12, w = 12, vp8x_flags = 0, end;
    uint64_t riff, size, padded;
    int first = 1, seen_image = 0;
    const uint8_t *t;
    char fc[5];

    if (n < 12 || memcmp(p, "RIFF", 4) != 0 || memcmp(p + 8, "WEBP", 4) != 0)
        return bad(err, "does not start with a RIFF WEBP header");
    riff = (uint64_t)le32(p + 4) + 8;
    if (riff > n)
        return bad(err, "is truncated: the RIFF header says %llu bytes, the file has %zu",
                   (unsigned long long)riff, n);
    if (riff < n)
        return bad(err, "is malformed: the RIFF header says %llu bytes, the file has %zu",
                   (unsigned long long)riff, n);
    while (i < n) {
        if (n - i < 8)
            return bad(err, "is truncated: the chunk header at byte %zu is cut off", i);
        t = p + i;
        size = le32(p + i + 4);
        padded = size + (size & 1); /* chunks are padded to an even size */
        fourcc_text(t, fc);
        if (padded > n - i - 8)
            return bad(err, "is truncated: the '%s' chunk at byte %zu runs past the end", fc, i);
        end = i + 8 + (size_t)padded;
        if (first) {
            if (memcmp(t, "VP8 ", 4) != 0 && memcmp(t, "VP8L", 4) != 0 && memcmp(t, "VP8X", 4) != 0)
                return bad(err, "is malformed: the first chunk is '%s', not VP8, VP8L or VP8X", fc);
            if (memcmp(t, "VP8X", 4) == 0) {
                if (size < 10)
                    return bad(err, "is malformed: the VP8X chunk is %llu bytes, not 10",
                               (unsigned long long)size);
                vp8x_flags = w + 8;
            }
        }
        first = 0;
        if (memcmp(t, "VP8 ", 4) == 0 || memcmp(t, "VP8L", 4) == 0 || memcmp(t, "ANMF", 4) == 0)
            seen_image = 1;
        if (memcmp(t, "EXIF", 4) != 0 && memcmp(t, "XMP ", 4) != 0)
            keep(p, &w, i, end);
        i = end;
    }
    if (!seen_image)
        return bad(err, "is malformed: it has no image data (VP8, VP8L or ANMF chunk)");
    /* The flags say which chunks follow; the dropped ones no longer do. */
    if (vp8x_flags)
        p[vp8x_flags] &= (uint8_t) ~(VP8X_EXIF_FLAG | VP8X_XMP_FLAG);
    put_le32(p + 4, (uint32_t)(w - 8));
    *out_len = w;
    return 0;
}

/* ---- MP4 ---- */

static const char mp4_brands[][5] = {"isom", "iso2", "iso3", "iso4", "iso5", "iso6",
                                     "mp41", "mp42", "mp71", "avc1", "M4V ", "M4VH",
                                     "M4VP", "mmp4", "dash", "MSNV"};

static int mp4_brand_known(const uint8_t *b)
{
    size_t k;

    for (k = 0; k < sizeof(mp4_brands) / sizeof(mp4_brands[0]); k++)
        if (memcmp(b, mp4_brands[k], 4) == 0)
            return 1;
    return 0;
}

/* The ftyp box of len bytes at 0 (header of 8): a known major or compatible brand. */
static int mp4_check_ftyp(media_read_at rd, void *arg, uint64_t len, gr_err *err)
{
    uint8_t b[1024];
    size_t k, n;
    char fc[5];

    if (len < 16 || len > sizeof(b) || (len - 8) % 4 != 0)
        return bad(err, "is malformed: the ftyp box is %llu bytes", (unsigned long long)len);
    n = (size_t)len - 8;
    if (rd(arg, 8, b, n))
        return bad(err, "is truncated: the ftyp box is cut off");
    for (k = 0; k < n; k += 4)
        if (k != 4 && mp4_brand_known(b + k)) /* bytes 4..8 are the minor version */
            return 0;
    fourcc_text(b, fc);
    return bad(err,
               "is not an MP4 video: brand '%s' is none of isom, iso2-iso6, mp41, mp42, avc1, "
               "M4V (a QuickTime .mov or a 3GP file is not accepted)",
               fc);
}

int media_mp4_check(media_read_at rd, void *arg, uint64_t size, gr_err *err)
{
    uint64_t off = 0, box, hdr;
    uint8_t h[16];
    int seen_moov = 0, rc;
    char fc[5];

    if (size == 0)
        return bad(err, "is empty");
    while (off < size) {
        if (size - off < 8 || rd(arg, off, h, 8))
            return bad(err, "is truncated: the box header at byte %llu is cut off",
                       (unsigned long long)off);
        box = be32(h);
        hdr = 8;
        fourcc_text(h + 4, fc);
        if (box == 1) { /* a 64-bit size follows the type */
            if (size - off < 16 || rd(arg, off + 8, h + 8, 8))
                return bad(err, "is truncated: the box header at byte %llu is cut off",
                           (unsigned long long)off);
            box = (uint64_t)be32(h + 8) << 32 | be32(h + 12);
            hdr = 16;
        } else if (box == 0) { /* the last box: up to the end of the file */
            box = size - off;
        }
        if (box < hdr)
            return bad(err, "is malformed: the '%s' box at byte %llu is smaller than its header",
                       fc, (unsigned long long)off);
        if (box > size - off)
            return bad(err, "is truncated: the '%s' box at byte %llu runs past the end", fc,
                       (unsigned long long)off);
        if (off == 0) {
            if (memcmp(h + 4, "ftyp", 4) != 0 || hdr != 8)
                return bad(err, "is malformed: it does not begin with an ftyp box");
            rc = mp4_check_ftyp(rd, arg, box, err);
            if (rc)
                return rc;
        }
        if (memcmp(h + 4, "moov", 4) == 0)
            seen_moov = 1;
        off += box;
    }
    if (!seen_moov)
        return bad(err, "is malformed: it has no movie header (moov box)");
    return 0;
}

struct mem_src {
    const uint8_t *p;
    size_t n;
};

static int mem_read_at(void *arg, uint64_t off, void *out, size_t n)
{
    const struct mem_src *m = arg;

    if (off > m->n || n > m->n - off)
        return -1;
    memcpy(out, m->p + off, n);
    return 0;
}

int media_clean(media_kind k, uint8_t *p, size_t n, size_t *out_len, gr_err *err)
{
    struct mem_src src = {p, n};

    *out_len = 0;
    switch (k) {
    case MEDIA_JPEG:
        return jpeg_clean(p, n, out_len, err);
    case MEDIA_PNG:
        return png_clean(p, n, out_len, err);
    case MEDIA_WEBP:
        return webp_clean(p, n, out_len, err);
    case MEDIA_MP4:
        *out_len = n;
        return media_mp4_check(mem_read_at, &src, n, err);
    default:
        return bad(err, "is not a JPEG, PNG, WebP or MP4");
    }
}
