/* libsass behind one function. libsass takes ownership of the source it is
 * given (allocated with its own allocator) and reports errors with the
 * file, 1-based line and column; the main file is named by the path we
 * set, so its lines are shifted by the front matter's. */
#include "sass.h"
#include "util/mem.h"
#include "util/path.h"
#include <sass/base.h>
#include <sass/context.h>
#include <stdlib.h>
#include <string.h>

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

pub_diag *pub_sass_compile(const char *path, const char *body, size_t len, int first_line,
                           bool indented, const pub_sass_options *opts, char **css,
                           size_t *css_len)
{
    *css = NULL;
    *css_len = 0;
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
