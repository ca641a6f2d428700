#include "base/ticker.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

struct ticker {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    int stopping;
    int64_t interval_ms;
    void (*fn)(void *arg);
    void *arg;
};

static void *ticker_main(void *p)
{
    ticker *t = p;
    struct timespec until;

    pthread_mutex_lock(&t->lock);
    while (!t->stopping) {
        pthread_mutex_unlock(&t->lock);
        t->fn(t->arg);
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += (time_t)(t->interval_ms / 1000);
        until.tv_nsec += (long)(t->interval_ms % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_mutex_lock(&t->lock);
        while (!t->stopping && pthread_cond_timedwait(&t->wake, &t->lock, &until) != ETIMEDOUT)
            ;
    }
    pthread_mutex_unlock(&t->lock);
    return NULL;
}

int ticker_start(ticker **out, const char *name, int64_t interval_ms, void (*fn)(void *arg),
                 void *arg, gr_err *err)
{
    ticker *t = calloc(1, sizeof(*t));

    *out = NULL;
    if (!t)
        return err_set(err, GR_EINTERNAL, "", "out of memory");
    pthread_mutex_init(&t->lock, NULL);
    pthread_cond_init(&t->wake, NULL);
    t->interval_ms = interval_ms > 0 ? interval_ms : 1000;
    t->fn = fn;
    t->arg = arg;
    if (pthread_create(&t->thread, NULL, ticker_main, t) != 0) {
        pthread_mutex_destroy(&t->lock);
        pthread_cond_destroy(&t->wake);
        free(t);
        return err_set(err, GR_EINTERNAL, "", "cannot start the %s thread", name);
    }
    *out = t;
    return 0;
}

void ticker_stop(ticker *t)
{
    if (!t)
        return;
    pthread_mutex_lock(&t->lock);
    t->stopping = 1;
    pthread_cond_signal(&t->wake);
    pthread_mutex_unlock(&t->lock);
    pthread_join(t->thread, NULL);
    pthread_mutex_destroy(&t->lock);
    pthread_cond_destroy(&t->wake);
    free(t);
}
