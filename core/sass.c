/* libsass behind one function. libsass takes ownership of the source it is
 * given (allocated with its own allocator) and reports errors with the
 * file, 1-based line and column; the main file is named by the path we
 * set, so its lines are shifted by the front matter's.
 *
 * libsass is loaded (dlopen) the first time a site has Sass to compile,
 * not linked: loading and relocating it cost every run ~1.5 ms (a no-op
 * build at 10k posts is ~30 ms), and most sites have no Sass. The code
 * below calls it by its usual names, macros for the loaded functions. */
#include "sass.h"
#include "confine.h"
#include "util/buf.h"
#include "util/mem.h"
#include "util/path.h"
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <sass/base.h>
#include <sass/context.h>
#include <sass/functions.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

/* ---- libsass, loaded on first use ----------------------------------------- */

/* Every function of libsass this file calls. */
#define SASS_FUNCTIONS(X) \
    X(sass_alloc_memory) \
    X(sass_compile_data_context) \
    X(sass_compiler_get_last_import) \
    X(sass_context_get_error_column) \
    X(sass_context_get_error_file) \
    X(sass_context_get_error_line) \
    X(sass_context_get_error_message) \
    X(sass_context_get_options) \
    X(sass_context_get_output_string) \
    X(sass_copy_c_string) \
    X(sass_data_context_get_context) \
    X(sass_delete_data_context) \
    X(sass_import_get_abs_path) \
    X(sass_import_set_error) \
    X(sass_importer_get_cookie) \
    X(sass_importer_set_list_entry) \
    X(sass_make_data_context) \
    X(sass_make_import_entry) \
    X(sass_make_import_list) \
    X(sass_make_importer) \
    X(sass_make_importer_list) \
    X(sass_option_push_include_path) \
    X(sass_option_set_c_importers) \
    X(sass_option_set_input_path) \
    X(sass_option_set_is_indented_syntax_src) \
    X(sass_option_set_output_style) \
    X(sass_option_set_precision)

#define SASS_FIELD(name) __typeof__(&name) name;
static struct {
    SASS_FUNCTIONS(SASS_FIELD)
} libsass;
#undef SASS_FIELD
static pthread_once_t libsass_once = PTHREAD_ONCE_INIT;
static char libsass_error[256]; /* why it could not be loaded; "" when it was */

/* The soname Debian's libsass1 installs; the unversioned one (the -dev
 * package's link) for a build against another version. Loaded once for
 * the process, by whichever loader thread meets Sass first. */
static void load_libsass(void)
{
    void *lib = dlopen("libsass.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!lib) lib = dlopen("libsass.so", RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        snprintf(libsass_error, sizeof libsass_error, "libsass cannot be loaded (Debian: libsass1): %s",
                 dlerror());
        return;
    }
    /* POSIX's way to take a function from dlsym's void pointer. */
