/* cmark-gfm parsing and rendering. Raw HTML passes through unless the site
 * asks for safe mode, in which case cmark replaces it with a comment; the
 * GFM extensions are attached per parse from the options' bits. The
 * extension registry of cmark-gfm is global and not thread-safe to fill,
 * so it is filled once (pthread_once) before the first parse. The inline
 * parser's table of special characters is global too, and every parse
 * adds its extensions' characters to it on entry and removes them on exit
 * (cmark-gfm's process_inlines): two parses at once would take '~' or ':'
 * away from each other, and a post would lose its strikethrough or
 * autolinks depending on timing. So the inline pass (cmark_parser_finish)
 * runs one at a time; block parsing (cmark_parser_feed) stays parallel.
 * Keeping the characters in the table for good (taking the lists off the
 * extensions so no parse changes it) does not work: process_emphasis
 * finds strikethrough's extension through the same list, and without it
 * loops forever on "~~a~~". Nor is the lock what a build waits for: a
 * build of bench/gen.py's 10k site without it (unsafe; measured, -j 2)
 * took the same time; the Lua thread, not the workers, sets the pace. */
#include "markdown.h"
#include "util/buf.h"
#include "util/mem.h"
#include <cmark-gfm-core-extensions.h>
#include <cmark-gfm.h>
#include <pthread.h>
#include <string.h>

static const struct {
    const char *name;
    unsigned bit;
} extension_names[] = {
    {"table", PUB_MD_TABLE},       {"strikethrough", PUB_MD_STRIKETHROUGH},
    {"autolink", PUB_MD_AUTOLINK}, {"tasklist", PUB_MD_TASKLIST},
    {"footnotes", PUB_MD_FOOTNOTES}, {"tagfilter", PUB_MD_TAGFILTER},
};
#define NEXTENSIONS (sizeof extension_names / sizeof *extension_names)

unsigned pub_md_extension_bit(const char *name)
{
    for (size_t i = 0; i < NEXTENSIONS; i++)
        if (strcmp(extension_names[i].name, name) == 0) return extension_names[i].bit;
    return 0;
}

const char *pub_md_extension_names(void)
{
    return "table, strikethrough, autolink, tasklist, footnotes, tagfilter";
}

/* The syntax extensions by bit (footnotes is a parser option, not one). */
static cmark_syntax_extension *syntax[NEXTENSIONS];
static pthread_once_t registered = PTHREAD_ONCE_INIT;

static pub_md_gfm gfm;

static pthread_mutex_t inline_pass = PTHREAD_MUTEX_INITIALIZER;

/* cmark_parser_finish, one at a time (see above). */
static cmark_node *finish_parse(cmark_parser *parser)
{
    pthread_mutex_lock(&inline_pass);
    cmark_node *root = cmark_parser_finish(parser);
    pthread_mutex_unlock(&inline_pass);
    return root;
}

static void register_extensions(void)
{
    cmark_gfm_core_extensions_ensure_registered();
    for (size_t i = 0; i < NEXTENSIONS; i++)
        if (extension_names[i].bit != PUB_MD_FOOTNOTES)
            syntax[i] = cmark_find_syntax_extension(extension_names[i].name);
    gfm.table_ext = cmark_find_syntax_extension("table");
    gfm.strikethrough_ext = cmark_find_syntax_extension("strikethrough");
    gfm.tasklist_ext = cmark_find_syntax_extension("tasklist");
    /* The extension node types are numbered at registration and not in the
     * installed headers: read them off a parsed sample. */
    static const char sample[] = "a|b\n-|-\n~~c~~|d\n";
    cmark_parser *parser = cmark_parser_new(CMARK_OPT_DEFAULT);
    cmark_parser_attach_syntax_extension(parser, gfm.table_ext);
    cmark_parser_attach_syntax_extension(parser, gfm.strikethrough_ext);
    cmark_parser_feed(parser, sample, sizeof sample - 1);
    cmark_node *root = finish_parse(parser);
    cmark_node *table = cmark_node_first_child(root);
    cmark_node *row = cmark_node_last_child(table);
    cmark_node *cell = cmark_node_first_child(row);
    gfm.table = cmark_node_get_type(table);
    gfm.table_row = cmark_node_get_type(row);
    gfm.table_cell = cmark_node_get_type(cell);
    gfm.strikethrough = cmark_node_get_type(cmark_node_first_child(cell));
    cmark_node_free(root);
    cmark_parser_free(parser);
}

