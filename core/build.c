/* The pipeline. C does the per-document work (read, front matter, Markdown)
 * on worker threads, then hands the documents to the Lua engine, which runs
 * the plugins and asks C to write each page as it is rendered, so rendered
 * pages are not all held at once. */
#define _GNU_SOURCE
#include "build.h"
#include "cache.h"
#include "content.h"
#include "deps.h"
#include "data.h"
#include "doc.h"
#include "fetch.h"
#include "fingerprint.h"
#include "frontmatter.h"
#include "lua/bridge.h"
#include "lua/deps_check.h"
#include "lua/deps_hash.h"
#include "lua/deps_proxy.h"
#include "lua/deps_record.h"
#include "lua/heap.h"
#include "lua/edit.h"
#include "lua/lib.h"
#include "lua/lib_markdown.h"
#include "lua/runtime.h"
#include "lua/snapshot.h"
#include "lua/sort_posts.h"
#include "markdown.h"
#include "render.h"
#include "site.h"
#include "util/buf.h"
#include "util/hash.h"
#include "util/clock.h"
#include "util/file.h"
#include "util/mem.h"
#include "util/path.h"
#include <assert.h>
#include <errno.h>
#include <lauxlib.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <limits.h>
#include <time.h>
#include <unistd.h>

/* ---- Worker threads over the documents ---------------------------------- */

/* Workers take documents in path order; the main thread consumes them in
 * the same order as each becomes ready (handing it to Lua and freeing the
 * C copy). Workers stay at most LOAD_AHEAD documents ahead of it, so only
 * those are held twice however fast reading is (cached Markdown is). */
#define LOAD_AHEAD 256
typedef struct doc_loader {
    pub_site *site;
    const pub_md_options *md;
    pub_load_mode mode;
    pub_cache *cache;
    pub_doc_tree_options tree; /* PUB_LOAD_TREE's extras (doc.h) */
    pub_content *store;
    atomic_size_t next;
    size_t consumed;      /* documents handed to Lua so far (under lock) */
    unsigned char *ready;
    pthread_mutex_t lock;
    pthread_cond_t changed;
    pthread_t *threads;
    int nthreads;
} doc_loader;

static void *load_worker(void *arg)
{
    doc_loader *ld = arg;
    for (;;) {
        size_t i = atomic_fetch_add(&ld->next, 1);
        if (i >= ld->site->ndocs) break;
        pthread_mutex_lock(&ld->lock);
        while (i >= ld->consumed + LOAD_AHEAD) pthread_cond_wait(&ld->changed, &ld->lock);
        pthread_mutex_unlock(&ld->lock);
        pub_doc_load(ld->site, &ld->site->docs[i], ld->md, ld->mode, ld->cache, &ld->tree,
                     ld->store);
        pthread_mutex_lock(&ld->lock);
        ld->ready[i] = 1;
        pthread_cond_broadcast(&ld->changed);
        pthread_mutex_unlock(&ld->lock);
    }
    return NULL;
}

static int default_jobs(int jobs)
{
    if (jobs > 0) return jobs > 64 ? 64 : jobs;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)(n > 64 ? 64 : n) : 1;
}

static void loader_start(doc_loader *ld, pub_site *site, const pub_md_options *md,
                         pub_load_mode mode, pub_cache *cache, const pub_doc_tree_options *tree,
                         pub_content *store, int jobs)
{
    ld->site = site;
    ld->cache = cache;
    ld->tree = *tree;
    ld->store = store;
    ld->md = md;
    ld->mode = mode;
    atomic_init(&ld->next, 0);
    ld->consumed = 0;
    ld->ready = pub_xcalloc(site->ndocs ? site->ndocs : 1, 1);
    pthread_mutex_init(&ld->lock, NULL);
    pthread_cond_init(&ld->changed, NULL);
    int n = default_jobs(jobs);
    if ((size_t)n > site->ndocs) n = site->ndocs ? (int)site->ndocs : 1;
    ld->threads = pub_xcalloc((size_t)n, sizeof *ld->threads);
    ld->nthreads = 0;
    for (int i = 0; i < n; i++)
        if (pthread_create(&ld->threads[ld->nthreads], NULL, load_worker, ld) == 0) ld->nthreads++;
    if (ld->nthreads == 0) {
        /* No threads to be had: load everything here, with no look-ahead
         * limit (nobody consumes while this runs). */
        ld->consumed = site->ndocs;
        load_worker(ld);
    }
}

static void loader_take_diags(pub_doc *doc, pub_diags *diags);

/* Blocks until document i is loaded; moves its error into `diags`. */
static pub_doc *loader_wait(doc_loader *ld, size_t i, pub_diags *diags)
{
    assert(i < ld->site->ndocs);
    pthread_mutex_lock(&ld->lock);
    while (!ld->ready[i]) pthread_cond_wait(&ld->changed, &ld->lock);
    ld->consumed = i + 1;
    if (ld->consumed % 64 == 0) pthread_cond_broadcast(&ld->changed);
    pthread_mutex_unlock(&ld->lock);
    pub_doc *doc = &ld->site->docs[i];
    loader_take_diags(doc, diags);
    return doc;
}

/* Moves a loaded document's error and warnings into `diags`. */
static void loader_take_diags(pub_doc *doc, pub_diags *diags)
{
    if (doc->error) {
        pub_diags_take(diags, doc->error);
        doc->error = NULL;
    }
    if (doc->warning) {
        pub_diags_take(diags, doc->warning);
        doc->warning = NULL;
    }
    for (size_t w = 0; w < doc->fm.nwarnings; w++) pub_diags_take(diags, doc->fm.warnings[w]);
    doc->fm.nwarnings = 0;
}

static void loader_finish(doc_loader *ld)
{
    for (int i = 0; i < ld->nthreads; i++) pthread_join(ld->threads[i], NULL);
    free(ld->threads);
    free(ld->ready);
    pthread_mutex_destroy(&ld->lock);
    pthread_cond_destroy(&ld->changed);
}

/* ---- Site settings read before anything runs ----------------------------- */

/* config.yaml's `markdown:` map. `extensions` lists the GFM extensions to
 * turn on (all but tagfilter when absent; [] turns them all off); an
 * unknown name or a wrong type is an error at that value. */
static pub_md_options markdown_options(const pub_site *site, pub_diags *diags)
{
    /* Jekyll's kramdown writes typographic quotes, dashes and ellipses. */
    pub_md_options md = {true, site->reader->smart_punctuation, false, PUB_MD_DEFAULT_EXTENSIONS};
    pub_value *m = pub_map_get(site->config, "markdown");
    pub_value *v;
    if ((v = pub_map_get(m, "unsafe")) && v->type == PUB_BOOL) md.unsafe = v->as.boolean;
    if ((v = pub_map_get(m, "smart")) && v->type == PUB_BOOL) md.smart = v->as.boolean;
    if ((v = pub_map_get(m, "hardbreaks")) && v->type == PUB_BOOL) md.hardbreaks = v->as.boolean;
    if (!(v = pub_map_get(m, "extensions"))) return md;
    if (v->type != PUB_LIST) {
        pub_diags_add(diags, PUB_ERROR, site->config_name, v->line, v->col,
                      "'markdown.extensions' must be a list of extension names (%s)",
                      pub_md_extension_names());
        return md;
    }
    md.extensions = 0;
    for (size_t i = 0; i < v->as.list.len; i++) {
        const pub_value *item = v->as.list.items[i];
        const char *name = pub_value_str(item);
        unsigned bit = name ? pub_md_extension_bit(name) : 0;
        if (!bit)
            pub_diags_add(diags, PUB_ERROR, site->config_name, item->line, item->col,
                          "unknown Markdown extension '%s' (known: %s)", name ? name : "(not a name)",
                          pub_md_extension_names());
        md.extensions |= bit;
    }
    return md;
}

/* ---- The context table handed to engine.lua -------------------------------- */

