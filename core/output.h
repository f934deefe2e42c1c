/* Writing the built site: every path confined under DEST, new or changed
 * files written into a staging folder beside DEST and moved in only when the
 * whole build succeeded. A file whose bytes did not change is not touched,
 * so its inode and mtime stay put. A manifest beside DEST remembers what the
 * last build wrote, so telling "unchanged" needs no read of the old file. */
#ifndef PUB_OUTPUT_H
#define PUB_OUTPUT_H
#include "diag.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct pub_out pub_out;

typedef struct pub_out_stats {
    size_t written;   /* files whose bytes are new or changed */
    size_t unchanged; /* files identical to the previous build */
    size_t removed;   /* files of the previous build not produced again */
} pub_out_stats;

/* Starts an output transaction for `dest` (created at commit if missing)
 * with `jobs` writer threads for pub_out_submit (started on the first
 * submit; 0 or less: submit does the I/O itself). Removes a stale staging
 * folder left by a killed build. On success *out is freed by commit or
 * abort.
 * publish removes only files it wrote (listed in its manifest). A DEST
 * with no manifest that holds files (not counting a top-level .git, .svn
 * or .hg) is refused unless `clean`:
 *   DEST: error: 'notes.txt' and 12 more files were not written by
 *         publish; empty the folder or pass --clean
 * With `clean`, commit removes every file of DEST this build does not
 * produce (kept names excepted). */
pub_diag *pub_out_begin_jobs(const char *dest, int jobs, bool clean, pub_out **out);

/* pub_out_begin_jobs with one writer thread, not clean. */
pub_diag *pub_out_begin(const char *dest, pub_out **out);

/* Writes `bytes` to `relpath` under DEST, in the calling thread. `relpath`
 * must stay under DEST after normalising; otherwise the error is
 * "output path 'PATH' is outside the destination" (no path/line set: the
 * caller knows which page asked). Two writes to one path are an error
 * "two pages write 'PATH'"; a file where another page needs a folder (or
 * the reverse) is "cannot write 'PATH': another page ...". I/O errors come
 * back here too. `bytes` stay the caller's. Safe to call from several
 * threads. */
pub_diag *pub_out_write(pub_out *out, const char *relpath, const void *bytes, size_t len);

/* Like pub_out_write, but takes ownership of `bytes` (a malloc'd block, freed
 * with free() whatever happens) and leaves the I/O to the writer threads.
 * Path errors (outside, two pages, file/folder clash) come back at once; an
 * I/O error ("DEST/PATH: error: cannot write: ...") is kept and returned by commit,
 * which then fails. Blocks while 1024 files or 64 MB wait to be written.
 * Safe to call from several threads. */
pub_diag *pub_out_submit(pub_out *out, const char *relpath, char *bytes, size_t len);

/* Claims `relpath` as a page this build produces with the bytes the last
 * build left there, without the bytes: an incremental build's page whose
 * inputs did not change. Only when the manifest lists the file with
 * content hash `hash` (util/hash.h's pub_hash of the bytes) and DEST still
 * shows what was left there (a regular file of that size and mtime, page
 * permissions). Returns true when claimed (counted unchanged); false,
 * claiming nothing, otherwise: the page must be rendered. Call before any
 * write of that path. */
bool pub_out_keep(pub_out *out, const char *relpath, uint64_t hash);

/* Whether pub_out_keep could keep `relpath`: the manifest lists it with
 * content hash `hash` and nothing claimed it yet (DEST is not looked at).
 * Claims nothing. Lets a caller skip work for a page that must render. */
bool pub_out_may_keep(pub_out *out, const char *relpath, uint64_t hash);

/* Copies the file at `source` (a static file, already checked by
 * confine.h; a symlink there now is refused) to `relpath`, in the calling
 * thread, with no more permission than the source and never more than
 * 0644, or 0755 when the source is executable. Same rules as pub_out_write; a source
 * that cannot be read is "cannot read 'SOURCE': ...". */
pub_diag *pub_out_copy(pub_out *out, const char *relpath, const char *source);

/* Waits for the writers, then moves the staged files into DEST, removes
 * the previous build's files not produced this time, saves the manifest and
 * frees `out`. When a writer failed, returns its error and leaves DEST as
 * it was. `stats` may be NULL. */
pub_diag *pub_out_commit(pub_out *out, pub_out_stats *stats);

/* Drops the staged files, leaves DEST untouched, frees `out` (NULL is ok). */
void pub_out_abort(pub_out *out);

/* For the crash tests only (tests/unit/test_output.c): when set, commit
 * calls it after each step that changes DEST or the manifest ("journal:
 * moved", "swap: exchanged", ...), so a test can end the process there and
 * check that the next build repairs DEST. NULL (the default) in publish. */
extern void (*pub_out_step_hook)(const char *step);

#endif
