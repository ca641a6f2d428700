/*
 * The baseline for the HTTP benchmark: bare CivetWeb with one handler that
 * answers what /api/v1/health answers, with nothing of ours in between.
 */
#include <civetweb.h>
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

static int health(struct mg_connection *conn, void *cbdata)
{
    static const char body[] = "{\"status\":\"ok\",\"version\":\"bare\"}";

    (void)cbdata;
    mg_printf(conn,
              "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
              sizeof(body) - 1);
    mg_write(conn, body, sizeof(body) - 1);
    return 200;
}

int main(int argc, char **argv)
{
    const char *opts[] = {"listening_ports",
                          argc > 1 ? argv[1] : "127.0.0.1:18081",
                          "num_threads",
                          argc > 2 ? argv[2] : "16",
                          "enable_keep_alive",
                          "yes",
                          "tcp_nodelay",
                          "1",
                          NULL};
    struct mg_callbacks cb;
    struct mg_context *ctx;

    memset(&cb, 0, sizeof(cb));
    mg_init_library(0);
    ctx = mg_start(&cb, NULL, opts);
    if (!ctx) {
        fprintf(stderr, "bench_bare: cannot listen\n");
        return 1;
    }
    mg_set_request_handler(ctx, "/api/v1/health", health, NULL);
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    printf("listening\n");
    fflush(stdout);
    while (!stop)
        pause();
    mg_stop(ctx);
    mg_exit_library();
    return 0;
}
