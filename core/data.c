/* Data files into one tree. The folder a file sits in becomes a nested key
 * (Jekyll's rule, for native sites too), the file's extension picks the
 * parser: YAML/JSON through the front-matter module's YAML reader (JSON is
 * YAML 1.2), CSV/TSV through the small table reader here. */
#include "data.h"
#include "frontmatter.h"
#include "site.h"
#include "util/buf.h"
#include "util/mem.h"
#include "util/path.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- CSV / TSV ----------------------------------------------------------- */

typedef struct table_reader {
    const char *s;
    size_t len, at;
    int line;
    char sep;
} table_reader;

/* An empty unquoted field is nil, as Ruby's CSV reads it; "" is "". */
static pub_value *field_value(pub_buf *field, bool quoted)
{
    if (!field->len && !quoted) return pub_value_null();
    return pub_value_string(field->data ? field->data : "", field->len);
}

/* Reads one row into `row` (a list of strings); false at the end of the
 * text. *bad_line is set when a quoted field never closes. */
static bool read_row(table_reader *r, pub_value *row, int *bad_line)
{
    if (r->at >= r->len) return false;
    pub_buf field = PUB_BUF_INIT;
    bool quoted = false, was_quoted = false, any = false;
    int start_line = r->line;
    while (r->at < r->len) {
        char c = r->s[r->at++];
        if (quoted) {
            if (c == '"' && r->at < r->len && r->s[r->at] == '"') {
                pub_buf_putc(&field, '"');
                r->at++;
            } else if (c == '"') {
                quoted = false;
            } else {
                if (c == '\n') r->line++;
                pub_buf_putc(&field, c);
            }
            continue;
        }
        if (c == '"' && field.len == 0) {
            quoted = was_quoted = any = true;
        } else if (c == r->sep) {
            pub_list_push(row, field_value(&field, was_quoted));
            pub_buf_clear(&field);
            was_quoted = false;
            any = true;
        } else if (c == '\n' || c == '\r') {
            if (c == '\r' && r->at < r->len && r->s[r->at] == '\n') r->at++;
            r->line++;
            break;
        } else {
            pub_buf_putc(&field, c);
            any = true;
        }
    }
    if (quoted) *bad_line = start_line;
    if (any || field.len) pub_list_push(row, field_value(&field, was_quoted));
    pub_buf_free(&field);
    return true;
}

pub_diag *pub_data_parse_table(const char *path, const char *text, size_t len, char sep,
                               pub_value **out)
{
    *out = NULL;
    size_t skip = len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
    table_reader r = {text, len, skip, 1, sep};
    pub_value *header = NULL, *rows = pub_value_list();
    int bad_line = 0;
    for (;;) {
        int line = r.line;
        pub_value *row = pub_value_list();
        if (!read_row(&r, row, &bad_line)) {
            pub_value_free(row);
            break;
        }
        if (bad_line) {
            pub_value_free(row);
            pub_value_free(header);
            pub_value_free(rows);
            return pub_diag_new(PUB_ERROR, path, bad_line, 1, "unclosed quoted field");
        }
        if (row->as.list.len == 0 && !header) {
            pub_value_free(row);
            continue; /* a blank line after the header is a row of nils (Ruby's CSV) */
        }
        if (!header) {
            header = row;
            continue;
        }
        pub_value *map = pub_value_map();
        map->line = line;
        map->col = 1;
        for (size_t i = 0; i < header->as.list.len; i++) {
            const pub_value *key = header->as.list.items[i];
            pub_value *v = i < row->as.list.len ? pub_value_copy(row->as.list.items[i])
                                                : pub_value_null();
            pub_map_set(map, key->as.string.bytes, key->as.string.len, v);
        }
        pub_list_push(rows, map);
        pub_value_free(row);
    }
    pub_value_free(header);
    *out = rows;
    return NULL;
}

/* ---- The tree -------------------------------------------------------------- */

/* The map at `folder` ("a/b") inside `root`, made as needed; NULL when a
 * file already took one of those names (reported by the caller). */
static pub_value *folder_map(pub_value *root, const char *folder)
{
    pub_value *map = root;
    const char *at = folder;
    while (*at) {
        size_t n = strcspn(at, "/");
        char *name = pub_xstrndup(at, n);
        pub_value *child = pub_map_get(map, name);
        if (!child) {
            child = pub_value_map();
            child->line = -1;
            pub_map_set(map, name, n, child);
        } else if (child->type != PUB_MAP || child->line != -1) {
            free(name);
            return NULL;
        }
        free(name);
        map = child;
        at += n;
        if (*at == '/') at++;
    }
    return map;
}

static pub_value *parse_file(const pub_site *site, const char *display, const char *ext,
                             const char *text, size_t len, pub_diags *diags)
{
    pub_value *value = NULL;
    pub_diag *err;
    if (strcasecmp(ext, ".csv") == 0 || strcasecmp(ext, ".tsv") == 0)
        err = pub_data_parse_table(display, text, len, strcasecmp(ext, ".csv") == 0 ? ',' : '\t',
                                   &value);
    else
        err = pub_yaml_parse_as(display, text, len, 1, site->yaml, &value, diags);
    if (err) pub_diags_take(diags, err);
    return value;
}

static bool is_data_file(const char *ext)
{
    static const char *const exts[] = {".yaml", ".yml", ".json", ".csv", ".tsv"};
    for (size_t i = 0; i < sizeof exts / sizeof *exts; i++)
        if (strcasecmp(ext, exts[i]) == 0) return true;
    return false;
}

pub_value *pub_data_load(const pub_site *site, pub_diags *diags)
{
    pub_value *root = pub_value_map();
    /* Folder maps carry line -1 so a file's own map is told apart. */
    root->line = -1;
    for (size_t i = 0; i < site->ndata; i++) {
        const char *rel = site->data_files[i];
        const char *ext = pub_path_ext(rel);
        if (!is_data_file(ext)) continue;
        char *display = pub_path_join(site->reader->data, rel);
        char *text = NULL;
        size_t len = 0;
        pub_diag *outside = NULL;
        int rc = pub_confine_read(site->confine, display, &text, &len, &outside);
        pub_value *value = NULL;
        if (rc == PUB_CONFINE_OUTSIDE)
            pub_diags_take(diags, outside);
        else if (rc != 0)
            pub_diags_add(diags, PUB_ERROR, display, 0, 0, "cannot read: %s", strerror(rc));
        else
            value = parse_file(site, display, ext, text, len, diags);
        if (value) {
            const char *base = pub_path_base(rel);
            char *folder = pub_xstrndup(rel, (size_t)(base - rel));
            char *name = pub_xstrndup(base, (size_t)(ext - base));
            pub_value *map = folder_map(root, folder);
            if (!map || pub_map_get(map, name)) {
                char *key = pub_xstrndup(rel, (size_t)(ext - rel));
                for (char *c = key; *c; c++)
                    if (*c == '/') *c = '.';
                pub_diags_add(diags, PUB_ERROR, display, 0, 0,
                              "site.data.%s comes from another file or folder too", key);
                free(key);
                pub_value_free(value);
            } else {
                pub_map_set(map, name, strlen(name), value);
            }
            free(name);
            free(folder);
        }
        free(text);
        free(display);
    }
    return root;
}