typedef struct run_state {
    const char *src;
    const pub_confine *confine; /* every read of a site file */
    pub_diags *diags;
    pub_out *out;          /* NULL when checking only */
    size_t pages;
    pub_progress_fn progress;
    void *progress_ud;
    long long valid_until; /* earliest date of a future post left out */
    /* The documents, pulled one at a time by the engine (internal.next_doc)
     * once it knows whether a plugin wants the Markdown tree. */
    pub_site *site;
    const pub_md_options *md;
    pub_cache *cache;
    int jobs;
    bool lazy_body;        /* body left on disk (builds), read when asked */
    bool loading, loaded;  /* loader started / finished */
    size_t next_doc;
    doc_loader loader;
    /* Parallel rendering (render.h): the pool, and this process's index
     * (0: the parent; a worker sends its pages instead of writing). */
    pub_render_pool *pool;
    int worker;
    /* Incremental builds (deps.h): the last build's page records and this
     * one's (NULL: none kept, every page renders), and --explain's lines. */
    pub_deps *deps;
    pub_buf *explain;
    char **once_keys;      /* keys of the parent's say-once errors */
    size_t nonce_keys;
    size_t drafts_skipped, future_skipped; /* for the summary line */
    /* The documents' HTML not left in the cache (internal.content), made
     * when a build starts loading; freed after the engine (zeroed: last). */
    pub_content *content;
    /* Post snapshots (doc.h): every document's stat from the fingerprint
     * (NULL: none), and the build's start, relative to which a stat is
     * racy. */
    const uint64_t **doc_stats;
    long long started;
    bool gc_paused;        /* stopped while posts come from snapshots */
} run_state;

static run_state *upvalue_state(lua_State *L)
{
    return lua_touserdata(L, lua_upvalueindex(1));
}

/* internal.error / internal.warn (path, line, col, message). */
static int add_diag(lua_State *L, pub_level level)
{
    run_state *st = upvalue_state(L);
    size_t path_len, msg_len;
    const char *path = luaL_optlstring(L, 1, "", &path_len);
    int line = (int)luaL_optinteger(L, 2, 0);
    int col = (int)luaL_optinteger(L, 3, 0);
    const char *msg = luaL_checklstring(L, 4, &msg_len);
    const char *key = luaL_optstring(L, 5, NULL);
    char *shown_path = pub_diag_text(path, path_len);
    char *shown = pub_diag_text(msg, msg_len);
    pub_diag *d = pub_diag_new(level, path[0] ? shown_path : NULL, line, col, "%s", shown);
    free(shown);
    free(shown_path);
    if (key && st->worker > 0) {
        /* The parent keeps the first in page order (render.h). */
        pub_render_send_once(st->pool, key, d);
        pub_diag_free(d);
        return 0;
    }
    if (key) {
        st->once_keys = pub_xrealloc(st->once_keys, (st->nonce_keys + 1) * sizeof *st->once_keys);
        st->once_keys[st->nonce_keys++] = pub_xstrdup(key);
    }
    pub_diags_take(st->diags, d);
    return 0;
}

static int l_internal_error(lua_State *L) { return add_diag(L, PUB_ERROR); }
static int l_internal_warn(lua_State *L) { return add_diag(L, PUB_WARNING); }

static int l_internal_failed(lua_State *L)
{
    lua_pushboolean(L, upvalue_state(L)->diags->errors > 0);
    return 1;
}

/* internal.diagnostics() -> how many diagnostics the run has so far (the
 * engine caches no document whose hooks said something: a cached result
 * would not say it again). */
static int l_internal_diagnostics(lua_State *L)
{
    pub_diags *diags = upvalue_state(L)->diags;
    pthread_mutex_lock(&diags->lock);
    size_t n = diags->len;
    pthread_mutex_unlock(&diags->lock);
    lua_pushinteger(L, (lua_Integer)n);
    return 1;
}

/* internal.store_document(key, html, effects [, highlight_keys]): the
 * result of a document's `document` hooks, for the next build (doc.h's
 * document cache); highlight_keys: the document's `highlight_keys`. */
static int l_internal_store_document(lua_State *L)
{
    run_state *st = upvalue_state(L);
    uint64_t key = (uint64_t)luaL_checkinteger(L, 1);
    size_t html_len, effects_len, keys_len = 0;
    const char *html = luaL_checklstring(L, 2, &html_len);
    const char *effects = luaL_checklstring(L, 3, &effects_len);
    const char *keys = luaL_optlstring(L, 4, NULL, &keys_len);
    if (st->cache && key)
        pub_doc_cache_put(st->cache, key, html, html_len, effects, effects_len, keys, keys_len);
    return 0;
}

/* internal.snapshot_put(id, post) -> bool: the post made from document
 * `id` (its `snapshot_id`), after its hooks, for the next build (doc.h's
 * post snapshots); false when it cannot be kept. */
