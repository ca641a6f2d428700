/* Synthetic ID numbers (id_number.h). */
#include "id_number.h"

#include <stdio.h>

void gr_test_id_number(const char *first17, char out[19])
{
    static const int w[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
    static const char check[] = "10X98765432";
    int i, s = 0;

    for (i = 0; i < 17; i++)
        s += (first17[i] - '0') * w[i];
    snprintf(out, 19, "%.17s%c", first17, check[s % 11]);
}
