#include "tmpdir.h"

#include <stdio.h>
#include <stdlib.h>

int gr_tmpdir_make(char *dir, size_t len, const char *name)
{
    int n = snprintf(dir, len, "/tmp/gr-test-%s-XXXXXX", name);

    if (n < 0 || (size_t)n >= len || !mkdtemp(dir))
        return -1;
    return 0;
}

int gr_tmpdir_remove(const char *dir)
{
    char cmd[512];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd);
}
