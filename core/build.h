/* The build pipeline: discover the site, read and parse every document on
 * worker threads, run the Lua engine and plugins, write the output through
 * a staging folder. Also loads a site for `publish run` scripts. */
#ifndef PUB_BUILD_H
#define PUB_BUILD_H
#include "diag.h"
#include "output.h"
#include "util/buf.h"
#include <stdbool.h>
#include <stddef.h>

typedef void (*pub_progress_fn)(void *ud, const char *phase, size_t done, size_t total);

typedef struct pub_build_result pub_build_result;

typedef struct pub_build_options {
    const char *src;     /* site folder */
    const char *dest;    /* NULL: config `destination` or SRC/_site */
    bool drafts;         /* include drafts and unpublished posts */
    bool future;         /* include posts dated after now */
    bool check_only;     /* load and validate everything, write nothing */
    bool external;       /* with check_only: fetch external links too (fetch.h) */
    bool no_cache;       /* neither read nor write SRC/.publish-cache */
    bool clean;          /* empty DEST of files publish did not write */
    const char *explain; /* NULL, or say why pages render: "" every page,
                            else the page with this URL or output path */
    int jobs;            /* worker threads; <= 0: number of cores */
    bool exit_after;     /* the process ends after this build: its Lua heap is
                            left to the exit (pub_runtime_leave), not freed */
    pub_progress_fn progress; /* may be NULL */
    void *progress_ud;
    /* May be NULL: called once a successful build has committed its output
     * (DEST holds the new site; `result` has the pages and output counts),
     * before the page records and the cache are saved and the Lua state is
     * closed. serve reloads the pages from here. */
    void (*committed)(void *ud, const pub_build_result *result);
    void *committed_ud;
} pub_build_options;

struct pub_build_result {
    size_t posts;        /* posts published */
    size_t pages;        /* output files produced */
    pub_out_stats out;   /* written / unchanged / removed */
    char *dest;          /* the destination used (owned; pub_build_result_free) */
    bool up_to_date;     /* nothing changed since the last build: no work done */
    size_t drafts_skipped; /* drafts and unpublished pages left out (no --drafts) */
    size_t future_skipped; /* future-dated posts left out (no --future) */
    double seconds_read;   /* reading, front matter, Markdown (threads) */
    double seconds_lua;    /* plugins, templates, handing pages to the writers */
    double seconds_commit; /* static files, waiting for writers, the swap */
    double seconds_static; /* of seconds_commit: copying the static files */
    double seconds_save;   /* of seconds_commit: saving the page records and the cache */
    double seconds_records; /* of seconds_save: the page records alone */
    pub_buf explain;       /* with opts.explain: one line per reason (cli prints) */
};

/* Runs a build. Every problem found goes to `diags`; returns true when the
 * build succeeded (DEST replaced), false when it did not (DEST untouched). */
bool pub_build(const pub_build_options *opts, pub_diags *diags, pub_build_result *result);
void pub_build_result_free(pub_build_result *result);

typedef struct pub_script_options {
    const char *src;
    const char *script;  /* path of the Lua file */
    int argc;            /* arguments passed as ... */
    char **argv;
    bool dry_run;
    int jobs;
} pub_script_options;

/* Runs a bulk-edit script over the loaded site (no rendering) and writes
 * the changed posts back (or, with dry_run, appends a diff to `report`).
 * `report` also receives the summary line. Returns true on success. */
bool pub_build_script(const pub_script_options *opts, pub_diags *diags, pub_buf *report);

typedef struct pub_new_options {
    const char *src;
    const char *title;       /* the post's title; its slug names the file */
    int ncategories;
    const char **categories; /* front matter `categories`, in order */
} pub_new_options;

/* `publish new`: creates SRC/posts/YYYY-MM-DD-SLUG.md (today, in the
 * site's time zone) with title, date and categories in its front matter,
 * through site:new_post and the same all-or-nothing write as a bulk edit;
 * an existing file is never replaced. On success *created (may be NULL)
 * gets the new file's path relative to SRC (caller frees). */
bool pub_build_new(const pub_new_options *opts, pub_diags *diags, char **created);

#endif
