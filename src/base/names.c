#include "base/names.h"

#include <string.h>

int names_find(const char *const *names, size_t n, const char *s)
{
    size_t i;

    for (i = 0; s && i < n; i++)
        if (strcmp(s, names[i]) == 0)
            return (int)i;
    return -1;
}
