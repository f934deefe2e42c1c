/* Per-call limits (see limits.h). The memory cap lives in the allocator:
 * past the cap it flags the state and lets the allocation through, and the
 * count hook, which knows the plugin's line, collects garbage and raises
 * if the heap is still over; only past half as much again does the
 * allocator refuse outright (Lua then raises "not enough memory", without
 * a line, which pub_limits_finish turns back into the named limit at the
 * line noted when the allocator refused). The count hook also counts instructions and
 * reads the monotonic clock, so no watchdog thread is needed: a C function
 * that could run for long checks pub_limits_expired itself (the guarded
 * pattern functions do). Engine code (core/lua/engine.lua) is never
 * interrupted, so its error handling runs to the end. */
#define _GNU_SOURCE
#include "limits.h"
#include "../util/mem.h"
#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Instructions between two runs of the hook. */
#define STEP 10000

typedef struct limits {
    size_t used;               /* bytes held by the state */
    pub_limit_settings set;
    bool armed;
    size_t base;               /* `used` when the call began */
    bool over;                 /* the soft memory cap was passed */
    long long executed;        /* instructions in this call, in STEPs */
    struct timespec deadline;
    const char *tripped;       /* the limit exceeded in this call, or NULL */
    char where[256];           /* last plugin line the hook saw, "FILE:LINE" */
    lua_State *main;           /* the state's main thread */
    char message[512];
} limits;

static void *limited_alloc(void *ud, void *ptr, size_t osize, size_t nsize);

/* The state's accounting; NULL for a state not made here (a bare
 * luaL_newstate in tests), where every limit is off. */
static limits *get(lua_State *L)
{
    void *ud;
    return lua_getallocf(L, &ud) == limited_alloc ? ud : NULL;
}

static size_t cap_bytes(const limits *lim)
{
    return lim->set.memory_mb << 20;
}

/* The allocator is about to refuse: Lua will raise "not enough memory"
 * without a line, so note the innermost Lua line of the main thread now.
 * lua_getinfo with "Sl" only reads the call records (which Lua keeps
 * current before any allocation), it allocates nothing. */
static void note_position(limits *lim)
{
    lua_Debug ar;
    for (int level = 0; lim->main && lua_getstack(lim->main, level, &ar); level++) {
        if (!lua_getinfo(lim->main, "Sl", &ar) || ar.currentline <= 0 ||
            strcmp(ar.source, "@core/lua/engine.lua") == 0)
            continue;
        snprintf(lim->where, sizeof lim->where, "%s:%d",
                 ar.source[0] == '@' ? ar.source + 1 : ar.short_src, ar.currentline);
        return;
    }
}

static void *limited_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    limits *lim = ud;
    size_t old = ptr ? osize : 0;
    if (nsize == 0) {
        free(ptr);
        lim->used -= old;
        return NULL;
    }
    if (lim->armed && lim->set.memory_mb && nsize > old) {
        size_t cap = cap_bytes(lim), after = lim->used - old + nsize;
        if (after > lim->base + cap) {
            lim->over = true;
            if (after > lim->base + cap + cap / 2) {
                lim->tripped = "memory";
                note_position(lim);
                return NULL;
            }
        }
    }
    void *p = realloc(ptr, nsize);
    if (p) lim->used = lim->used - old + nsize;
    return p;
}

lua_State *pub_limits_newstate(void)
{
    limits *lim = pub_xcalloc(1, sizeof *lim);
    lim->set = (pub_limit_settings){PUB_LIMIT_MEMORY_MB, PUB_LIMIT_INSTRUCTIONS, PUB_LIMIT_SECONDS};
    lua_State *L = lua_newstate(limited_alloc, lim);
    if (!L) {
        fprintf(stderr, "publish: out of memory (lua state)\n");
        abort();
    }
    lim->main = L;
    return L;
}

void pub_limits_close(lua_State *L)
{
    if (!L) return;
    limits *lim = get(L);
    lua_close(L);
    free(lim);
}

void pub_limits_configure(lua_State *L, const pub_limit_settings *settings)
{
    limits *lim = get(L);
    if (lim) lim->set = *settings;
}

size_t pub_limits_memory(lua_State *L)
{
    limits *lim = get(L);
    return lim ? lim->used : 0;
}

static bool past(const struct timespec *t)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec > t->tv_sec || (now.tv_sec == t->tv_sec && now.tv_nsec >= t->tv_nsec);
}

