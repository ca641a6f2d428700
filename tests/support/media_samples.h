/*
 * Synthetic media files built byte by byte for the media tests (unit, API)
 * and the fuzz corpus: a JPEG, a PNG and a WebP full of metadata, and an MP4,
 * each with the bytes the metadata filter must leave. Structurally valid, not
 * decodable pictures: the filter walks containers, it does not decode.
 * Header-only (static inline), like chunked_read.h.
 */
#ifndef GR_TESTS_MEDIA_SAMPLES_H
#define GR_TESTS_MEDIA_SAMPLES_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct gr_bytes {
    uint8_t d[8192];
    size_t n;
} gr_bytes;

/* A string literal as (pointer, length), NULs inside included. */
#define GR_LIT(lit) lit, sizeof(lit) - 1

static inline void gr_put(gr_bytes *b, const void *p, size_t n)
{
    if (b->n + n > sizeof(b->d))
        abort();
    memcpy(b->d + b->n, p, n);
    b->n += n;
}

/* Appends to in, and to want when the filter keeps it. */
static inline void gr_put2(gr_bytes *in, gr_bytes *want, int kept, const void *p, size_t n)
{
    gr_put(in, p, n);
    if (kept)
        gr_put(want, p, n);
}

static inline void gr_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static inline void gr_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

/* A JPEG segment: marker, length, payload. */
static inline void gr_jseg(gr_bytes *in, gr_bytes *want, int kept, uint8_t marker,
                           const void *payload, size_t len)
{
    uint8_t h[4] = {0xFF, marker, (uint8_t)((len + 2) >> 8), (uint8_t)(len + 2)};

    gr_put2(in, want, kept, h, 4);
    gr_put2(in, want, kept, payload, len);
}

/* SOI, APP0 JFIF, APP1 Exif with a GPS IFD, APP2 ICC, APP2 MPF, XMP, IPTC,
 * Adobe, a comment, tables with fill bytes, a frame, two scans (restart
 * markers and stuffed bytes in the data, a comment between them), EOI, and a
 * trailer with a second image. */
static inline void gr_jpeg_sample(gr_bytes *in, gr_bytes *want)
{
    static const uint8_t exif[] = {'E', 'x', 'i', 'f', 0, 0, 'M', 'M', 0, 42, 0, 0, 0, 8,
                                   /* IFD0: one entry, tag 0x8825 (GPS IFD), LONG, 1, at 26 */
                                   0, 1, 0x88, 0x25, 0, 4, 0, 0, 0, 1, 0, 0, 0, 26, 0, 0, 0, 0,
                                   /* GPS IFD: GPSLatitudeRef 'N' */
                                   0, 1, 0, 1, 0, 2, 0, 0, 0, 2, 'N', 0, 0, 0, 0, 0, 0, 0};
    static const uint8_t dqt[65] = {0};
    static const uint8_t sof[] = {8, 0, 16, 0, 16, 1, 1, 0x11, 0};
    static const uint8_t dht[] = {0x00, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00};
    static const uint8_t sos[] = {1, 1, 0x00, 0, 63, 0};
    static const uint8_t data1[] = {0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD0, 0x56, 0x78, 0xFF, 0x00};
    static const uint8_t data2[] = {0x9A, 0xFF, 0xD7, 0xBC};
    static const uint8_t fill_dqt[] = {0xFF, 0xFF, 0xFF, 0xDB, 0x00, 67};

    memset(in, 0, sizeof(*in));
    memset(want, 0, sizeof(*want));
    gr_put2(in, want, 1, "\xFF\xD8", 2);
    gr_jseg(in, want, 1, 0xE0, GR_LIT("JFIF\0\1\1\0\0\1\0\1\0\0"));
    gr_jseg(in, want, 0, 0xE1, exif, sizeof(exif));
    gr_jseg(in, want, 1, 0xE2, GR_LIT("ICC_PROFILE\0\1\1 fake profile"));
    gr_jseg(in, want, 0, 0xE2, GR_LIT("MPF\0MM\0*\0\0\0\x08 index of extra images"));
    gr_jseg(in, want, 0, 0xE1,
            GR_LIT("http://ns.adobe.com/xap/1.0/\0<x:xmpmeta>GPSLatitude 39,54.5N"));
    gr_jseg(in, want, 0, 0xED,
            GR_LIT("Photoshop 3.0\0"
                   "8BIM\4\4 IPTC by-line"));
    gr_jseg(in, want, 1, 0xEE, GR_LIT("Adobe\0d\0\0\0\0\1"));
    gr_jseg(in, want, 0, 0xFE, GR_LIT("taken at home, 39.9N 116.4E"));
    gr_put2(in, want, 1, fill_dqt, sizeof(fill_dqt)); /* fill bytes before DQT */
    gr_put2(in, want, 1, dqt, sizeof(dqt));
    gr_jseg(in, want, 1, 0xC0, sof, sizeof(sof));
    gr_jseg(in, want, 1, 0xC4, dht, sizeof(dht));
    gr_jseg(in, want, 1, 0xDA, sos, sizeof(sos));
    gr_put2(in, want, 1, data1, sizeof(data1));
    gr_jseg(in, want, 0, 0xFE, GR_LIT("a comment between the scans"));
    gr_jseg(in, want, 1, 0xC4, dht, sizeof(dht));
    gr_jseg(in, want, 1, 0xDA, sos, sizeof(sos));
    gr_put2(in, want, 1, data2, sizeof(data2));
    gr_put2(in, want, 1, "\xFF\xD9", 2);
    gr_put2(in, want, 0,
            GR_LIT("\xFF\xD8\xFF\xE1\0\x08"
                   "Exif\0\0 trailer"));
}

