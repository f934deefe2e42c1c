/* The command line: argument parsing, the commands, printing diagnostics
 * and choosing the exit status (0 fine, 1 content/plugin errors, 2 usage).
 * This is the only module that prints or exits. */
#define _GNU_SOURCE
#include "build.h"
#include "diag.h"
#include "serve.h"
#include "util/buf.h"
#include "util/mem.h"
#include "util/path.h"
#include "util/text.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define EXIT_CONTENT 1
#define EXIT_USAGE 2

static const char usage_text[] =
    "usage: publish [build] [-s SRC] [-d DEST] [--drafts] [--future] [--no-cache] [--clean]\n"
    "               [-j N] [-q]\n"
    "       publish serve [-s SRC] [--host 127.0.0.1] [--port 4000] [--no-reload]\n"
    "       publish run SCRIPT.lua [-s SRC] [--dry-run] [-q] [--] [ARGS...]\n"
    "       publish check [-s SRC]\n"
    "       publish new TITLE [-s SRC] [--category C]...\n"
    "       publish --help | --version\n";

static const char help_text[] =
    "publish: a Lua-scriptable static publishing engine\n\n"
    "commands:\n"
    "  build        build the site into DEST (the default command)\n"
    "  check        load and validate everything, write nothing\n"
    "  serve        build, serve DEST over HTTP, rebuild and reload pages on change\n"
    "  run SCRIPT   run a Lua bulk-edit script over the posts and write the changes back\n"
    "  new TITLE    create posts/YYYY-MM-DD-slug.md with front matter\n\n"
    "options:\n"
    "  -s, --source SRC       the site folder (default: .)\n"
    "  -d, --destination DEST the output folder (default: config 'destination' or SRC/_site)\n"
    "      --drafts           include drafts and posts with 'published: false'\n"
    "      --future           include posts dated in the future\n"
    "      --no-cache         neither use nor update SRC/.publish-cache\n"
    "      --clean            (build) remove files in DEST that publish did not write\n"
    "  -j, --jobs N           worker threads (default: number of cores)\n"
    "  -q, --quiet            print nothing but errors\n"
    "      --dry-run          (run) print the diff of what would change, write nothing\n"
    "      --category C       (new) a category for the new post; may repeat\n"
    "      --host H           (serve) the address to listen on (default: 127.0.0.1)\n"
    "      --port N           (serve) the port (default: 4000)\n"
    "      --no-reload        (serve) do not make open pages reload after a rebuild\n"
    "  -h, --help             this help\n"
    "  -V, --version          the version\n";

typedef struct cli {
    const char *command;
    const char *src;
    const char *dest;
    bool drafts, future, quiet, dry_run, no_cache, clean;
    int jobs;
    const char *script;
    const char *title;
    const char **categories;
    int ncategories;
    char **args; /* after the script (run) */
    int nargs;
    const char *host; /* serve */
    int port;
    bool no_reload;
} cli;

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "publish: error: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n%s", usage_text);
    return EXIT_USAGE;
}