static int l_internal_snapshot_put(lua_State *L)
{
    run_state *st = upvalue_state(L);
    lua_Integer id = luaL_checkinteger(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    if (!st->cache || id < 1 || (size_t)id > st->site->ndocs) return 0;
    const pub_doc *doc = &st->site->docs[id - 1];
    lua_getfield(L, 2, "content_id");
    bool lazy = lua_type(L, -1) == LUA_TNUMBER;
    lua_pop(L, 1);
    pub_buf bytes = PUB_BUF_INIT;
    /* No Lua call that can raise from here on: C memory is live. */
    bool ok = pub_lua_snapshot_write(L, 2, &bytes) &&
              pub_doc_snapshot_put(st->cache, doc, lazy, bytes.data, bytes.len);
    pub_buf_free(&bytes);
    lua_pushboolean(L, ok);
    return 1;
}

static int l_internal_write(lua_State *L)
{
    run_state *st = upvalue_state(L);
    size_t path_len, len;
    const char *path = luaL_checklstring(L, 1, &path_len);
    const char *bytes = luaL_checklstring(L, 2, &len);
    pub_diag *err = NULL;
    if (strlen(path) != path_len) {
        /* A NUL inside a Lua string would cut the path short in C. */
        err = pub_diag_new(PUB_ERROR, NULL, 0, 0, "output path '%s' is outside the destination", path);
    } else if (st->worker > 0) {
        /* Checked here, so the page's error is the same in a worker. */
        char *confined = pub_path_confine(path);
        if (!confined || !confined[0])
            err = pub_diag_new(PUB_ERROR, NULL, 0, 0, "output path '%s' is outside the destination", path);
        else if (!pub_render_send(st->pool, path, bytes, len))
            err = pub_diag_new(PUB_ERROR, NULL, 0, 0, "cannot hand '%s' to the main process", path);
        free(confined);
    } else if (st->out) {
        /* The Lua string may be collected once we return: the writer
         * threads get their own copy. */
        err = pub_out_submit(st->out, path, pub_xstrndup(bytes, len), len);
    } else {
        char *confined = pub_path_confine(path);
        if (!confined || !confined[0])
            err = pub_diag_new(PUB_ERROR, NULL, 0, 0, "output path '%s' is outside the destination", path);
        free(confined);
    }
    if (err) {
        lua_pushnil(L);
        lua_pushstring(L, err->message);
        pub_diag_free(err);
        return 2;
    }
    st->pages++;
    lua_pushboolean(L, 1);
    return 1;
}

static int l_internal_progress(lua_State *L)
{
    run_state *st = upvalue_state(L);
    if (st->progress)
        st->progress(st->progress_ud, luaL_checkstring(L, 1), (size_t)luaL_checkinteger(L, 2),
                     (size_t)luaL_checkinteger(L, 3));
    return 0;
}

/* internal.read_body(path, offset): a document's body, read again from
 * disk; nil and a message when the file is gone. */
static int l_internal_read_body(lua_State *L)
{
    run_state *st = upvalue_state(L);
    const char *path = luaL_checkstring(L, 1);
    lua_Integer offset = luaL_checkinteger(L, 2);
    char *text = NULL;
    size_t len = 0;
    pub_diag *outside = NULL;
    int rc = pub_confine_read(st->confine, path, &text, &len, &outside);
    if (rc != 0) {
        lua_pushnil(L);
        if (outside) lua_pushfstring(L, "cannot read '%s': %s", outside->path, outside->message);
        else lua_pushfstring(L, "cannot read '%s': %s", path, strerror(rc));
        pub_diag_free(outside);
        return 2;
    }
    size_t from = offset > 0 && (size_t)offset <= len ? (size_t)offset : 0;
    lua_pushlstring(L, text + from, len - from);
    free(text);
    return 1;
}

/* Renders a document's body again, from its file: the cache's copy of its
 * HTML was damaged (or the file changed) after the load looked it up. */
static int push_rendered_again(lua_State *L, run_state *st, const pub_doc *doc)
{
    char *text = NULL, *html;
    size_t len = 0, html_len = 0;
    pub_diag *outside = NULL;
    int rc = pub_confine_read(st->confine, doc->path, &text, &len, &outside);
    if (rc != 0) {
        if (outside) lua_pushfstring(L, "cannot read '%s': %s", outside->path, outside->message);
        else lua_pushfstring(L, "cannot read '%s': %s", doc->path, strerror(rc));
        pub_diag_free(outside);
        free(text);
        return lua_error(L);
    }
    size_t from = doc->body_start <= len ? doc->body_start : len;
    html = pub_md_render(text + from, len - from, st->md, &html_len);
    free(text);
    pub_lua_push_owned(L, html, html_len);
    return 1;
}

/* The document whose table had `content_id` argument 1, checked: the
 * one lookup behind internal.content and internal.content_hash. */
static const pub_doc *content_doc(lua_State *L, run_state *st)
{
    lua_Integer id = luaL_checkinteger(L, 1);
    luaL_argcheck(L, id >= 1 && (lua_Unsigned)id <= st->site->ndocs, 1, "no such document");
    const pub_doc *doc = &st->site->docs[id - 1];
    luaL_argcheck(L, doc->has_content, 1, "document without content");
    return doc;
}

/* internal.content(id): the HTML of the document whose table had
 * `content_id` id, from the build cache or the content store, as a new
 * Lua string (it is not kept: the engine asks again on every read). */
static int l_internal_content(lua_State *L)
{
    run_state *st = upvalue_state(L);
    const pub_doc *doc = content_doc(L, st);
    if (!doc->content_cached && doc->content.bytes) {
        lua_pushlstring(L, doc->content.bytes, doc->content_len);
        return 1;
    }
    luaL_Buffer b;
    char *to = luaL_buffinitsize(L, &b, doc->content_len);
    if (doc->content_cached) {
        if (pub_cache_copy_html(st->cache, doc->content_key, to, doc->content_len)) {
            luaL_pushresultsize(&b, doc->content_len);
            return 1;
        }
        return push_rendered_again(L, st, doc);
    }
    /* In the store's file (content.h). */
    int rc = pub_content_read(st->content, &doc->content, to, doc->content_len);
    if (rc == 0) {
        luaL_pushresultsize(&b, doc->content_len);
        return 1;
    }
    /* Only Markdown can be made again here (not Sass's CSS). */
    if (doc->markdown) return push_rendered_again(L, st, doc);
    return luaL_error(L, "cannot read the rendered '%s' back: %s", doc->path, strerror(rc));
}

/* internal.content_hash(id) -> string: what identifies the HTML of the
 * document whose table had `content_id` id without reading it (incremental
 * builds hash a post's content field by it): its build-cache key (body,
 * Markdown options, engine) when the cache holds it, else a hash of the
 * bytes in the content store. */
static int l_internal_content_hash(lua_State *L)
{
    run_state *st = upvalue_state(L);
    const pub_doc *doc = content_doc(L, st);
    if (doc->content_cached)
        lua_pushfstring(L, "k%I", (LUAI_UACINT)(lua_Integer)doc->content_key);
    else
        lua_pushfstring(L, "b%I", (LUAI_UACINT)(lua_Integer)doc->content.hash);
    return 1;
}

/* internal.clock(): monotonic seconds, for PUBLISH_TIMINGS (os.clock
 * counts every thread's CPU time, which misleads once writers run). */
static int l_internal_clock(lua_State *L)
{
    lua_pushnumber(L, (lua_Number)pub_clock_now());
    return 1;
}

/* internal.future_post(epoch): a post left out for its future date; the
 * build's result holds only until the earliest of those dates. */
static int l_internal_future_post(lua_State *L)
{
    run_state *st = upvalue_state(L);
    lua_Integer when = luaL_checkinteger(L, 1);
    if (when < st->valid_until) st->valid_until = when;
    st->future_skipped++;
    return 0;
}

/* internal.draft_skipped(): a draft left out (counted for the summary). */
static int l_internal_draft_skipped(lua_State *L)
{
    upvalue_state(L)->drafts_skipped++;
    return 0;
}

static void finish_loading(run_state *st);

/* internal.settle_heap(): lua/heap.h's settling between the build's
 * phases (after the load, whose garbage the post hooks' would otherwise
 * join). */
static int l_internal_settle_heap(lua_State *L)
{
    pub_lua_settle_heap(L, 0);
    return 0;
}

/* internal.fork(npages) -> index, count: renders on every core. Forks the
 * render workers (render.h) when there is output to write, more than one
 * job and pages enough to share; this process renders the pages i with
 * (i - 1) % count == index. In a worker the run's diagnostics start empty
 * (they go to the parent at the end), progress is the parent's, and the
 * build cache is the parent's alone. */
static int l_internal_fork(lua_State *L)
{
    run_state *st = upvalue_state(L);
    lua_Integer npages = luaL_checkinteger(L, 1);
    int jobs = default_jobs(st->jobs);
    int count = 1;
    if (st->out && jobs > 1 && npages >= 64 * jobs) {
        finish_loading(st); /* no loader thread may hold a lock at the fork */
        /* A full collection that leaves every object old (switching the
         * collector out of generational mode and back): the workers' minor
         * collections then never write to what they inherit, where a
         * collector still in its major cycles (the heap grew all through
         * the load) would mark, and so copy, every page of it in every
         * worker. Measured at 100k posts: 170 MB less summed over the
         * processes. Young collections come more often while pages
         * render (heap.c says why). */
        pub_lua_settle_heap(L, PUB_HEAP_RENDER_MINOR);
        st->worker = pub_render_fork(jobs, st->out, st->deps, st->diags, &st->pool, &count);
        if (st->worker > 0) {
            st->diags = pub_xmalloc(sizeof *st->diags);
            pub_diags_init(st->diags);
            lua_pushlightuserdata(L, st->diags);
            lua_setfield(L, LUA_REGISTRYINDEX, PUB_REG_DIAGS);
            lua_pushlightuserdata(L, NULL);
            lua_setfield(L, LUA_REGISTRYINDEX, PUB_REG_CACHE);
            st->progress = NULL;
            st->out = NULL;
        }
    }
    lua_pushinteger(L, st->worker);
    lua_pushinteger(L, count);
    return 2;
}

/* internal.worker_exit(): a worker has rendered its pages; its
 * diagnostics go to the parent and the process ends. */
static int l_internal_worker_exit(lua_State *L)
{
    run_state *st = upvalue_state(L);
    if (st->worker > 0) pub_render_worker_exit(st->pool, st->diags);
    return 0;
}

/* internal.join(): the parent waits for the workers' pages. */
static int l_internal_join(lua_State *L)
{
    run_state *st = upvalue_state(L);
    st->pages += pub_render_join(st->pool, (const char *const *)st->once_keys, st->nonce_keys);
    st->pool = NULL;
    return 0;
}

/* internal.fetch({url, ...}) -> {url = status} (0: no answer), for
 * `check --external`; raises when curl cannot be run. */
static int l_internal_fetch(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    size_t n = (size_t)luaL_len(L, 1);
    /* Lua owns every buffer (userdata): nothing leaks if a call raises. */
    const char **urls = lua_newuserdatauv(L, (n ? n : 1) * sizeof *urls, 0);
    int *statuses = lua_newuserdatauv(L, (n ? n : 1) * sizeof *statuses, 0);
    for (size_t i = 0; i < n; i++) {
        lua_geti(L, 1, (lua_Integer)i + 1);
        urls[i] = luaL_checkstring(L, -1);
        lua_pop(L, 1); /* still referenced by the table at 1 */
    }
    char *err = pub_fetch_statuses(urls, n, 10, statuses);
    if (err) {
        lua_pushstring(L, err);
        free(err);
        return lua_error(L);
    }
    lua_createtable(L, 0, (int)n);
    for (size_t i = 0; i < n; i++) {
        lua_pushinteger(L, statuses[i]);
        lua_setfield(L, -2, urls[i]);
    }
    return 1;
}

/* internal.hash(s) -> integer: util/hash.h's pub_hash of the bytes (the
 * page records compare inputs and output pages by it). */
static int l_internal_hash(lua_State *L)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    lua_pushinteger(L, (lua_Integer)pub_hash(s, len, 0));
    return 1;
}

