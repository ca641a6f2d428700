/* File-system steps (fsutil.h). */
#include "base/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

int fs_sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc = 0, e;

    if (fd < 0)
        return -1;
    if (fsync(fd) != 0)
        rc = -1;
    e = errno;
    close(fd);
    errno = e;
    return rc;
}
