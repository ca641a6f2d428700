/* Media: the magic-byte detector and the metadata filter of every kind, with
 * its invariants: the cleaned file is never longer than the input, cleaning
 * it again changes nothing, and a refusal names "file". */
#include "media/media_detect.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void clean_twice(media_kind k, const uint8_t *data, size_t size)
{
    uint8_t *once = malloc(size + 1), *twice;
    size_t len = 0, len2 = 0;
    gr_err err = {0};

    memcpy(once, data, size);
    if (media_clean(k, once, size, &len, &err) != 0) {
        if (err.code != GR_EINVAL || strcmp(err.field, "file") != 0 || !err.msg[0])
            __builtin_trap();
        free(once);
        return;
    }
    if (len > size || len == 0)
        __builtin_trap();
    twice = malloc(len);
    memcpy(twice, once, len);
    if (media_clean(k, twice, len, &len2, &err) != 0 || len2 != len ||
        memcmp(once, twice, len) != 0)
        __builtin_trap();
    free(twice);
    free(once);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    media_kind sniffed = media_sniff(data, size), k;
    gr_err err = {0};

    /* What the bytes announce passes the check of that declared type, and
     * nothing else does. */
    for (k = MEDIA_JPEG; k <= MEDIA_MP4; k++) {
        int rc = media_check_magic(k, data, size, &err);
        if ((rc == 0) != (k == sniffed))
            __builtin_trap();
        clean_twice(k, data, size);
    }
    return 0;
}
