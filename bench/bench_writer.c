/*
 * The write-path benchmark server: our HTTP layer and storage with one route,
 * POST /api/bench/write, that makes one durable single-row write. --mode group
 * runs it through the group-commit writer; --mode single commits each write
 * on its own (one fsync per write), the baseline measured in the same run.
 */
#include "http/http.h"
#include "base/log.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static int insert_one(db_conn *c, void *arg, gr_err *err)
{
    db_stmt *st = db_prepare(c, "INSERT INTO bench_rows (payload, created_at) VALUES (?, ?)", err);
    int rc;

    if (!st)
        return GR_EINTERNAL;
    db_bind_text(st, 1, arg);
    db_bind_int(st, 2, 0);
    rc = db_run(st, err);
    db_done(st);
    return rc;
}

static char payload[] = "a single-row write";

static int handle_write(http_req *req)
{
    int rc = db_write(req->db, insert_one, payload, &req->err);

    if (rc)
        return rc;
    return http_send_json(req, 201, json_pack("{s:b}", "ok", 1));
}

static int create_table(db_conn *c, void *arg, gr_err *err)
{
    (void)arg;
    return db_exec(c,
                   "CREATE TABLE IF NOT EXISTS bench_rows (id INTEGER PRIMARY KEY, "
                   "payload TEXT NOT NULL, created_at INTEGER NOT NULL)",
                   err);
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "bench-writer.db";
    const char *mode = argc > 2 ? argv[2] : "group";
    const char *listen = argc > 3 ? argv[3] : "127.0.0.1:18082";
    http_config cfg = {listen, 64, NULL, 0, NULL};
    http_hooks hooks = {0};
    http_server *server = NULL;
    http_router *router = http_router_new();
    gr_ctx ctx;
    gr_err err = {0};
    db_stats stats;

    memset(&ctx, 0, sizeof(ctx));
    log_set_level(LOG_WARN);
    if (db_open(&ctx.db, path, &err) || db_write(ctx.db, create_table, NULL, &err)) {
        fprintf(stderr, "bench_writer: %s\n", err.msg);
        return 1;
    }
    if (strcmp(mode, "group") == 0 && db_writer_start(ctx.db, &err)) {
        fprintf(stderr, "bench_writer: %s\n", err.msg);
        return 1;
    }
    http_route(router, "POST", "/api/bench/write", handle_write, "public");
    if (http_server_start(&server, &cfg, router, &ctx, &hooks, &err)) {
        fprintf(stderr, "bench_writer: %s\n", err.msg);
        return 1;
    }
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    printf("listening\n");
    fflush(stdout);
    while (!stop)
        pause();
    http_server_stop(server);
    db_get_stats(ctx.db, &stats);
    fprintf(stderr, "bench_writer: %llu writes in %llu commits\n", (unsigned long long)stats.writes,
            (unsigned long long)stats.commits);
    db_close(ctx.db);
    http_router_free(router);
    return 0;
}
