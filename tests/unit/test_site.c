/* core/site: discovery by the two readers. A native site's fixed folders
 * and a Jekyll site's whole tree: which files are posts, pages, static or
 * data files and which are ignored, in what order, what the file names say
 * (date, slug, categories, draft), and the errors with their exact
 * messages. Real files under a temporary folder. */
#include "check.h"
#include "site.h"
#include "util/path.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char root[64];

static void put(const char *rel, const char *text)
{
    char *path = pub_path_join(root, rel);
    check_write_text(path, text, 0644);
    free(path);
}

/* The site's documents, one a line: "post|page path [draft] [date slug]
 * [cats=...] [md] [sass]". */
static char *docs_text(const pub_site *site)
{
    pub_buf b = PUB_BUF_INIT;
    for (size_t i = 0; i < site->ndocs; i++) {
        const pub_doc *d = &site->docs[i];
        pub_buf_printf(&b, "%s %s", d->kind == PUB_DOC_POST ? "post" : "page", d->path);
        if (d->draft) pub_buf_puts(&b, " draft");
        if (d->has_name_date)
            pub_buf_printf(&b, " %04d-%02d-%02d", d->name_date.year, d->name_date.month,
                           d->name_date.day);
        pub_buf_printf(&b, " slug=%s", d->name_slug ? d->name_slug : "(none)");
        if (d->folder_categories) pub_buf_printf(&b, " cats=%s", d->folder_categories);
        if (d->markdown) pub_buf_puts(&b, " md");
        if (d->sass) pub_buf_puts(&b, " sass");
        pub_buf_putc(&b, '\n');
    }
    return pub_buf_detach(&b);
}

static char *names_text(char **names, size_t n)
{
    pub_buf b = PUB_BUF_INIT;
    for (size_t i = 0; i < n; i++) pub_buf_printf(&b, "%s\n", names[i]);
    return pub_buf_detach(&b);
}

static char *diags_text(pub_diags *list)
{
    pub_diags_sort(list);
    pub_buf b = PUB_BUF_INIT;
    for (size_t i = 0; i < list->len; i++) {
        pub_diag_format(list->items[i], &b);
        pub_buf_putc(&b, '\n');
    }
    return pub_buf_detach(&b);
}

static void check_owned(int line, char *got, const char *want)
{
    check_str_at(__FILE__, line, got, want);
    free(got);
}
#define CHECK_OWNED(got, want) check_owned(__LINE__, (got), (want))

static void test_native(void)
{
    check_temp_dir(root, "site");
    put("config.yaml", "title: T\n");
    put("posts/2024-06-19-hello.md", "# hi\n");
    put("posts/sub/2024-01-02-deep.markdown", "x\n");
    put("posts/undated.html", "<p>x</p>\n");
    put("posts/notes.txt", "not a document\n");
    put("posts/.hidden.md", "skipped\n");
    put("posts/#autosave.md#", "skipped\n");
    put("posts/backup.md~", "skipped\n");
    put("_posts/2023-12-31-old.md", "x\n");
    put("pages/about.md", "x\n");
    put("pages/contact.htm", "x\n");
    put("static/style.css", "a{}\n");
    put("static/main.scss", "---\n---\na{b:c}\n");
    put("static/_partial.scss", "a{b:c}\n");
    put("static/img/.DS_Store", "x");
    put("data/authors.yaml", "a: 1\n");
    put("data/nav/main.json", "{}\n");
    put("README.md", "outside every source folder\n");

    pub_diags diags;
    pub_diags_init(&diags);
    pub_site *site = pub_site_open(root, NULL, &diags);
    CHECK(site != NULL);
    if (!site) goto done;
    CHECK_OWNED(diags_text(&diags), "");
    CHECK_STR(site->config_name, "config.yaml");
    CHECK_STR(site->reader->config_file, "config.yaml");
    CHECK_STR(site->reader->static_root, "static");
    CHECK_STR(site->reader->data, "data");
    CHECK_STR(site->markdown_ext, "md,markdown");
    CHECK_STR(pub_site_config_str(site, "title", "x"), "T");
    CHECK_STR(pub_site_config_str(site, "missing", "fallback"), "fallback");
    CHECK(site->dest_is_safe);
    char *dest = pub_path_join(root, "_site");
    CHECK_STR(site->dest, dest);
    free(dest);

    CHECK_OWNED(docs_text(site),
                "post posts/2024-06-19-hello.md 2024-06-19 slug=hello md\n"
                "post posts/sub/2024-01-02-deep.markdown 2024-01-02 slug=deep md\n"
                "post posts/undated.html slug=undated\n"
                "post _posts/2023-12-31-old.md 2023-12-31 slug=old md\n"
                "page pages/about.md slug=about md\n"
                "page pages/contact.htm slug=contact\n"
                "page static/main.scss slug=(none) sass\n");
    CHECK_OWNED(names_text(site->static_files, site->nstatic), "_partial.scss\nstyle.css\n");
    CHECK_OWNED(names_text(site->data_files, site->ndata), "authors.yaml\nnav/main.json\n");
    pub_site_free(site);
done:
    pub_diags_free(&diags);
    pub_file_remove_tree(root);
}

