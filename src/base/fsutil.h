/* Small file-system steps that several modules need. */
#ifndef GR_BASE_FSUTIL_H
#define GR_BASE_FSUTIL_H

/* Makes the entries of directory dir durable (a file created or renamed in
 * it survives a crash only once its directory is synced): 0, or -1 with
 * errno set. */
int fs_sync_dir(const char *dir);

#endif
