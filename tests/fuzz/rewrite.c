/* Fuzz: the surgical rewrite (core/rewrite.c) on any post. Whenever the
 * post parses: a rewrite with no change gives back every byte; setting its
 * first key to a new string, or removing its last key, either is refused
 * with a message or gives a file that parses to exactly the intended front
 * matter (that key changed, every other key as it was) and keeps the body. */
#include "frontmatter.h"
#include "fuzz.h"
#include "rewrite.h"
#include <string.h>

/* Rewrites `text` with `change` and checks the result against `want`. */
static void try_change(const char *text, size_t size, const pub_fm *fm,
                       const pub_rewrite_change *change, const pub_value *want)
{
    pub_buf out = PUB_BUF_INIT;
    pub_diag *err = pub_rewrite("posts/fuzz.md", text, size, change, 1, NULL, 0, &out);
    if (err) { /* refused: it would change the meaning of something else */
        if (out.len) FUZZ_FAIL("a refused rewrite left output behind");
        pub_diag_free(err);
        return;
    }
    pub_fm again;
    pub_diag *perr = pub_fm_parse("posts/fuzz.md", out.data, out.len, &again);
    if (perr) FUZZ_FAIL("rewritten file does not parse: %s\n%s", perr->message, pub_buf_cstr(&out));
    if (!pub_value_equal(again.meta, want))
        FUZZ_FAIL("rewrite of '%s' changed more than that key:\n%s", change->key, pub_buf_cstr(&out));
    size_t body = size - fm->body_start, body2 = out.len - again.body_start;
    if (fm->present && (body != body2 || memcmp(text + fm->body_start, out.data + again.body_start, body)))
        FUZZ_FAIL("rewrite of '%s' changed the body", change->key);
    pub_fm_free(&again);
    pub_buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    pub_fm fm;
    pub_diag *err = pub_fm_parse("posts/fuzz.md", text, size, &fm);
    if (err) {
        pub_diag_free(err);
        free(text);
        return 0;
    }
    pub_buf out = PUB_BUF_INIT;
    pub_diag *rerr = pub_rewrite("posts/fuzz.md", text, size, NULL, 0, NULL, 0, &out);
    if (rerr) FUZZ_FAIL("a rewrite with no change failed: %s", rerr->message);
    if (out.len != size || (size && memcmp(out.data, text, size) != 0))
        FUZZ_FAIL("a rewrite with no change changed bytes");
    pub_buf_free(&out);

    size_t nkeys = fm.meta->as.map.len;
    if (nkeys > 0) {
        const pub_pair *first = &fm.meta->as.map.pairs[0];
        if (strlen(first->key) == first->key_len) {
            pub_value *value = pub_value_string("fuzz value", 10);
            pub_value *want = pub_value_copy(fm.meta);
            pub_map_set(want, first->key, first->key_len, pub_value_copy(value));
            pub_rewrite_change set = {first->key, value};
            try_change(text, size, &fm, &set, want);
            pub_value_free(want);
            pub_value_free(value);
        }
        const pub_pair *last = &fm.meta->as.map.pairs[nkeys - 1];
        if (strlen(last->key) == last->key_len) {
            pub_value *want = pub_value_map();
            for (size_t i = 0; i + 1 < nkeys; i++)
                pub_map_set(want, fm.meta->as.map.pairs[i].key, fm.meta->as.map.pairs[i].key_len,
                            pub_value_copy(fm.meta->as.map.pairs[i].value));
            pub_rewrite_change remove = {last->key, NULL};
            try_change(text, size, &fm, &remove, want);
            pub_value_free(want);
        }
    }
    pub_fm_free(&fm);
    free(text);
    return 0;
}
