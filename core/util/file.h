/* Whole-file reads and the folder helper. Errors come back as errno values
 * so the caller can word the diagnostic with the path it knows. */
#ifndef PUB_UTIL_FILE_H
#define PUB_UTIL_FILE_H
#include <stddef.h>
#include <stdint.h>

/* Reads all of `path`. On success returns 0 and sets *data (NUL-terminated,
 * caller frees) and *len; on failure returns an errno value. */
int pub_file_read(const char *path, char **data, size_t *len);

/* pub_file_read of an open file; `fd` is closed in every case. */
int pub_file_read_fd(int fd, char **data, size_t *len);

/* Reads up to `want` bytes from `fd` into `buf`, retrying short reads and
 * EINTR; *got is how many came (fewer only at end of file). Returns 0 or an
 * errno value. */
int pub_file_read_upto(int fd, char *buf, size_t want, size_t *got);

/* Writes all `len` bytes to `fd`, retrying short writes and EINTR.
 * Returns 0 or an errno value. */
int pub_file_write_all(int fd, const void *bytes, size_t len);

/* Reads exactly `len` bytes at `offset` of `fd` into `buf` (pread, short
 * counts and EINTR retried). Returns 0, an errno value, or EIO when the
 * file ends first. */
int pub_file_pread_all(int fd, void *buf, size_t len, uint64_t offset);

/* Writes all `len` bytes at `offset` of `fd` (pwrite, short counts and
 * EINTR retried). Returns 0 or an errno value. */
int pub_file_pwrite_all(int fd, const void *bytes, size_t len, uint64_t offset);

/* Creates `path` and its missing parents (mode 0777 & ~umask).
 * Returns 0 or an errno value. */
int pub_file_mkdirs(const char *path);

/* Removes a folder tree (no symlink is followed). Returns 0 or errno. */
int pub_file_remove_tree(const char *path);

#endif
