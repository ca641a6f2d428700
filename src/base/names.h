/* Name tables: the stored and shown names of an enumeration, in its order. */
#ifndef GR_BASE_NAMES_H
#define GR_BASE_NAMES_H

#include <stddef.h>

/* The index of s among the n names, or -1 (also for s NULL). */
int names_find(const char *const *names, size_t n, const char *s);

#endif