static void test_native_errors(void)
{
    check_temp_dir(root, "site");
    put("config.yaml", "markdown_ext: [md]\nslow_seconds: soon\nallow_outside: x\n");
    pub_diags diags;
    pub_diags_init(&diags);
    pub_site *site = pub_site_open(root, "/tmp/publish-test-elsewhere", &diags);
    CHECK(site != NULL);
    CHECK_OWNED(diags_text(&diags),
                "config.yaml:1:15: error: 'markdown_ext' must be a string like \"md,markdown\"\n"
                "config.yaml:2:15: error: 'slow_seconds' must be a number of seconds\n"
                "config.yaml:3:16: error: 'allow_outside' must be a list of folders\n");
    CHECK_INT(diags.errors, 3);
    if (site) {
        CHECK_STR(site->dest, "/tmp/publish-test-elsewhere");
        CHECK_INT(site->ndocs, 0);
        pub_site_free(site);
    }
    pub_diags_free(&diags);

    /* DEST being SRC would replace the sources. */
    pub_diags_init(&diags);
    site = pub_site_open(root, root, &diags);
    pub_diags_sort(&diags);
    CHECK(site && !site->dest_is_safe);
    pub_buf want = PUB_BUF_INIT;
    pub_buf_printf(&want,
                   "error: destination '%s' would replace the site's own files (it is the site "
                   "folder, holds it, or lies in one of its source folders)",
                   root);
    CHECK(diags.len >= 1);
    if (diags.len >= 1) CHECK_STR(diags.items[0]->message, want.data + strlen("error: "));
    pub_buf_free(&want);
    pub_site_free(site);
    pub_diags_free(&diags);

    /* A config that is not a mapping. */
    put("config.yaml", "- a\n- b\n");
    pub_diags_init(&diags);
    site = pub_site_open(root, NULL, &diags);
    CHECK_OWNED(diags_text(&diags), "config.yaml:1:1: error: config must be a mapping\n");
    pub_site_free(site);
    pub_diags_free(&diags);

    /* No config file: not a site. */
    char *config = pub_path_join(root, "config.yaml");
    remove(config);
    free(config);
    CHECK_ERR(pub_site_check_folder(root), root,
              "no config.yaml here (is this the site's folder?)");
    pub_diags_init(&diags);
    CHECK(pub_site_open(root, NULL, &diags) == NULL);
    CHECK_INT(diags.errors, 1);
    pub_diags_free(&diags);
    pub_file_remove_tree(root);
    CHECK_ERR(pub_site_check_folder(root), root, "site folder not found");
}

static void test_jekyll(void)
{
    check_temp_dir(root, "site");
    put("_config.yml", "title: J\nexclude: [secret.txt, drafts-notes]\ninclude: [_keep.txt]\n");
    put("_posts/2024-06-19-a.md", "---\n---\nx\n");
    put("_posts/2024-02-30-bad.md", "---\n---\nx\n");
    put("_posts/undated.md", "---\n---\nx\n");
    put("blog/news/_posts/2017-2-5-b.markdown", "---\n---\nx\n");
    put("_drafts/wip.md", "---\n---\nx\n");
    put("about.md", "---\ntitle: About\n---\nx\n");
    put("feed.xml", "\xEF\xBB\xBF---  \r\n---\n<feed/>\n");
    put("readme.md", "no front matter: copied\n");
    put("assets/site.css", "a{}\n");
    put("_keep.txt", "included\n");
    put("_includes/head.html", "ignored\n");
    put(".git/HEAD", "ignored\n");
    put("node_modules/x.js", "ignored\n");
    put("Gemfile", "ignored\n");
    put("secret.txt", "excluded\n");
    put("drafts-notes/a.md", "---\n---\nexcluded folder\n");
    put("_data/people.yml", "- a\n");

    pub_diags diags;
    pub_diags_init(&diags);
    pub_site *site = pub_site_open(root, NULL, &diags);
    CHECK(site != NULL);
    if (!site) goto done;
    CHECK_STR(site->config_name, "_config.yml");
    CHECK(site->reader->whole_tree);
    CHECK_INT(site->yaml, PUB_YAML_11);
    CHECK_STR(site->markdown_ext, "markdown,mkdown,mkdn,mkd,md");
    CHECK_OWNED(diags_text(&diags),
                "_posts/2024-02-30-bad.md:1:1: error: invalid date in the file name (a post is "
                "YYYY-MM-DD-title.md)\n"
                "_posts/undated.md: warning: skipped: a post's file name starts with its date "
                "(YYYY-MM-DD-title.md)\n");
    CHECK_OWNED(docs_text(site),
                "post _posts/2024-06-19-a.md 2024-06-19 slug=a md\n"
                "post blog/news/_posts/2017-2-5-b.markdown 2017-02-05 slug=b cats=blog/news md\n"
                "post _drafts/wip.md draft slug=wip md\n"
                "page about.md slug=about md\n"
                "page feed.xml slug=feed\n");
    CHECK_OWNED(names_text(site->static_files, site->nstatic),
                "_keep.txt\nassets/site.css\nreadme.md\n");
    CHECK_OWNED(names_text(site->data_files, site->ndata), "people.yml\n");
    pub_site_free(site);
done:
    pub_diags_free(&diags);
    pub_file_remove_tree(root);
}

