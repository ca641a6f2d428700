/*
 * The demo cases: a few routing rules of the demo district and 30 synthetic
 * cases from every channel, walked by the demo accounts through the loop to
 * different points (reported ... closed and rated, returned, rejected,
 * cancelled, backlogged, supervised), so that every page has data. Texts are
 * invented and the phone numbers are not anyone's (139 0000 xxxx).
 */
#include "cases/case_model.h"

#include "auth/auth.h"
#include "base/log.h"
#include "base/timeutil.h"
#include "org/org.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define DEMO_DISTRICT "110105"
#define DEMO_GRID     "110105001024001" /* the grid inspector's grid */
#define DEMO_ACCOUNTS 7
#define DEMO_GRID_PTS 32

/* The loop as the demo walks it; trusted channels start at dispatch. */
static const struct {
    const char *action, *account, *note;
} path[] = {
    {"accept", "acceptor", NULL},
    {"file", "shift_leader", NULL},
    {"dispatch", "dispatcher", NULL},
    {"sign", "department_staff", NULL},
    {"handle", "department_staff", "已到现场处置完毕，恢复原状"},
    {"verify", "grid_inspector", "现场核查，处置到位"},
    {"close", "shift_leader", NULL},
    {"rate", "resident", "处理及时"},
};
#define PATH_LEN (sizeof(path) / sizeof(path[0]))

/* What happens after the steps of the path, if anything. */
static const struct {
    const char *action, *account, *note;
} endings[] = {
    {NULL, NULL, NULL},
    {"reject", "acceptor", "不属于受理范围，已告知诉求人向物业反映"},
    {"return", "department_staff", "该点位属水务职责，非本部门管辖"},
    {"cancel", "shift_leader", "重复上报，已作废"},
    {"backlog", "shift_leader", "需协调产权单位，短期内无法解决，挂账处理"},
    {"supervise", "leader", "请加快办理进度"},
};
enum { END_NONE, END_REJECT, END_RETURN, END_CANCEL, END_BACKLOG, END_SUPERVISE };

static const struct demo_case {
    const char *category;
    const char *title;
    const char *reporter; /* "resident", "anonymous", "hotline", "counter", "grid_inspector" */
    int steps;            /* how far along the path */
    int ending;
    int in_grid; /* placed in the inspector's grid (needed to verify) */
} cases[] = {
    {"E0110", "小区门口垃圾堆放多日无人清理", "resident", 8, END_NONE, 1},
    {"C0101", "人行道上水井盖缺失", "grid_inspector", 7, END_NONE, 1},
    {"E0406", "早市摊贩占道经营影响通行", "resident", 7, END_NONE, 1},
    {"E0201", "单元门口张贴大量小广告", "hotline", 6, END_NONE, 1},
    {"C0118", "路灯连续三盏不亮", "grid_inspector", 5, END_NONE, 1},
    {"E0409", "消防通道被机动车占用", "resident", 5, END_NONE, 1},
    {"C0305", "垃圾箱破损满溢", "counter", 4, END_NONE, 1},
    {"E0112", "道路油污未清理", "grid_inspector", 4, END_NONE, 1},
    {"E0405", "商户店外摆卖", "resident", 3, END_NONE, 0},
    {"C0203", "公交站亭顶棚破损", "hotline", 3, END_NONE, 0},
    {"E0136", "楼道外乱堆建材", "grid_inspector", 3, END_NONE, 0},
    {"E0412", "夜间露天烧烤油烟扰民", "resident", 2, END_NONE, 0},
    {"C0402", "行道树断枝悬挂", "grid_inspector", 2, END_NONE, 0},
    {"E0505", "雨后路口积水严重", "anonymous", 2, END_NONE, 0},
    {"D03", "装修噪音夜间扰民投诉", "hotline", 2, END_NONE, 0},
    {"E0101", "楼顶私搭乱建", "resident", 1, END_NONE, 0},
    {"D05", "建议增设非机动车停放区", "counter", 1, END_NONE, 0},
    {"E0410", "共享单车堆放堵塞盲道", "anonymous", 1, END_NONE, 0},
    {"C0126", "健身器材松动有安全隐患", "resident", 0, END_NONE, 0},
    {"E0111", "施工渣土堆积未覆盖", "anonymous", 0, END_NONE, 0},
    {"D01", "咨询老旧小区加装电梯政策", "hotline", 0, END_NONE, 0},
    {"C0407", "街头坐椅缺失", "resident", 0, END_NONE, 0},
    {"D02", "独居老人家中停电求助", "counter", 0, END_REJECT, 0},
    {"C0102", "污水井盖破损下陷", "hotline", 4, END_RETURN, 1},
    {"E0107", "沿街晾晒衣物影响市容", "grid_inspector", 4, END_RETURN, 1},
    {"E0203", "违规设置户外广告牌", "resident", 2, END_CANCEL, 0},
    {"E0311", "渣土车未密闭遗撒", "grid_inspector", 4, END_BACKLOG, 1},
    {"C0307", "牌匾有脱落隐患", "resident", 3, END_SUPERVISE, 0},
    {"E0401", "流动摊贩聚集", "hotline", 4, END_SUPERVISE, 1},
    {"C0405", "绿地黄土裸露", "grid_inspector", 6, END_NONE, 1},
};
#define NCASES (sizeof(cases) / sizeof(cases[0]))