/* internal.engine_id() -> integer: the engine's identity (fingerprint.h). */
static int l_internal_engine_id(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)pub_fingerprint_engine_id(NULL));
    return 1;
}

/* internal.records() -> {output = record} of the last build, or nil when
 * this build keeps no records (a check, --no-cache). */
static int l_internal_records(lua_State *L)
{
    run_state *st = upvalue_state(L);
    if (!st->deps) return 0;
    size_t n = pub_deps_count(st->deps);
    lua_createtable(L, 0, (int)n);
    for (size_t i = 0; i < n; i++) {
        const char *output, *text;
        size_t len;
        pub_deps_get(st->deps, i, &output, &text, &len);
        lua_pushlstring(L, text, len);
        lua_setfield(L, -2, output);
    }
    return 1;
}

/* internal.record(output, text): this build's record of a page, kept by
 * the parent (a worker sends it). */
static int l_internal_record(lua_State *L)
{
    run_state *st = upvalue_state(L);
    const char *output = luaL_checkstring(L, 1);
    size_t len;
    const char *text = luaL_checklstring(L, 2, &len);
    if (st->worker > 0) pub_render_send_record(st->pool, output, text, len);
    else if (st->deps) pub_deps_put(st->deps, output, text, len);
    return 0;
}

/* Claims page `output` as unchanged (output.h's pub_out_keep): its last
 * output hashed as `hash`; with `claim` false, only whether it could be
 * (pub_out_may_keep). Only the parent keeps pages. */
static bool keep_page(void *ud, const char *output, uint64_t hash, bool claim)
{
    run_state *st = ud;
    if (!claim) return st->out && st->worker == 0 && pub_out_may_keep(st->out, output, hash);
    bool kept = st->out && st->worker == 0 && pub_out_keep(st->out, output, hash);
    if (kept) st->pages++;
    return kept;
}

/* internal.keep(output, hash) -> bool: the page is claimed as unchanged
 * (keep_page); false: it must be rendered. `hash`: the hash of its bytes
 * last time, in hex, as the record holds it. */
static int l_internal_keep(lua_State *L)
{
    run_state *st = upvalue_state(L);
    const char *output = luaL_checkstring(L, 1);
    const char *hex = luaL_checkstring(L, 2);
    char *end;
    errno = 0;
    uint64_t hash = strtoull(hex, &end, 16);
    lua_pushboolean(L, !errno && end != hex && !*end && keep_page(st, output, hash, true));
    return 1;
}

/* internal.check(outputs, ...) -> the indices of the pages to render
 * (lua/deps_check.h): the other pages are kept, their records carried
 * over. */
static int l_internal_check(lua_State *L)
{
    run_state *st = upvalue_state(L);
    if (!st->deps) return luaL_error(L, "internal.check: this build keeps no records");
    return pub_lua_deps_check(L, st->deps, keep_page, st);
}

/* internal.record_count() -> the number of the last build's page records,
 * or nil when this build keeps none (a check, --no-cache). */
static int l_internal_record_count(lua_State *L)
{
    run_state *st = upvalue_state(L);
    if (!st->deps) return 0;
    lua_pushinteger(L, (lua_Integer)pub_deps_count(st->deps));
    return 1;
}

/* internal.explain(line): one line of `build --explain` (nil: not asked). */
static int l_internal_explain(lua_State *L)
{
    run_state *st = upvalue_state(L);
    size_t len;
    const char *line = luaL_checklstring(L, 1, &len);
    if (st->explain) {
        pub_buf_append(st->explain, line, len);
        pub_buf_append(st->explain, "\n", 1);
    }
    return 0;
}

static int l_internal_load(lua_State *L);
static int l_internal_next_doc(lua_State *L);

static void push_internal(lua_State *L, run_state *st)
{
    static const luaL_Reg fns[] = {
        {"load", l_internal_load}, {"next_doc", l_internal_next_doc},
        {"fork", l_internal_fork}, {"worker_exit", l_internal_worker_exit}, {"join", l_internal_join},
        {"render_document", pub_lua_md_render_document}, {"sort_posts", pub_lua_sort_posts},
        {"discard_document", pub_lua_md_discard_document},
        {"document_at", pub_lua_md_document_at},
        {"future_post", l_internal_future_post}, {"draft_skipped", l_internal_draft_skipped},
        {"clock", l_internal_clock}, {"fetch", l_internal_fetch}, {"settle_heap", l_internal_settle_heap},
        {"read_body", l_internal_read_body}, {"content", l_internal_content},
        {"content_hash", l_internal_content_hash},
        {"hash", l_internal_hash}, {"hash_value", pub_lua_deps_hash_value},
        {"check", l_internal_check}, {"record_count", l_internal_record_count},
        {"proxify", pub_lua_deps_proxify}, {"recorder", pub_lua_deps_recorder},
        {"engine_id", l_internal_engine_id},
        {"records", l_internal_records}, {"record", l_internal_record}, {"keep", l_internal_keep},
        {"explain", l_internal_explain},
        {"error", l_internal_error}, {"warn", l_internal_warn}, {"failed", l_internal_failed},
        {"diagnostics", l_internal_diagnostics}, {"store_document", l_internal_store_document},
        {"snapshot_put", l_internal_snapshot_put},
        {"write", l_internal_write}, {"progress", l_internal_progress}, {NULL, NULL}};
    lua_newtable(L);
    lua_pushlightuserdata(L, st);
    luaL_setfuncs(L, fns, 1);
}

static void push_position(lua_State *L, const pub_value *v, int key_line, int key_col, bool deep);

/* Positions of a map's keys, so the engine can point at `permalink:` etc.:
 * key -> {value line, value col, key line, key col[, sub = ...]}. `deep`
 * (config only: front matter is checked key by key) adds `sub` for nested
 * maps (key -> position) and lists (index -> position). */
static void push_positions(lua_State *L, const pub_value *meta, bool deep)
{
    lua_createtable(L, 0, (int)meta->as.map.len);
    for (size_t i = 0; i < meta->as.map.len; i++) {
        const pub_pair *pair = &meta->as.map.pairs[i];
        push_position(L, pair->value, pair->key_line, pair->key_col, deep);
        lua_setfield(L, -2, pair->key);
    }
}

static void push_position(lua_State *L, const pub_value *v, int key_line, int key_col, bool deep)
{
    lua_createtable(L, 4, 1);
    lua_pushinteger(L, v->line);
    lua_rawseti(L, -2, 1);
    lua_pushinteger(L, v->col);
    lua_rawseti(L, -2, 2);
    lua_pushinteger(L, key_line ? key_line : v->line);
    lua_rawseti(L, -2, 3);
    lua_pushinteger(L, key_line ? key_col : v->col);
    lua_rawseti(L, -2, 4);
    if (deep && v->type == PUB_MAP) {
        push_positions(L, v, true);
        lua_setfield(L, -2, "sub");
    } else if (deep && v->type == PUB_LIST) {
        lua_createtable(L, (int)v->as.list.len, 0);
        for (size_t i = 0; i < v->as.list.len; i++) {
            push_position(L, v->as.list.items[i], 0, 0, true);
            lua_rawseti(L, -2, (lua_Integer)i + 1);
        }
        lua_setfield(L, -2, "sub");
    }
}