/* Whether pub_site_open accepts SRC/rel as DEST. */
static bool dest_accepted(const char *rel)
{
    char *dest = pub_path_join(root, rel);
    pub_diags diags;
    pub_diags_init(&diags);
    pub_site *site = pub_site_open(root, dest, &diags);
    bool safe = site && site->dest_is_safe;
    pub_site_free(site);
    pub_diags_free(&diags);
    free(dest);
    return safe;
}
#define DEST_OK(rel) check_int_at(__FILE__, __LINE__, dest_accepted(rel), 1)
#define DEST_REFUSED(rel) check_int_at(__FILE__, __LINE__, dest_accepted(rel), 0)

/* Each reader protects its own source folders from DEST, and only them. */
static void test_source_folders(void)
{
    check_temp_dir(root, "site");
    put("config.yaml", "title: T\n");
    DEST_REFUSED("posts");
    DEST_REFUSED("_posts/out");
    DEST_REFUSED("layouts/x");
    DEST_REFUSED("sass/out");
    DEST_REFUSED("plugins");
    DEST_OK("_site");
    DEST_OK("_layouts/out"); /* a Jekyll folder means nothing to a native site */
    DEST_OK("public/a/_posts");
    pub_file_remove_tree(root);

    check_temp_dir(root, "site");
    put("_config.yml", "title: J\n");
    DEST_REFUSED("_posts");
    DEST_REFUSED("_layouts/out");
    DEST_REFUSED("_includes");
    DEST_REFUSED("_data/x");
    DEST_REFUSED("_sass");
    DEST_REFUSED("_drafts/out");
    DEST_REFUSED("_plugins");
    DEST_REFUSED("plugins/x"); /* site Lua plugins, as on a native site */
    DEST_REFUSED("blog/news/_posts/out"); /* posts at any depth */
    DEST_REFUSED("blog/_drafts");
    DEST_OK("_site");
    DEST_OK("posts/out"); /* native folder names are pages and static files here */
    DEST_OK("layouts");
    DEST_OK("blog/_postsx");
    pub_file_remove_tree(root);
}

static void test_parse_name(void)
{
    pub_date d;
    char *slug;
    CHECK(pub_site_parse_name("posts/2024-06-19-hello-world.md", &d, &slug));
    CHECK_INT(d.year, 2024);
    CHECK_INT(d.month, 6);
    CHECK_INT(d.day, 19);
    CHECK_OWNED(slug, "hello-world");
    CHECK(pub_site_parse_name("2024-02-29-leap.md", &d, &slug));
    CHECK_OWNED(slug, "leap");
    CHECK(!pub_site_parse_name("2023-02-29-not-leap.md", &d, &slug));
    CHECK_OWNED(slug, "2023-02-29-not-leap");
    CHECK(!pub_site_parse_name("2024-13-01-x.md", &d, &slug));
    CHECK_OWNED(slug, "2024-13-01-x");
    CHECK(!pub_site_parse_name("2024-06-19-.md", &d, &slug));
    CHECK_OWNED(slug, "2024-06-19-");
    CHECK(!pub_site_parse_name("2024-6-19-short.md", &d, &slug));
    CHECK_OWNED(slug, "2024-6-19-short");
    CHECK(!pub_site_parse_name("about.md", &d, &slug));
    CHECK_OWNED(slug, "about");
    CHECK(!pub_site_parse_name("2024-06-1x-a.md", &d, &slug));
    CHECK_OWNED(slug, "2024-06-1x-a");
    CHECK(!pub_site_parse_name("2024-06-00-zero.md", &d, &slug));
    CHECK_OWNED(slug, "2024-06-00-zero");
    CHECK(!pub_site_parse_name("2024-06-19.md", &d, &slug));
    CHECK_OWNED(slug, "2024-06-19");
    CHECK(!pub_site_parse_name("2024-06-1 -a.md", &d, &slug));
    CHECK_OWNED(slug, "2024-06-1 -a");
    /* A name gives a day, no time or zone. */
    CHECK(pub_site_parse_name("1999-12-31-party.md", &d, &slug));
    CHECK(!d.has_time && !d.has_zone && d.hour == 0 && d.offset_min == 0);
    CHECK_OWNED(slug, "party");
}

int main(void)
{
    test_native();
    test_native_errors();
    test_jekyll();
    test_source_folders();
    test_parse_name();
    return check_finish();
}
