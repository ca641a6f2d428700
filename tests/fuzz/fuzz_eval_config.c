/* Evaluation configurations from outside (POST /api/v1/eval/configs): any
 * JSON through eval_config_parse. A configuration it takes must keep its
 * promises: every indicator has a name and counters that exist, and the
 * composite's weights add up to 1; its values over any sums are finite or
 * absent. */
#include "eval/eval.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *j = json_loadb((const char *)data, size, 0, NULL);
    int64_t v[EC_N];
    eval_config cfg;
    gr_err err = {0};
    double total = 0, x, score;
    int i, k;

    if (!j)
        return 0;
    if (eval_config_parse(j, &cfg, &err)) {
        if (!err.field[0] || !err.msg[0])
            __builtin_trap();
        return 0;
    }
    for (i = 0; i < EC_N; i++)
        v[i] = (int64_t)(size * (size_t)(i + 1)) % 97;
    for (i = 0; i < cfg.n; i++) {
        const eval_indicator *ind = &cfg.ind[i];
        if (!ind->name || !ind->name[0] || ind->nnum < 1)
            __builtin_trap();
        for (k = 0; k < ind->nnum; k++)
            if (ind->num[k].counter < 0 || ind->num[k].counter >= EC_N)
                __builtin_trap();
        for (k = 0; k < ind->nden; k++)
            if (ind->den[k] < 0 || ind->den[k] >= EC_N)
                __builtin_trap();
        total += ind->weight;
        if (eval_value(ind, v, &x, NULL, NULL) && !isfinite(x))
            __builtin_trap();
    }
    if (fabs(total - 1) > 1e-9)
        __builtin_trap();
    if (eval_composite(&cfg, v, &score) && !isfinite(score))
        __builtin_trap();
    eval_config_free(&cfg);
    return 0;
}
