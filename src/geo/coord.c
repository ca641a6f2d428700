#include "geo/coord.h"

#include <math.h>
#include <stddef.h>

/* Krasovsky 1940 ellipsoid, the one GCJ-02 is defined on. */
#define KRASOVSKY_A  6378245.0
#define KRASOVSKY_EE 0.00669342162296594323

/* M_PI is POSIX, not C17. */
#define M_PI_VALUE 3.14159265358979323846

#define BD_X_PI (M_PI_VALUE * 3000.0 / 180.0)

#define EARTH_MEAN_RADIUS_M 6371008.8

static const char *const crs_names[] = {"wgs84", "gcj02", "bd09"};

/* ASCII-only case folding: CRS names are ASCII and the locale must not matter. */
static int ascii_lower(int c)
{
    return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
}

static int ascii_equal_nocase(const char *a, const char *b)
{
    while (*a && *b) {
        if (ascii_lower((unsigned char)*a) != ascii_lower((unsigned char)*b))
            return 0;
        a++;
        b++;
    }
    return *a == *b;
}

int geo_crs_parse(const char *name, geo_crs *out)
{
    if (!name || !out)
        return GR_EINVAL;
    for (size_t i = 0; i < sizeof(crs_names) / sizeof(crs_names[0]); i++) {
        if (ascii_equal_nocase(name, crs_names[i])) {
            *out = (geo_crs)i;
            return 0;
        }
    }
    return GR_EINVAL;
}

int geo_crs_arg(const char *name, geo_crs *out, gr_err *err)
{
    *out = GEO_CRS_WGS84;
    if (name && geo_crs_parse(name, out))
        return err_set(err, GR_EINVAL, "crs", "must be wgs84, gcj02 or bd09");
    return 0;
}

const char *geo_crs_name(geo_crs crs)
{
    if ((int)crs < 0 || (size_t)crs >= sizeof(crs_names) / sizeof(crs_names[0]))
        return "unknown";
    return crs_names[crs];
}

int geo_check_latlon(double lat, double lon, gr_err *err)
{
    if (!isfinite(lat))
        return err_set(err, GR_EINVAL, "lat", "must be a finite number");
    if (lat < -90.0 || lat > 90.0)
        return err_set(err, GR_EINVAL, "lat", "must be between -90 and 90");
    if (!isfinite(lon))
        return err_set(err, GR_EINVAL, "lon", "must be a finite number");
    if (lon < -180.0 || lon > 180.0)
        return err_set(err, GR_EINVAL, "lon", "must be between -180 and 180");
    return 0;
}

/* The crude rectangle every common library (gcoord, eviltransform, hutool)
   uses; outside it the published maps are not shifted. */
static int in_china(double lat, double lon)
{
    return lon >= 72.004 && lon <= 137.8347 && lat >= 0.8293 && lat <= 55.8271;
}

static double gcj_dlat0(double x, double y)
{
    double r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqrt(fabs(x));

    r += (20.0 * sin(6.0 * x * M_PI_VALUE) + 20.0 * sin(2.0 * x * M_PI_VALUE)) * 2.0 / 3.0;
    r += (20.0 * sin(y * M_PI_VALUE) + 40.0 * sin(y / 3.0 * M_PI_VALUE)) * 2.0 / 3.0;
    r += (160.0 * sin(y / 12.0 * M_PI_VALUE) + 320.0 * sin(y * M_PI_VALUE / 30.0)) * 2.0 / 3.0;
    return r;
}

static double gcj_dlon0(double x, double y)
{
    double r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrt(fabs(x));

    r += (20.0 * sin(6.0 * x * M_PI_VALUE) + 20.0 * sin(2.0 * x * M_PI_VALUE)) * 2.0 / 3.0;
    r += (20.0 * sin(x * M_PI_VALUE) + 40.0 * sin(x / 3.0 * M_PI_VALUE)) * 2.0 / 3.0;
    r += (150.0 * sin(x / 12.0 * M_PI_VALUE) + 300.0 * sin(x / 30.0 * M_PI_VALUE)) * 2.0 / 3.0;
    return r;
}

/* The GCJ-02 shift at a WGS-84 point, without the China test (the inverse
   iterates with it near the rectangle's edge too). */
static void gcj_delta(double lat, double lon, double *dlat, double *dlon)
{
    double x = lon - 105.0, y = lat - 35.0;
    double rad = lat / 180.0 * M_PI_VALUE;
    double magic = sin(rad);

    magic = 1.0 - KRASOVSKY_EE * magic * magic;
    double sqrt_magic = sqrt(magic);
    *dlat = gcj_dlat0(x, y) * 180.0 /
            ((KRASOVSKY_A * (1.0 - KRASOVSKY_EE)) / (magic * sqrt_magic) * M_PI_VALUE);
    *dlon = gcj_dlon0(x, y) * 180.0 / (KRASOVSKY_A / sqrt_magic * cos(rad) * M_PI_VALUE);
}

