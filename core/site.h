/* The site on disk: config.yaml, and the lists of posts, pages, static and
 * data files found under SRC. Discovery only lists and reads the config;
 * reading and parsing the documents is doc.h's, run by the build on
 * worker threads. */
#ifndef PUB_SITE_H
#define PUB_SITE_H
#include "confine.h"
#include "content.h"
#include "diag.h"
#include "frontmatter.h"
#include "value.h"
#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

typedef enum { PUB_DOC_POST, PUB_DOC_PAGE } pub_doc_kind;

/* A reader: how one kind of site lays out its files (docs/design.md, "two
 * readers, one model"). Native sites and Jekyll sites differ only in these
 * rules; everything after discovery reads the same model. The engine gets
 * the last group as `site.reader` and follows it without asking which kind
 * of site it is. */
typedef struct pub_reader {
    const char *config_file;       /* "config.yaml" | "_config.yml" */
    pub_yaml_version yaml;         /* 1.2 | 1.1 (yes/no/on/off) */
    bool whole_tree;               /* Jekyll: posts in any _posts/ (folders above
                                      it are categories), drafts in _drafts/,
                                      pages (front matter) and static files
                                      anywhere, _/. names ignored unless in
                                      include:, exclude: honoured */
    const char *const *post_folders; /* native: the folders read for posts, NULL-ended */
    const char *pages;             /* native: the folder read for pages ("pages") */
    const char *drafts;            /* Jekyll: drafts in any folder of this name ("_drafts") */
    const char *const *source_folders; /* folders of SRC that DEST may not lie in, NULL-ended
                                          (whole_tree: also any folder named `posts`
                                          or `drafts`, at any depth) */
    const char *static_root;       /* files copied as is: "static" | "" (SRC) */
    const char *data;              /* "data" | "_data" */
    const char *markdown_ext;      /* default of config markdown_ext */
    /* Rules the engine follows (pushed as site.reader): */
    const char *posts;             /* where new posts go: "posts" | "_posts" (Jekyll:
                                      posts are read from any folder of this name) */
    const char *layouts;           /* "layouts" | "_layouts" */
    const char *includes;          /* "layouts" | "_includes" */
    const char *sass;              /* default Sass load path: "sass" | "_sass" */
    const char *sass_style;        /* default sass.style: "expanded" | "compact" (Jekyll with libsass) */
    const char *default_permalink; /* "/:year/:month/:day/:slug/" | "date" */
    const char *post_layout;       /* layout when front matter names none, or NULL */
    const char *page_layout;
    bool pages_keep_path;          /* Jekyll: about.md -> /about.html, not /about/ */
    bool skip_undated_posts;       /* warn and skip (Jekyll) instead of failing */
    bool dates_in_site_zone;       /* a post date with its own zone is shown and linked in
                                      the site's zone (Jekyll) or kept as written */
    bool escape_urls;              /* model URLs in link form, spaces and non-ASCII
                                      encoded (Jekyll's page.url) */
    bool later_path_first;         /* posts of one instant: later path first (Jekyll) */
    bool pretty_titles;            /* :title as Jekyll's "pretty" slug of the name */
    bool untitled_pages;           /* a page without `title:` has none (Jekyll), or one
                                      made from its file name */
    bool missing_layout_warns;     /* warn and render without (Jekyll) */
    bool smart_punctuation;        /* markdown.smart's default (kramdown: on) */
    bool slug_categories;          /* :categories as slugs (native) or lowercased (Jekyll) */
    bool ruby_plugins;             /* a plugin name with no Lua plugin is a Ruby gem:
                                      warned about and skipped (Jekyll) */
    const char *const *plugin_keys;  /* config keys listing plugins, NULL-ended */
    const char *const *base_plugins; /* plugins that always run first, NULL-ended */
} pub_reader;