/* Pushes one document's table and frees what C no longer needs of it. */
static void push_doc(lua_State *L, run_state *st, pub_doc *doc)
{
    lua_createtable(L, 0, 12);
    lua_pushstring(L, doc->kind == PUB_DOC_POST ? "post" : "page");
    lua_setfield(L, -2, "kind");
    lua_pushstring(L, doc->path);
    lua_setfield(L, -2, "path");
    pub_lua_push_value(L, doc->fm.meta);
    lua_setfield(L, -2, "meta");
    pub_lua_push_key_positions(L, doc->fm.meta);
    lua_setfield(L, -2, "positions");
    /* A build reads post.body rarely (plugins work on content), so it
     * is left on disk and read on first use: holding every Markdown
     * source would double the memory a large site needs. */
    if (!st->lazy_body) {
        lua_pushlstring(L, doc->text + doc->fm.body_start, doc->len - doc->fm.body_start);
        lua_setfield(L, -2, "body");
    }
    lua_pushinteger(L, (lua_Integer)doc->fm.body_start);
    lua_setfield(L, -2, "body_start");
    lua_pushinteger(L, doc->fm.body_line);
    lua_setfield(L, -2, "body_line");
    if (doc->has_content) {
        /* The HTML stays in C until read (internal.content). */
        lua_pushinteger(L, (lua_Integer)(doc - st->site->docs) + 1);
        lua_setfield(L, -2, "content_id");
    } else if (doc->html) {
        lua_pushlstring(L, doc->html, doc->html_len);
        lua_setfield(L, -2, "content");
    }
    if (doc->tree) {
        /* Lines of the tree count from the body's first line. */
        pub_lua_md_push_document(L, &doc->tree, doc->fm.body_line - 1, st->md);
        lua_setfield(L, -2, "tree");
        if (doc->doc_key) {
            lua_pushinteger(L, (lua_Integer)doc->doc_key);
            lua_setfield(L, -2, "cache_key");
        }
    }
    if (doc->snap_key) {
        lua_pushinteger(L, (lua_Integer)(doc - st->site->docs) + 1);
        lua_setfield(L, -2, "snapshot_id");
    }
    if (doc->effects) {
        lua_pushlstring(L, doc->effects, doc->effects_len);
        lua_setfield(L, -2, "cached_effects");
        free(doc->effects);
        doc->effects = NULL;
    }
    if (doc->hl_keys) {
        lua_pushlstring(L, doc->hl_keys, doc->hl_keys_len);
        lua_setfield(L, -2, "highlight_keys");
        free(doc->hl_keys);
        doc->hl_keys = NULL;
    }
    /* The file name's date only stands in for a missing `date:` (a date
     * table is some 600 bytes of Lua heap a post would carry for nothing). */
    const pub_value *date = pub_map_get(doc->fm.meta, "date");
    if (doc->has_name_date && (!date || date->type == PUB_NULL)) {
        pub_lua_push_date(L, &doc->name_date);
        lua_setfield(L, -2, "name_date");
    }
    lua_pushstring(L, doc->name_slug);
    lua_setfield(L, -2, "name_slug");
    lua_pushboolean(L, doc->markdown);
    lua_setfield(L, -2, "markdown");
    if (doc->sass) {
        lua_pushboolean(L, 1);
        lua_setfield(L, -2, "sass");
    }
    if (doc->draft) {
        lua_pushboolean(L, 1);
        lua_setfield(L, -2, "draft");
    }
    if (doc->folder_categories) {
        lua_pushstring(L, doc->folder_categories);
        lua_setfield(L, -2, "folder_categories");
    }
    free(doc->text);
    doc->text = NULL;
    free(doc->html);
    doc->html = NULL;
    pub_fm_free(&doc->fm);
}

static void start_loading(run_state *st, pub_load_mode mode, const pub_doc_tree_options *tree)
{
    if (st->loading) return;
    st->loading = true;
    if (st->progress) st->progress(st->progress_ud, "reading", 0, st->site->ndocs);
    static const pub_doc_tree_options none = {0, false, 0, 0, NULL, 0};
    if (!tree) tree = &none;
    bool tree_cache =
        mode == PUB_LOAD_TREE && (tree->doc_seed || tree->highlight_ahead || tree->snap_seed);
    pub_cache *cache = mode == PUB_LOAD_HTML || tree_cache ? st->cache : NULL;
    if (mode == PUB_LOAD_HTML) st->content = pub_content_new(PUB_CONTENT_MEMORY);
    loader_start(&st->loader, st->site, st->md, mode, cache, tree, st->content, st->jobs);
}

/* The document cache's seed (doc.h) for `what` (the engine's: the
 * document plugins, the build options), or the post snapshots' (`snap`):
 * with the config file's name and bytes and every site plugin file loaded
 * (runtime.c's hash). 0 when the config cannot be read again (then
 * nothing is cached). */
static uint64_t document_seed(lua_State *L, run_state *st, const char *what, size_t what_len,
                              bool snap)
{
    lua_getfield(L, LUA_REGISTRYINDEX, PUB_REG_PLUGIN_CODE);
    uint64_t code = (uint64_t)lua_tointeger(L, -1);
    lua_pop(L, 1);
    /* No Lua call from here on: C memory is live. */
    char *config = NULL;
    size_t config_len = 0;
    pub_diag *outside = NULL;
    int rc = pub_confine_read(st->confine, st->site->config_name, &config, &config_len, &outside);
    pub_diag_free(outside);
    if (rc != 0 && rc != ENOENT) return 0;
    pub_buf material = PUB_BUF_INIT;
    pub_buf_append(&material, &code, sizeof code);
    pub_buf_printf(&material, "%zu:", what_len);
    pub_buf_append(&material, what, what_len);
    if (config) pub_buf_append(&material, config, config_len);
    free(config);
    if (snap) pub_buf_printf(&material, "\n%s:%d", st->site->config_name, st->lazy_body);
    uint64_t seed = snap ? pub_doc_snapshot_seed(material.data, material.len, st->md)
                         : pub_doc_cache_seed(material.data, material.len, st->md);
    pub_buf_free(&material);
    return seed;
}

/* internal.load(with_tree [, cache_what [, highlight_ahead]]): starts
 * reading the documents on the worker threads; with_tree: Markdown is
 * parsed to a tree for `document` hooks instead of rendered. cache_what (a
 * string: the engine's account of what the hooks' result depends on
 * besides the document, the config and the plugins' code): the hooks'
 * earlier result is taken from the build cache where there is one.
 * highlight_ahead ({linenos = false | true | N}): fenced code is
 * highlighted into the cache on the workers (doc.h). */
static int l_internal_load(lua_State *L)
{
    run_state *st = upvalue_state(L);
    bool with_tree = lua_toboolean(L, 1);
    size_t what_len = 0;
    const char *what = luaL_optlstring(L, 2, NULL, &what_len);
    pub_doc_tree_options tree = {0, false, 0, 0, NULL, 0};
    if (with_tree && lua_istable(L, 3)) {
        lua_getfield(L, 3, "linenos");
        tree.highlight_ahead = true;
        tree.linenos = lua_isinteger(L, -1) ? (long)lua_tointeger(L, -1) : lua_toboolean(L, -1);
        if (tree.linenos < 0 || tree.linenos > 1000000000) tree.highlight_ahead = false;
        lua_pop(L, 1);
    }
    if (with_tree && what && st->cache) tree.doc_seed = document_seed(L, st, what, what_len, false);
    size_t snap_len = 0;
    const char *snap = luaL_optlstring(L, 4, NULL, &snap_len);
    if (snap && st->cache && st->doc_stats) {
        tree.snap_seed = document_seed(L, st, snap, snap_len, true);
        tree.stats = st->doc_stats;
        tree.since_ns = st->started;
    }
    start_loading(st, with_tree ? PUB_LOAD_TREE : st->lazy_body ? PUB_LOAD_HTML : PUB_LOAD_META,
                  &tree);
    return 0;
}

