/*
 * libFuzzer target for the area parsers of the base data (outside input: the
 * polygon, near and radius of the area routes, the area of the emergency
 * view). The first byte picks the parser and the crs; for near, the rest is
 * "lat,lon" and the radius split at the first newline. Seeds:
 * corpus/basedata_area/.
 */
#include "basedata/bd_area.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const crs[] = {NULL, "gcj02", "bd09", "wgs84"};
    gr_err err = {0};
    bd_area a;
    char *text, *nl;

    if (size < 1)
        return 0;
    text = malloc(size);
    if (!text)
        return 0;
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    if ((data[0] & 4) == 0) {
        if (bd_area_parse_polygon(text, size - 1, crs[data[0] & 3], "polygon", &a, &err) == 0) {
            bd_area_contains(&a, 39.9, 116.4);
            bd_area_contains(&a, (a.min_lat + a.max_lat) / 2, (a.min_lon + a.max_lon) / 2);
        }
    } else {
        nl = strchr(text, '\n');
        if (nl)
            *nl = '\0';
        if (bd_area_parse_near(text, nl ? nl + 1 : NULL, crs[data[0] & 3], &a, &err) == 0)
            bd_area_contains(&a, a.lat, a.lon);
    }
    bd_area_free(&a);
    free(text);
    return 0;
}