/* Returns 0 when parsed, or an exit status to stop with. */
static int parse_args(int argc, char **argv, cli *c)
{
    memset(c, 0, sizeof *c);
    c->src = ".";
    c->host = "127.0.0.1";
    c->port = 4000;
    c->categories = pub_xcalloc((size_t)argc, sizeof *c->categories);
    int i = 1;
    if (i < argc && argv[i][0] != '-') c->command = argv[i++];
    else c->command = "build";
    static const char *const commands[] = {"build", "check", "run", "new", "serve"};
    bool known = false;
    for (size_t k = 0; k < sizeof commands / sizeof *commands; k++)
        known = known || strcmp(c->command, commands[k]) == 0;
    if (!known) return usage_error("unknown command '%s'", c->command);

    for (; i < argc; i++) {
        const char *a = argv[i];
        const char *next = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(help_text, stdout);
            fputs("\n", stdout);
            fputs(usage_text, stdout);
            return -1;
        } else if (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0) {
            printf("publish %s\n", PUB_VERSION);
            return -1;
        } else if (strcmp(a, "-s") == 0 || strcmp(a, "--source") == 0) {
            if (!next) return usage_error("'%s' needs a folder", a);
            c->src = argv[++i];
        } else if (strcmp(a, "-d") == 0 || strcmp(a, "--destination") == 0) {
            if (!next) return usage_error("'%s' needs a folder", a);
            c->dest = argv[++i];
        } else if (strcmp(a, "-j") == 0 || strcmp(a, "--jobs") == 0) {
            char *end;
            if (!next) return usage_error("'%s' needs a number", a);
            long n = strtol(next, &end, 10);
            if (*end || n < 1 || n > 256) return usage_error("bad job count '%s'", next);
            c->jobs = (int)n;
            i++;
        } else if (strcmp(a, "--drafts") == 0) {
            c->drafts = true;
        } else if (strcmp(a, "--future") == 0) {
            c->future = true;
        } else if (strcmp(a, "--no-cache") == 0) {
            c->no_cache = true;
        } else if (strcmp(a, "--clean") == 0 && strcmp(c->command, "build") == 0) {
            c->clean = true;
        } else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
            c->quiet = true;
        } else if (strcmp(a, "--dry-run") == 0 && strcmp(c->command, "run") == 0) {
            c->dry_run = true;
        } else if (strcmp(a, "--category") == 0 && strcmp(c->command, "new") == 0) {
            if (!next) return usage_error("'%s' needs a name", a);
            c->categories[c->ncategories++] = argv[++i];
        } else if (strcmp(a, "--host") == 0 && strcmp(c->command, "serve") == 0) {
            if (!next) return usage_error("'%s' needs an address", a);
            c->host = argv[++i];
        } else if (strcmp(a, "--port") == 0 && strcmp(c->command, "serve") == 0) {
            char *end;
            if (!next) return usage_error("'%s' needs a number", a);
            long n = strtol(next, &end, 10);
            if (*end || !*next || n < 0 || n > 65535) return usage_error("bad port '%s'", next);
            c->port = (int)n;
            i++;
        } else if (strcmp(a, "--no-reload") == 0 && strcmp(c->command, "serve") == 0) {
            c->no_reload = true;
        } else if (strcmp(a, "--") == 0 && strcmp(c->command, "run") == 0) {
            c->args = argv + i + 1;
            c->nargs = argc - i - 1;
            break;
        } else if (a[0] == '-' && a[1]) {
            return usage_error("unknown option '%s'", a);
        } else if (strcmp(c->command, "run") == 0 && !c->script) {
            c->script = a;
        } else if (strcmp(c->command, "run") == 0) {
            /* Arguments after the script go to it, as with `lua script.lua a b`. */
            c->args = argv + i;
            c->nargs = argc - i;
            break;
        } else if (strcmp(c->command, "new") == 0 && !c->title) {
            c->title = a;
        } else {
            return usage_error("unexpected argument '%s'", a);
        }
    }
    if (strcmp(c->command, "run") == 0 && !c->script) return usage_error("%s", "run needs a script");
    if (strcmp(c->command, "new") == 0 && !c->title) return usage_error("%s", "new needs a title");
    return 0;
}

/* Prints every diagnostic; returns the number of errors. */
static size_t print_diags(pub_diags *diags, bool quiet)
{
    pub_diags_sort(diags);
    pub_buf line = PUB_BUF_INIT;
    for (size_t i = 0; i < diags->len; i++) {
        const pub_diag *d = diags->items[i];
        if (quiet && d->level != PUB_ERROR) continue;
        pub_buf_clear(&line);
        pub_diag_format(d, &line);
        fprintf(stderr, "%s\n", pub_buf_cstr(&line));
    }
    pub_buf_free(&line);
    return diags->errors;
}

typedef struct progress {
    bool on;
    struct timespec last;
    bool shown;
} progress;

/* Progress on a terminal only, at most ten updates a second. */
static void show_progress(void *ud, const char *phase, size_t done, size_t total)
{
    progress *p = ud;
    if (!p->on) return;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    double since = (double)(now.tv_sec - p->last.tv_sec) + (double)(now.tv_nsec - p->last.tv_nsec) / 1e9;
    if (p->shown && since < 0.1 && done < total) return;
    p->last = now;
    p->shown = true;
    fprintf(stderr, "\r\033[Kpublish: %s %zu/%zu", phase, done, total);
    fflush(stderr);
}

static void clear_progress(progress *p)
{
    if (p->shown) fprintf(stderr, "\r\033[K");
    p->shown = false;
}

static double seconds_since(const struct timespec *start)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

static const char *plural(size_t n, const char *one, const char *many)
{
    return n == 1 ? one : many;
}

