/* Tests for core/edit.c: commit of changes, renames, creations and
 * deletions with modes kept; the dry-run diff (exact text) that writes
 * nothing; a failure half-way through (injected) that touches no original
 * and leaves no temp file; the cleanup of strays from a killed run. Each
 * test works in a fresh mkdtemp folder under /tmp. */
#define _GNU_SOURCE
#include "check.h"
#include "edit.h"
#include "util/buf.h"
#include "util/file.h"
#include "util/mem.h"
#include "util/path.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char root[64];

static void put(const char *rel, const char *text, mode_t mode)
{
    char *full = pub_path_join(root, rel);
    check_write_text(full, text, mode);
    chmod(full, mode); /* exactly `mode`, whatever the umask */
    free(full);
}

/* The contents of `rel`, or NULL when absent (caller frees). */
static char *get(const char *rel)
{
    char *full = pub_path_join(root, rel);
    char *data = check_read_file(full, NULL);
    free(full);
    return data;
}

static unsigned mode_of(const char *rel)
{
    char *full = pub_path_join(root, rel);
    struct stat st;
    int rc = stat(full, &st);
    free(full);
    return rc ? 0 : (unsigned)(st.st_mode & 07777);
}

/* Every entry below `dir`: path, mode, bytes and (for files) mtime, in
 * name order, so two snapshots are equal only when no file changed. A
 * folder's own mtime moves whenever a temp file comes and goes. */
static void snapshot_dir(const char *dir, pub_buf *out)
{
    struct dirent **names;
    int n = scandir(dir, &names, NULL, alphasort);
    for (int i = 0; i < n; i++) {
        const char *name = names[i]->d_name;
        if (strcmp(name, ".") && strcmp(name, "..")) {
            char *full = pub_path_join(dir, name);
            struct stat st;
            lstat(full, &st);
            pub_buf_printf(out, "%s %o\n", full, (unsigned)st.st_mode);
            if (S_ISDIR(st.st_mode)) {
                snapshot_dir(full, out);
            } else {
                char *data;
                size_t len;
                pub_buf_printf(out, "%lld.%09ld\n", (long long)st.st_mtim.tv_sec,
                               st.st_mtim.tv_nsec);
                if (pub_file_read(full, &data, &len) == 0) {
                    pub_buf_append(out, data, len);
                    free(data);
                }
            }
            free(full);
        }
        free(names[i]);
    }
    free(names);
}

static char *snapshot(void)
{
    pub_buf b = PUB_BUF_INIT;
    snapshot_dir(root, &b);
    return pub_buf_detach(&b);
}

static int count_temps_in(const char *dir)
{
    int count = 0;
    DIR *dp = opendir(dir);
    if (!dp) return 0;
    struct dirent *ent;
    while ((ent = readdir(dp)) != NULL) {
        if (!strcmp(ent->d_name, ".") || !strcmp(ent->d_name, "..")) continue;
        char *full = pub_path_join(dir, ent->d_name);
        struct stat st;
        if (lstat(full, &st) == 0 && S_ISDIR(st.st_mode)) count += count_temps_in(full);
        else if (strstr(ent->d_name, ".publish-edit-")) count++;
        free(full);
    }
    closedir(dp);
    return count;
}

static void fresh_site(void)
{
    if (root[0]) pub_file_remove_tree(root);
    check_temp_dir(root, "edit");
    put("posts/2024-01-01-a.md", "---\ntitle: A\n---\none\ntwo\nthree\n", 0600);
    put("posts/2024-01-02-b.md", "---\ntitle: B\n---\nbee\n", 0755);
    put("pages/about.md", "About\nus\n", 0644);
}

/* Stages the same four operations for the commit and dry-run tests. */
static pub_edit *stage_four(void)
{
    pub_edit *e = pub_edit_new(root);
    const char *a = "---\ntitle: A2\n---\none\ntwo\nthree\n", *c = "---\ntitle: C\n---\nbee\n";
    const char *d = "---\ntitle: D\n---\n";
    CHECK_OK(pub_edit_write(e, "posts/2024-01-01-a.md", a, strlen(a)));
    CHECK_OK(pub_edit_rename(e, "posts/2024-01-02-b.md", "posts/2024-01-02-c.md", c, strlen(c)));
    CHECK_OK(pub_edit_write(e, "posts/new/2024-02-02-d.md", d, strlen(d)));
    CHECK_OK(pub_edit_delete(e, "pages/about.md"));
    return e;
}