/* A post or page source and what the readers made of it. */
typedef struct pub_doc {
    pub_doc_kind kind;
    char *path;          /* relative to SRC: "posts/2024-06-19-x.md" */
    bool markdown;       /* .md/.markdown (else the body is HTML as is) */
    bool draft;          /* from a drafts folder (Jekyll's _drafts/) */
    bool sass;           /* .scss/.sass page: the body is compiled to CSS */
    char *folder_categories; /* Jekyll: "a/b" for a/b/_posts/x.md, else NULL */
    bool has_name_date;  /* file name starts with YYYY-MM-DD- */
    pub_date name_date;
    char *name_slug;     /* file name without date prefix and extension */
    /* Filled by pub_doc_load (doc.h): */
    char *text;          /* whole file; owned */
    size_t len;
    pub_fm fm;
    char *html;          /* rendered body; owned */
    size_t html_len;
    struct cmark_node *tree; /* parsed body (PUB_LOAD_TREE), owned until handed to Lua */
    char *effects;       /* document-cache hit: the hooks' effects on the post; owned */
    size_t effects_len;
    char *hl_keys;       /* highlighted ahead: the blocks' cache keys, 8 bytes LE each; owned */
    size_t hl_keys_len;
    uint64_t doc_key;    /* document-cache miss: the key to store the hooks' result at */
    char *snapshot;      /* post-snapshot hit: the cache entry (doc.h); owned */
    size_t snapshot_len;
    uint64_t snap_key;   /* post-snapshot miss: where to store it (0: nowhere) */
    char *keep;          /* document-cache key and highlighted blocks' keys (8 bytes LE each),
                            kept with a snapshot; owned */
    size_t keep_len;
    /* The rendered body kept for the engine (internal.content) when the
     * loader has a content store (content.h), instead of `html`: in the
     * build cache under content_key when content_cached, else in the
     * store where `content` says. has_content: one of them is set.
     * body_start: where the body starts in the file, to render it again
     * should the cache's or the store file's copy turn out unreadable. */
    bool has_content, content_cached;
    uint64_t content_key;
    pub_content_ref content;
    size_t content_len, body_start;
    pub_diag *error;     /* load error, owned; NULL when fine */
    pub_diag *warning;   /* "slow to read" (see slow_seconds), owned */
} pub_doc;

typedef struct pub_site {
    char *src;            /* as given */
    char *dest;           /* output folder */
    bool dest_is_safe;    /* DEST is not SRC, above it, or in a source folder */
    pub_value *config;    /* map, defaults not filled in; owned */
    const char *config_name; /* "config.yaml", or Jekyll's "_config.yml" (static) */
    pub_doc *docs;        /* posts then pages, each sorted by path */
    size_t ndocs;
    const pub_reader *reader; /* the rules this site is read by (static) */
    char **static_files;  /* relative to SRC/reader->static_root, sorted */
    size_t nstatic;
    char **data_files;    /* relative to SRC/reader->data, sorted */
    size_t ndata;
    pub_yaml_version yaml; /* how the site's YAML is read (Jekyll: 1.1) */
    char *markdown_ext;   /* config markdown_ext or the reader's default; owned */
    char *sass_style;     /* config sass.style, else the reader's default; owned */
    char **sass_load_paths; /* SRC/sass_dir, then sass.load_paths; NULL-ended */
    double slow_seconds;  /* config `slow_seconds` (default 1): a document
                             taking longer to read is named in a warning */
    pub_confine *confine; /* what may be read (SRC, config `allow_outside`):
                             every read of a site file goes through it; owned */
} pub_site;

/* Reads SRC/config.yaml (or Jekyll's _config.yml; one must exist), sets the process time zone (TZ)
 * to its `timezone` (UTC when unset; call before starting threads), and
 * lists the site's files.
 * `dest` overrides config `destination` (NULL: config, else SRC/_site).
 * Problems go to `diags`; returns NULL when SRC is not a folder or has no
 * config file.
 * Caller frees with pub_site_free. */
pub_site *pub_site_open(const char *src, const char *dest, pub_diags *diags);

/* pub_site_open in two steps, so a build can tell it has nothing to do
 * (the fingerprint, fingerprint.h) before it walks the folders for
 * documents: _config reads the config, sets TZ and checks DEST, and
 * leaves the lists of files empty; _discover fills them (its problems go
 * to `diags`). */
pub_site *pub_site_open_config(const char *src, const char *dest, pub_diags *diags);
void pub_site_discover(pub_site *site, pub_diags *diags);

/* NULL when SRC is a folder holding config.yaml or _config.yml; else the
 * error to report ("no config.yaml here ..."). Caller frees. */
pub_diag *pub_site_check_folder(const char *src);
void pub_site_free(pub_site *site);

/* Splits "2024-06-19-hello-world.md" into date and slug; false when the
 * name has no valid date prefix (slug is then the name without extension).
 * *slug is allocated (caller frees). */
bool pub_site_parse_name(const char *filename, pub_date *date, char **slug);

/* Config helpers: the string at `key` or `fallback` (borrowed). */
const char *pub_site_config_str(const pub_site *site, const char *key, const char *fallback);

#endif
