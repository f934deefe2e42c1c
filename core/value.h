/* The typed value tree front matter, config and data files are read into:
 * what YAML means after tag resolution, with each node's source position so
 * later checks can point at the right line. */
#ifndef PUB_VALUE_H
#define PUB_VALUE_H
#include <stdbool.h>
#include <stddef.h>
#include "util/date.h"

typedef enum {
    PUB_NULL, PUB_BOOL, PUB_INT, PUB_FLOAT, PUB_STRING, PUB_LIST, PUB_MAP, PUB_DATE
} pub_value_type;


typedef struct pub_value pub_value;

typedef struct pub_pair {
    char *key; /* scalar keys are kept as their text */
    size_t key_len;
    int key_line, key_col; /* where the key is written (1-based); 0 if made in code */
    pub_value *value;
} pub_pair;

struct pub_value {
    pub_value_type type;
    int line, col; /* 1-based position in the source file; 0 if made in code */
    union {
        bool boolean;
        long long integer;
        double number;
        struct { char *bytes; size_t len; } string;
        struct { pub_value **items; size_t len, cap; } list;
        struct { pub_pair *pairs; size_t len, cap; } map;
        pub_date date;
    } as;
};

/* Constructors; every value is freed with pub_value_free (NULL is a no-op),
 * which frees its children too. */
pub_value *pub_value_null(void);
pub_value *pub_value_bool(bool b);
pub_value *pub_value_int(long long i);
pub_value *pub_value_float(double f);
pub_value *pub_value_string(const char *s, size_t len);
pub_value *pub_value_date(const pub_date *d);
pub_value *pub_value_list(void);
pub_value *pub_value_map(void);
void pub_value_free(pub_value *v);
pub_value *pub_value_copy(const pub_value *v);

/* Appends (takes ownership of item). */
void pub_list_push(pub_value *list, pub_value *item);
/* Sets key (replacing an existing one in place; takes ownership of value). */
void pub_map_set(pub_value *map, const char *key, size_t key_len, pub_value *value);
/* Borrowed; NULL when absent or `map` is not a map. */
pub_value *pub_map_get(const pub_value *map, const char *key);
/* Borrowed string bytes, or NULL when v is not a string. */
const char *pub_value_str(const pub_value *v);

/* Deep equality (float NaN equals NaN; map key order ignored). */
bool pub_value_equal(const pub_value *a, const pub_value *b);

#endif