/* CRC-32 (ISO 3309, as PNG uses it), bit by bit: the tests' own, so that the
 * files they build do not depend on the code under test. */
static inline uint32_t gr_crc32(const uint8_t *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    size_t i;
    int k;

    for (i = 0; i < n; i++) {
        c ^= p[i];
        for (k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
    }
    return c ^ 0xFFFFFFFFu;
}

static inline void gr_png_chunk(gr_bytes *in, gr_bytes *want, int kept, const char *type,
                                const void *data, size_t len)
{
    uint8_t h[8], crc[4], tmp[512];

    if (len + 4 > sizeof(tmp))
        abort();
    gr_be32(h, (uint32_t)len);
    memcpy(h + 4, type, 4);
    memcpy(tmp, type, 4);
    memcpy(tmp + 4, data, len);
    gr_be32(crc, gr_crc32(tmp, len + 4));
    gr_put2(in, want, kept, h, 8);
    gr_put2(in, want, kept, data, len);
    gr_put2(in, want, kept, crc, 4);
}

/* IHDR, text, eXIf, sRGB, tIME, zTXt, iTXt, IDAT, IEND, trailing bytes. */
static inline void gr_png_sample(gr_bytes *in, gr_bytes *want)
{
    static const uint8_t ihdr[13] = {0, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0};
    static const uint8_t idat[] = {0x78, 0x9C, 0x63, 0x60, 0x00, 0x00, 0x00, 0x02, 0x00, 0x01};
    static const uint8_t when[7] = {0x07, 0xEA, 11, 27, 6, 24, 4};

    memset(in, 0, sizeof(*in));
    memset(want, 0, sizeof(*want));
    gr_put2(in, want, 1, "\x89PNG\r\n\x1a\n", 8);
    gr_png_chunk(in, want, 1, "IHDR", ihdr, sizeof(ihdr));
    gr_png_chunk(in, want, 0, "tEXt", GR_LIT("Comment\0taken at home"));
    gr_png_chunk(in, want, 0, "eXIf", GR_LIT("MM\0*\0\0\0\x08\0\1\x88\x25"));
    gr_png_chunk(in, want, 1, "sRGB", "\0", 1);
    gr_png_chunk(in, want, 0, "tIME", when, sizeof(when));
    gr_png_chunk(in, want, 0, "zTXt", GR_LIT("Author\0\0x\x9c"));
    gr_png_chunk(in, want, 0, "iTXt", GR_LIT("XML:com.adobe.xmp\0\0\0\0\0<x:xmpmeta/>"));
    gr_png_chunk(in, want, 1, "IDAT", idat, sizeof(idat));
    gr_png_chunk(in, want, 1, "IEND", "", 0);
    gr_put2(in, want, 0, GR_LIT("trailing bytes after IEND"));
}

static inline void gr_riff_chunk(gr_bytes *in, gr_bytes *want, int kept, const char *fourcc,
                                 const void *data, size_t len)
{
    uint8_t h[8];

    memcpy(h, fourcc, 4);
    gr_le32(h + 4, (uint32_t)len);
    gr_put2(in, want, kept, h, 8);
    gr_put2(in, want, kept, data, len);
    if (len & 1)
        gr_put2(in, want, kept, "", 1);
}

/* Writes the RIFF size of b (its length - 8). */
static inline void gr_riff_close(gr_bytes *b)
{
    gr_le32(b->d + 4, (uint32_t)(b->n - 8));
}

/* VP8X (ICC, EXIF and XMP flags), ICCP, VP8 (odd size, padded), EXIF, XMP. */
static inline void gr_webp_sample(gr_bytes *in, gr_bytes *want)
{
    uint8_t vp8x[10] = {0x20 | 0x08 | 0x04, 0, 0, 0, 15, 0, 0, 15, 0, 0};

    memset(in, 0, sizeof(*in));
    memset(want, 0, sizeof(*want));
    gr_put2(in, want, 1, "RIFF\0\0\0\0WEBP", 12);
    gr_riff_chunk(in, want, 1, "VP8X", vp8x, sizeof(vp8x));
    gr_riff_chunk(in, want, 1, "ICCP", GR_LIT("fake"));
    gr_riff_chunk(in, want, 1, "VP8 ", GR_LIT("\x9d\x01\x2a\x10\x00"));
    gr_riff_chunk(in, want, 0, "EXIF", GR_LIT("MM\0*\0\0\0\x08\x88"));
    gr_riff_chunk(in, want, 0, "XMP ", GR_LIT("<x:xmpmeta/>"));
    gr_riff_close(in);
    want->d[20] = 0x20; /* the VP8X flags: only ICC remains */
    gr_riff_close(want);
}

static inline void gr_box(gr_bytes *b, const char *type, const void *data, size_t len)
{
    uint8_t h[8];

    gr_be32(h, (uint32_t)(len + 8));
    memcpy(h + 4, type, 4);
    gr_put(b, h, 8);
    gr_put(b, data, len);
}

/* ftyp with brand (and mp41, or qt for "qt  "), mdat, moov. */
static inline void gr_mp4_sample(gr_bytes *b, const char *brand)
{
    uint8_t ftyp[16] = {0};

    memset(b, 0, sizeof(*b));
    memcpy(ftyp, brand, 4);
    ftyp[6] = 2; /* minor version 0x200 */
    memcpy(ftyp + 8, brand, 4);
    memcpy(ftyp + 12, strcmp(brand, "qt  ") == 0 ? "qt  " : "mp41", 4);
    gr_box(b, "ftyp", ftyp, sizeof(ftyp));
    gr_box(b, "mdat", GR_LIT("\0\0\0\x10 frames"));
    gr_box(b, "moov", GR_LIT("\0\0\0\x08mvhd"));
}

#endif
