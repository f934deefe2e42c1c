/* The command line: argument parsing, the commands, printing diagnostics
 * and choosing the exit status (0 fine, 1 content/plugin errors, 2 usage).
 * This is the only module that prints or exits. */
#define _GNU_SOURCE
#include "build.h"
#include "diag.h"
#include "help.h"
#include "init.h"
#include "lua/runtime.h"
#include "serve.h"
#include "util/buf.h"
#include "util/clock.h"
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

typedef struct cli {
    const char *command;
    const char *src;
    const char *dest;
    bool drafts, future, quiet, dry_run, no_cache, clean, external;
    int jobs;
    const char *script;
    const char *title;
    const char **categories;
    int ncategories;
    char **args; /* the script's arguments (run); the array is owned */
    int nargs;
    bool explicit_command; /* named on the command line (not the default build) */
    bool empty;            /* init --empty */
    const char *explain; /* build --explain [PAGE]: "" for every page */
    const char *host; /* serve */
    int port;
    bool no_reload;
} cli;

/* A usage error is one line naming the problem and where help is. */
static int usage_error(const cli *c, const char *fmt, const char *arg)
{
    fprintf(stderr, "publish: error: ");
    fprintf(stderr, fmt, arg);
    if (c->command && pub_help_usage(c->command))
        fprintf(stderr, " (see 'publish help %s')\n", c->command);
    else
        fprintf(stderr, " (see 'publish help')\n");
    return EXIT_USAGE;
}

static int print_help(const char *command)
{
    if (!command) {
        fputs(pub_help_overview(), stdout);
        return -1;
    }
    fputs(pub_help_usage(command), stdout);
    fputs(pub_help_text(command), stdout);
    return -1;
}

/* The options `run` takes even after SCRIPT (the rest goes to the script). */
static bool is_run_option(const char *a)
{
    static const char *const options[] = {"-s", "--source", "--dry-run", "-q", "--quiet",
                                          "-j", "--jobs"};
    for (size_t i = 0; i < sizeof options / sizeof *options; i++)
        if (strcmp(a, options[i]) == 0) return true;
    return false;
}

static const char default_src[] = ".";

/* The option or argument argv[*i] of c->command (one case each, a flat
 * chain); *i moves past an option's value. Returns 0 to go on, or an exit
 * status to stop with. */
static int parse_option(int argc, char **argv, int *i, cli *c)
{
    const char *a = argv[*i];
    const char *next = *i + 1 < argc ? argv[*i + 1] : NULL;
    bool run = strcmp(c->command, "run") == 0;
    if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
        return print_help(c->explicit_command ? c->command : NULL);
    } else if (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0) {
        printf("publish %s\n", PUB_VERSION);
        return -1;
    } else if (strcmp(a, "-s") == 0 || strcmp(a, "--source") == 0) {
        if (!next) return usage_error(c, "'%s' needs a folder", a);
        c->src = argv[++*i];
    } else if (strcmp(a, "-d") == 0 || strcmp(a, "--destination") == 0) {
        if (!next) return usage_error(c, "'%s' needs a folder", a);
        c->dest = argv[++*i];
    } else if (strcmp(a, "-j") == 0 || strcmp(a, "--jobs") == 0) {
        char *end;
        if (!next) return usage_error(c, "'%s' needs a number", a);
        long n = strtol(next, &end, 10);
        if (*end || n < 1 || n > 256) return usage_error(c, "bad job count '%s'", next);
        c->jobs = (int)n;
        (*i)++;
    } else if (strcmp(a, "--drafts") == 0) {
        c->drafts = true;
    } else if (strcmp(a, "--future") == 0) {
        c->future = true;
    } else if (strcmp(a, "--no-cache") == 0) {
        c->no_cache = true;
    } else if (strcmp(a, "--external") == 0 && strcmp(c->command, "check") == 0) {
        c->external = true;
    } else if (strcmp(a, "--clean") == 0 && strcmp(c->command, "build") == 0) {
        c->clean = true;
    } else if (strcmp(a, "--explain") == 0 && strcmp(c->command, "build") == 0) {
        /* The page is optional: what follows is one unless an option. */
        c->explain = next && next[0] != '-' ? argv[++*i] : "";
    } else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
        c->quiet = true;
    } else if (strcmp(a, "--dry-run") == 0 && strcmp(c->command, "run") == 0) {
        c->dry_run = true;
    } else if (strcmp(a, "--category") == 0 && strcmp(c->command, "new") == 0) {
        if (!next) return usage_error(c, "'%s' needs a name", a);
        c->categories[c->ncategories++] = argv[++*i];
    } else if (strcmp(a, "--host") == 0 && strcmp(c->command, "serve") == 0) {
        if (!next) return usage_error(c, "'%s' needs an address", a);
        c->host = argv[++*i];
    } else if (strcmp(a, "--port") == 0 && strcmp(c->command, "serve") == 0) {
        char *end;
        if (!next) return usage_error(c, "'%s' needs a number", a);
        long n = strtol(next, &end, 10);
        if (*end || !*next || n < 0 || n > 65535) return usage_error(c, "bad port '%s'", next);
        c->port = (int)n;
        (*i)++;
    } else if (strcmp(a, "--no-reload") == 0 && strcmp(c->command, "serve") == 0) {
        c->no_reload = true;
    } else if (strcmp(a, "--empty") == 0 && strcmp(c->command, "init") == 0) {
        c->empty = true;
    } else if (a[0] == '-' && a[1]) {
        return usage_error(c, "unknown option '%s'", a);
    } else if (strcmp(c->command, "init") == 0 && c->src == default_src) {
        c->src = a;
    } else if (run && !c->script) {
        c->script = a;
    } else if (strcmp(c->command, "new") == 0 && !c->title) {
        c->title = a;
    } else {
        return usage_error(c, "unexpected argument '%s'", a);
    }
    return 0;
}

