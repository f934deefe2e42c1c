/* Markdown to HTML with cmark-gfm: CommonMark plus GitHub's extensions
 * (tables, strikethrough, autolinks, task lists, footnotes; tagfilter on
 * request). Parsing and rendering are separate steps so that a plugin can
 * edit the tree in between (the `document` hook, lua/lib_markdown.c).
 * Thread-safe: each call owns its parser, and the inline pass, whose
 * tables cmark-gfm keeps globally, runs one at a time (markdown.c). */
#ifndef PUB_MARKDOWN_H
#define PUB_MARKDOWN_H
#include <stdbool.h>
#include <stddef.h>

struct cmark_node;

/* Extension bits of pub_md_options.extensions. */
enum {
    PUB_MD_TABLE = 1 << 0,
    PUB_MD_STRIKETHROUGH = 1 << 1,
    PUB_MD_AUTOLINK = 1 << 2,
    PUB_MD_TASKLIST = 1 << 3,
    PUB_MD_FOOTNOTES = 1 << 4,
    PUB_MD_TAGFILTER = 1 << 5, /* GitHub's filter of <script>, <iframe>, ... */
};
/* On unless config.yaml's `markdown: {extensions: [...]}` says otherwise. */
#define PUB_MD_DEFAULT_EXTENSIONS \
    (PUB_MD_TABLE | PUB_MD_STRIKETHROUGH | PUB_MD_AUTOLINK | PUB_MD_TASKLIST | PUB_MD_FOOTNOTES)

typedef struct pub_md_options {
    bool unsafe;     /* pass raw HTML through (default: true; real posts need it) */
    bool smart;      /* curly quotes and dashes */
    bool hardbreaks; /* a newline in a paragraph is a <br> */
    unsigned extensions; /* PUB_MD_* bits */
} pub_md_options;

/* The bit of an extension named as in config.yaml ("table", "strikethrough",
 * "autolink", "tasklist", "footnotes", "tagfilter"); 0 when unknown. */
unsigned pub_md_extension_bit(const char *name);

/* "table, strikethrough, ...": every known name, for messages (static). */
const char *pub_md_extension_names(void);

/* Limits that keep cmark-gfm's super-linear corners from stalling a build
 * (docs/lua-api.md, "Limits"). Past a limit the excess markup is escaped,
 * so it shows as text: container markers (`>`, list markers) past
 * PUB_MD_MAX_NESTING at the start of a line; `[` past PUB_MD_MAX_BRACKETS
 * in one paragraph (text between blank lines); bare `www.` past
 * PUB_MD_MAX_WWW in one paragraph; `|` past PUB_MD_MAX_COLUMNS on one line.
 * Fenced and indented code is never touched. */
#define PUB_MD_MAX_NESTING 32
#define PUB_MD_MAX_BRACKETS 1000
#define PUB_MD_MAX_WWW 500
#define PUB_MD_MAX_COLUMNS 128

/* NULL when `text` is within the limits above, else a description of the
 * first one it passes, for a warning (static). */
const char *pub_md_over_limits(const char *text, size_t len);

/* Renders `len` bytes of Markdown. Returns the HTML (caller frees) and its
 * length in *out_len when out_len is not NULL. */
char *pub_md_render(const char *text, size_t len, const pub_md_options *opts,
                    size_t *out_len);

/* Parses `len` bytes of Markdown into a document tree (source positions
 * count from the first byte of `text`), within the limits above. Caller frees with cmark_node_free. */
struct cmark_node *pub_md_parse(const char *text, size_t len, const pub_md_options *opts);

/* What a caller already checked of a text, so that parsing it does not
 * check it again (each is a pass over every byte): `valid_utf8`, that
 * pub_utf8_invalid_at found no bad byte (cmark then copies the text instead
 * of validating it: the same result for valid text); `within_limits`, that
 * pub_md_over_limits returned NULL. The loader knows both of every document. */
typedef struct pub_md_known {
    bool valid_utf8, within_limits;
} pub_md_known;

/* pub_md_parse and pub_md_render for a text the caller vouches for. */
struct cmark_node *pub_md_parse_known(const char *text, size_t len, const pub_md_options *opts,
                                      pub_md_known known);
char *pub_md_render_known(const char *text, size_t len, const pub_md_options *opts,
                          pub_md_known known, size_t *out_len);

/* Renders a tree made by pub_md_parse (maybe edited since) as HTML; caller
 * frees the result. */
char *pub_md_render_tree(struct cmark_node *root, const pub_md_options *opts, size_t *out_len);

/* The node types and syntax extensions of GFM's own nodes, which cmark-gfm
 * numbers when the extensions are registered (found once, by parsing a
 * sample), for code that makes such nodes. */
struct cmark_syntax_extension;
typedef struct pub_md_gfm {
    int table, table_row, table_cell, strikethrough; /* cmark_node_type values */
    struct cmark_syntax_extension *table_ext, *strikethrough_ext, *tasklist_ext;
} pub_md_gfm;
const pub_md_gfm *pub_md_gfm_nodes(void);

#endif