static int command_build(const cli *c, bool check_only)
{
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    progress prog = {isatty(STDERR_FILENO) && !c->quiet, {0, 0}, false};
    pub_build_options opts = {.src = c->src, .dest = c->dest, .drafts = c->drafts,
                              .future = c->future, .check_only = check_only,
                              .no_cache = c->no_cache, .clean = c->clean, .jobs = c->jobs,
                              .progress = show_progress, .progress_ud = &prog};
    pub_diags diags;
    pub_diags_init(&diags);
    pub_build_result result;
    bool ok = pub_build(&opts, &diags, &result);
    clear_progress(&prog);
    size_t errors = print_diags(&diags, c->quiet);
    double secs = seconds_since(&start);
    if (!ok) {
        if (check_only)
            fprintf(stderr, "publish: %zu %s found\n", errors, plural(errors, "error", "errors"));
        else
            fprintf(stderr, "publish: %zu %s; '%s' left as it was\n", errors,
                    plural(errors, "error", "errors"), result.dest ? result.dest : c->src);
    } else if (!c->quiet && result.up_to_date) {
        printf("publish: '%s' is up to date (nothing changed) in %.2f s\n", result.dest, secs);
    } else if (!c->quiet) {
        if (check_only)
            printf("publish: checked %zu %s, no errors (%.2f s)\n", result.pages,
                   plural(result.pages, "page", "pages"), secs);
        else
            printf("publish: %zu %s in '%s' (%zu written, %zu unchanged, %zu removed) in %.2f s\n",
                   result.pages, plural(result.pages, "file", "files"), result.dest,
                   result.out.written, result.out.unchanged, result.out.removed, secs);
    }
    if (getenv("PUBLISH_TIMINGS"))
        fprintf(stderr, "publish: timings: load (read, front matter, markdown, to Lua) %.3f s, plugins and pages %.3f s, commit %.3f s\n",
                result.seconds_read, result.seconds_lua, result.seconds_commit);
    pub_build_result_free(&result);
    pub_diags_free(&diags);
    return ok ? 0 : EXIT_CONTENT;
}

static int command_run(const cli *c)
{
    pub_diags diags;
    pub_diags_init(&diags);
    pub_buf report = PUB_BUF_INIT;
    pub_script_options opts = {c->src, c->script, c->nargs, c->args, c->dry_run, c->jobs};
    bool ok = pub_build_script(&opts, &diags, &report);
    size_t errors = print_diags(&diags, c->quiet);
    if (report.len && (!c->quiet || c->dry_run)) fputs(pub_buf_cstr(&report), stdout);
    if (!ok)
        fprintf(stderr, "publish: %zu %s; no file was changed\n", errors, plural(errors, "error", "errors"));
    pub_buf_free(&report);
    pub_diags_free(&diags);
    return ok ? 0 : EXIT_CONTENT;
}

/* publish new: site:new_post through the bulk-edit write (build.h); the
 * slug is publish.slugify's, the date now in the site's time zone. */
static int command_new(const cli *c)
{
    size_t len = strlen(c->title);
    char *slug = pub_xmalloc(len + 1);
    size_t slug_len = pub_text_slugify(c->title, len, slug);
    free(slug);
    if (!slug_len) {
        fprintf(stderr, "publish: error: the title '%s' gives an empty slug\n", c->title);
        return EXIT_USAGE;
    }
    pub_diags diags;
    pub_diags_init(&diags);
    pub_new_options opts = {c->src, c->title, c->ncategories, c->categories};
    char *created = NULL;
    bool ok = pub_build_new(&opts, &diags, &created);
    print_diags(&diags, false);
    if (ok && !c->quiet) {
        char *file = pub_path_join(c->src, created);
        printf("%s\n", file);
        free(file);
    }
    free(created);
    pub_diags_free(&diags);
    return ok ? 0 : EXIT_CONTENT;
}

/* Runs until Ctrl-C or SIGTERM (exit 0); prints its own progress to stderr. */
static int command_serve(const cli *c)
{
    pub_serve_options opts = {c->src, c->dest, c->host, c->port, c->no_reload,
                              c->drafts, c->future, c->jobs, stderr};
    pub_diag *err = pub_serve(&opts);
    if (!err) return 0;
    pub_buf line = PUB_BUF_INIT;
    pub_diag_format(err, &line);
    fprintf(stderr, "%s\n", pub_buf_cstr(&line));
    pub_buf_free(&line);
    pub_diag_free(err);
    return EXIT_CONTENT;
}

int main(int argc, char **argv)
{
    cli c;
    int rc = parse_args(argc, argv, &c);
    if (rc != 0) {
        free(c.categories);
        return rc < 0 ? 0 : rc;
    }
    int status;
    if (strcmp(c.command, "build") == 0) status = command_build(&c, false);
    else if (strcmp(c.command, "check") == 0) status = command_build(&c, true);
    else if (strcmp(c.command, "run") == 0) status = command_run(&c);
    else if (strcmp(c.command, "new") == 0) status = command_new(&c);
    else status = command_serve(&c);
    free(c.categories);
    return status;
}