/* Returns 0 when parsed, or an exit status to stop with. */
static int parse_args(int argc, char **argv, cli *c)
{
    memset(c, 0, sizeof *c);
    c->src = default_src;
    c->host = "127.0.0.1";
    c->port = 4000;
    c->categories = pub_xcalloc((size_t)argc, sizeof *c->categories);
    c->args = pub_xcalloc((size_t)argc, sizeof *c->args);
    int i = 1;
    c->explicit_command = i < argc && argv[i][0] != '-';
    c->command = c->explicit_command ? argv[i++] : "build";
    if (strcmp(c->command, "help") == 0) {
        if (i + 1 < argc) return usage_error(c, "unexpected argument '%s'", argv[i + 1]);
        if (i < argc && !pub_help_usage(argv[i])) {
            c->command = NULL;
            return usage_error(c, "unknown command '%s'", argv[i]);
        }
        return print_help(i < argc ? argv[i] : NULL);
    }
    if (!pub_help_usage(c->command)) {
        const char *unknown = c->command;
        c->command = NULL;
        return usage_error(c, "unknown command '%s'", unknown);
    }
    bool run = strcmp(c->command, "run") == 0;

    for (; i < argc; i++) {
        const char *a = argv[i];
        /* After SCRIPT, what is not an option of run is the script's
         * (`--help` too: the script's own usage); after `--`, all of it. */
        if (run && (c->script || strcmp(a, "--") == 0) && !is_run_option(a)) {
            if (strcmp(a, "--") == 0) {
                while (++i < argc) c->args[c->nargs++] = argv[i];
                break;
            }
            c->args[c->nargs++] = argv[i];
            continue;
        }
        int rc = parse_option(argc, argv, &i, c);
        if (rc) return rc;
    }
    if (strcmp(c->command, "run") == 0 && !c->script) return usage_error(c, "%s", "run needs a script");
    if (strcmp(c->command, "new") == 0 && !c->title) return usage_error(c, "%s", "new needs a title");
    return 0;
}

/* Prints one diagnostic, one line (more for a traceback), to stderr. */
static void print_diag(const pub_diag *d)
{
    pub_buf line = PUB_BUF_INIT;
    pub_diag_format(d, &line);
    fprintf(stderr, "%s\n", pub_buf_cstr(&line));
    pub_buf_free(&line);
}

/* Prints every diagnostic; returns the number of errors. */
static size_t print_diags(pub_diags *diags, bool quiet)
{
    pub_diags_sort(diags);
    for (size_t i = 0; i < diags->len; i++) {
        const pub_diag *d = diags->items[i];
        if (quiet && d->level != PUB_ERROR) continue;
        print_diag(d);
    }
    return diags->errors;
}

