/*
 * libFuzzer target for the GeoJSON boundary validator (outside input: org
 * unit boundaries in API requests and imports). Seeds: corpus/geojson/.
 */
#include "geo/geojson.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gr_err err = {0};
    double lat = 0, lon = 0;

    geo_geojson_check((const char *)data, size, "boundary", &lat, &lon, &err);
    return 0;
}