static void test_commit(void)
{
    fresh_site();
    pub_edit *e = stage_four();
    pub_edit_summary s;
    CHECK_OK(pub_edit_commit(e, &s));
    CHECK(s.changed == 1 && s.renamed == 1 && s.created == 1 && s.deleted == 1);
    pub_edit_free(e);

    char *a = get("posts/2024-01-01-a.md"), *b = get("posts/2024-01-02-b.md");
    char *c = get("posts/2024-01-02-c.md"), *d = get("posts/new/2024-02-02-d.md");
    char *about = get("pages/about.md");
    CHECK(a && strcmp(a, "---\ntitle: A2\n---\none\ntwo\nthree\n") == 0);
    CHECK(b == NULL);
    CHECK(c && strcmp(c, "---\ntitle: C\n---\nbee\n") == 0);
    CHECK(d && strcmp(d, "---\ntitle: D\n---\n") == 0);
    CHECK(about == NULL);
    free(a), free(b), free(c), free(d), free(about);
    /* Modes: kept from the original, the rename's source, umask for new. */
    CHECK(mode_of("posts/2024-01-01-a.md") == 0600);
    CHECK(mode_of("posts/2024-01-02-c.md") == 0755);
    mode_t mask = umask(022);
    umask(mask);
    CHECK(mode_of("posts/new/2024-02-02-d.md") == (0666 & ~mask));
    CHECK(count_temps_in(root) == 0);

    /* A rename keeping the bytes. */
    e = pub_edit_new(root);
    CHECK_OK(pub_edit_rename(e, "posts/2024-01-02-c.md", "archive/c.md", NULL, 0));
    CHECK_OK(pub_edit_commit(e, &s));
    CHECK(s.renamed == 1 && s.changed == 0);
    pub_edit_free(e);
    c = get("archive/c.md");
    CHECK(c && strcmp(c, "---\ntitle: C\n---\nbee\n") == 0);
    free(c);
    CHECK(mode_of("archive/c.md") == 0755);
    CHECK(get("posts/2024-01-02-c.md") == NULL);

    /* An empty transaction does nothing. */
    e = pub_edit_new(root);
    CHECK(pub_edit_empty(e));
    char *before = snapshot();
    CHECK_OK(pub_edit_commit(e, &s));
    char *after = snapshot();
    CHECK(strcmp(before, after) == 0);
    free(before), free(after);
    pub_edit_free(e);
}

static void test_dry_run(void)
{
    fresh_site();
    pub_edit *e = stage_four();
    char *before = snapshot();
    pub_buf diff = PUB_BUF_INIT;
    CHECK_OK(pub_edit_diff(e, &diff));
    char *after = snapshot();
    CHECK(strcmp(before, after) == 0);
    pub_edit_summary s;
    pub_edit_count(e, &s);
    CHECK(s.changed == 1 && s.renamed == 1 && s.created == 1 && s.deleted == 1);
    CHECK_STR(pub_buf_cstr(&diff),
              "diff --git a/posts/2024-01-01-a.md b/posts/2024-01-01-a.md\n"
              "--- a/posts/2024-01-01-a.md\n"
              "+++ b/posts/2024-01-01-a.md\n"
              "@@ -1,5 +1,5 @@\n"
              " ---\n"
              "-title: A\n"
              "+title: A2\n"
              " ---\n"
              " one\n"
              " two\n"
              "diff --git a/posts/2024-01-02-b.md b/posts/2024-01-02-c.md\n"
              "rename from posts/2024-01-02-b.md\n"
              "rename to posts/2024-01-02-c.md\n"
              "--- a/posts/2024-01-02-b.md\n"
              "+++ b/posts/2024-01-02-c.md\n"
              "@@ -1,4 +1,4 @@\n"
              " ---\n"
              "-title: B\n"
              "+title: C\n"
              " ---\n"
              " bee\n"
              "diff --git a/posts/new/2024-02-02-d.md b/posts/new/2024-02-02-d.md\n"
              "new file mode 100644\n"
              "--- /dev/null\n"
              "+++ b/posts/new/2024-02-02-d.md\n"
              "@@ -0,0 +1,3 @@\n"
              "+---\n"
              "+title: D\n"
              "+---\n"
              "diff --git a/pages/about.md b/pages/about.md\n"
              "deleted file mode 100644\n"
              "--- a/pages/about.md\n"
              "+++ /dev/null\n"
              "@@ -1,2 +0,0 @@\n"
              "-About\n"
              "-us\n");
    free(before), free(after);
    pub_buf_free(&diff);
    pub_edit_free(e);
}