const pub_md_gfm *pub_md_gfm_nodes(void)
{
    pthread_once(&registered, register_extensions);
    return &gfm;
}

static int cmark_options(const pub_md_options *opts)
{
    int flags = 0;
    if (opts->unsafe) flags |= CMARK_OPT_UNSAFE;
    if (opts->smart) flags |= CMARK_OPT_SMART;
    if (opts->hardbreaks) flags |= CMARK_OPT_HARDBREAKS;
    if (opts->extensions & PUB_MD_FOOTNOTES) flags |= CMARK_OPT_FOOTNOTES;
    return flags;
}

/* ---- Limits ------------------------------------------------------------------ */

/* One pass over the source by lines, following fenced and indented code
 * (copied as is) and paragraphs (counters reset at a blank line). With
 * `out` NULL it only reports the first limit passed; else it writes the
 * bounded text to `out`. */
typedef struct bounder {
    pub_buf *out;
    const char *hit;
    int brackets, www;
} bounder;

static void emit(bounder *b, const char *p, size_t n)
{
    if (b->out) pub_buf_append(b->out, p, n);
}

static void escape_here(bounder *b, const char *why)
{
    if (!b->hit) b->hit = why;
    if (b->out) pub_buf_putc(b->out, '\\');
}

/* The container markers opening a line: past PUB_MD_MAX_NESTING, the
 * marker is escaped and the rest is content. Returns the bytes consumed. */
static size_t bound_containers(bounder *b, const char *p, size_t n)
{
    size_t i = 0;
    int depth = 0;
    for (;;) {
        size_t j = i, spaces = 0;
        while (j < n && p[j] == ' ' && spaces < 3) j++, spaces++;
        size_t marker = j, after;
        if (j < n && p[j] == '>') {
            after = j + 1;
        } else if (j + 1 < n && (p[j] == '*' || p[j] == '-' || p[j] == '+') &&
                   (p[j + 1] == ' ' || p[j + 1] == '\t')) {
            after = j + 1;
        } else {
            size_t d = j;
            while (d < n && d - j < 9 && p[d] >= '0' && p[d] <= '9') d++;
            if (d == j || d + 1 >= n || (p[d] != '.' && p[d] != ')') ||
                (p[d + 1] != ' ' && p[d + 1] != '\t'))
                return i;
            marker = d;
            after = d + 1;
        }
        if (++depth > PUB_MD_MAX_NESTING) {
            emit(b, p + i, marker - i);
            escape_here(b, "nested deeper than 32 block quotes or lists");
            return marker;
        }
        if (after < n && (p[after] == ' ' || p[after] == '\t')) after++;
        emit(b, p + i, after - i);
        i = after;
    }
}

/* A fence opening (or closing) a code block after the containers. */
static size_t fence_length(const char *p, size_t n, char *c)
{
    size_t i = 0;
    while (i < n && i < 3 && p[i] == ' ') i++;
    if (i >= n || (p[i] != '`' && p[i] != '~')) return 0;
    size_t k = i;
    while (k < n && p[k] == p[i]) k++;
    if (k - i < 3) return 0;
    *c = p[i];
    return k - i;
}

/* The bytes bound_content looks at; every other byte is copied in runs
 * (this pass sees every byte of every document, before cmark does). */
static const bool content_special[256] = {['\\'] = true, ['['] = true, ['|'] = true, ['w'] = true};

static void bound_content(bounder *b, const char *p, size_t n)
{
    int pipes = 0;
    size_t i = 0;
    while (i < n) {
        size_t run = i;
        while (run < n && !content_special[(unsigned char)p[run]]) run++;
        emit(b, p + i, run - i);
        if (run == n) break;
        i = run;
        char c = p[i];
        if (c == '\\' && i + 1 < n) {
            emit(b, p + i, 2);
            i += 2;
            continue;
        }
        if (c == '[' && ++b->brackets > PUB_MD_MAX_BRACKETS)
            escape_here(b, "more than 1000 '[' in one paragraph");
        else if (c == '|' && ++pipes > PUB_MD_MAX_COLUMNS)
            escape_here(b, "more than 128 '|' on one line");
        else if (c == 'w' && i + 4 <= n && memcmp(p + i, "www.", 4) == 0 &&
                 ++b->www > PUB_MD_MAX_WWW) {
            emit(b, p + i, 3);
            escape_here(b, "more than 500 bare 'www.' links in one paragraph");
            i += 3;
            continue;
        }
        emit(b, p + i, 1);
        i++;
    }
}

