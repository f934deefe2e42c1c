/* Syntax highlighting (see highlight.h): language names, escaping, class
 * names and line numbers. The grammar work is source-highlight's, reached
 * through the C++ shim in highlight_shim.cpp. Our own definition files
 * (the .lang files in core/highlight/, compiled in) are written once per
 * process to a private temporary folder, because source-highlight reads
 * definitions only from files; they are all loaded into its cache at once
 * and the folder is removed straight away, so nothing is left behind even
 * when the process is killed later. */
#include "highlight.h"
#include "highlight_shim.h"
#include "lua/embedded.h"
#include "util/buf.h"
#include "util/file.h"
#include "util/hash.h"
#include "util/mem.h"
#include "util/path.h"
#include "util/text.h"
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Bumped whenever our definition files, class names or markup change, so
 * that cached highlighted blocks are not reused across such a change. */
#define PUB_HL_FORMAT "1"

/* source-highlight's language map (and our interned names) is shared,
 * under this lock; its definition caches are per thread (the shim), so
 * threads highlight at the same time: the build's workers highlight ahead
 * of the Lua thread. */
static pthread_mutex_t names_lock = PTHREAD_MUTEX_INITIALIZER;
/* Where this thread loaded our definitions from (the key of its
 * definition cache; the folder itself is gone); "" until needed. */
static _Thread_local char own_dir[4096];
static _Thread_local bool own_dir_failed;

/* Names source-highlight's lang.map lacks or spells differently. A name
 * starting with '@' is one of our files in core/highlight/. */
static const struct { const char *name, *file; } aliases[] = {
    {"typescript", "@typescript.lang"}, {"ts", "@typescript.lang"},
    {"tsx", "@typescript.lang"},        {"yaml", "@yaml.lang"},
    {"yml", "@yaml.lang"},              {"markdown", "@markdown.lang"},
    {"md", "@markdown.lang"},           {"mkd", "@markdown.lang"},
    {"rust", "rust.lang"},              {"golang", "go.lang"},
    {"c++", "cpp.lang"},                {"cxx", "cpp.lang"},
    {"bash", "sh.lang"},                {"shell", "sh.lang"},
    {"console", "sh.lang"},             {"jsx", "javascript.lang"},
    {"mjs", "javascript.lang"},         {"jsonc", "json.lang"},
    {"python3", "python.lang"},         {"html5", "html.lang"},
    {"postgresql", "sql.lang"},         {"mysql", "sql.lang"},
};

/* source-highlight's element names -> the short Pygments/Rouge classes
 * Jekyll themes style. An element not listed is plain text. */
static const struct { const char *element, *cls; } classes[] = {
    {"keyword", "k"},     {"type", "kt"},        {"usertype", "nc"},   {"string", "s"},
    {"regexp", "sr"},     {"specialchar", "se"}, {"comment", "c"},     {"number", "m"},
    {"preproc", "cp"},    {"symbol", "o"},       {"function", "nf"},   {"cbracket", "p"},
    {"todo", "cs"},       {"predef_var", "nb"},  {"predef_func", "nb"}, {"classname", "nc"},
    {"url", "nv"},        {"variable", "nv"},    {"label", "nl"},      {"property", "na"},
    {"selector", "nt"},   {"value", "s"},        {"atom", "ss"},       {"meta", "nd"},
    {"path", "s"},        {"oldfile", "gd"},     {"newfile", "gi"},    {"difflines", "gu"},
    {"date", "m"},        {"time", "m"},         {"argument", "nv"},   {"italics", "ge"},
    {"bold", "gs"},       {"fixed", "sb"},       {"error", "err"},     {"warning", "gr"},
    {"heading", "gh"},    {"code", "sb"},        {"attribute", "na"},  {"key", "nt"},
    {"quote", "c1"},      {"list", "o"},         {"anchor", "nd"},     {"tag", "nt"},
    {"builtin", "nb"},    {"constant", "kc"},    {"decorator", "nd"},
};

static const char *class_of(const char *element)
{
    for (size_t i = 0; i < sizeof classes / sizeof classes[0]; i++)
        if (strcmp(classes[i].element, element) == 0) return classes[i].cls;
    return NULL;
}

/* One of our definition files among the embedded ones. */
static bool is_definition(const pub_embedded_file *f)
{
    size_t n = strlen(f->path);
    return strncmp(f->path, "core/highlight/", 15) == 0 && n > 5 &&
           strcmp(f->path + n - 5, ".lang") == 0;
}