static void diff_of(const char *old_text, const char *new_text, const char *want)
{
    fresh_site();
    put("x.txt", old_text, 0644);
    pub_edit *e = pub_edit_new(root);
    CHECK_OK(pub_edit_write(e, "x.txt", new_text, strlen(new_text)));
    pub_buf diff = PUB_BUF_INIT;
    CHECK_OK(pub_edit_diff(e, &diff));
    CHECK_STR(pub_buf_cstr(&diff), want);
    pub_buf_free(&diff);
    pub_edit_free(e);
}

static void test_diff_shapes(void)
{
    const char *head = "diff --git a/x.txt b/x.txt\n--- a/x.txt\n+++ b/x.txt\n";
    pub_buf want = PUB_BUF_INIT;
    /* Two changes far apart: two hunks with 3 lines of context each. */
    pub_buf_printf(&want, "%s@@ -1,4 +1,4 @@\n-1\n+one\n 2\n 3\n 4\n"
                          "@@ -9,4 +9,4 @@\n 9\n 10\n 11\n-12\n+twelve\n", head);
    diff_of("1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n",
            "one\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\ntwelve\n", pub_buf_cstr(&want));
    /* Close changes merge into one hunk. */
    pub_buf_clear(&want);
    pub_buf_printf(&want, "%s@@ -1,8 +1,8 @@\n-1\n+one\n 2\n 3\n 4\n 5\n 6\n-7\n+seven\n 8\n", head);
    diff_of("1\n2\n3\n4\n5\n6\n7\n8\n", "one\n2\n3\n4\n5\n6\nseven\n8\n", pub_buf_cstr(&want));
    /* A missing final newline is marked. */
    pub_buf_clear(&want);
    pub_buf_printf(&want, "%s@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+b\n", head);
    diff_of("a\nb", "a\nb\n", pub_buf_cstr(&want));
    /* Insertion in the middle; a pure insertion's old side is "-N,0". */
    pub_buf_clear(&want);
    pub_buf_printf(&want, "%s@@ -1,3 +1,4 @@\n a\n+new\n b\n c\n", head);
    diff_of("a\nb\nc\n", "a\nnew\nb\nc\n", pub_buf_cstr(&want));
    pub_buf_clear(&want);
    pub_buf_printf(&want, "%s@@ -0,0 +1 @@\n+a\n", head);
    diff_of("", "a\n", pub_buf_cstr(&want));
    /* Unchanged bytes: no entry at all. */
    diff_of("same\n", "same\n", "");
    pub_buf_free(&want);
}

static void test_failure_touches_nothing(void)
{
    for (size_t nth = 1; nth <= 3; nth++) {
        fresh_site();
        char *before = snapshot();
        pub_edit *e = stage_four();
        pub_edit_inject_fault(e, nth);
        pub_edit_summary s;
        pub_diag *d = pub_edit_commit(e, &s);
        CHECK(d != NULL);
        if (d) {
            const char *want_path = nth == 1 ? "posts/2024-01-01-a.md"
                                    : nth == 2 ? "posts/2024-01-02-c.md"
                                               : "posts/new/2024-02-02-d.md";
            CHECK_STR(d->path, want_path);
            CHECK_STR(d->message, "cannot write: Input/output error");
        }
        pub_diag_free(d);
        pub_edit_free(e);
        CHECK(count_temps_in(root) == 0);
        /* The folder made for the new post may stay; every file is as it was. */
        char *new_dir = pub_path_join(root, "posts/new");
        rmdir(new_dir);
        free(new_dir);
        char *after = snapshot();
        CHECK(strcmp(before, after) == 0);
        free(before), free(after);
    }
}