/* A post-snapshot hit: its post, whose `_doc` is the document's table,
 * with the content id of this build when its content is the loaded one.
 * False (nothing pushed) when the snapshot cannot be read. */
static bool push_snapshot(lua_State *L, run_state *st, pub_doc *doc)
{
    size_t len;
    const char *bytes = pub_doc_snapshot_bytes(doc, &len);
    int rc = pub_lua_snapshot_read(L, bytes, len);
    if (rc != LUA_OK) {
        free(doc->snapshot);
        doc->snapshot = NULL;
        if (rc > 0) lua_error(L);
        return false;
    }
    free(doc->snapshot);
    doc->snapshot = NULL;
    if (lua_getfield(L, -1, "_doc") != LUA_TTABLE) {
        lua_pop(L, 2);
        return false;
    }
    if (doc->has_content) {
        lua_pushinteger(L, (lua_Integer)(doc - st->site->docs) + 1);
        lua_pushvalue(L, -1);
        lua_setfield(L, -3, "content_id");
        lua_setfield(L, -3, "content_id");
    }
    lua_insert(L, -2);
    lua_setfield(L, -2, "snapshot"); /* doc.snapshot = post */
    return true;
}

/* internal.next_doc() -> the next document's table, or nil after the last
 * (documents that failed to load are reported and skipped). A post taken
 * from its snapshot comes as its document's table with `snapshot` set to
 * the post. */
static int l_internal_next_doc(lua_State *L)
{
    run_state *st = upvalue_state(L);
    if (!st->loading) return luaL_error(L, "internal.next_doc before internal.load");
    while (st->next_doc < st->site->ndocs) {
        pub_doc *doc = loader_wait(&st->loader, st->next_doc++, st->diags);
        /* Posts from snapshots are all kept: collecting while they are
         * made finds no garbage (and costs a fifth of making them). */
        if (doc->snapshot && !st->gc_paused && lua_gc(L, LUA_GCISRUNNING)) {
            lua_gc(L, LUA_GCSTOP);
            st->gc_paused = true;
        } else if (!doc->snapshot && st->gc_paused) {
            lua_gc(L, LUA_GCRESTART);
            st->gc_paused = false;
        }
        if (doc->snapshot) {
            if (push_snapshot(L, st, doc)) return 1;
            /* Unreadable: made from the file after all. */
            doc->has_content = doc->content_cached = false;
            doc->snap_key = 0;
            pub_doc_load(st->site, doc, st->md, st->loader.mode, st->loader.cache, NULL,
                         st->loader.store);
            loader_take_diags(doc, st->diags);
        }
        if (!doc->text || !doc->fm.meta) continue; /* failed to load: reported */
        push_doc(L, st, doc);
        return 1;
    }
    if (!st->loaded) {
        loader_finish(&st->loader);
        st->loaded = true;
    }
    if (st->gc_paused) {
        lua_gc(L, LUA_GCRESTART);
        st->gc_paused = false;
    }
    return 0;
}

/* After the engine: the documents it did not pull are still read (their
 * errors are reported: one run reports every problem), then the workers
 * are joined. */
static void finish_loading(run_state *st)
{
    start_loading(st, PUB_LOAD_META, NULL);
    if (st->loaded) return;
    while (st->next_doc < st->site->ndocs) loader_wait(&st->loader, st->next_doc++, st->diags);
    loader_finish(&st->loader);
    st->loaded = true;
}

static void set_string(lua_State *L, const char *key, const char *value)
{
    if (!value) return;
    lua_pushstring(L, value);
    lua_setfield(L, -2, key);
}

static void set_bool(lua_State *L, const char *key, bool value)
{
    lua_pushboolean(L, value);
    lua_setfield(L, -2, key);
}

