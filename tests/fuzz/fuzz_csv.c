/* CSV files from outside (division imports): the streaming reader over any
 * bytes. The first byte picks the read size, so records cross chunk
 * boundaries at every offset; the result must equal reading from memory. */
#include "../support/chunked_read.h"
#include "base/csv.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A running hash of everything read, and the final status. */
static uint64_t digest(csv_reader *r, int *status)
{
    uint64_t h = 1469598103934665603ULL;
    gr_err err;
    int rc;

    while ((rc = csv_next(r, &err)) == 1) {
        size_t n = csv_nfields(r);

        h = (h ^ (uint64_t)csv_line(r)) * 1099511628211ULL;
        for (size_t i = 0; i < n; i++) {
            size_t len;
            const char *f = csv_field(r, i, &len);

            /* The promises of csv.h: NUL-terminated, no NUL inside, valid UTF-8. */
            if (f[len] != '\0' || strlen(f) != len || !csv_utf8_valid(f, len))
                __builtin_trap();
            for (size_t j = 0; j < len; j++)
                h = (h ^ (unsigned char)f[j]) * 1099511628211ULL;
            h = (h ^ 0x100) * 1099511628211ULL;
        }
    }
    /* After the end or an error, the reader stays there. */
    if (csv_next(r, &err) != (rc < 0 ? rc : 0))
        __builtin_trap();
    *status = rc;
    return h;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gr_chunks f;
    csv_reader *r;
    uint64_t h1, h2;
    int s1, s2;

    if (size < 1)
        return 0;
    f.step = (size_t)(data[0] % 16) + 1;
    data++;
    size--;

    r = csv_new_mem((const char *)data, size);
    csv_set_limits(r, 4096, 64);
    h1 = digest(r, &s1);
    csv_free(r);

    f.data = (const char *)data;
    f.len = size;
    f.pos = 0;
    r = csv_new_fn(gr_chunks_read, &f);
    csv_set_limits(r, 4096, 64);
    h2 = digest(r, &s2);
    csv_free(r);

    if (h1 != h2 || s1 != s2)
        __builtin_trap();
    return 0;
}
