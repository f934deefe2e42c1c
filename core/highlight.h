/* Syntax highlighting of code blocks at build time, with GNU
 * source-highlight's library (a maintained grammar library from Debian:
 * libsource-highlight). This module turns a block of code and a language
 * name into the HTML that goes inside <pre><code>: the code, escaped, with
 * its tokens in <span class="..."> elements. The class names are the short
 * Pygments/Rouge ones (k keyword, s string, c comment, nf function, ...),
 * so a Jekyll theme's syntax stylesheet works unchanged.
 *
 * It does not decide where code blocks are (the `highlight` plugin and
 * Liquid's {% highlight %} do, through publish.highlight), and it never
 * lexes anything itself: languages source-highlight lacks (TypeScript,
 * YAML, Markdown) come as language definition files in core/highlight/,
 * compiled into the binary.
 *
 * Thread-safe, and parallel: source-highlight's definition cache is not
 * thread-safe, so each thread has its own (highlight_shim.cpp), built on
 * the thread's first block of a language. */
#ifndef PUB_HIGHLIGHT_H
#define PUB_HIGHLIGHT_H
#include <stddef.h>
#include <stdint.h>

typedef struct pub_hl_options {
    long linenos; /* 0: no line numbers; else the number of the first line */
} pub_hl_options;

/* The definition file that highlights `lang` ("c.lang", "@yaml.lang" for
 * one of ours), or NULL when the language is unknown. Names are matched
 * case-insensitively, with the usual aliases ("py", "sh", "bash", "yml",
 * "ts", "c++"...). The string is static. */
const char *pub_hl_language(const char *lang);

/* source-highlight's time grows with the square of a line's length (a
 * 26 KB line takes seconds): a block with a longer line, or longer in
 * all, is not highlighted (pub_hl_render fails with a message saying
 * which), so that pasted minified code cannot stall a build. Within these
 * bounds the worst block (100 lines of 1000 bytes) takes one to two
 * seconds; ordinary code, a few milliseconds. */
#define PUB_HL_MAX_LINE 1000
#define PUB_HL_MAX_BLOCK (100 * 1024)

/* Highlights `len` bytes of code in `lang`. Returns the HTML (caller
 * frees with free()), its length in *out_len when not NULL; NULL when the
 * language is unknown, or when source-highlight failed, in which case
 * *error (when error is not NULL) gets a message (caller frees) and the
 * caller should show the code plain: source-highlight failed, or the code
 * is over the bounds above ("line 3 is longer than 1000 bytes"). Each line of the code keeps its
 * newline; with opts->linenos every line starts with
 * <span class="linenos">N</span>. `opts` may be NULL. */
char *pub_hl_render(const char *code, size_t len, const char *lang,
                    const pub_hl_options *opts, size_t *out_len, char **error);

/* The build-cache key (cache.h) of the HTML pub_hl_render gives for
 * these arguments: the code, the definition file `lang` resolves to, the
 * options, pub_hl_version() and the bytes of our definition files (so an
 * edited .lang misses even if nobody bumped a version). 0 when the
 * language is unknown. */
uint64_t pub_hl_cache_key(const char *code, size_t len, const char *lang,
                          const pub_hl_options *opts);

/* Names what the output depends on besides the code and the options (the
 * library's version and ours); part of the cache key. Static string. */
const char *pub_hl_version(void);

#endif
