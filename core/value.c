/* The pub_value tree: constructors, ownership (free, deep copy), map and
 * list editing, deep equality, and the two date conversions that need the
 * calendar (local offset via mktime, Unix time by plain arithmetic). It
 * knows nothing of YAML syntax; frontmatter.c reads and writes that. */
#define _DEFAULT_SOURCE /* struct tm's tm_gmtoff */
#include "value.h"
#include "util/mem.h"
#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static pub_value *value_new(pub_value_type type)
{
    pub_value *v = pub_xcalloc(1, sizeof *v);
    v->type = type;
    return v;
}

pub_value *pub_value_null(void) { return value_new(PUB_NULL); }

pub_value *pub_value_bool(bool b)
{
    pub_value *v = value_new(PUB_BOOL);
    v->as.boolean = b;
    return v;
}

pub_value *pub_value_int(long long i)
{
    pub_value *v = value_new(PUB_INT);
    v->as.integer = i;
    return v;
}

pub_value *pub_value_float(double f)
{
    pub_value *v = value_new(PUB_FLOAT);
    v->as.number = f;
    return v;
}

pub_value *pub_value_string(const char *s, size_t len)
{
    pub_value *v = value_new(PUB_STRING);
    v->as.string.bytes = pub_xstrndup(s, len);
    v->as.string.len = len;
    return v;
}

pub_value *pub_value_date(const pub_date *d)
{
    pub_value *v = value_new(PUB_DATE);
    v->as.date = *d;
    return v;
}

pub_value *pub_value_list(void) { return value_new(PUB_LIST); }

pub_value *pub_value_map(void) { return value_new(PUB_MAP); }

void pub_value_free(pub_value *v)
{
    if (!v) return;
    switch (v->type) {
    case PUB_STRING:
        free(v->as.string.bytes);
        break;
    case PUB_LIST:
        for (size_t i = 0; i < v->as.list.len; i++) pub_value_free(v->as.list.items[i]);
        free(v->as.list.items);
        break;
    case PUB_MAP:
        for (size_t i = 0; i < v->as.map.len; i++) {
            free(v->as.map.pairs[i].key);
            pub_value_free(v->as.map.pairs[i].value);
        }
        free(v->as.map.pairs);
        break;
    default:
        break;
    }
    free(v);
}

pub_value *pub_value_copy(const pub_value *v)
{
    if (!v) return NULL;
    pub_value *c = value_new(v->type);
    c->line = v->line;
    c->col = v->col;
    switch (v->type) {
    case PUB_STRING:
        c->as.string.bytes = pub_xstrndup(v->as.string.bytes, v->as.string.len);
        c->as.string.len = v->as.string.len;
        break;
    case PUB_LIST: {
        size_t n = v->as.list.len;
        /* Exact capacity: copies (alias expansions) are rarely grown. */
        c->as.list.items = n ? pub_xmalloc(n * sizeof *c->as.list.items) : NULL;
        for (size_t i = 0; i < n; i++) c->as.list.items[i] = pub_value_copy(v->as.list.items[i]);
        c->as.list.len = c->as.list.cap = n;
        break;
    }
    case PUB_MAP: {
        size_t n = v->as.map.len;
        c->as.map.pairs = n ? pub_xmalloc(n * sizeof *c->as.map.pairs) : NULL;
        for (size_t i = 0; i < n; i++) {
            const pub_pair *p = &v->as.map.pairs[i];
            c->as.map.pairs[i].key = pub_xstrndup(p->key, p->key_len);
            c->as.map.pairs[i].key_len = p->key_len;
            c->as.map.pairs[i].key_line = p->key_line;
            c->as.map.pairs[i].key_col = p->key_col;
            c->as.map.pairs[i].value = pub_value_copy(p->value);
        }
        c->as.map.len = c->as.map.cap = n;
        break;
    }
    default:
        c->as = v->as;
        break;
    }
    return c;
}

