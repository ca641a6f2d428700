/* The definitions, denominators and weights (docs/eval.md, "Configuration"),
 * and what they make of the sums. */
#include "eval/eval.h"

#include <math.h>
#include <string.h>

static int term_parse(json_t *num, eval_indicator *ind, const char *key, gr_err *err)
{
    const char *counter;
    json_t *w;

    if (!json_is_object(num) || json_object_size(num) == 0)
        return err_set(err, GR_EINVAL, "config.indicators",
                       "%s: numerator must be an object of counter: weight", key);
    json_object_foreach(num, counter, w)
    {
        int k = eval_counter_parse(counter);
        if (k < 0)
            return err_set(err, GR_EINVAL, "config.indicators",
                           "%s: numerator names no counter %.40s", key, counter);
        if (!json_is_number(w) || json_number_value(w) <= 0 || json_number_value(w) > 1000)
            return err_set(err, GR_EINVAL, "config.indicators",
                           "%s: the weight of %s must be a number above 0", key, counter);
        if (ind->nnum == EVAL_MAX_TERMS)
            return err_set(err, GR_EINVAL, "config.indicators", "%s: at most %d counters", key,
                           EVAL_MAX_TERMS);
        ind->num[ind->nnum].counter = k;
        ind->num[ind->nnum++].weight = json_number_value(w);
    }
    return 0;
}

static int den_parse(json_t *den, eval_indicator *ind, const char *key, gr_err *err)
{
    size_t i;
    json_t *x;

    if (ind->kind == EVAL_COUNT) {
        if (den)
            return err_set(err, GR_EINVAL, "config.indicators", "%s: a count has no denominator",
                           key);
        return 0;
    }
    if (!json_is_array(den) || json_array_size(den) == 0 || json_array_size(den) > EVAL_MAX_TERMS)
        return err_set(err, GR_EINVAL, "config.indicators",
                       "%s: denominator must be a list of 1 to %d counters", key, EVAL_MAX_TERMS);
    json_array_foreach(den, i, x)
    {
        int k = eval_counter_parse(json_string_value(x));
        if (k < 0)
            return err_set(err, GR_EINVAL, "config.indicators",
                           "%s: denominator names no counter %.40s", key,
                           json_is_string(x) ? json_string_value(x) : "(not a string)");
        ind->den[ind->nden++] = k;
    }
    return 0;
}

static int indicator_parse(const char *key, json_t *o, eval_indicator *ind, gr_err *err)
{
    const char *kind = json_string_value(json_object_get(o, "kind"));
    json_t *scale = json_object_get(o, "scale"), *lib = json_object_get(o, "lower_is_better");
    size_t i;
    int rc;

    memset(ind, 0, sizeof(*ind));
    ind->key = key;
    ind->name = json_string_value(json_object_get(o, "name"));
    if (!json_is_object(o) || !ind->name || !ind->name[0] || strlen(ind->name) > 200)
        return err_set(err, GR_EINVAL, "config.indicators", "%s: needs a name", key);
    for (i = 0; key[i]; i++)
        if (!((key[i] >= 'a' && key[i] <= 'z') || key[i] == '_' ||
              (key[i] >= '0' && key[i] <= '9')))
            return err_set(err, GR_EINVAL, "config.indicators",
                           "keys are lower case letters, digits and _ (not %.40s)", key);
    if (i == 0 || i > 40)
        return err_set(err, GR_EINVAL, "config.indicators", "keys are 1 to 40 characters");
    if (!kind || strcmp(kind, "rate") == 0)
        ind->kind = EVAL_RATE;
    else if (strcmp(kind, "average") == 0)
        ind->kind = EVAL_AVERAGE;
    else if (strcmp(kind, "count") == 0)
        ind->kind = EVAL_COUNT;
    else
        return err_set(err, GR_EINVAL, "config.indicators",
                       "%s: kind must be rate, average or count", key);
    ind->scale = 1;
    if (scale && (!json_is_number(scale) || json_number_value(scale) <= 0))
        return err_set(err, GR_EINVAL, "config.indicators", "%s: scale must be above 0", key);
    if (scale)
        ind->scale = json_number_value(scale);
    if (lib && !json_is_boolean(lib))
        return err_set(err, GR_EINVAL, "config.indicators", "%s: lower_is_better is true or false",
                       key);
    ind->lower_is_better = json_is_true(lib);
    rc = term_parse(json_object_get(o, "numerator"), ind, key, err);
    if (!rc)
        rc = den_parse(json_object_get(o, "denominator"), ind, key, err);
    return rc;
}