static const char *const accounts[DEMO_ACCOUNTS] = {
    "resident",         "acceptor",       "shift_leader", "dispatcher",
    "department_staff", "grid_inspector", "leader"};

struct demo {
    gr_ctx *ctx;
    arena *a;
    db_conn *c;
    http_principal who[DEMO_ACCOUNTS];
    int64_t district, grid, cgw; /* the 城管 department: the demo staff's */
    double w, s, e, n;
    double grid_pts[DEMO_GRID_PTS][2];
    size_t ngrid_pts;
};

static const case_actor *actor(struct demo *d, const char *account, case_actor *out)
{
    size_t i;

    memset(out, 0, sizeof(*out));
    out->role = "anonymous";
    for (i = 0; i < DEMO_ACCOUNTS; i++)
        if (strcmp(accounts[i], account) == 0)
            case_actor_from(&d->who[i], out);
    return out;
}

/* The k-th cell centre of a side × side lattice over the district. */
static void lattice(const struct demo *d, size_t side, size_t at, double *lat, double *lon)
{
    *lat = d->s + (d->n - d->s) * ((double)(at / side) + 0.5) / (double)side;
    *lon = d->w + (d->e - d->w) * ((double)(at % side) + 0.5) / (double)side;
}

/* Points inside the inspector's grid, from a fine lattice (50 m apart). */
static void grid_points(struct demo *d)
{
    const size_t side = 301;
    size_t at;
    double la, lo;

    for (at = 0; at < side * side && d->ngrid_pts < DEMO_GRID_PTS; at++) {
        lattice(d, side, at, &la, &lo);
        if (org_grid_at(d->ctx, la, lo) == d->grid) {
            d->grid_pts[d->ngrid_pts][0] = la;
            d->grid_pts[d->ngrid_pts][1] = lo;
            d->ngrid_pts++;
        }
    }
}

/* A point for the k-th case: in the inspector's grid, or the first point in
 * some grid of a coarse lattice scanned from a place that depends on k (so
 * the cases spread out over the district). */
static int demo_point(struct demo *d, int in_grid, size_t k, double *lat, double *lon)
{
    const size_t side = 101, cells = side * side;
    size_t i;

    if (in_grid) {
        if (!d->ngrid_pts)
            return GR_ENOTFOUND;
        *lat = d->grid_pts[k % d->ngrid_pts][0];
        *lon = d->grid_pts[k % d->ngrid_pts][1];
        return 0;
    }
    for (i = 0; i < cells; i++) {
        lattice(d, side, (k * 7919 + i) % cells, lat, lon);
        if (org_grid_at(d->ctx, *lat, *lon))
            return 0;
    }
    return GR_ENOTFOUND;
}

static int demo_rules(db_conn *c, void *arg, gr_err *err)
{
    struct demo *d = arg;
    static const struct {
        const char *category, *dept;
    } rules[] = {
        /* 投诉 and 举报 of the district go to market supervision or 城管. */
        {"D03", "城管"},
        {"D04", "城管"},
        {"D02", "住建"},
        /* The whole 市容环境 event class to 城管, but 暴露垃圾 stays 市政's. */
        {"E01", "城管"},
        {"E0110", "市政"},
    };
    int64_t now = time_now_ms(), dept = 0;
    cat_info cat;
    size_t i;
    int rc = 0;

    for (i = 0; !rc && i < sizeof(rules) / sizeof(rules[0]); i++) {
        rc = catalog_find_code(c, d->a, rules[i].category, &cat, err);
        if (!rc)
            rc = org_dept_find_name(c, d->district, rules[i].dept, &dept, err);
        if (!rc)
            rc = case_rule_put(c, cat.id, d->district, dept, now, err);
    }
    return rc;
}

