/*
 * Masking personal data for display (GB/T 35273-2020 7.2 展示限制: mask on
 * the server before data reaches a screen; reference
 * /work/shared/reference/china_standards.md 5.2). The standard fixes no
 * pattern, so the pattern is a per-deployment policy: for each kind of data,
 * how many characters (Unicode code points, not bytes) stay visible at the
 * head and at the tail; every hidden code point becomes one '*'.
 *
 * Defaults (what many government screens show):
 *   id_number  keep 6 and 4   110105********002X  (region and check, never the birth date)
 *   phone      keep 3 and 4   138****5678
 *   name       keep 1 and 0   张三 -> 张*, 欧阳娜娜 -> 欧***
 *   address    keep all but the last 8 (hutool's rule): the district and road
 *              stay readable, the door, building and room numbers do not.
 *              Cutting at the road by parsing free text is unreliable, so the
 *              rule counts characters.
 * When the kept parts would cover the whole text (a one-character name, a
 * short or garbled number), everything is hidden: 张 -> *.
 */
#ifndef GR_BASE_MASK_H
#define GR_BASE_MASK_H

#include "base/err.h"

#include <stddef.h>

typedef enum mask_kind {
    MASK_ID_NUMBER,
    MASK_PHONE,
    MASK_NAME,
    MASK_ADDRESS,
    MASK_KIND_COUNT
} mask_kind;

/* keep_head >= 0: keep that many code points at the head and keep_tail at
 * the tail. keep_head < 0: keep all but the last -keep_head code points
 * (keep_tail is then 0). Both within -MASK_KEEP_MAX..MASK_KEEP_MAX. */
typedef struct mask_rule {
    int keep_head;
    int keep_tail;
} mask_rule;

#define MASK_KEEP_MAX 64

typedef struct mask_policy {
    mask_rule rule[MASK_KIND_COUNT];
} mask_policy;

/* The deployment's policy (never NULL): the built-in defaults above, or
 * what mask_policy_configure set at start. Hints stored at write time (a
 * case's contact_hint, a person's masked name) keep the policy of their
 * write. */
const mask_policy *mask_policy_default(void);

/* Sets the deployment's policy from its text form (mask_policy_parse; ""
 * or NULL: the built-in defaults). Once at start, before any thread masks
 * (app_open reads GR_MASK_POLICY); on error the policy is left as it was. */
int mask_policy_configure(const char *spec, gr_err *err);

/* The name of a kind in policy text: "id_number", "phone", "name", "address". */
const char *mask_kind_name(mask_kind kind);

/* Reads a policy from its text form, e.g. "id_number=6,4;phone=3,4;name=1,0;address=-8,0":
 * items separated by ';', each KIND=HEAD,TAIL with spaces allowed around
 * the parts. Kinds not named keep their default; "" is the defaults. A kind
 * named twice, an unknown kind, a missing number, a number out of range or a
 * negative HEAD with a non-zero TAIL is GR_EINVAL (field "mask_policy") and
 * out is left unchanged. */
int mask_policy_parse(const char *spec, mask_policy *out, gr_err *err);

/* Writes in masked by p's rule for kind into out (cap bytes with the NUL,
 * cut only between whole UTF-8 sequences) and returns the length of the
 * whole masked text, like snprintf (>= cap means it was cut). Input that is
 * not valid UTF-8 is hidden entirely, one '*' per byte. NULL in is "". */
size_t mask_text(const mask_policy *p, mask_kind kind, const char *in, char *out, size_t cap);

#endif