static int composite_parse(json_t *comp, eval_config *cfg, gr_err *err)
{
    const char *key;
    double total = 0;
    json_t *w;
    int i;

    if (!json_is_object(comp) || json_object_size(comp) == 0)
        return err_set(err, GR_EINVAL, "config.composite",
                       "must be an object of indicator: weight");
    json_object_foreach(comp, key, w)
    {
        for (i = 0; i < cfg->n && strcmp(cfg->ind[i].key, key) != 0; i++)
            ;
        if (i == cfg->n)
            return err_set(err, GR_EINVAL, "config.composite", "names no indicator %.40s", key);
        if (cfg->ind[i].kind != EVAL_RATE)
            return err_set(err, GR_EINVAL, "config.composite",
                           "%s is not a rate: only rates make a score", key);
        if (!json_is_number(w) || json_number_value(w) <= 0 || json_number_value(w) > 1)
            return err_set(err, GR_EINVAL, "config.composite",
                           "the weight of %s must be above 0 and at most 1", key);
        cfg->ind[i].weight = json_number_value(w);
        total += cfg->ind[i].weight;
    }
    if (fabs(total - 1.0) > 1e-9)
        return err_set(err, GR_EINVAL, "config.composite", "the weights add up to %g, not 1",
                       total);
    return 0;
}

int eval_config_parse(json_t *json, eval_config *cfg, gr_err *err)
{
    json_t *inds = json_object_get(json, "indicators"), *o;
    const char *key;
    int rc = 0;

    memset(cfg, 0, sizeof(*cfg));
    cfg->json = json;
    if (!json_is_object(json))
        rc = err_set(err, GR_EINVAL, "config", "must be an object");
    else if (!json_is_object(inds) || json_object_size(inds) == 0)
        rc = err_set(err, GR_EINVAL, "config.indicators", "must be an object of indicators");
    else if (json_object_size(inds) > EVAL_MAX_INDICATORS)
        rc = err_set(err, GR_EINVAL, "config.indicators", "at most %d indicators",
                     EVAL_MAX_INDICATORS);
    if (!rc)
        json_object_foreach(inds, key, o)
        {
            rc = indicator_parse(key, o, &cfg->ind[cfg->n++], err);
            if (rc)
                break;
        }
    if (!rc)
        rc = composite_parse(json_object_get(json, "composite"), cfg, err);
    if (rc) {
        cfg->json = NULL;
        json_decref(json);
    }
    return rc;
}

void eval_config_free(eval_config *cfg)
{
    json_decref(cfg->json);
    cfg->json = NULL;
}

int eval_config_for(db_conn *c, int month, eval_config *out, gr_err *err)
{
    db_stmt *st = db_prepare(c,
                             "SELECT version, valid_from, config FROM eval_configs "
                             "WHERE valid_from <= ? ORDER BY valid_from DESC LIMIT 1",
                             err);
    json_t *json = NULL;
    int64_t version = 0;
    int from = 0, rc;

    if (!st)
        return GR_EINTERNAL;
    db_bind_int(st, 1, month);
    rc = db_step(st, err);
    if (rc == DB_ROW) {
        version = db_col_int(st, 0);
        from = (int)db_col_int(st, 1);
        json = json_loads(db_col_text(st, 2), 0, NULL);
        rc = 0;
    } else if (rc == DB_DONE) {
        rc = err_set(err, GR_EINVAL, "from", "no evaluation configuration applies to %d", month);
    }
    db_done(st);
    if (!rc)
        rc = eval_config_parse(json, out, err);
    if (!rc) {
        out->version = version;
        out->valid_from = from;
    }
    return rc;
}

int eval_value(const eval_indicator *ind, const int64_t v[EC_N], double *value, double *num,
               double *den)
{
    double n = 0, d = 0;
    int i;

    for (i = 0; i < ind->nnum; i++)
        n += ind->num[i].weight * (double)v[ind->num[i].counter];
    for (i = 0; i < ind->nden; i++)
        d += (double)v[ind->den[i]];
    if (num)
        *num = n;
    if (den)
        *den = d;
    if (ind->kind == EVAL_COUNT) {
        *value = n * ind->scale;
        return 1;
    }
    if (d <= 0)
        return 0;
    *value = n / d * ind->scale;
    return 1;
}

int eval_composite(const eval_config *cfg, const int64_t v[EC_N], double *score)
{
    double s = 0, x;
    int i;

    for (i = 0; i < cfg->n; i++) {
        if (cfg->ind[i].weight <= 0)
            continue;
        if (!eval_value(&cfg->ind[i], v, &x, NULL, NULL))
            return 0;
        s += cfg->ind[i].weight * (cfg->ind[i].lower_is_better ? 1 - x : x);
    }
    *score = s;
    return 1;
}
