/* Shared by the fuzz harnesses (tests/fuzz/NAME.c). Each harness defines
 * LLVMFuzzerTestOneInput; built with clang's -fsanitize=fuzzer it is a
 * libFuzzer binary, otherwise it is linked with replay.c and runs its seed
 * corpus once (so every build checks the seeds, and the harness code
 * compiles under the project's warnings). A property that does not hold
 * calls FUZZ_FAIL, which prints the reason and aborts: libFuzzer saves the
 * input as a crash. */
#ifndef PUB_FUZZ_H
#define PUB_FUZZ_H
#include <lauxlib.h>
#include <lua.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_FAIL(...)                                                      \
    do {                                                                    \
        fprintf(stderr, "fuzz property failed at %s:%d: ", __FILE__, __LINE__); \
        fprintf(stderr, __VA_ARGS__);                                       \
        fputc('\n', stderr);                                                \
        abort();                                                            \
    } while (0)

/* A new Lua state with the standard libraries and the `publish` library.
 * One per input, closed with lua_close at its end: every allocation of an
 * input is then freed by it, so libFuzzer's leak check stays cheap (it
 * runs LeakSanitizer whenever an input's mallocs and frees differ) and a
 * real leak in a C binding still shows. */
lua_State *fuzz_lua(void);

/* One state kept for the whole run (stack emptied, collected now and
 * then), for harnesses whose setup is most of the work (loading the
 * template plugin or the engine). Their mallocs and frees never balance
 * per input, so they run with -detect_leaks=0 (tests/fuzz/NAME.options);
 * the per-input harnesses cover leaks in the C bindings. */
lua_State *fuzz_lua_shared(void);

/* Loads the embedded Lua file `path` ("plugins/template.lua") and leaves
 * what it returns on the stack. Aborts if it is missing or fails. */
void fuzz_require_embedded(lua_State *L, const char *path);

#endif
