/*
 * grassroots eval rebuild: counts every case's facts and the daily sums anew
 * from the timeline (eval.h), after a bulk load or rows changed by hand.
 */
#include "eval/eval.h"

#include "base/timeutil.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

const char eval_cli_help[] =
    "usage: grassroots eval rebuild [--data DIR]\n"
    "Counts what every case counts for in the evaluation (docs/eval.md) anew from its\n"
    "timeline, and the daily sums of every unit and department from those. The server may\n"
    "keep running: its sync takes up the events written meanwhile. Prints how many cases\n"
    "were counted.\n"
    "Exit status: 0 done, 1 failure, 2 bad usage.\n";

int eval_cli(gr_ctx *ctx, int argc, char **argv)
{
    int64_t t0 = time_mono_ns(), n = 0;
    gr_err err = {0};

    if (argc != 2 || strcmp(argv[1], "rebuild") != 0) {
        fputs(eval_cli_help, stderr);
        return 2;
    }
    if (eval_rebuild(ctx, &n, &err)) {
        fprintf(stderr, "grassroots: eval rebuild: %s\n", err.msg);
        return 1;
    }
    printf("evaluation rebuilt: %" PRId64 " cases in %.1f s\n", n,
           (double)(time_mono_ns() - t0) / 1e9);
    return 0;
}