/* Words the message of limit `name` at `where` into lim->message. */
static void compose(limits *lim, const char *name, const char *where)
{
    char amount[64];
    if (strcmp(name, "memory") == 0)
        snprintf(amount, sizeof amount, "%zu MB", lim->set.memory_mb);
    else if (strcmp(name, "instruction") == 0)
        snprintf(amount, sizeof amount, "%lld instructions", lim->set.instructions);
    else
        snprintf(amount, sizeof amount, "%g s", lim->set.seconds);
    const char *key = strcmp(name, "memory") == 0        ? "memory"
                      : strcmp(name, "instruction") == 0 ? "instructions"
                                                         : "seconds";
    snprintf(lim->message, sizeof lim->message, "%s%s%s limit exceeded (%s per hook call; limits.%s in the config)",
             where, where[0] ? ": " : "", name, amount, key);
}

static void hook(lua_State *L, lua_Debug *ar);

/* Marks the call as over and raises the message from now on at every
 * instruction of plugin code. */
static int trip(lua_State *L, limits *lim, const char *name, const char *where)
{
    lim->tripped = name;
    compose(lim, name, where);
    lua_sethook(L, hook, LUA_MASKCOUNT, 1);
    lua_pushstring(L, lim->message);
    return lua_error(L);
}

static void hook(lua_State *L, lua_Debug *ar)
{
    limits *lim = get(L);
    if (!lim->armed) return;
    lua_getinfo(L, "Sl", ar);
    if (strcmp(ar->source, "@core/lua/engine.lua") == 0) return;
    if (lim->tripped) {
        if (!lim->message[0]) compose(lim, lim->tripped, lim->where);
        lua_sethook(L, hook, LUA_MASKCOUNT, 1);
        lua_pushstring(L, lim->message);
        lua_error(L);
    }
    snprintf(lim->where, sizeof lim->where, "%s:%d", ar->source[0] == '@' ? ar->source + 1 : ar->short_src,
             ar->currentline);
    lim->executed += STEP;
    if (lim->over) {
        lua_gc(L, LUA_GCCOLLECT);
        lim->over = lim->used > lim->base + cap_bytes(lim);
        if (lim->over) trip(L, lim, "memory", lim->where);
    }
    if (lim->set.instructions && lim->executed > lim->set.instructions)
        trip(L, lim, "instruction", lim->where);
    if (lim->set.seconds > 0 && past(&lim->deadline)) trip(L, lim, "time", lim->where);
}

void pub_limits_begin(lua_State *L)
{
    limits *lim = get(L);
    if (!lim) return;
    lim->armed = true;
    lim->base = lim->used;
    lim->over = false;
    lim->executed = 0;
    lim->tripped = NULL;
    lim->where[0] = '\0';
    lim->message[0] = '\0';
    clock_gettime(CLOCK_MONOTONIC, &lim->deadline);
    double whole = (double)(long long)lim->set.seconds;
    lim->deadline.tv_sec += (time_t)whole;
    lim->deadline.tv_nsec += (long)((lim->set.seconds - whole) * 1e9);
    if (lim->deadline.tv_nsec >= 1000000000L) {
        lim->deadline.tv_sec++;
        lim->deadline.tv_nsec -= 1000000000L;
    }
    lua_sethook(L, hook, LUA_MASKCOUNT, STEP);
}

const char *pub_limits_finish(lua_State *L)
{
    limits *lim = get(L);
    if (!lim) return NULL;
    lim->armed = false;
    lua_sethook(L, NULL, 0, 0);
    if (!lim->tripped) return NULL;
    /* The allocator refused: Lua said only "not enough memory". */
    if (!lim->message[0]) compose(lim, lim->tripped, lim->where);
    return lim->message;
}

bool pub_limits_expired(lua_State *L)
{
    limits *lim = get(L);
    return lim && lim->armed && (lim->tripped || (lim->set.seconds > 0 && past(&lim->deadline)));
}

int pub_limits_raise(lua_State *L)
{
    limits *lim = get(L);
    if (!lim) return luaL_error(L, "time limit exceeded");
    if (lim->tripped && lim->message[0]) {
        lua_pushstring(L, lim->message);
        return lua_error(L);
    }
    luaL_where(L, 1);
    char where[256];
    snprintf(where, sizeof where, "%s", lua_tostring(L, -1));
    lua_pop(L, 1);
    size_t n = strlen(where);
    if (n >= 2 && where[n - 2] == ':' && where[n - 1] == ' ') where[n - 2] = '\0';
    return trip(L, lim, lim->tripped ? lim->tripped : "time", where);
}