const char *pub_hl_version(void)
{
    return "source-highlight " PUB_SRCHILITE_VERSION "; format " PUB_HL_FORMAT;
}

/* The part of every cache key that does not depend on the block: the
 * version and our definition files' bytes, hashed once per process. */
static pthread_once_t identity_once = PTHREAD_ONCE_INIT;
static uint64_t identity;

static void compute_identity(void)
{
    const char *v = pub_hl_version();
    uint64_t h = pub_hash(v, strlen(v), 0x686967686c696768ull);
    for (const pub_embedded_file *f = pub_embedded_files; f->path; f++)
        if (is_definition(f)) h = pub_hash(f->bytes, f->len, h);
    identity = h;
}

uint64_t pub_hl_cache_key(const char *code, size_t len, const char *lang,
                          const pub_hl_options *opts)
{
    const char *file = pub_hl_language(lang);
    if (!file) return 0;
    pthread_once(&identity_once, compute_identity);
    uint64_t h = pub_hash(file, strlen(file), identity);
    long linenos = opts ? opts->linenos : 0;
    h = pub_hash(&linenos, sizeof linenos, h);
    h = pub_hash(code, len, h);
    return h ? h : 1;
}

/* The names lang.map knows, kept by the shim; the returned string is
 * interned here so that pub_hl_language can hand out a static string. */
static const char *intern(char *s)
{
    static char **names;
    static size_t count;
    for (size_t i = 0; i < count; i++)
        if (strcmp(names[i], s) == 0) {
            free(s);
            return names[i];
        }
    names = pub_xrealloc(names, (count + 1) * sizeof *names);
    return names[count++] = s;
}

static const char *language_locked(const char *lang)
{
    if (!lang || !*lang || strlen(lang) > 64) return NULL;
    char lower[65];
    size_t n = 0;
    for (const char *p = lang; *p; p++) {
        unsigned char c = (unsigned char)*p;
        /* lang.map names are ASCII words; anything else is not a language
         * (and must not reach a file name). */
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '-' || c == '_' || c == '#'))
            return NULL;
        lower[n++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
    }
    lower[n] = '\0';
    for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
        if (strcmp(aliases[i].name, lower) == 0) return aliases[i].file;
    char *file = pub_hl_shim_lookup(lower);
    return file ? intern(file) : NULL;
}

const char *pub_hl_language(const char *lang)
{
    pthread_mutex_lock(&names_lock);
    const char *file = language_locked(lang);
    pthread_mutex_unlock(&names_lock);
    return file;
}

/* ---- Our definition files ------------------------------------------------------ */

/* Writes one embedded definition into `dir`, with "@DATADIR@" (the way
 * our files include Debian's, since source-highlight resolves includes
 * only in the definition's own folder) replaced by source-highlight's
 * data folder. */
static bool write_definition(const char *dir, const pub_embedded_file *f, const char *datadir)
{
    pub_buf text = PUB_BUF_INIT;
    /* Embedded files end in a NUL (scripts/embed.cmake). */
    const char *p = f->bytes;
    for (const char *at; (at = strstr(p, "@DATADIR@")); p = at + 9) {
        pub_buf_append(&text, p, (size_t)(at - p));
        pub_buf_puts(&text, datadir);
    }
    pub_buf_puts(&text, p);
    char *path = pub_path_join(dir, strrchr(f->path, '/') + 1);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    bool ok = fd >= 0 && write(fd, text.data ? text.data : "", text.len) == (ssize_t)text.len;
    if (fd >= 0 && close(fd) != 0) ok = false;
    free(path);
    pub_buf_free(&text);
    return ok;
}

/* The folder name this thread's definitions were loaded from (the key of
 * its definition cache; the folder itself is gone), loading them on first
 * use. NULL when they could not be loaded: then *error says why and our
 * languages stay plain. */