#define SASS_SYMBOL(name)                                                                           \
    if (!libsass_error[0] && !(*(void **)&libsass.name = dlsym(lib, #name)))                        \
        snprintf(libsass_error, sizeof libsass_error, "libsass has no '%s'", #name);
    SASS_FUNCTIONS(SASS_SYMBOL)
#undef SASS_SYMBOL
}

#define sass_alloc_memory libsass.sass_alloc_memory
#define sass_compile_data_context libsass.sass_compile_data_context
#define sass_compiler_get_last_import libsass.sass_compiler_get_last_import
#define sass_context_get_error_column libsass.sass_context_get_error_column
#define sass_context_get_error_file libsass.sass_context_get_error_file
#define sass_context_get_error_line libsass.sass_context_get_error_line
#define sass_context_get_error_message libsass.sass_context_get_error_message
#define sass_context_get_options libsass.sass_context_get_options
#define sass_context_get_output_string libsass.sass_context_get_output_string
#define sass_copy_c_string libsass.sass_copy_c_string
#define sass_data_context_get_context libsass.sass_data_context_get_context
#define sass_delete_data_context libsass.sass_delete_data_context
#define sass_import_get_abs_path libsass.sass_import_get_abs_path
#define sass_import_set_error libsass.sass_import_set_error
#define sass_importer_get_cookie libsass.sass_importer_get_cookie
#define sass_importer_set_list_entry libsass.sass_importer_set_list_entry
#define sass_make_data_context libsass.sass_make_data_context
#define sass_make_import_entry libsass.sass_make_import_entry
#define sass_make_import_list libsass.sass_make_import_list
#define sass_make_importer libsass.sass_make_importer
#define sass_make_importer_list libsass.sass_make_importer_list
#define sass_option_push_include_path libsass.sass_option_push_include_path
#define sass_option_set_c_importers libsass.sass_option_set_c_importers
#define sass_option_set_input_path libsass.sass_option_set_input_path
#define sass_option_set_is_indented_syntax_src libsass.sass_option_set_is_indented_syntax_src
#define sass_option_set_output_style libsass.sass_option_set_output_style
#define sass_option_set_precision libsass.sass_option_set_precision

static const struct {
    const char *name;
    enum Sass_Output_Style style;
} styles[] = {
    {"expanded", SASS_STYLE_EXPANDED},
    {"nested", SASS_STYLE_NESTED},
    {"compact", SASS_STYLE_COMPACT},
    {"compressed", SASS_STYLE_COMPRESSED},
};

bool pub_sass_style_known(const char *style)
{
    for (size_t i = 0; i < sizeof styles / sizeof *styles; i++)
        if (strcmp(styles[i].name, style) == 0) return true;
    return false;
}

/* libsass's message is "Error: TEXT\n        on line ..."; the first line,
 * without "Error: " and a trailing period, is the diagnostic's text. */
static char *first_line_of(const char *text)
{
    if (!text) return pub_xstrdup("sass error");
    if (strncmp(text, "Error: ", 7) == 0) text += 7;
    size_t n = strcspn(text, "\n");
    while (n && (text[n - 1] == '.' || text[n - 1] == ' ')) n--;
    char *msg = pub_xstrndup(text, n);
    if (msg[0] >= 'A' && msg[0] <= 'Z' && !(msg[1] >= 'A' && msg[1] <= 'Z'))
        msg[0] = (char)(msg[0] - 'A' + 'a');
    return msg;
}

/* ---- @import through the confinement ---------------------------------------- */

/* The file names Sass tries for `@import "NAME"` in one folder, in its
 * order: partial first, .scss before .sass before .css, then an index. */
static const char *const candidates[] = {
    "%s/_%s.scss", "%s/%s.scss", "%s/_%s.sass", "%s/%s.sass", "%s/_%s.css", "%s/%s.css",
    "%s/%s/_index.scss", "%s/%s/index.scss", "%s/%s/_index.sass", "%s/%s/index.sass"};

/* SRC-relative form of an absolute path below the root, else the path as
 * is (an allow_outside folder, or a path confine.h refuses). */
static const char *below_root(const pub_sass_options *opts, const char *abs)
{
    size_t n = strlen(opts->root);
    return strncmp(abs, opts->root, n) == 0 && abs[n] == '/' ? abs + n + 1 : abs;
}

/* Looks for `url` in `folder`. 1 and *entry set: found (or refused, with
 * the error in the entry); 0: not there. */
static int import_from(const pub_sass_options *opts, const char *folder, const char *url,
                       Sass_Import_Entry *entry)
{
    /* "a/b" looks for b in folder/a. */
    const char *slash = strrchr(url, '/');
    pub_buf dir = PUB_BUF_INIT;
    pub_buf_puts(&dir, folder);
    if (slash) pub_buf_printf(&dir, "/%.*s", (int)(slash - url), url);
    const char *name = slash ? slash + 1 : url;
    const char *ext = pub_path_ext(name);
    bool explicit = strcmp(ext, ".scss") == 0 || strcmp(ext, ".sass") == 0;
    int found = 0;
    for (size_t i = 0; !found && i < sizeof candidates / sizeof *candidates; i++) {
        pub_buf file = PUB_BUF_INIT;
        if (explicit) {
            if (i > 1) break;
            pub_buf_printf(&file, i == 0 ? "%s/_%s" : "%s/%s", pub_buf_cstr(&dir), name);
        } else {
            pub_buf_printf(&file, candidates[i], pub_buf_cstr(&dir), name);
        }
        const char *rel = below_root(opts, pub_buf_cstr(&file));
        pub_diag *err = NULL;
        char *source = NULL;
        size_t len = 0;
        int rc = pub_confine_read(opts->confine, rel, &source, &len, &err);
        if (rc == 0) {
            *entry = sass_make_import_entry(pub_buf_cstr(&file), sass_copy_c_string(source), NULL);
            found = 1;
        } else if (rc == PUB_CONFINE_OUTSIDE) {
            pub_buf msg = PUB_BUF_INIT;
            pub_buf_printf(&msg, "cannot import '%s': %s%s%s", url, err && err->path ? err->path : "",
                           err && err->path ? ": " : "", err ? err->message : "outside the site");
            *entry = sass_make_import_entry(url, NULL, NULL);
            sass_import_set_error(*entry, pub_buf_cstr(&msg), (size_t)-1, (size_t)-1);
            pub_buf_free(&msg);
            found = 1;
        }
        free(source);
        pub_diag_free(err);
        pub_buf_free(&file);
    }
    pub_buf_free(&dir);
    return found;
}

/* The importer libsass calls for every @import: beside the importing
 * file first, then the load paths. Plain CSS imports (a .css name, a URL,
 * url(...)) and names found nowhere go back to libsass, which writes the
 * former as CSS and reports the latter. */
static Sass_Import_List confined_import(const char *url, Sass_Importer_Entry cb,
                                        struct Sass_Compiler *compiler)
{
    const pub_sass_options *opts = sass_importer_get_cookie(cb);
    if (strstr(url, "://") || strncmp(url, "url(", 4) == 0 ||
        strcmp(pub_path_ext(url), ".css") == 0)
        return NULL;
    Sass_Import_Entry entry = NULL;
    const char *prev = sass_import_get_abs_path(sass_compiler_get_last_import(compiler));
    char *beside = prev && strrchr(prev, '/') ? pub_xstrndup(prev, (size_t)(strrchr(prev, '/') - prev))
                                              : pub_xstrdup(opts->root);
    int found = import_from(opts, beside, url, &entry);
    free(beside);
    for (size_t i = 0; !found && opts->load_paths && opts->load_paths[i]; i++)
        found = import_from(opts, opts->load_paths[i], url, &entry);
    if (!found) return NULL;
    Sass_Import_List list = sass_make_import_list(1);
    list[0] = entry;
    return list;
}

pub_diag *pub_sass_compile(const char *path, const char *body, size_t len, int first_line,
                           bool indented, const pub_sass_options *opts, char **css,
                           size_t *css_len)
{
    *css = NULL;
    *css_len = 0;
    pthread_once(&libsass_once, load_libsass);
    if (libsass_error[0]) return pub_diag_new(PUB_ERROR, path, 0, 0, "%s", libsass_error);
    char *source = sass_alloc_memory(len + 1);
    memcpy(source, body, len);
    source[len] = '\0';
    struct Sass_Data_Context *data = sass_make_data_context(source);
    struct Sass_Context *ctx = sass_data_context_get_context(data);
    struct Sass_Options *o = sass_context_get_options(ctx);
    enum Sass_Output_Style style = SASS_STYLE_EXPANDED;
    for (size_t i = 0; opts->style && i < sizeof styles / sizeof *styles; i++)
        if (strcmp(styles[i].name, opts->style) == 0) style = styles[i].style;
    sass_option_set_output_style(o, style);
    sass_option_set_is_indented_syntax_src(o, indented);
    /* The real path, so that relative @imports resolve beside the file. */
    char *input = opts->root ? pub_path_join(opts->root, path) : pub_xstrdup(path);
    sass_option_set_input_path(o, input);
    sass_option_set_precision(o, 10);
    for (size_t i = 0; opts->load_paths && opts->load_paths[i]; i++)
        sass_option_push_include_path(o, opts->load_paths[i]);
    if (opts->confine && opts->root) {
        Sass_Importer_List importers = sass_make_importer_list(1);
        sass_importer_set_list_entry(importers, 0, sass_make_importer(confined_import, 1, (void *)opts));
        sass_option_set_c_importers(o, importers);
    }
    pub_diag *err = NULL;
    if (sass_compile_data_context(data) != 0) {
        const char *file = sass_context_get_error_file(ctx);
        int line = (int)sass_context_get_error_line(ctx);
        int col = (int)sass_context_get_error_column(ctx);
        char *msg = first_line_of(sass_context_get_error_message(ctx));
        const char *shown = path;
        if (file && strcmp(file, input) != 0 && strcmp(file, "stdin") != 0) {
            size_t n = opts->root ? strlen(opts->root) : 0;
            shown = n && strncmp(file, opts->root, n) == 0 && file[n] == '/' ? file + n + 1 : file;
        } else {
            line += first_line - 1;
        }
        err = pub_diag_new(PUB_ERROR, shown, line, col, "%s", msg);
        free(msg);
    } else {
        const char *out = sass_context_get_output_string(ctx);
        *css_len = out ? strlen(out) : 0;
        *css = pub_xstrndup(out ? out : "", *css_len);
    }
    sass_delete_data_context(data);
    free(input);
    return err;
}
