/* Reading one document (the contract is in doc.h). A post that makes
 * libyaml or cmark slow (a pathological input) is named with its time, so
 * a slow build can be traced to the file. */
#define _DEFAULT_SOURCE
#include "doc.h"
#include "cache.h"
#include "confine.h"
#include "markdown.h"
#include "sass.h"
#include "util/clock.h"
#include "util/file.h"
#include "util/mem.h"
#include "util/path.h"
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static void load_document(pub_site *site, pub_doc *doc, const pub_md_options *md,
                          pub_load_mode mode, pub_cache *cache);

void pub_doc_load(pub_site *site, pub_doc *doc, const pub_md_options *md, pub_load_mode mode,
                  pub_cache *cache)
{
    double start = pub_clock_now();
    load_document(site, doc, md, mode, cache);
    double took = pub_clock_now() - start;
    if (took >= site->slow_seconds && !doc->error)
        doc->warning = pub_diag_new(PUB_WARNING, doc->path, 0, 0,
                                    "slow to read: %.2f s (front matter and Markdown)", took);
}

/* Keys the engine and bundled plugins read as booleans. */
static const char *const boolean_keys[] = {"published", "draft", "sitemap",
                                           "render_with_liquid"};

/* `published: no` is the string "no" in YAML 1.2 (native sites) but false
 * in Jekyll's YAML 1.1: an author who meant false is told, not surprised. */
static void warn_yaml11_booleans(pub_doc *doc)
{
    const pub_value *meta = doc->fm.meta;
    for (size_t i = 0; i < sizeof boolean_keys / sizeof *boolean_keys; i++) {
        const pub_value *v = pub_map_get(meta, boolean_keys[i]);
        const char *text = pub_value_str(v);
        if (!text) continue;
        static const char *const words[] = {"yes", "no", "on", "off", "y", "n"};
        size_t w = 0;
        while (w < 6 && strcasecmp(text, words[w]) != 0) w++;
        if (w == 6) continue;
        bool meant = w == 0 || w == 2 || w == 4;
        pub_fm *fm = &doc->fm;
        fm->warnings = pub_xrealloc(fm->warnings, (fm->nwarnings + 1) * sizeof *fm->warnings);
        fm->warnings[fm->nwarnings++] = pub_diag_new(
            PUB_WARNING, doc->path, v->line, v->col,
            "'%s: %s' is read as the string '%s' (YAML 1.2), not as %s; write '%s: %s'",
            boolean_keys[i], text, text, meant ? "true" : "false", boolean_keys[i],
            meant ? "true" : "false");
    }
}

static void load_document(pub_site *site, pub_doc *doc, const pub_md_options *md,
                          pub_load_mode mode, pub_cache *cache)
{
    int rc = pub_confine_read(site->confine, doc->path, &doc->text, &doc->len, &doc->error);
    if (rc == PUB_CONFINE_OUTSIDE) return;
    if (rc != 0) {
        doc->error = pub_diag_new(PUB_ERROR, doc->path, 0, 0, "cannot read: %s", strerror(rc));
        return;
    }
    doc->error = pub_fm_parse_as(doc->path, doc->text, doc->len, site->yaml, &doc->fm);
    if (doc->error) return;
    if (site->yaml == PUB_YAML_12) warn_yaml11_booleans(doc);
    if (mode == PUB_LOAD_META) return;
    const char *body = doc->text + doc->fm.body_start;
    size_t body_len = doc->len - doc->fm.body_start;
    const char *over = doc->markdown ? pub_md_over_limits(body, body_len) : NULL;
    if (over) {
        pub_fm *fm = &doc->fm;
        fm->warnings = pub_xrealloc(fm->warnings, (fm->nwarnings + 1) * sizeof *fm->warnings);
        fm->warnings[fm->nwarnings++] = pub_diag_new(
            PUB_WARNING, doc->path, 0, 0,
            "Markdown past publish's limits (%s): the excess is shown as text", over);
    }
    if (doc->markdown && mode == PUB_LOAD_TREE) {
        doc->tree = pub_md_parse(body, body_len, md);
    } else if (doc->markdown && cache) {
        uint64_t key = pub_cache_md_key(body, body_len, md);
        doc->html = pub_cache_get_html(cache, key, &doc->html_len);
        if (!doc->html) {
            doc->html = pub_md_render(body, body_len, md, &doc->html_len);
            pub_cache_put_html(cache, key, doc->html, doc->html_len);
        }
    } else if (doc->markdown) {
        doc->html = pub_md_render(body, body_len, md, &doc->html_len);
    } else if (doc->sass) {
        pub_sass_options opts = {site->sass_style, (const char *const *)site->sass_load_paths,
                                 pub_confine_root(site->confine), site->confine};
        doc->error = pub_sass_compile(doc->path, body, body_len, doc->fm.body_line,
                                      strcmp(pub_path_ext(doc->path), ".sass") == 0, &opts,
                                      &doc->html, &doc->html_len);
    } else {
        doc->html = pub_xstrndup(body, body_len);
        doc->html_len = body_len;
    }
}
