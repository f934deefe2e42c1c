/* Fuzz: front matter. Any bytes as a post: pub_fm_parse must not crash or
 * leak, an error must carry the post's path, and parsed front matter must
 * survive the writer: pub_yaml_emit of the map reads back as the same map
 * (what `publish run` relies on when it writes a changed key). Both YAML
 * flavours are tried. */
#include "frontmatter.h"
#include "fuzz.h"
#include <string.h>

static void check(const char *data, size_t size, pub_yaml_version version)
{
    pub_fm fm;
    pub_diag *err = pub_fm_parse_as("posts/fuzz.md", data, size, version, &fm);
    if (err) {
        if (!err->path || strcmp(err->path, "posts/fuzz.md") != 0 || err->line < 0 || err->col < 0)
            FUZZ_FAIL("error without its place: %s", err->message);
        pub_diag_free(err);
        return;
    }
    if (!fm.meta || fm.meta->type != PUB_MAP) FUZZ_FAIL("front matter is not a map");
    if (fm.yaml_start > fm.yaml_end || fm.yaml_end > fm.body_start || fm.body_start > size)
        FUZZ_FAIL("ranges out of order: %zu %zu %zu of %zu", fm.yaml_start, fm.yaml_end,
                  fm.body_start, size);
    pub_buf out = PUB_BUF_INIT;
    pub_yaml_emit(fm.meta, 0, &out);
    pub_value *again = NULL;
    pub_diag *rerr = pub_yaml_parse_as("emitted", out.data ? out.data : "", out.len, 1, version,
                                       &again, NULL);
    if (rerr) FUZZ_FAIL("emitted YAML does not parse: %s\n%s", rerr->message, pub_buf_cstr(&out));
    bool same = fm.meta->as.map.len == 0 ? again->type == PUB_NULL || pub_value_equal(fm.meta, again)
                                         : pub_value_equal(fm.meta, again);
    if (!same) FUZZ_FAIL("emitted YAML reads back different:\n%s", pub_buf_cstr(&out));
    pub_value_free(again);
    pub_buf_free(&out);
    pub_fm_free(&fm);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* The reader hands pub_fm_parse NUL-terminated text. */
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    check(text, size, PUB_YAML_12);
    check(text, size, PUB_YAML_11);
    free(text);
    return 0;
}
