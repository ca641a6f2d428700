/* Temporary directories for the unit tests' fixtures. */
#ifndef GR_TESTS_TMPDIR_H
#define GR_TESTS_TMPDIR_H

#include <stddef.h>

/* Makes a new directory /tmp/gr-test-<name>-XXXXXX and writes its path into
 * dir; 0, or -1 when it cannot. */
int gr_tmpdir_make(char *dir, size_t len, const char *name);
/* Removes dir and everything in it: 0, or nonzero (a teardown's answer). */
int gr_tmpdir_remove(const char *dir);

#endif