void pub_list_push(pub_value *list, pub_value *item)
{
    /* Only the container is checked, the one thing every caller makes
     * itself; the item's type is whatever its converter produced. */
    assert(list && list->type == PUB_LIST);
    if (list->as.list.len == list->as.list.cap) {
        list->as.list.cap = list->as.list.cap ? list->as.list.cap * 2 : 4;
        list->as.list.items = pub_xrealloc(list->as.list.items,
                                           list->as.list.cap * sizeof *list->as.list.items);
    }
    list->as.list.items[list->as.list.len++] = item;
}

static pub_pair *find_pair(const pub_value *map, const char *key, size_t key_len)
{
    for (size_t i = 0; i < map->as.map.len; i++) {
        pub_pair *p = &map->as.map.pairs[i];
        if (p->key_len == key_len && memcmp(p->key, key, key_len) == 0) return p;
    }
    return NULL;
}

void pub_map_set(pub_value *map, const char *key, size_t key_len, pub_value *value)
{
    assert(map && map->type == PUB_MAP && key);
    pub_pair *p = find_pair(map, key, key_len);
    if (p) {
        pub_value_free(p->value);
        p->value = value;
        return;
    }
    if (map->as.map.len == map->as.map.cap) {
        map->as.map.cap = map->as.map.cap ? map->as.map.cap * 2 : 8;
        map->as.map.pairs = pub_xrealloc(map->as.map.pairs,
                                         map->as.map.cap * sizeof *map->as.map.pairs);
    }
    p = &map->as.map.pairs[map->as.map.len++];
    p->key = pub_xstrndup(key, key_len);
    p->key_len = key_len;
    p->key_line = p->key_col = 0;
    p->value = value;
}

pub_value *pub_map_get(const pub_value *map, const char *key)
{
    if (!map || map->type != PUB_MAP) return NULL;
    pub_pair *p = find_pair(map, key, strlen(key));
    return p ? p->value : NULL;
}

const char *pub_value_str(const pub_value *v)
{
    return (v && v->type == PUB_STRING) ? v->as.string.bytes : NULL;
}

/* Dates compare by what was written, not by instant: "09:00 +09:00" and
 * "00:00 Z" are different front matter. A zone offset only counts when the
 * zone was explicit, since localizing must not make a date unequal to its
 * own reparse. */
static bool date_equal(const pub_date *a, const pub_date *b)
{
    if (a->year != b->year || a->month != b->month || a->day != b->day) return false;
    if (a->has_time != b->has_time || a->has_zone != b->has_zone) return false;
    if (a->has_time && (a->hour != b->hour || a->min != b->min || a->sec != b->sec ||
                        a->nsec != b->nsec))
        return false;
    if (a->has_zone && a->offset_min != b->offset_min) return false;
    return true;
}

bool pub_value_equal(const pub_value *a, const pub_value *b)
{
    if (a == b) return true;
    if (!a || !b || a->type != b->type) return false;
    switch (a->type) {
    case PUB_NULL:
        return true;
    case PUB_BOOL:
        return a->as.boolean == b->as.boolean;
    case PUB_INT:
        return a->as.integer == b->as.integer;
    case PUB_FLOAT:
        if (isnan(a->as.number) && isnan(b->as.number)) return true;
        return a->as.number == b->as.number;
    case PUB_STRING:
        return a->as.string.len == b->as.string.len &&
               memcmp(a->as.string.bytes, b->as.string.bytes, a->as.string.len) == 0;
    case PUB_DATE:
        return date_equal(&a->as.date, &b->as.date);
    case PUB_LIST:
        if (a->as.list.len != b->as.list.len) return false;
        for (size_t i = 0; i < a->as.list.len; i++)
            if (!pub_value_equal(a->as.list.items[i], b->as.list.items[i])) return false;
        return true;
    case PUB_MAP:
        if (a->as.map.len != b->as.map.len) return false;
        for (size_t i = 0; i < a->as.map.len; i++) {
            const pub_pair *p = &a->as.map.pairs[i];
            const pub_pair *q = &b->as.map.pairs[i];
            /* Same order is the common case; search only when it differs. */
            if (q->key_len != p->key_len || memcmp(q->key, p->key, p->key_len) != 0)
                q = find_pair(b, p->key, p->key_len);
            if (!q || !pub_value_equal(p->value, q->value)) return false;
        }
        return true;
    }
    return false;
}
