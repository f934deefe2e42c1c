/* Site discovery. Lists posts/ (and Jekyll's _posts/), pages/, static/ and
 * data/ below SRC, sorted so every run sees the same order. Dot files,
 * editor backups and the destination itself are skipped. What may be read
 * is confine.h's rule: a symlink (a top-level folder, config.yaml, a file
 * at any depth) is followed only when it resolves inside SRC or an
 * `allow_outside` folder, and one that leaves is an error naming it. Below
 * the top-level folders a symlinked folder is not entered (no loops). */
#define _DEFAULT_SOURCE
#include "site.h"
#include "sass.h"
#include "util/buf.h"
#include "util/date.h"
#include "util/file.h"
#include "util/fs.h"
#include "util/mem.h"
#include "util/path.h"
#include <cmark-gfm.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct name_list {
    char **items;
    size_t len, cap;
} name_list;

static void name_list_push(name_list *l, char *s)
{
    if (l->len == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        l->items = pub_xrealloc(l->items, l->cap * sizeof *l->items);
    }
    l->items[l->len++] = s;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

typedef struct walk {
    const pub_confine *confine;
    const char *dest_real; /* realpath of DEST if it exists */
    pub_diags *diags;
} walk;

static bool skipped_name(const char *name)
{
    size_t n = strlen(name);
    return name[0] == '.' || name[0] == '#' || (n && name[n - 1] == '~');
}

typedef enum { ENTRY_SKIP, ENTRY_FOLDER, ENTRY_FILE } entry_type;

/* What SRC/child_rel is to discovery: a folder to enter (not DEST, not a
 * symlink), a regular file (a symlink only when it stays inside SRC), or
 * nothing. `seen` is what the folder listing said it is (0: unknown): a
 * regular file needs no lstat, which at 10k posts is a third of a no-op
 * rebuild's system time. */
static entry_type classify(const walk *w, const char *src, const char *child_rel, mode_t seen)
{
    if (seen == S_IFREG) return ENTRY_FILE;
    char *child = pub_path_join(src, child_rel);
    struct stat st;
    bool ok = lstat(child, &st) == 0;
    if (ok && S_ISLNK(st.st_mode)) {
        pub_diag *err = NULL;
        int rc = pub_confine_resolve(w->confine, child_rel, NULL, &err);
        if (rc == PUB_CONFINE_OUTSIDE) {
            pub_diags_take(w->diags, err);
            ok = false;
        } else if (rc) {
            pub_diags_add(w->diags, PUB_WARNING, child_rel, 0, 0,
                          "symlink cannot be followed: %s", strerror(rc));
            ok = false;
        } else {
            ok = stat(child, &st) == 0;
            /* A linked folder could lead back into itself; the build
             * fingerprint does not enter one either. */
            if (ok && S_ISDIR(st.st_mode)) {
                pub_diags_add(w->diags, PUB_WARNING, child_rel, 0, 0,
                              "symlinked folder not followed");
                ok = false;
            }
        }
    }
    entry_type type = ENTRY_SKIP;
    if (ok && S_ISDIR(st.st_mode)) {
        char real[PATH_MAX];
        if (!(w->dest_real && realpath(child, real) && strcmp(real, w->dest_real) == 0))
            type = ENTRY_FOLDER;
    } else if (ok && S_ISREG(st.st_mode)) {
        type = ENTRY_FILE;
    }
    free(child);
    return type;
}

static void free_names(name_list *l)
{
    for (size_t i = 0; i < l->len; i++) free(l->items[i]);
    free(l->items);
    memset(l, 0, sizeof *l);
}

/* A walk of SRC/rel in name order (pub_fs_walk): `visit` gets each entry's
 * path below SRC and says whether to enter it; a folder that cannot be
 * read is reported (unless it is gone). */
typedef struct site_walk {
    const walk *w;
    const char *src, *rel;
    pub_fs_step (*visit)(struct site_walk *sw, const char *child_rel, const char *name,
                         mode_t seen);
    void *ctx;
    size_t base_len; /* walk_tree: the part of child_rel its list leaves out */
} site_walk;

static pub_fs_step site_entry(const pub_fs_entry *e, void *ctx)
{
    site_walk *sw = ctx;
    char *child_rel = pub_path_join(sw->rel, e->rel);
    pub_fs_step step = sw->visit(sw, child_rel, e->name, e->type);
    free(child_rel);
    return step;
}

static void site_walk_failed(const char *rel, int err, void *ctx)
{
    site_walk *sw = ctx;
    if (err == ENOENT) return;
    char *path = rel[0] ? pub_path_join(sw->rel, rel) : pub_xstrdup(sw->rel);
    pub_diags_add(sw->w->diags, PUB_ERROR, path, 0, 0, "cannot read folder: %s", strerror(err));
    free(path);
}

static void site_walk_run(site_walk *sw)
{
    char *path = pub_path_join(sw->src, sw->rel);
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int err = errno;
    free(path);
    pub_fs_walk_options o = {.sorted = true, .visit = site_entry, .fail = site_walk_failed, .ctx = sw};
    if (fd < 0) site_walk_failed("", err, sw);
    else pub_fs_walk(fd, &o);
}

static pub_fs_step tree_entry(site_walk *sw, const char *child_rel, const char *name,
                              mode_t seen)
{
    if (skipped_name(name)) return PUB_FS_NEXT;
    entry_type type = classify(sw->w, sw->src, child_rel, seen);
    if (type == ENTRY_FILE) name_list_push(sw->ctx, pub_xstrdup(child_rel + sw->base_len));
    return type == ENTRY_FOLDER ? PUB_FS_ENTER : PUB_FS_NEXT;
}

/* Lists files below SRC/rel recursively as paths relative to SRC/base. */
static void walk_tree(const walk *w, const char *src, const char *rel, size_t base_len,
                      name_list *out)
{
    site_walk sw = {w, src, rel, tree_entry, out, base_len};
    site_walk_run(&sw);
}

static void list_folder(const walk *w, const char *src, const char *folder, name_list *out)
{
    pub_diag *err = NULL;
    int rc = pub_confine_resolve(w->confine, folder, NULL, &err);
    if (rc == PUB_CONFINE_OUTSIDE) pub_diags_take(w->diags, err);
    if (rc == PUB_CONFINE_OUTSIDE || rc == ENOENT) return;
    walk_tree(w, src, folder, strlen(folder) + 1, out);
    if (out->len > 1) qsort(out->items, out->len, sizeof *out->items, compare_names);
}

/* ---- The two readers ------------------------------------------------------ */

static const char *const native_plugin_keys[] = {"plugins", NULL};
static const char *const jekyll_plugin_keys[] = {"plugins", "gems", NULL};
static const char *const no_plugins[] = {NULL};
/* What Jekyll always does: Liquid for layouts, includes and bodies, and
 * page.excerpt. liquid comes first: it renders post bodies in its `post`
 * hook, and excerpt must see the rendered HTML. */
static const char *const jekyll_base_plugins[] = {"liquid", "excerpt", NULL};

static const char *const native_post_folders[] = {"posts", "_posts", NULL};
/* DEST replaces its folder's contents: never one the site is read from
 * (destination_is_safe). A native site's are its layout's folders (the
 * Sass load path among them); a Jekyll site's are its underscore folders
 * (_posts and _drafts at any depth: whole_tree) and plugins/ (site Lua
 * plugins are read from there for both readers: lua/runtime.c), not the
 * folders of its pages and static files: DEST there is not read, and a
 * DEST holding files publish did not write is refused by output.c
 * without --clean. */
static const char *const native_source_folders[] = {"posts", "_posts", "pages", "layouts", "static",
                                                    "data", "sass", "plugins", NULL};
static const char *const jekyll_source_folders[] = {"_posts", "_drafts", "_layouts", "_includes",
                                                    "_data", "_sass", "_plugins", "plugins",
                                                    NULL};

static const pub_reader native_reader = {
    .config_file = "config.yaml", .yaml = PUB_YAML_12, .whole_tree = false,
    .post_folders = native_post_folders, .pages = "pages", .source_folders = native_source_folders,
    .static_root = "static", .data = "data", .markdown_ext = "md,markdown", .posts = "posts",
    .layouts = "layouts", .includes = "layouts", .sass = "sass", .sass_style = "expanded",
    .default_permalink = "/:year/:month/:day/:slug/", .post_layout = "post",
    .page_layout = "page", .slug_categories = true,
    .plugin_keys = native_plugin_keys, .base_plugins = no_plugins,
};

static const pub_reader jekyll_reader = {
    .config_file = "_config.yml", .yaml = PUB_YAML_11, .whole_tree = true,
    .drafts = "_drafts", .source_folders = jekyll_source_folders,
    .static_root = "", .data = "_data", .markdown_ext = "markdown,mkdown,mkdn,mkd,md",
    .posts = "_posts",
    .layouts = "_layouts", .includes = "_includes", .sass = "_sass", .sass_style = "compact",
    .default_permalink = "date", .post_layout = NULL, .page_layout = NULL,
    .pages_keep_path = true, .skip_undated_posts = true, .missing_layout_warns = true,
    .dates_in_site_zone = true, .untitled_pages = true, .escape_urls = true,
    .pretty_titles = true, .later_path_first = true,
    .smart_punctuation = true, .ruby_plugins = true, .plugin_keys = jekyll_plugin_keys, .base_plugins = jekyll_base_plugins,
};

/* Whether `path`'s extension is one of the comma-separated `exts` (without
 * dots, any case, as Jekyll's markdown_ext). */
static bool ext_listed(const char *path, const char *exts)
{
    const char *ext = pub_path_ext(path);
    if (!*ext) return false;
    ext++;
    size_t n = strlen(ext);
    for (const char *at = exts; *at;) {
        while (*at == ',' || *at == ' ' || *at == '.') at++;
        size_t len = strcspn(at, ", ");
        if (len == n && strncasecmp(at, ext, n) == 0) return true;
        at += len;
    }
    return false;
}

static bool is_document(const pub_site *site, const char *path)
{
    const char *ext = pub_path_ext(path);
    return ext_listed(path, site->markdown_ext) || strcmp(ext, ".html") == 0 ||
           strcmp(ext, ".htm") == 0;
}

bool pub_site_parse_name(const char *filename, pub_date *date, char **slug)
{
    const char *base = pub_path_base(filename);
    const char *ext = pub_path_ext(base);
    size_t stem = (size_t)(ext - base);
    /* YYYY-MM-DD- exactly (the dashes where they stand fix the widths),
     * a day that exists, then a slug. */
    pub_date named;
    if (stem > 11 && base[4] == '-' && base[7] == '-' && base[10] == '-' &&
        pub_date_match(base, 10, &named) == 1) {
        *date = named;
        *slug = pub_xstrndup(base + 11, stem - 11);
        return true;
    }
    *slug = pub_xstrndup(base, stem);
    return false;
}

/* Jekyll's post names: YY[YY]-M[M]-D[D]-title.ext ("2017-2-5-x.md" is a
 * post there). 1 with a real date, 0 without the shape, -1 for a date
 * that does not exist. */
static int parse_loose_name(const char *filename, pub_date *date, char **slug)
{
    const char *base = pub_path_base(filename);
    const char *ext = pub_path_ext(base);
    int part[3] = {0, 0, 0};
    const char *at = base;
    static const int min[] = {2, 1, 1}, max[] = {4, 2, 2};
    for (int i = 0; i < 3; i++) {
        int n = 0;
        while (at < ext && *at >= '0' && *at <= '9' && n < max[i]) part[i] = part[i] * 10 + (*at++ - '0'), n++;
        if (n < min[i] || at >= ext || *at != '-') return 0;
        at++;
    }
    if (at >= ext) return 0;
    *slug = pub_xstrndup(at, (size_t)(ext - at));
    if (part[1] < 1 || part[1] > 12 || part[2] < 1 || part[2] > pub_date_days_in_month(part[0], part[1]))
        return -1;
    memset(date, 0, sizeof *date);
    date->year = part[0];
    date->month = part[1];
    date->day = part[2];
    return 1;
}

static bool is_sass(const char *path)
{
    const char *ext = pub_path_ext(path);
    return strcmp(ext, ".scss") == 0 || strcmp(ext, ".sass") == 0;
}

static pub_doc *new_doc(pub_site *site, size_t *cap, pub_doc_kind kind, char *path)
{
    if (site->ndocs == *cap) {
        *cap = *cap ? *cap * 2 : 64;
        site->docs = pub_xrealloc(site->docs, *cap * sizeof *site->docs);
    }
    pub_doc *doc = &site->docs[site->ndocs++];
    memset(doc, 0, sizeof *doc);
    doc->kind = kind;
    doc->path = path;
    doc->markdown = ext_listed(path, site->markdown_ext);
    doc->sass = kind == PUB_DOC_PAGE && is_sass(path);
    return doc;
}

static void add_docs(pub_site *site, name_list *names, const char *folder,
                     pub_doc_kind kind, size_t *cap)
{
    /* Room for the folder at once: doubling copied 10k documents' records
     * (~300 bytes each) over and over. */
    size_t need = site->ndocs + names->len;
    if (need > *cap) {
        *cap = need > *cap * 2 ? need : *cap * 2;
        site->docs = pub_xrealloc(site->docs, *cap * sizeof *site->docs);
    }
    for (size_t i = 0; i < names->len; i++) {
        if (!is_document(site, names->items[i])) continue;
        pub_doc *doc = new_doc(site, cap, kind, pub_path_join(folder, names->items[i]));
        doc->has_name_date = pub_site_parse_name(doc->path, &doc->name_date, &doc->name_slug);
        if (doc->has_name_date) pub_date_localize(&doc->name_date);
    }
}

/* ---- Jekyll's rules -------------------------------------------------------- */

typedef struct jekyll_walk {
    const walk *w;
    pub_site *site;
    const char *src;
    const pub_value *include, *exclude;
    name_list posts, drafts, pages, statics; /* relative to SRC */
} jekyll_walk;

/* Jekyll's own default `exclude:` (its 4.x list). */
static const char *const jekyll_excluded[] = {
    ".sass-cache", ".jekyll-cache", "gemfiles", "Gemfile", "Gemfile.lock",
    "node_modules", "vendor/bundle", "vendor/cache", "vendor/gems", "vendor/ruby"};

static bool listed(const pub_value *list, const char *name, const char *rel)
{
    if (!list || list->type != PUB_LIST) return false;
    for (size_t i = 0; i < list->as.list.len; i++) {
        const char *pattern = pub_value_str(list->as.list.items[i]);
        if (!pattern) continue;
        while (*pattern == '/') pattern++;
        size_t n = strlen(pattern);
        while (n && pattern[n - 1] == '/') n--;
        if (!n) continue;
        char *p = pub_xstrndup(pattern, n);
        /* A name, a path from SRC, a folder above the entry, or a glob. */
        bool hit = strcmp(p, name) == 0 || strcmp(p, rel) == 0 ||
                   (strncmp(rel, p, n) == 0 && rel[n] == '/') ||
                   fnmatch(p, rel, FNM_PATHNAME) == 0 || fnmatch(p, name, 0) == 0;
        free(p);
        if (hit) return true;
    }
    return false;
}

static bool jekyll_ignored(const jekyll_walk *j, const char *name, const char *rel)
{
    if (listed(j->include, name, rel)) return false;
    size_t n = strlen(name);
    if (name[0] == '_' || name[0] == '.' || name[0] == '#' || (n && name[n - 1] == '~'))
        return true;
    if (listed(j->exclude, name, rel)) return true;
    for (size_t i = 0; i < sizeof jekyll_excluded / sizeof *jekyll_excluded; i++) {
        const char *e = jekyll_excluded[i];
        size_t en = strlen(e);
        if (strcmp(e, name) == 0 || strcmp(e, rel) == 0 || (strncmp(rel, e, en) == 0 && rel[en] == '/'))
            return true;
    }
    return false;
}

/* Jekyll's test for a page: the file opens with `---` (after a BOM). */
static bool opens_with_front_matter(const char *src, const char *rel)
{
    char *path = pub_path_join(src, rel);
    FILE *f = fopen(path, "rb");
    free(path);
    if (!f) return false;
    char line[64];
    bool yes = fgets(line, sizeof line, f) != NULL;
    fclose(f);
    if (!yes) return false;
    const char *s = strncmp(line, "\xEF\xBB\xBF", 3) == 0 ? line + 3 : line;
    if (strncmp(s, "---", 3) != 0) return false;
    for (s += 3; *s == ' ' || *s == '\t'; s++) {}
    return *s == '\n' || (*s == '\r' && s[1] == '\n');
}

static pub_fs_step jekyll_entry(site_walk *sw, const char *child_rel, const char *name,
                                mode_t seen)
{
    jekyll_walk *j = sw->ctx;
    const pub_reader *r = j->site->reader;
    entry_type type = classify(j->w, j->src, child_rel, seen);
    /* _posts and _drafts count at any depth, inside ignored names. */
    if (type == ENTRY_FOLDER && strcmp(name, r->posts) == 0)
        walk_tree(j->w, j->src, child_rel, 0, &j->posts);
    else if (type == ENTRY_FOLDER && strcmp(name, r->drafts) == 0)
        walk_tree(j->w, j->src, child_rel, 0, &j->drafts);
    else if (type == ENTRY_SKIP || jekyll_ignored(j, name, child_rel))
        ; /* not content */
    else if (type == ENTRY_FOLDER)
        return PUB_FS_ENTER;
    else if (opens_with_front_matter(j->src, child_rel))
        name_list_push(&j->pages, pub_xstrdup(child_rel));
    else
        name_list_push(&j->statics, pub_xstrdup(child_rel));
    return PUB_FS_NEXT;
}

static void jekyll_walk_folder(jekyll_walk *j, const char *rel)
{
    site_walk sw = {j->w, j->src, rel, jekyll_entry, j, 0};
    site_walk_run(&sw);
}

/* "a/b/_posts/x.md" -> "a/b"; NULL when _posts is at the top. */
static char *folder_categories(const char *path, const char *magic)
{
    size_t n = strlen(magic);
    for (const char *at = path; (at = strstr(at, magic)) != NULL; at += n) {
        if ((at == path || at[-1] == '/') && at[n] == '/')
            return at == path ? NULL : pub_xstrndup(path, (size_t)(at - path - 1));
    }
    return NULL;
}

static void jekyll_add_posts(pub_site *site, name_list *names, bool drafts, size_t *cap,
                             pub_diags *diags)
{
    for (size_t i = 0; i < names->len; i++) {
        const char *path = names->items[i];
        pub_date date;
        char *slug = NULL;
        int dated = parse_loose_name(path, &date, &slug);
        if (!drafts && dated < 0) {
            /* Jekyll stops the build here too. */
            pub_diags_add(diags, PUB_ERROR, path, 1, 1,
                          "invalid date in the file name (a post is YYYY-MM-DD-title.md)");
            free(slug);
            continue;
        }
        if (!drafts && dated == 0) {
            /* Jekyll reads only dated names in _posts and skips the rest. */
            pub_diags_add(diags, PUB_WARNING, path, 0, 0,
                          "skipped: a post's file name starts with its date (YYYY-MM-DD-title.md)");
            free(slug);
            continue;
        }
        pub_doc *doc = new_doc(site, cap, PUB_DOC_POST, pub_xstrdup(path));
        doc->draft = drafts;
        doc->folder_categories =
            folder_categories(path, drafts ? site->reader->drafts : site->reader->posts);
        if (dated > 0) {
            doc->has_name_date = true;
            doc->name_date = date;
            pub_date_localize(&doc->name_date);
            doc->name_slug = slug;
        } else {
            free(slug);
            pub_site_parse_name(path, &date, &doc->name_slug);
        }
    }
}

/* A Jekyll site: the whole tree, by Jekyll's rules. */
static void jekyll_discover(pub_site *site, const walk *w, pub_diags *diags)
{
    jekyll_walk j = {.w = w, .site = site, .src = site->src,
                     .include = pub_map_get(site->config, "include"),
                     .exclude = pub_map_get(site->config, "exclude")};
    jekyll_walk_folder(&j, "");
    size_t cap = 0;
    jekyll_add_posts(site, &j.posts, false, &cap, diags);
    jekyll_add_posts(site, &j.drafts, true, &cap, diags);
    for (size_t i = 0; i < j.pages.len; i++) {
        pub_doc *doc = new_doc(site, &cap, PUB_DOC_PAGE, j.pages.items[i]);
        pub_date unused;
        pub_site_parse_name(pub_path_base(doc->path), &unused, &doc->name_slug);
    }
    free(j.pages.items);
    free_names(&j.posts);
    free_names(&j.drafts);
    site->static_files = j.statics.items;
    site->nstatic = j.statics.len;
}

/* A native site: its fixed folders. */
static void native_discover(pub_site *site, const walk *w)
{
    const char *src = site->src;
    size_t cap = 0;
    const pub_reader *r = site->reader;
    for (size_t i = 0; r->post_folders[i]; i++) {
        name_list names = {0};
        list_folder(w, src, r->post_folders[i], &names);
        add_docs(site, &names, r->post_folders[i], PUB_DOC_POST, &cap);
        free_names(&names);
    }
    name_list pages = {0};
    list_folder(w, src, r->pages, &pages);
    add_docs(site, &pages, r->pages, PUB_DOC_PAGE, &cap);
    free_names(&pages);

    /* Sass with front matter in static/ is compiled; the rest is copied. */
    name_list statics = {0}, copied = {0};
    list_folder(w, src, r->static_root, &statics);
    for (size_t i = 0; i < statics.len; i++) {
        char *rel = pub_path_join(r->static_root, statics.items[i]);
        if (is_sass(rel) && opens_with_front_matter(src, rel)) {
            new_doc(site, &cap, PUB_DOC_PAGE, rel);
            free(statics.items[i]);
        } else {
            free(rel);
            name_list_push(&copied, statics.items[i]);
        }
    }
    free(statics.items);
    site->static_files = copied.items;
    site->nstatic = copied.len;
}

/* Config `sass: {style, sass_dir, load_paths}` as Jekyll has it; the
 * load path is SRC/sass_dir (the reader's default folder), then
 * load_paths (relative to SRC). */
static void read_sass_options(pub_site *site, pub_diags *diags)
{
    const pub_value *sass = pub_map_get(site->config, "sass");
    const pub_value *style = pub_map_get(sass, "style");
    site->sass_style = pub_xstrdup(site->reader->sass_style);
    if (style) {
        const char *name = pub_value_str(style);
        if (!name || !pub_sass_style_known(name))
            pub_diags_add(diags, PUB_ERROR, site->config_name, style->line, style->col,
                          "unknown Sass style '%s' (expanded, nested, compact or compressed)",
                          name ? name : "(not a name)");
        else {
            free(site->sass_style);
            site->sass_style = pub_xstrdup(name);
        }
    }
    const char *dir = pub_value_str(pub_map_get(sass, "sass_dir"));
    const pub_value *more = pub_map_get(sass, "load_paths");
    size_t n = 1 + (more && more->type == PUB_LIST ? more->as.list.len : 0);
    site->sass_load_paths = pub_xcalloc(n + 1, sizeof *site->sass_load_paths);
    const char *root = pub_confine_root(site->confine);
    site->sass_load_paths[0] = pub_path_join(root, dir ? dir : site->reader->sass);
    for (size_t i = 1; i < n; i++) {
        const char *p = pub_value_str(more->as.list.items[i - 1]);
        site->sass_load_paths[i] = pub_path_join(root, p ? p : ".");
    }
}

static pub_value *load_config(const pub_confine *confine, const char **name_out,
                              pub_diags *diags)
{
    const char *name = "config.yaml";
    char *text = NULL;
    size_t len = 0;
    pub_diag *outside = NULL;
    int rc = pub_confine_read(confine, name, &text, &len, &outside);
    if (rc == ENOENT) {
        name = "_config.yml"; /* a Jekyll site as it is */
        rc = pub_confine_read(confine, name, &text, &len, &outside);
    }
    *name_out = rc == ENOENT ? "config.yaml" : name;
    pub_value *config = NULL;
    if (rc == PUB_CONFINE_OUTSIDE) {
        /* allow_outside is read from this very file: it cannot apply. */
        pub_diags_add(diags, PUB_ERROR, outside->path, 0, 0,
                      "symlink leads outside the site; the config file must be inside it");
        pub_diag_free(outside);
    } else if (rc == 0) {
        pub_yaml_version version = strcmp(name, "_config.yml") == 0 ? PUB_YAML_11 : PUB_YAML_12;
        pub_diag *err = pub_yaml_parse_as(name, text, len, 1, version, &config, diags);
        if (err) {
            pub_diags_take(diags, err);
        } else if (config->type == PUB_NULL) {
            pub_value_free(config);
            config = NULL;
        } else if (config->type != PUB_MAP) {
            pub_diags_add(diags, PUB_ERROR, name, config->line, config->col,
                          "config must be a mapping");
            pub_value_free(config);
            config = NULL;
        }
        free(text);
    } else if (rc != ENOENT) {
        pub_diags_add(diags, PUB_ERROR, name, 0, 0, "cannot read: %s", strerror(rc));
    }
    return config ? config : pub_value_map();
}

/* Dates without a zone are in the site's time zone; the C library reads it
 * from TZ, which must be set before any worker thread starts. */
static void apply_timezone(const pub_site *site, pub_diags *diags)
{
    pub_value *tz = pub_map_get(site->config, "timezone");
    const char *name = pub_value_str(tz);
    if (!name) {
        setenv("TZ", "UTC", 1);
    } else {
        char *zonefile = pub_path_join("/usr/share/zoneinfo", name);
        struct stat st;
        bool known = strstr(name, "..") == NULL && stat(zonefile, &st) == 0 && S_ISREG(st.st_mode);
        free(zonefile);
        if (!known) {
            pub_diags_add(diags, PUB_ERROR, site->config_name, tz->line, tz->col,
                          "unknown timezone '%s' (use a name like 'Asia/Seoul')", name);
            setenv("TZ", "UTC", 1);
        } else {
            setenv("TZ", name, 1);
        }
    }
    tzset();
}

/* `path` made absolute, normalised, and with symlinks resolved for the
 * part that exists, so two spellings of one folder compare equal. */
static char *resolve_path(const char *path)
{
    char *abs;
    if (path[0] == '/') {
        abs = pub_xstrdup(path);
    } else {
        char cwd[PATH_MAX];
        abs = pub_path_join(getcwd(cwd, sizeof cwd) ? cwd : ".", path);
    }
    char *norm = pub_path_confine(abs + 1);
    char *head = pub_path_join("/", norm ? norm : "");
    free(norm);
    free(abs);
    char *tail = pub_xstrdup("");
    char *result = NULL;
    while (!result) {
        char *real = realpath(head, NULL);
        if (real) {
            result = tail[0] ? pub_path_join(real, tail) : pub_xstrdup(real);
            free(real);
            break;
        }
        char *slash = strrchr(head, '/');
        if (!slash || slash == head) {
            result = pub_path_join(head, tail);
            break;
        }
        char *longer = tail[0] ? pub_path_join(slash + 1, tail) : pub_xstrdup(slash + 1);
        free(tail);
        tail = longer;
        *slash = '\0';
    }
    free(tail);
    free(head);
    return result;
}

static bool path_within(const char *path, const char *folder)
{
    size_t n = strlen(folder);
    if (strcmp(folder, "/") == 0) return true;
    return strncmp(path, folder, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* Whether a folder of path `rel` (below SRC) is named like a posts or
 * drafts folder of a whole-tree reader, which reads them at any depth. */
static bool in_deep_source_folder(const pub_reader *r, const char *rel)
{
    if (!r->whole_tree) return false;
    for (const char *at = rel; *at;) {
        size_t len = strcspn(at, "/");
        if ((len == strlen(r->posts) && strncmp(at, r->posts, len) == 0) ||
            (len == strlen(r->drafts) && strncmp(at, r->drafts, len) == 0))
            return true;
        at += len;
        while (*at == '/') at++;
    }
    return false;
}

/* A build replaces DEST's contents, so DEST must not be SRC, hold SRC, or
 * lie in one of the reader's source folders: that would delete the
 * sources (Jekyll refuses the first two). */
static bool destination_is_safe(const pub_reader *r, const char *src, const char *dest)
{
    char *src_r = resolve_path(src);
    char *dest_r = resolve_path(dest);
    bool safe = !path_within(src_r, dest_r);
    for (size_t i = 0; safe && r->source_folders[i]; i++) {
        char *input = pub_path_join(src_r, r->source_folders[i]);
        safe = !path_within(dest_r, input);
        free(input);
    }
    if (safe && path_within(dest_r, src_r)) {
        const char *rel = dest_r + strlen(src_r);
        while (*rel == '/') rel++;
        safe = !in_deep_source_folder(r, rel);
    }
    free(src_r);
    free(dest_r);
    return safe;
}

const char *pub_site_config_str(const pub_site *site, const char *key, const char *fallback)
{
    const char *s = pub_value_str(pub_map_get(site->config, key));
    return s ? s : fallback;
}

/* A build in the wrong folder (the repository root, a site's posts/)
 * would quietly write an empty site there: a site is a folder with a
 * config file, as for Jekyll, Hugo and Zola. */
pub_diag *pub_site_check_folder(const char *src)
{
    struct stat st;
    if (stat(src, &st) != 0 || !S_ISDIR(st.st_mode))
        return pub_diag_new(PUB_ERROR, src, 0, 0, "site folder not found");
    static const char *const names[] = {"config.yaml", "_config.yml"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        char *path = pub_path_join(src, names[i]);
        bool found = access(path, F_OK) == 0;
        free(path);
        if (found) return NULL;
    }
    return pub_diag_new(PUB_ERROR, src, 0, 0, "no config.yaml here (is this the site's folder?)");
}

/* `allow_outside: [PATHS]`: folders outside SRC that symlinks may lead to
 * (a theme shared by several sites). Each must exist. */
static void apply_allow_outside(pub_site *site, pub_diags *diags)
{
    pub_value *list = pub_map_get(site->config, "allow_outside");
    if (!list) return;
    if (list->type != PUB_LIST) {
        pub_diags_add(diags, PUB_ERROR, site->config_name, list->line, list->col,
                      "'allow_outside' must be a list of folders");
        return;
    }
    for (size_t i = 0; i < list->as.list.len; i++) {
        pub_value *item = list->as.list.items[i];
        const char *folder = pub_value_str(item);
        int rc = folder && folder[0] ? pub_confine_allow(site->confine, folder) : EINVAL;
        if (rc == EINVAL)
            pub_diags_add(diags, PUB_ERROR, site->config_name, item->line, item->col,
                          "'allow_outside' entries must be folder paths");
        else if (rc)
            pub_diags_add(diags, PUB_ERROR, site->config_name, item->line, item->col,
                          "'allow_outside' folder '%s': %s", folder, strerror(rc));
    }
}

pub_site *pub_site_open_config(const char *src, const char *dest, pub_diags *diags)
{
    pub_diag *not_site = pub_site_check_folder(src);
    pub_confine *confine = not_site ? NULL : pub_confine_new(src);
    if (!confine) {
        pub_diags_take(diags, not_site ? not_site
                                       : pub_diag_new(PUB_ERROR, src, 0, 0, "site folder not found"));
        return NULL;
    }
    pub_site *site = pub_xcalloc(1, sizeof *site);
    site->src = pub_xstrdup(src);
    site->confine = confine;
    site->config = load_config(confine, &site->config_name, diags);
    site->reader = strcmp(site->config_name, jekyll_reader.config_file) == 0 ? &jekyll_reader
                                                                              : &native_reader;
    site->yaml = site->reader->yaml;
    site->markdown_ext = pub_xstrdup(site->reader->markdown_ext);
    const pub_value *md_ext = pub_map_get(site->config, "markdown_ext");
    if (pub_value_str(md_ext)) {
        free(site->markdown_ext);
        site->markdown_ext = pub_xstrdup(pub_value_str(md_ext));
    } else if (md_ext) {
        pub_diags_add(diags, PUB_ERROR, site->config_name, md_ext->line, md_ext->col,
                      "'markdown_ext' must be a string like \"md,markdown\"");
    }
    apply_allow_outside(site, diags);
    read_sass_options(site, diags);
    /* Before any date is read: file-name dates are in the site's zone. */
    apply_timezone(site, diags);
    site->slow_seconds = 1.0;
    pub_value *slow = pub_map_get(site->config, "slow_seconds");
    if (slow && slow->type == PUB_INT) site->slow_seconds = (double)slow->as.integer;
    else if (slow && slow->type == PUB_FLOAT) site->slow_seconds = slow->as.number;
    else if (slow)
        pub_diags_add(diags, PUB_ERROR, site->config_name, slow->line, slow->col,
                      "'slow_seconds' must be a number of seconds");
    if (dest) {
        site->dest = pub_xstrdup(dest);
    } else {
        const char *configured = pub_site_config_str(site, "destination", "_site");
        site->dest = configured[0] == '/' ? pub_xstrdup(configured) : pub_path_join(src, configured);
    }
    site->dest_is_safe = destination_is_safe(site->reader, src, site->dest);
    if (!site->dest_is_safe)
        pub_diags_add(diags, PUB_ERROR, NULL, 0, 0,
                      "destination '%s' would replace the site's own files (it is the site "
                      "folder, holds it, or lies in one of its source folders)", site->dest);
    return site;
}

void pub_site_discover(pub_site *site, pub_diags *diags)
{
    const pub_confine *confine = site->confine;
    char dest_real[PATH_MAX];
    walk w = {confine, realpath(site->dest, dest_real) ? dest_real : NULL, diags};

    if (site->reader->whole_tree) jekyll_discover(site, &w, diags);
    else native_discover(site, &w);

    name_list data = {0};
    list_folder(&w, site->src, site->reader->data, &data);
    site->data_files = data.items;
    site->ndata = data.len;

    /* Layouts are read from Lua file by file (through the same check); a
     * linked folder that leaves is reported here once, by its own name.
     * (plugins/ is the plugin loader's: the first plugin it loads says so.) */
    pub_diag *err = NULL;
    if (pub_confine_resolve(confine, site->reader->layouts, NULL, &err) == PUB_CONFINE_OUTSIDE)
        pub_diags_take(diags, err);
}

pub_site *pub_site_open(const char *src, const char *dest, pub_diags *diags)
{
    pub_site *site = pub_site_open_config(src, dest, diags);
    if (site) pub_site_discover(site, diags);
    return site;
}

void pub_site_free(pub_site *site)
{
    if (!site) return;
    for (size_t i = 0; i < site->ndocs; i++) {
        pub_doc *doc = &site->docs[i];
        free(doc->path);
        free(doc->name_slug);
        free(doc->folder_categories);
        free(doc->text);
        free(doc->html);
        free(doc->effects);
        free(doc->hl_keys);
        free(doc->snapshot);
        free(doc->keep);
        if (doc->tree) cmark_node_free(doc->tree);
        if (doc->text || doc->fm.meta) pub_fm_free(&doc->fm);
        pub_diag_free(doc->error);
        pub_diag_free(doc->warning);
    }
    free(site->docs);
    for (size_t i = 0; i < site->nstatic; i++) free(site->static_files[i]);
    free(site->static_files);
    for (size_t i = 0; i < site->ndata; i++) free(site->data_files[i]);
    free(site->data_files);
    pub_value_free(site->config);
    pub_confine_free(site->confine);
    free(site->src);
    free(site->dest);
    free(site->markdown_ext);
    free(site->sass_style);
    for (size_t i = 0; site->sass_load_paths && site->sass_load_paths[i]; i++)
        free(site->sass_load_paths[i]);
    free(site->sass_load_paths);
    free(site);
}
