/* The C side of the C++ shim over GNU source-highlight (highlight_shim.cpp),
 * used by highlight.c only. No C++ exception crosses this header: each
 * function catches everything and reports it as an error string.
 * pub_hl_shim_lookup is not thread-safe (highlight.c calls it under its
 * lock); loading and running may be called from several threads at once:
 * each thread has its own definition cache. */
#ifndef PUB_HIGHLIGHT_SHIM_H
#define PUB_HIGHLIGHT_SHIM_H
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Receives the highlighted code in order: a token's text (`element` is
 * source-highlight's element name, "normal" for plain text), or the end of
 * a line (`element` NULL, `text` "\n", or "" for a last line without one). */
typedef void (*pub_hl_shim_emit)(void *ud, const char *element, const char *text, size_t len);

/* The definition file source-highlight's lang.map gives `lang` (exact,
 * case-sensitive), or NULL. Caller frees. */
char *pub_hl_shim_lookup(const char *lang);

/* source-highlight's data folder (where lang.map is). Caller frees. */
char *pub_hl_shim_datadir(void);

/* Loads the definition `file` in folder `dir` into this thread's
 * definition cache, where later runs on this thread with the same `dir`
 * and `file` find it without reading files. Returns NULL or an error
 * message (caller frees). */
char *pub_hl_shim_load(const char *dir, const char *file);

/* Highlights `len` bytes of `code` with the definition `file` in folder
 * `dir`, line by line, calling `emit`. Returns NULL, or an error message
 * (caller frees) when the definition cannot be loaded. */
char *pub_hl_shim_run(const char *dir, const char *file, const char *code, size_t len,
                      pub_hl_shim_emit emit, void *ud);

#ifdef __cplusplus
}
#endif
#endif