typedef struct progress {
    bool on;
    double last; /* pub_clock_now() of the last update */
    bool shown;
} progress;

/* Progress on a terminal only, at most ten updates a second. */
static void show_progress(void *ud, const char *phase, size_t done, size_t total)
{
    progress *p = ud;
    if (!p->on) return;
    double now = pub_clock_now();
    double since = now - p->last;
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

static const char *plural(size_t n, const char *one, const char *many)
{
    return n == 1 ? one : many;
}

/* "; 3 drafts, 1 future post skipped (--drafts / --future to include)", or
 * nothing: a user who wonders where a post went reads why on the spot. */
static void skipped_note(const pub_build_result *r, pub_buf *out)
{
    if (!r->drafts_skipped && !r->future_skipped) return;
    pub_buf_puts(out, "; ");
    if (r->drafts_skipped)
        pub_buf_printf(out, "%zu %s", r->drafts_skipped, plural(r->drafts_skipped, "draft", "drafts"));
    if (r->drafts_skipped && r->future_skipped) pub_buf_puts(out, ", ");
    if (r->future_skipped)
        pub_buf_printf(out, "%zu %s", r->future_skipped,
                       plural(r->future_skipped, "future post", "future posts"));
    pub_buf_printf(out, " skipped (%s%s%s to include)", r->drafts_skipped ? "--drafts" : "",
                   r->drafts_skipped && r->future_skipped ? " / " : "",
                   r->future_skipped ? "--future" : "");
}

static int command_build(const cli *c, bool check_only)
{
    double start = pub_clock_now();
    progress prog = {isatty(STDERR_FILENO) && !c->quiet, 0, false};
    pub_build_options opts = {.src = c->src, .dest = c->dest, .drafts = c->drafts,
                              .future = c->future, .check_only = check_only,
                              .no_cache = c->no_cache, .clean = c->clean, .explain = c->explain,
                              .external = c->external, .jobs = c->jobs, .exit_after = true,
                              .progress = show_progress, .progress_ud = &prog};
    pub_diags diags;
    pub_diags_init(&diags);
    pub_build_result result;
    bool ok = pub_build(&opts, &diags, &result);
    clear_progress(&prog);
    if (ok && c->explain && result.up_to_date)
        printf("no page renders: nothing changed since the last build\n");
    else if (ok && c->explain)
        fwrite(result.explain.data ? result.explain.data : "", 1, result.explain.len, stdout);
    size_t errors = print_diags(&diags, c->quiet);
    double secs = pub_clock_now() - start;
    if (!ok) {
        if (check_only)
            fprintf(stderr, "publish: %zu %s found\n", errors, plural(errors, "error", "errors"));
        else
            fprintf(stderr, "publish: %zu %s; '%s' left as it was\n", errors,
                    plural(errors, "error", "errors"), result.dest ? result.dest : c->src);
    } else if (!c->quiet && result.up_to_date) {
        printf("publish: '%s' is up to date (nothing changed) in %.2f s\n", result.dest, secs);
    } else if (!c->quiet) {
        pub_buf skipped = PUB_BUF_INIT;
        skipped_note(&result, &skipped);
        if (check_only)
            printf("publish: checked %zu %s, no errors (%.2f s)%s\n", result.pages,
                   plural(result.pages, "page", "pages"), secs, pub_buf_cstr(&skipped));
        else
            printf("publish: %zu %s in '%s' (%zu written, %zu unchanged, %zu removed) in %.2f s%s\n",
                   result.pages, plural(result.pages, "file", "files"), result.dest,
                   result.out.written, result.out.unchanged, result.out.removed, secs,
                   pub_buf_cstr(&skipped));
        pub_buf_free(&skipped);
    }
    if (getenv("PUBLISH_TIMINGS"))
        fprintf(stderr, "publish: timings: load (read, front matter, markdown, to Lua) %.3f s, plugins and pages %.3f s, commit %.3f s (static files %.3f, output %.3f, records %.3f, cache %.3f)\n",
                result.seconds_read, result.seconds_lua, result.seconds_commit,
                result.seconds_static,
                result.seconds_commit - result.seconds_static - result.seconds_save,
                result.seconds_records, result.seconds_save - result.seconds_records);
    pub_build_result_free(&result);
    pub_diags_free(&diags);
    return ok ? 0 : EXIT_CONTENT;
}

/* `publish run SCRIPT --help`: the script's opening comment, which is its
 * usage by convention (every bundled script has one), without the site. */
static int script_help(const cli *c)
{
    char *text = NULL, *display = NULL;
    size_t len = 0;
    int rc = pub_runtime_script_text(c->script, &text, &len, &display);
    free(display);
    if (rc != 0) {
        fprintf(stderr, "%s: error: cannot read script: %s\n", c->script, strerror(rc));
        return EXIT_CONTENT;
    }
    const char *line = text;
    if (strncmp(line, "#!", 2) == 0) line += strcspn(line, "\n") + (line[strcspn(line, "\n")] != 0);
    bool any = false;
    while (strncmp(line, "--", 2) == 0) {
        size_t n = strcspn(line, "\n");
        const char *body = line + 2;
        if (*body == ' ') body++;
        printf("%.*s\n", (int)(n - (size_t)(body - line)), body);
        any = true;
        line += n + (line[n] != 0);
    }
    if (!any) printf("%s: no usage comment at its top\n", c->script);
    free(text);
    return 0;
}

/* A script's "usage: ..." error (and nothing else) is a usage error:
 * one line, exit 2. */
static bool only_usage_error(const pub_diags *diags)
{
    return diags->errors == 1 && diags->len == 1 &&
           strncmp(diags->items[0]->message, "usage: ", 7) == 0;
}

static int command_run(const cli *c)
{
    if (c->nargs > 0 && (strcmp(c->args[0], "--help") == 0 || strcmp(c->args[0], "-h") == 0))
        return script_help(c);
    pub_diags diags;
    pub_diags_init(&diags);
    pub_buf report = PUB_BUF_INIT;
    pub_script_options opts = {c->src, c->script, c->nargs, c->args, c->dry_run, c->jobs};
    bool ok = pub_build_script(&opts, &diags, &report);
    if (!ok && only_usage_error(&diags)) {
        fprintf(stderr, "publish: %s (see 'publish run %s --help')\n", diags.items[0]->message,
                c->script);
        pub_buf_free(&report);
        pub_diags_free(&diags);
        return EXIT_USAGE;
    }
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

/* publish init: the example site into DIR, built at once; the last line
 * says what to run next. */
static int command_init(const cli *c)
{
    size_t files = 0;
    pub_diag *err = pub_init_site(c->src, c->empty, &files);
    if (err) {
        print_diag(err);
        pub_diag_free(err);
        return EXIT_CONTENT;
    }
    if (!c->quiet)
        printf("publish: made a new site in '%s' (%zu files%s)\n", c->src, files,
               c->empty ? ", no example posts" : "");
    int status = command_build(c, false);
    if (status != 0) return status;
    bool here = strcmp(c->src, ".") == 0;
    printf("publish: next: publish serve%s%s, then open http://127.0.0.1:4000/ "
           "(publish new \"TITLE\"%s%s writes a post)\n",
           here ? "" : " -s ", here ? "" : c->src, here ? "" : " -s ", here ? "" : c->src);
    return 0;
}

/* Runs until Ctrl-C or SIGTERM (exit 0); prints its own progress to stderr. */
static int command_serve(const cli *c)
{
    pub_serve_options opts = {c->src, c->dest, c->host, c->port, c->no_reload,
                              c->drafts, c->future, c->jobs, stderr};
    pub_diag *err = pub_serve(&opts);
    if (!err) return 0;
    print_diag(err);
    pub_diag_free(err);
    return EXIT_CONTENT;
}

int main(int argc, char **argv)
{
    cli c;
    int rc = parse_args(argc, argv, &c);
    if (rc != 0) {
        free(c.categories);
        free(c.args);
        return rc < 0 ? 0 : rc;
    }
    int status;
    if (strcmp(c.command, "build") == 0) status = command_build(&c, false);
    else if (strcmp(c.command, "check") == 0) status = command_build(&c, true);
    else if (strcmp(c.command, "run") == 0) status = command_run(&c);
    else if (strcmp(c.command, "new") == 0) status = command_new(&c);
    else if (strcmp(c.command, "init") == 0) status = command_init(&c);
    else status = command_serve(&c);
    free(c.categories);
    free(c.args);
    return status;
}