static const char *own_definitions(char **error)
{
    if (own_dir[0] || own_dir_failed) {
        if (!own_dir[0]) *error = pub_xstrdup("cannot load the highlighting definitions");
        return own_dir[0] ? own_dir : NULL;
    }
    const char *tmp = getenv("TMPDIR");
    char *templ = pub_path_join(tmp && *tmp ? tmp : "/tmp", "publish-highlight-XXXXXX");
    if (strlen(templ) >= sizeof own_dir || !mkdtemp(templ)) {
        free(templ);
        own_dir_failed = true;
        *error = pub_xstrdup("cannot create a folder for the highlighting definitions");
        return NULL;
    }
    char *datadir = pub_hl_shim_datadir();
    bool written = true;
    for (const pub_embedded_file *f = pub_embedded_files; f->path && written; f++)
        if (is_definition(f)) written = write_definition(templ, f, datadir);
    free(datadir);
    for (const pub_embedded_file *f = pub_embedded_files; f->path && written && !*error; f++)
        if (is_definition(f)) *error = pub_hl_shim_load(templ, strrchr(f->path, '/') + 1);
    pub_file_remove_tree(templ);
    if (!written || *error) {
        if (!*error) *error = pub_xstrdup("cannot write the highlighting definitions");
        own_dir_failed = true;
        free(templ);
        return NULL;
    }
    memcpy(own_dir, templ, strlen(templ) + 1);
    free(templ);
    return own_dir;
}

/* ---- Rendering ------------------------------------------------------------------ */

typedef struct render_state {
    pub_buf out;
    long line;       /* number of the next line, when numbering */
    int width;       /* digits of the last line number */
    bool line_open;  /* something of the current line was written */
} render_state;

static void start_line(render_state *st)
{
    if (st->line_open || !st->line) return;
    pub_buf_printf(&st->out, "<span class=\"linenos\">%*ld</span>", st->width, st->line++);
    st->line_open = true;
}

static void emit(void *ud, const char *element, const char *text, size_t len)
{
    render_state *st = ud;
    if (!element) { /* end of a line */
        start_line(st);
        pub_buf_append(&st->out, text, len);
        st->line_open = false;
        return;
    }
    start_line(st);
    const char *cls = class_of(element);
    if (cls) pub_buf_printf(&st->out, "<span class=\"%s\">", cls);
    pub_text_escape(&st->out, PUB_ESC_CODE, text, len);
    if (cls) pub_buf_puts(&st->out, "</span>");
}

static int digits(long n)
{
    int d = 1;
    while (n >= 10 || n <= -10) {
        n /= 10;
        d++;
    }
    return d + (n < 0);
}

/* NULL when `code` is within PUB_HL_MAX_LINE and PUB_HL_MAX_BLOCK, else
 * why not (caller frees). */
static char *over_bounds(const char *code, size_t len)
{
    char message[96];
    if (len > PUB_HL_MAX_BLOCK) {
        snprintf(message, sizeof message, "the block is longer than %d bytes", PUB_HL_MAX_BLOCK);
        return pub_xstrdup(message);
    }
    size_t line = 1, start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && code[i] != '\n') continue;
        if (i - start > PUB_HL_MAX_LINE) {
            snprintf(message, sizeof message, "line %zu is longer than %d bytes", line,
                     PUB_HL_MAX_LINE);
            return pub_xstrdup(message);
        }
        line++;
        start = i + 1;
    }
    return NULL;
}

char *pub_hl_render(const char *code, size_t len, const char *lang,
                    const pub_hl_options *opts, size_t *out_len, char **error)
{
    if (error) *error = NULL;
    const char *file = pub_hl_language(lang);
    if (file) {
        char *why = over_bounds(code, len);
        if (why) {
            if (error) *error = why;
            else free(why);
            return NULL;
        }
    }
    char *err = NULL;
    const char *dir = NULL;
    if (file && file[0] == '@') {
        dir = own_definitions(&err);
        file++;
    } else if (file) {
        dir = NULL; /* source-highlight's own folder */
    }
    render_state st = {PUB_BUF_INIT, 0, 0, false};
    if (file && !err) {
        if (opts && opts->linenos) {
            size_t lines = 0;
            for (size_t i = 0; i < len; i++) lines += code[i] == '\n';
            if (len && code[len - 1] != '\n') lines++;
            st.line = opts->linenos;
            st.width = digits(opts->linenos + (long)(lines ? lines - 1 : 0));
        }
        char *datadir = dir ? NULL : pub_hl_shim_datadir();
        err = pub_hl_shim_run(dir ? dir : datadir, file, code, len, emit, &st);
        free(datadir);
    }
    if (!file || err) {
        pub_buf_free(&st.out);
        if (error) *error = err;
        else free(err);
        return NULL;
    }
    if (out_len) *out_len = st.out.len;
    if (!st.out.data) return pub_xstrdup("");
    return pub_buf_detach(&st.out);
}
