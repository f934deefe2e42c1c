/* Data files: the site's data folder (`data/`, Jekyll's `_data/`) read
 * into one tree for site.data. YAML, JSON, CSV and TSV; folders nest, so
 * `data/a/b.yml` is site.data.a.b. Knows nothing of Lua. */
#ifndef PUB_DATA_H
#define PUB_DATA_H
#include "diag.h"
#include "value.h"

struct pub_site;

/* Reads every data file the site lists (site->data_files, below
 * site->reader->data) into a map. Problems (unreadable files, parse
 * errors, two files giving one key) go to `diags`; the rest is still
 * read. Caller frees with pub_value_free. */
pub_value *pub_data_load(const struct pub_site *site, pub_diags *diags);

/* Parses CSV (`sep` ',') or TSV (`sep` '	') text with a header row into a
 * list of maps, one per row, as Jekyll (Ruby's CSV) reads it: values are
 * strings, an empty unquoted field or a missing one is null, "" is "".
 * Fields may be quoted ("a, b", "say ""hi"""); CRLF and LF both end rows;
 * a blank line after the header is a row of nulls. An unclosed quote is an
 * error naming `path` and the line where the field began. On success *out
 * is owned by the caller. */
pub_diag *pub_data_parse_table(const char *path, const char *text, size_t len, char sep,
                               pub_value **out);

#endif