static int demo_action(struct demo *d, int64_t id, const char *action, const char *account,
                       const char *note, gr_err *err)
{
    case_action_input in = {0};
    case_result res;
    case_actor who;
    arena *a = arena_new();
    case_rec r;
    int rc = case_get(d->c, a, id, &r, err);

    in.action = action;
    in.version = r.version;
    in.note = note;
    in.urgent = -1;
    in.passed = 1;
    in.rating = "satisfied";
    /* The demo department staff work for 城管: dispatch there so they can act. */
    in.department_id = d->cgw;
    if (!rc)
        rc = case_transition(d->ctx, actor(d, account, &who), id, &in, &res, err);
    arena_free(a);
    return rc;
}

static int demo_one(struct demo *d, const struct demo_case *dc, size_t k, gr_err *err)
{
    case_input in = {0};
    case_actor who;
    cat_info cat;
    char phone[16];
    int64_t id = 0;
    int trusted = strcmp(dc->reporter, "grid_inspector") == 0, rc, i;

    rc = catalog_find_code(d->c, d->a, dc->category, &cat, err);
    if (!rc)
        rc = demo_point(d, dc->in_grid, k, &in.lat, &in.lon);
    if (rc)
        return rc == GR_ENOTFOUND && !err->code
                   ? err_set(err, GR_EINTERNAL, "", "no demo grid for case %zu", k)
                   : rc;
    snprintf(phone, sizeof(phone), "1390000%04zu", k);
    in.has_point = 1;
    in.category_id = cat.id;
    in.title = dc->title;
    in.description = dc->title;
    in.is_public = k % 3 != 2;
    in.contact = strcmp(dc->reporter, "resident") == 0 ? NULL : phone;
    if (strcmp(dc->reporter, "hotline") == 0 || strcmp(dc->reporter, "counter") == 0)
        in.channel = dc->reporter;
    actor(d, in.channel ? "acceptor" : dc->reporter, &who);
    if (trusted)
        in.contact = NULL;
    rc = case_create(d->ctx, &who, &in, &id, err);
    for (i = trusted ? 2 : 0; !rc && i < dc->steps && (size_t)i < PATH_LEN; i++)
        rc = demo_action(d, id, path[i].action, path[i].account, path[i].note, err);
    if (!rc && dc->ending)
        rc = demo_action(d, id, endings[dc->ending].action, endings[dc->ending].account,
                         endings[dc->ending].note, err);
    return rc;
}

static int demo_setup(struct demo *d, gr_err *err)
{
    size_t i;
    int rc = 0;

    for (i = 0; !rc && i < DEMO_ACCOUNTS; i++)
        rc = auth_principal_find(d->c, d->a, accounts[i], &d->who[i], err);
    if (!rc)
        rc = org_unit_find_code(d->c, DEMO_DISTRICT, &d->district, err);
    if (!rc)
        rc = org_unit_find_code(d->c, DEMO_GRID, &d->grid, err);
    if (!rc)
        rc = org_dept_find_name(d->c, d->district, "城管", &d->cgw, err);
    org_demo_extent(&d->w, &d->s, &d->e, &d->n);
    if (!rc)
        grid_points(d);
    return rc;
}

static int mark_loaded(db_conn *c, void *arg, gr_err *err)
{
    db_stmt *st = db_prepare(c,
                             "INSERT INTO settings (key, value, updated_at) VALUES "
                             "('demo.cases', ?, ?) ON CONFLICT (key) DO NOTHING",
                             err);
    int rc;

    (void)arg;
    if (!st)
        return GR_EINTERNAL;
    db_bind_text(st, 1, DEMO_DISTRICT);
    db_bind_int(st, 2, time_now_ms());
    rc = db_run(st, err);
    db_done(st);
    return rc;
}

int cases_demo_load(gr_ctx *ctx, gr_err *err)
{
    struct demo d;
    int64_t loaded = 0;
    size_t i;
    int rc;

    memset(&d, 0, sizeof(d));
    d.ctx = ctx;
    d.a = arena_new();
    d.c = db_reader(ctx->db);
    if (!d.c) {
        rc = err_set(err, GR_EINTERNAL, "", "cannot read the database");
        goto out;
    }
    rc = db_query_int(d.c, "SELECT count(*) FROM settings WHERE key = 'demo.cases'", 0, 0, &loaded,
                      err);
    if (rc || loaded)
        goto out;
    rc = demo_setup(&d, err);
    if (!rc)
        rc = db_write(ctx->db, demo_rules, &d, err);
    for (i = 0; !rc && i < NCASES; i++)
        rc = demo_one(&d, &cases[i], i, err);
    if (!rc)
        rc = db_write(ctx->db, mark_loaded, NULL, err);
    if (!rc)
        log_msg(LOG_INFO, "case.demo", "%zu demo cases and their routing rules", NCASES);
out:
    arena_free(d.a);
    return rc;
}