static const char *bound(const char *text, size_t len, pub_buf *out)
{
    bounder b = {out, NULL, 0, 0};
    char fence = 0;
    size_t fence_len = 0;
    bool after_blank = true, in_indented = false;
    size_t pos = 0;
    while (pos < len) {
        const char *line = text + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - line) + 1 : len - pos;
        pos += n;
        size_t content = n;
        while (content > 0 && (line[content - 1] == '\n' || line[content - 1] == '\r')) content--;
        size_t k = 0;
        while (k < content && (line[k] == ' ' || line[k] == '\t')) k++;
        bool blank = k == content;
        bool indented = !blank && (line[0] == '\t' || (content >= 4 && memcmp(line, "    ", 4) == 0));
        if (fence) {
            char c = 0;
            size_t f = fence_length(line, content, &c);
            if (f >= fence_len && c == fence) fence = 0;
            emit(&b, line, n);
            continue;
        }
        if (blank) {
            b.brackets = b.www = 0;
            after_blank = true;
            emit(&b, line, n);
            continue;
        }
        if (indented && (after_blank || in_indented)) {
            in_indented = true;
            emit(&b, line, n);
            continue;
        }
        in_indented = after_blank = false;
        size_t used = bound_containers(&b, line, content);
        char c;
        size_t f = fence_length(line + used, content - used, &c);
        if (f) {
            fence = c;
            fence_len = f;
            emit(&b, line + used, n - used);
            continue;
        }
        bound_content(&b, line + used, content - used);
        emit(&b, line + content, n - content);
    }
    return b.hit;
}

const char *pub_md_over_limits(const char *text, size_t len)
{
    return bound(text, len, NULL);
}

cmark_node *pub_md_parse_known(const char *text, size_t len, const pub_md_options *opts,
                               pub_md_known known)
{
    pthread_once(&registered, register_extensions);
    int flags = cmark_options(opts);
    if (!known.valid_utf8) flags |= CMARK_OPT_VALIDATE_UTF8;
    cmark_parser *parser = cmark_parser_new(flags);
    for (size_t i = 0; i < NEXTENSIONS; i++)
        if ((opts->extensions & extension_names[i].bit) && syntax[i])
            cmark_parser_attach_syntax_extension(parser, syntax[i]);
    pub_buf bounded = PUB_BUF_INIT;
    if (!known.within_limits && bound(text, len, NULL)) {
        bound(text, len, &bounded);
        text = pub_buf_cstr(&bounded);
        len = bounded.len;
    }
    cmark_parser_feed(parser, text, len);
    pub_buf_free(&bounded);
    cmark_node *root = finish_parse(parser);
    cmark_parser_free(parser);
    return root;
}

cmark_node *pub_md_parse(const char *text, size_t len, const pub_md_options *opts)
{
    return pub_md_parse_known(text, len, opts, (pub_md_known){false, false});
}

char *pub_md_render_tree(cmark_node *root, const pub_md_options *opts, size_t *out_len)
{
    pthread_once(&registered, register_extensions);
    /* Tables, strikethrough and task items render through their nodes;
     * the list matters for tagfilter, which filters the HTML output. */
    cmark_mem *mem = cmark_get_default_mem_allocator();
    cmark_llist *list = NULL;
    for (size_t i = 0; i < NEXTENSIONS; i++)
        if ((opts->extensions & extension_names[i].bit) && syntax[i])
            list = cmark_llist_append(mem, list, syntax[i]);
    char *html = cmark_render_html(root, cmark_options(opts), list);
    cmark_llist_free(mem, list);
    if (out_len) *out_len = strlen(html);
    return html;
}

char *pub_md_render_known(const char *text, size_t len, const pub_md_options *opts,
                          pub_md_known known, size_t *out_len)
{
    cmark_node *root = pub_md_parse_known(text, len, opts, known);
    char *html = pub_md_render_tree(root, opts, out_len);
    cmark_node_free(root);
    return html;
}

char *pub_md_render(const char *text, size_t len, const pub_md_options *opts,
                    size_t *out_len)
{
    return pub_md_render_known(text, len, opts, (pub_md_known){false, false}, out_len);
}