static void test_errors(void)
{
    fresh_site();
    pub_edit *e = pub_edit_new(root);
    CHECK_ERR(pub_edit_write(e, "../x.md", "x", 1), "../x.md",
              "path '../x.md' is outside the source folder");
    CHECK_ERR(pub_edit_write(e, "/etc/passwd", "x", 1), "/etc/passwd",
              "path '/etc/passwd' is outside the source folder");
    CHECK_OK(pub_edit_write(e, "posts/2024-01-01-a.md", "x", 1));
    CHECK_ERR(pub_edit_delete(e, "posts/./2024-01-01-a.md"), "posts/2024-01-01-a.md",
              "'posts/2024-01-01-a.md' is edited twice");
    CHECK_ERR(pub_edit_rename(e, "pages/about.md", "posts/2024-01-01-a.md", NULL, 0),
              "posts/2024-01-01-a.md", "'posts/2024-01-01-a.md' is edited twice");
    pub_edit_free(e);

    char *before = snapshot();
    e = pub_edit_new(root);
    CHECK_OK(pub_edit_write(e, "posts/2024-01-01-a.md", "x", 1));
    CHECK_OK(pub_edit_rename(e, "posts/2024-01-02-b.md", "pages/about.md", NULL, 0));
    pub_buf diff = PUB_BUF_INIT;
    CHECK_ERR(pub_edit_diff(e, &diff), "posts/2024-01-02-b.md",
              "cannot rename to 'pages/about.md': it already exists");
    CHECK_ERR(pub_edit_commit(e, NULL), "posts/2024-01-02-b.md",
              "cannot rename to 'pages/about.md': it already exists");
    pub_edit_free(e);
    e = pub_edit_new(root);
    CHECK_OK(pub_edit_delete(e, "posts/gone.md"));
    CHECK_ERR(pub_edit_commit(e, NULL), "posts/gone.md", "cannot delete: No such file or directory");
    pub_edit_free(e);
    e = pub_edit_new(root);
    CHECK_OK(pub_edit_write(e, "posts", "x", 1));
    CHECK_ERR(pub_edit_commit(e, NULL), "posts", "cannot edit: not a regular file");
    pub_edit_free(e);
    char *after = snapshot();
    CHECK(strcmp(before, after) == 0);
    CHECK(count_temps_in(root) == 0);
    free(before), free(after);
    pub_buf_free(&diff);
}

static void test_cleanup(void)
{
    fresh_site();
    put("posts/.2024-01-01-a.md.publish-edit-abc123", "half", 0600);
    put("posts/deep/er/.x.md.publish-edit-zzzzzz", "half", 0600);
    put(".git/.keep.publish-edit-aaaaaa", "not ours to walk", 0600);
    put("posts/publish-edit-lookalike.md", "a post", 0644);
    size_t removed = 99;
    CHECK_OK(pub_edit_cleanup(root, &removed));
    CHECK(removed == 2);
    char *kept = get(".git/.keep.publish-edit-aaaaaa");
    CHECK(kept != NULL);
    free(kept);
    kept = get("posts/publish-edit-lookalike.md");
    CHECK(kept != NULL);
    free(kept);
    CHECK(get("posts/.2024-01-01-a.md.publish-edit-abc123") == NULL);
    CHECK_OK(pub_edit_cleanup(root, &removed));
    CHECK(removed == 0);
}

int main(void)
{
    test_commit();
    test_dry_run();
    test_diff_shapes();
    test_failure_touches_nothing();
    test_errors();
    test_cleanup();
    if (root[0]) pub_file_remove_tree(root);
    return check_finish();
}
