/* cmark-gfm parsing and rendering. Raw HTML passes through unless the site
 * asks for safe mode, in which case cmark replaces it with a comment; the
 * GFM extensions are attached per parse from the options' bits. The
 * extension registry of cmark-gfm is global and not thread-safe to fill,
 * so it is filled once (pthread_once) before the first parse. */
#include "markdown.h"
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
    cmark_node *root = cmark_parser_finish(parser);
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
    int flags = CMARK_OPT_VALIDATE_UTF8;
    if (opts->unsafe) flags |= CMARK_OPT_UNSAFE;
    if (opts->smart) flags |= CMARK_OPT_SMART;
    if (opts->hardbreaks) flags |= CMARK_OPT_HARDBREAKS;
    if (opts->extensions & PUB_MD_FOOTNOTES) flags |= CMARK_OPT_FOOTNOTES;
    return flags;
}

cmark_node *pub_md_parse(const char *text, size_t len, const pub_md_options *opts)
{
    pthread_once(&registered, register_extensions);
    cmark_parser *parser = cmark_parser_new(cmark_options(opts));
    for (size_t i = 0; i < NEXTENSIONS; i++)
        if ((opts->extensions & extension_names[i].bit) && syntax[i])
            cmark_parser_attach_syntax_extension(parser, syntax[i]);
    cmark_parser_feed(parser, text, len);
    cmark_node *root = cmark_parser_finish(parser);
    cmark_parser_free(parser);
    return root;
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

char *pub_md_render(const char *text, size_t len, const pub_md_options *opts,
                    size_t *out_len)
{
    cmark_node *root = pub_md_parse(text, len, opts);
    char *html = pub_md_render_tree(root, opts, out_len);
    cmark_node_free(root);
    return html;
}
