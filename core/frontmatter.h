/* Front matter: finding the `---` fences of a post, reading the YAML between
 * them into a pub_value map with libyaml, and reading whole YAML documents
 * (config, data files). Knows nothing of posts or sites. */
#ifndef PUB_FRONTMATTER_H
#define PUB_FRONTMATTER_H
#include "diag.h"
#include "util/buf.h"
#include "value.h"
#include <stdbool.h>
#include <stddef.h>

/* Limits that keep hostile YAML cheap: nesting depth, and the number of
 * nodes aliases may expand to (a "billion laughs" document stops here). */
#define PUB_YAML_MAX_DEPTH 64
#define PUB_YAML_MAX_ALIAS_NODES 10000

/* How plain scalars are typed. Native sites read YAML 1.2 (core schema);
 * Jekyll sites read YAML as Ruby's Psych does (YAML 1.1), where yes/no/on/off
 * (any case) are booleans too. */
typedef enum { PUB_YAML_12, PUB_YAML_11 } pub_yaml_version;

typedef struct pub_fm {
    bool present;      /* the file opens with a front matter block */
    bool bom;          /* the file starts with a UTF-8 BOM */
    bool crlf;         /* the opening fence ends in CRLF */
    size_t yaml_start; /* byte range of the YAML text between the fences */
    size_t yaml_end;
    size_t body_start; /* first byte of the body (after the closing fence line) */
    int body_line;     /* 1-based line number of body_start */
    pub_value *meta;   /* always a map (empty without front matter); owned */
    pub_diag **warnings; /* duplicate keys (the later value is kept); owned */
    size_t nwarnings;
} pub_fm;

/* Splits and parses `src` (the whole file). The opening fence is `---` on
 * the first line (after an optional BOM); the closing one is the next line
 * that is `---` or `...`. A file whose first line is not `---` has no front
 * matter and is all body. Errors (unclosed block, YAML errors, a top level
 * that is not a mapping, invalid UTF-8, depth/alias limits) are returned
 * with 1-based line/col in the file; `path` is only copied into them.
 * On success *out is filled (free with pub_fm_free); on error it is zeroed. */
pub_diag *pub_fm_parse(const char *path, const char *src, size_t len, pub_fm *out);
/* The same, reading the YAML as `version`. A key given twice in one mapping
 * is not an error (real posts have them; Jekyll and common loaders take the
 * later value): the later value replaces the earlier one in place and a
 * warning "duplicate key 'K' (the later value is used)" at the later key is
 * added to out->warnings. */
pub_diag *pub_fm_parse_as(const char *path, const char *src, size_t len,
                          pub_yaml_version version, pub_fm *out);
/* Frees meta and warnings; the fm can be reused. */
void pub_fm_free(pub_fm *fm);

/* Parses one YAML document; `first_line` is the file line the text starts
 * on (1 for a whole file). An empty document yields a PUB_NULL value.
 * On success *out is owned by the caller (pub_value_free). */
pub_diag *pub_yaml_parse(const char *path, const char *text, size_t len,
                         int first_line, pub_value **out);
/* The same, as `version`; duplicate-key warnings (see pub_fm_parse_as) go
 * to `warnings` (NULL: dropped). */
pub_diag *pub_yaml_parse_as(const char *path, const char *text, size_t len, int first_line,
                            pub_yaml_version version, pub_value **out, pub_diags *warnings);

/* Appends `v` as block-style YAML (strings quoted only when needed, dates as
 * YAML timestamps), ending with a newline; for publish.yaml.dump and for
 * keys written by bulk edits. `indent` is the starting indentation. */
void pub_yaml_emit(const pub_value *v, int indent, pub_buf *out);

#endif