/* t[key] = an array of the `n` strings of `items`, t on the stack top. */
static void set_strings(lua_State *L, const char *key, const char *const *items, size_t n)
{
    lua_createtable(L, (int)n, 0);
    for (size_t i = 0; i < n; i++) {
        lua_pushstring(L, items[i]);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_setfield(L, -2, key);
}

static size_t count_strings(const char *const *items)
{
    size_t n = 0;
    while (items[n]) n++;
    return n;
}

/* The reader's rules the engine and plugins follow (site.reader). */
static void push_reader(lua_State *L, const pub_reader *r)
{
    lua_createtable(L, 0, 12);
    set_string(L, "posts", r->posts);
    set_string(L, "layouts", r->layouts);
    set_string(L, "includes", r->includes);
    set_string(L, "data", r->data);
    set_string(L, "sass", r->sass);
    set_string(L, "static", r->static_root);
    set_string(L, "default_permalink", r->default_permalink);
    set_string(L, "post_layout", r->post_layout);
    set_string(L, "page_layout", r->page_layout);
    set_bool(L, "pages_keep_path", r->pages_keep_path);
    set_bool(L, "missing_layout_warns", r->missing_layout_warns);
    set_bool(L, "yaml_11", r->yaml == PUB_YAML_11);
    set_bool(L, "slug_categories", r->slug_categories);
    set_bool(L, "dates_in_site_zone", r->dates_in_site_zone);
    set_bool(L, "untitled_pages", r->untitled_pages);
    set_bool(L, "escape_urls", r->escape_urls);
    set_bool(L, "pretty_titles", r->pretty_titles);
    set_bool(L, "later_path_first", r->later_path_first);
    set_bool(L, "ruby_plugins", r->ruby_plugins);
    set_strings(L, "plugin_keys", r->plugin_keys, count_strings(r->plugin_keys));
    set_strings(L, "base_plugins", r->base_plugins, count_strings(r->base_plugins));
}

/* Pushes publish.date.now(): the current time in the site's zone. */
static void push_now(lua_State *L)
{
    lua_getglobal(L, "publish");
    lua_getfield(L, -1, "date");
    lua_getfield(L, -1, "now");
    lua_call(L, 0, 1);
    lua_replace(L, -3);
    lua_pop(L, 1);
}

/* What the engine is called with: engine[fn](ctx), ctx from the site,
 * the run and the options; `data` (site.data) is loaded beforehand so no
 * C memory is live across the pushes. */
typedef struct engine_call {
    const char *fn;
    pub_site *site;
    run_state *st;
    const pub_build_options *opts;
    const pub_value *data;
    bool clean_only; /* not called when the run has errors already */
} engine_call;

static void push_context(lua_State *L, const engine_call *call)
{
    pub_site *site = call->site;
    const pub_build_options *opts = call->opts;
    lua_createtable(L, 0, 10);
    set_string(L, "source", site->src);
    set_string(L, "dest", site->dest);
    pub_lua_push_value(L, site->config);
    lua_setfield(L, -2, "config");
    set_string(L, "config_name", site->config_name);
    push_positions(L, site->config, true);
    lua_setfield(L, -2, "config_positions");
    /* `check` follows links to static files too (core/lua/links.lua). */
    if (opts->check_only)
        set_strings(L, "static_files", (const char *const *)site->static_files, site->nstatic);
    pub_runtime_push_bundled_plugins(L);
    lua_setfield(L, -2, "bundled_plugins");
    pub_lua_push_value(L, call->data);
    lua_setfield(L, -2, "data");
    push_reader(L, site->reader);
    lua_setfield(L, -2, "reader");
    push_now(L);
    lua_setfield(L, -2, "now");
    lua_createtable(L, 0, 5);
    set_bool(L, "drafts", opts->drafts);
    set_bool(L, "future", opts->future);
    set_bool(L, "check", opts->check_only);
    set_bool(L, "external", opts->check_only && opts->external);
    set_string(L, "explain", opts->explain);
    lua_setfield(L, -2, "options");
    push_internal(L, call->st);
    lua_setfield(L, -2, "internal");
}

/* Pushes engine[fn] and ctx, under the protected call of call_engine. */
static int push_engine_call(lua_State *L)
{
    const engine_call *call = lua_touserdata(L, 1);
    lua_pop(L, 1);
    /* publish.highlight keeps its blocks in the build cache too. */
    lua_pushlightuserdata(L, call->st->cache);
    lua_setfield(L, LUA_REGISTRYINDEX, PUB_REG_CACHE);
    if (!pub_runtime_push_engine(L)) return lua_error(L);
    lua_getfield(L, -1, call->fn);
    lua_remove(L, -2);
    push_context(L, call);
    return 2;
}

/* Calls engine[fn](ctx); leaves `nresults`. The set-up (the engine
 * loaded, ctx built) runs under one protected call, as lua.c's pmain: an
 * error there, a memory error included, is reported, not left to the
 * panic handler. */
static bool call_engine(lua_State *L, engine_call *call, int nresults, pub_diags *diags)
{
    pub_value *data = pub_data_load(call->site, diags);
    call->data = data;
    lua_pushcfunction(L, push_engine_call);
    lua_pushlightuserdata(L, call);
    int status = lua_pcall(L, 1, 2, 0);
    pub_value_free(data);
    call->data = NULL;
    if (status != LUA_OK) {
        pub_diags_add(diags, PUB_ERROR, NULL, 0, 0, "%s",
                      lua_tostring(L, -1) ? lua_tostring(L, -1) : "unknown error");
        lua_pop(L, 1);
        return false;
    }
    if (call->clean_only && diags->errors) {
        lua_pop(L, 2);
        return false;
    }
    return pub_runtime_call(L, 1, nresults, diags, "core/lua/engine.lua");
}

static void copy_static(pub_site *site, pub_out *out, run_state *st, pub_diags *diags)
{
    for (size_t i = 0; i < site->nstatic; i++) {
        char *rel = pub_path_join(site->reader->static_root, site->static_files[i]);
        char *file = NULL;
        pub_diag *err = NULL;
        int rc = pub_confine_resolve(site->confine, rel, &file, &err);
        if (rc == 0) {
            err = pub_out_copy(out, site->static_files[i], file);
        } else if (!err) {
            err = pub_diag_new(PUB_ERROR, rel, 0, 0, "cannot read: %s", strerror(rc));
        }
        if (err) {
            pub_diags_add(diags, PUB_ERROR, err->path ? err->path : rel, 0, 0, "%s", err->message);
            pub_diag_free(err);
        } else {
            st->pages++;
        }
        free(file);
        free(rel);
    }
}

/* ---- Entry points ----------------------------------------------------------- */

/* Everything a build's output depends on, for the no-op rebuild: the
 * engine, the options and every file below SRC (see fingerprint.h). Caller
 * finalizes and frees `fp`. */
static void build_fingerprint(const pub_site *site, const pub_build_options *opts,
                              pub_fingerprint *fp_out)
{
    pub_fingerprint fp;
    pub_fingerprint_init(&fp);
    pub_fingerprint_add_int(&fp, opts->drafts);
    pub_fingerprint_add_int(&fp, opts->future);
    pub_fingerprint_add_str(&fp, site->dest);
    pub_fingerprint_add_str(&fp, site->src);
    pub_fingerprint_add_str(&fp, getenv("TZ"));
    /* DEST inside SRC is output, not input (matched by device and inode). */
    pub_fingerprint_add_tree(&fp, site->src, site->dest);
    *fp_out = fp;
}

static bool folder_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The cache, or NULL for a check, --no-cache or a site with errors; NULL
 * too, with *up_to_date set, when the last build's output still stands.
 * *fingerprint is what to store after this build. Caller frees. */
static pub_cache *open_cache(const pub_site *site, const pub_build_options *opts,
                             long long started, const pub_diags *diags, uint64_t *fingerprint,
                             pub_fingerprint *fp, bool *up_to_date)
{
    if (opts->check_only || opts->no_cache || diags->errors) return NULL;
    pub_cache *cache = pub_cache_open(site->src);
    build_fingerprint(site, opts, fp);
    /* Compared as the last build saw its files (the same racy ones),
     * stored as this build sees them. */
    uint64_t last = pub_fingerprint_final(fp, pub_cache_fingerprint_since(cache));
    *fingerprint = pub_fingerprint_final(fp, started);
    /* --clean has work to do even when the sources did not change. */
    if (!opts->clean && pub_cache_fingerprint_matches(cache, last, (long long)time(NULL)) &&
        folder_exists(site->dest)) {
        *up_to_date = true;
        pub_cache_free(cache);
        return NULL;
    }
    return cache;
}

/* One Lua state runs engine.build over the site; the render workers it
 * forked are joined. Returns when the Lua part started (after setup); the
 * caller closes *state after the commit (serve reloads the pages first). */
static double run_engine(pub_site *site, const pub_build_options *opts, const pub_md_options *md,
                         run_state *st, pub_diags *diags, lua_State **state)
{
    lua_State *L = pub_runtime_open(site, diags, md, PUB_SANDBOX_PLUGINS);
    double t1 = pub_clock_now();
    engine_call call = {"build", site, st, opts, NULL, false};
    if (L) call_engine(L, &call, 0, diags);
    /* A render worker whose engine call ended early (an engine error)
     * must not go on to commit: it ends here, its errors sent. */
    if (st->worker > 0) pub_render_worker_exit(st->pool, st->diags);
    pub_render_join(st->pool, (const char *const *)st->once_keys, st->nonce_keys);
    for (size_t i = 0; i < st->nonce_keys; i++) free(st->once_keys[i]);
    free(st->once_keys);
    *state = L;
    return t1;
}

/* The build of an opened site: one way out, so each thing made (the
 * cache, the output transaction, the loader) is finished in one place
 * whatever failed. */
static bool build_site(pub_site *site, const pub_build_options *opts, long long started,
                       pub_diags *diags, pub_build_result *result)
{
    pub_md_options md = markdown_options(site, diags);
    uint64_t fingerprint = 0;
    pub_fingerprint fp;
    memset(&fp, 0, sizeof fp);
    pub_cache *cache = open_cache(site, opts, started, diags, &fingerprint, &fp, &result->up_to_date);
    if (result->up_to_date) {
        pub_fingerprint_free(&fp);
        return true;
    }
    /* Only now: a no-op rebuild does not walk SRC for documents (the
     * fingerprint walked it for stats already). */
    pub_site_discover(site, diags);
    if (cache && diags->errors) {
        pub_cache_free(cache); /* no cache for a site with errors */
        cache = NULL;
    }

    double t0 = pub_clock_now(), t1 = t0;
    run_state st = {site->src, site->confine, diags, NULL, 0, opts->progress, opts->progress_ud,
                    LLONG_MAX, site, &md, cache, opts->jobs, true, false, false, 0, {0}, NULL, 0,
                    NULL, NULL, NULL, 0, 0, 0, NULL, NULL, 0, false};
    /* Page records go with the cache: a check or --no-cache keeps none. */
    if (cache) st.deps = pub_deps_open(site->src);
    /* The post snapshots trust a document's stat as the fingerprint took
     * it, when the fingerprint can be trusted at all. */
    if (cache && fingerprint) st.doc_stats = pub_doc_stats(site, &fp);
    st.started = started;
    if (opts->explain) st.explain = &result->explain;
    bool began = opts->check_only;
    if (!opts->check_only) {
        /* One core runs Lua; the writers share the others (at least one). */
        int writers = default_jobs(opts->jobs) - 1;
        pub_diag *err = pub_out_begin_jobs(site->dest, writers > 0 ? writers : 1, opts->clean,
                                           &st.out);
        if (err) pub_diags_take(diags, err);
        else began = true;
    }
    lua_State *L = NULL; /* closed last */
    if (began) t1 = run_engine(site, opts, &md, &st, diags, &L);
    finish_loading(&st);
    pub_content_free(st.content);
    double t2 = pub_clock_now();
    if (st.out && diags->errors == 0) copy_static(site, st.out, &st, diags);
    double t3 = pub_clock_now();
    bool ok = began && diags->errors == 0;
    if (st.out && !ok) pub_out_abort(st.out);
    pub_diag *err = st.out && ok ? pub_out_commit(st.out, &result->out) : NULL;
    if (err) {
        pub_diags_take(diags, err);
        ok = false;
    }
    result->pages = st.pages;
    if (ok && opts->committed) opts->committed(opts->committed_ud, result);
    double t4 = pub_clock_now();
    if (st.deps && ok) {
        pub_diag *warning = pub_deps_save(st.deps);
        if (warning) pub_diags_take(diags, warning);
    }
    pub_deps_free(st.deps);
    result->seconds_records = pub_clock_now() - t4;
    free(st.doc_stats);
    pub_fingerprint_free(&fp);
    if (cache) {
        if (ok) {
            pub_cache_set_fingerprint(cache, fingerprint, started, st.valid_until);
            pub_diag *warning = pub_cache_save(cache);
            if (warning) pub_diags_take(diags, warning);
        }
        pub_cache_free(cache);
    }
    if (opts->exit_after) pub_runtime_leave(L);
    else pub_runtime_close(L);
    result->drafts_skipped = st.drafts_skipped;
    result->future_skipped = st.future_skipped;
    result->seconds_read = t1 - t0;
    result->seconds_lua = t2 - t1;
    result->seconds_commit = pub_clock_now() - t2;
    result->seconds_static = t3 - t2;
    result->seconds_save = pub_clock_now() - t4;
    return ok;
}

bool pub_build(const pub_build_options *opts, pub_diags *diags, pub_build_result *result)
{
    /* Before anything is read: a file changed after this moment is not
     * vouched for by the fingerprint (see cache.h). */
    long long started = pub_fingerprint_now();
    memset(result, 0, sizeof *result);
    pub_site *site = pub_site_open_config(opts->src, opts->dest, diags);
    if (!site) return false;
    result->dest = pub_xstrdup(site->dest);
    /* An unsafe DEST was reported by pub_site_open_config (with what
     * discovery finds); a check writes nothing. */
    bool ok = false;
    if (site->dest_is_safe || opts->check_only) ok = build_site(site, opts, started, diags, result);
    else pub_site_discover(site, diags);
    pub_site_free(site);
    return ok;
}

void pub_build_result_free(pub_build_result *result)
{
    free(result->dest);
    result->dest = NULL;
    pub_buf_free(&result->explain);
}

/* What runs on the loaded site under one protected call (as lua.c's pmain
 * does): the edit preparation, the script (or `publish new`'s one
 * new_post) and the write-back, so a Lua error anywhere in them, a memory
 * error included, is reported instead of reaching the panic handler. */
typedef struct edit_session {
    const pub_script_options *script; /* publish run, or NULL */
    const pub_new_options *new_post;  /* publish new, or NULL */
    pub_diags *diags;
    pub_buf *report;
    pub_edit_summary summary;
    char *created;                    /* publish new: the post's path (owned) */
    bool ok;
} edit_session;

/* site:new_post{title = TITLE, date = now, body = "\n", meta = {categories}};
 * leaves the post's path in session->created. */
static bool call_new_post(lua_State *L, int site, edit_session *session)
{
    const pub_new_options *o = session->new_post;
    lua_getfield(L, site, "new_post");
    lua_pushvalue(L, site);
    lua_createtable(L, 0, 4);
    lua_pushstring(L, o->title);
    lua_setfield(L, -2, "title");
    push_now(L);
    lua_setfield(L, -2, "date");
    lua_pushliteral(L, "\n"); /* an empty line after the front matter, to write in */
    lua_setfield(L, -2, "body");
    lua_createtable(L, 0, 1);
    if (o->ncategories) {
        lua_createtable(L, o->ncategories, 0);
        for (int i = 0; i < o->ncategories; i++) {
            lua_pushstring(L, o->categories[i]);
            lua_rawseti(L, -2, i + 1);
        }
        lua_setfield(L, -2, "categories");
    }
    lua_setfield(L, -2, "meta");
    /* Not a user script: the message alone, without a traceback. */
    if (lua_pcall(L, 2, 1, 0) != LUA_OK) {
        pub_diags_add(session->diags, PUB_ERROR, NULL, 0, 0, "cannot create the post: %s",
                      lua_tostring(L, -1) ? lua_tostring(L, -1) : "unknown error");
        lua_pop(L, 1);
        return false;
    }
    lua_getfield(L, -1, "path");
    session->created = pub_xstrdup(lua_tostring(L, -1));
    lua_pop(L, 2);
    return true;
}

static int edit_session_main(lua_State *L)
{
    edit_session *session = lua_touserdata(L, 1);
    int site = 2;
    pub_lua_edit_prepare(L, site);
    const pub_script_options *o = session->script;
    if (o) {
        lua_pushvalue(L, site);
        lua_setglobal(L, "site");
        session->ok = pub_runtime_run_script(L, o->script, o->argc, o->argv,
                                             session->diags);
    } else {
        session->ok = call_new_post(L, site, session);
    }
    if (!session->ok) return 0;
    pub_lua_edit_options eopts = {o && o->dry_run};
    pub_diag *err = pub_lua_edit_finish(L, site, &eopts, &session->summary, session->report);
    if (err) {
        pub_diags_take(session->diags, err);
        session->ok = false;
    }
    return 0;
}

/* Loads the site at `src` for editing (no rendering) and runs `session`
 * on it. */
static bool run_edit_session(const char *src, int jobs, edit_session *session)
{
    pub_diags *diags = session->diags;
    pub_site *site = pub_site_open(src, NULL, diags);
    if (!site) return false;
    pub_md_options md = markdown_options(site, diags);
    run_state st = {site->src, site->confine, diags, NULL, 0, NULL, NULL, LLONG_MAX,
                    site, &md, NULL, jobs, false, false, false, 0, {0}, NULL, 0, NULL, NULL, NULL, 0, 0, 0, NULL,
                    NULL, 0, false};
    pub_build_options bopts = {.src = src, .drafts = true, .future = true, .check_only = true};
    lua_State *L = pub_runtime_open(site, diags, &md, PUB_SANDBOX_SCRIPT);
    engine_call call = {"load", site, &st, &bopts, NULL, true};
    bool ok = L && call_engine(L, &call, 1, diags) && diags->errors == 0;
    if (ok) {
        lua_pushcfunction(L, edit_session_main);
        lua_insert(L, -2);
        lua_pushlightuserdata(L, session);
        lua_insert(L, -2);
        ok = pub_runtime_call(L, 2, 0, diags, src) && session->ok;
    }
    pub_runtime_close(L);
    finish_loading(&st);
    pub_site_free(site);
    return ok && diags->errors == 0;
}

bool pub_build_script(const pub_script_options *opts, pub_diags *diags, pub_buf *report)
{
    edit_session session = {.script = opts, .diags = diags, .report = report};
    bool ok = run_edit_session(opts->src, opts->jobs, &session);
    if (ok)
        pub_buf_printf(report, "publish: %s%zu changed, %zu renamed, %zu created, %zu deleted\n",
                       opts->dry_run ? "dry run, would be: " : "", session.summary.changed,
                       session.summary.renamed, session.summary.created, session.summary.deleted);
    free(session.created);
    return ok;
}

bool pub_build_new(const pub_new_options *opts, pub_diags *diags, char **created)
{
    pub_buf report = PUB_BUF_INIT;
    edit_session session = {.new_post = opts, .diags = diags, .report = &report};
    bool ok = run_edit_session(opts->src, 0, &session);
    pub_buf_free(&report);
    if (ok && created) {
        *created = session.created;
        session.created = NULL;
    }
    free(session.created);
    return ok;
}