static void wgs_to_gcj(double lat, double lon, double *glat, double *glon)
{
    double dlat, dlon;

    if (!in_china(lat, lon)) {
        *glat = lat;
        *glon = lon;
        return;
    }
    gcj_delta(lat, lon, &dlat, &dlon);
    *glat = lat + dlat;
    *glon = lon + dlon;
}

/*
 * The shift changes by at most ~3e-3 of a degree per degree, so the
 * fixed-point iteration w <- w - (gcj(w) - g) contracts by ~300x a step:
 * from the 1-2 m of the single-step inverse to below 1e-11 degrees (~1 um)
 * in four or five steps. Ten steps bound the loop for any input.
 */
static void gcj_to_wgs(double glat, double glon, double *lat, double *lon)
{
    double wlat = glat, wlon = glon;

    if (in_china(glat, glon)) {
        for (int i = 0; i < 10; i++) {
            double dlat, dlon;

            gcj_delta(wlat, wlon, &dlat, &dlon);
            double rlat = wlat + dlat - glat, rlon = wlon + dlon - glon;
            wlat -= rlat;
            wlon -= rlon;
            if (fabs(rlat) < 1e-11 && fabs(rlon) < 1e-11)
                break;
        }
    }
    *lat = wlat;
    *lon = wlon;
}

static void gcj_to_bd(double glat, double glon, double *blat, double *blon)
{
    double x = glon, y = glat;
    double z = sqrt(x * x + y * y) + 0.00002 * sin(y * BD_X_PI);
    double theta = atan2(y, x) + 0.000003 * cos(x * BD_X_PI);

    *blon = z * cos(theta) + 0.0065;
    *blat = z * sin(theta) + 0.006;
}

/*
 * The usual closed form (evaluating the small terms at the BD-09 point instead
 * of the GCJ-02 one) is off by up to ~1e-6 degrees (0.1 m); two or three
 * fixed-point steps against gcj_to_bd make the round trip exact.
 */
static void bd_to_gcj(double blat, double blon, double *glat, double *glon)
{
    double x = blon - 0.0065, y = blat - 0.006;
    double z = sqrt(x * x + y * y) - 0.00002 * sin(y * BD_X_PI);
    double theta = atan2(y, x) - 0.000003 * cos(x * BD_X_PI);
    double glat_ = z * sin(theta), glon_ = z * cos(theta);

    for (int i = 0; i < 10; i++) {
        double lat2, lon2;

        gcj_to_bd(glat_, glon_, &lat2, &lon2);
        glat_ -= lat2 - blat;
        glon_ -= lon2 - blon;
        if (fabs(lat2 - blat) < 1e-11 && fabs(lon2 - blon) < 1e-11)
            break;
    }
    *glat = glat_;
    *glon = glon_;
}

void geo_to_wgs84(geo_crs crs, double lat, double lon, double *out_lat, double *out_lon)
{
    double glat, glon;

    switch (crs) {
    case GEO_CRS_GCJ02:
        gcj_to_wgs(lat, lon, out_lat, out_lon);
        return;
    case GEO_CRS_BD09:
        if (!in_china(lat, lon))
            break;
        bd_to_gcj(lat, lon, &glat, &glon);
        gcj_to_wgs(glat, glon, out_lat, out_lon);
        return;
    case GEO_CRS_WGS84:
    default:
        break;
    }
    *out_lat = lat;
    *out_lon = lon;
}

void geo_from_wgs84(geo_crs crs, double lat, double lon, double *out_lat, double *out_lon)
{
    double glat, glon;

    switch (crs) {
    case GEO_CRS_GCJ02:
        wgs_to_gcj(lat, lon, out_lat, out_lon);
        return;
    case GEO_CRS_BD09:
        if (!in_china(lat, lon))
            break;
        wgs_to_gcj(lat, lon, &glat, &glon);
        gcj_to_bd(glat, glon, out_lat, out_lon);
        return;
    case GEO_CRS_WGS84:
    default:
        break;
    }
    *out_lat = lat;
    *out_lon = lon;
}

double geo_distance_m(double lat1, double lon1, double lat2, double lon2)
{
    const double rad = M_PI_VALUE / 180.0;
    double dlat = (lat2 - lat1) * rad, dlon = (lon2 - lon1) * rad;
    double s1 = sin(dlat / 2.0), s2 = sin(dlon / 2.0);
    double h = s1 * s1 + cos(lat1 * rad) * cos(lat2 * rad) * s2 * s2;

    /* Rounding can push h a hair above 1 for antipodal points. */
    if (h > 1.0)
        h = 1.0;
    return 2.0 * EARTH_MEAN_RADIUS_M * asin(sqrt(h));
}
