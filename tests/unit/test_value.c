/* pub_value: constructors, maps and lists, deep copy and equality, and the
 * date conversions (local offset under TZ, Unix time without TZ). */
#include "check.h"
#include "value.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static pub_value *str(const char *s) { return pub_value_string(s, strlen(s)); }

static void set(pub_value *map, const char *key, pub_value *v)
{
    pub_map_set(map, key, strlen(key), v);
}

static pub_date date(int y, int mo, int d, int h, int mi, int s, bool has_time, bool has_zone,
                     int offset)
{
    pub_date dt = {y, mo, d, h, mi, s, 0, has_time, has_zone, offset};
    return dt;
}

static void test_scalars(void)
{
    pub_value *v = pub_value_null();
    CHECK(v->type == PUB_NULL && v->line == 0 && v->col == 0);
    CHECK(pub_value_str(v) == NULL);
    pub_value_free(v);

    v = pub_value_bool(true);
    CHECK(v->type == PUB_BOOL && v->as.boolean);
    pub_value_free(v);
    v = pub_value_int(-42);
    CHECK(v->type == PUB_INT && v->as.integer == -42);
    pub_value_free(v);
    v = pub_value_float(2.5);
    CHECK(v->type == PUB_FLOAT && v->as.number == 2.5);
    pub_value_free(v);

    v = pub_value_string("한국어\0tail", 14);
    CHECK(v->type == PUB_STRING && v->as.string.len == 14);
    CHECK(memcmp(v->as.string.bytes, "한국어\0tail", 15) == 0); /* NUL-terminated copy */
    CHECK_STR(pub_value_str(v), "한국어");
    pub_value_free(v);

    pub_date d = date(2024, 6, 19, 9, 30, 0, true, true, 540);
    v = pub_value_date(&d);
    d.year = 1999; /* the value holds its own copy */
    CHECK(v->type == PUB_DATE && v->as.date.year == 2024 && v->as.date.offset_min == 540);
    pub_value_free(v);

    pub_value_free(NULL);
    CHECK(pub_value_copy(NULL) == NULL);
}

static void test_collections(void)
{
    pub_value *list = pub_value_list();
    CHECK(list->type == PUB_LIST && list->as.list.len == 0);
    for (int i = 0; i < 1000; i++) pub_list_push(list, pub_value_int(i));
    CHECK_INT(list->as.list.len, 1000);
    CHECK(list->as.list.cap >= 1000 && list->as.list.cap < 4000);
    CHECK_INT(list->as.list.items[999]->as.integer, 999);
    pub_value_free(list);

    pub_value *map = pub_value_map();
    set(map, "title", str("Hello"));
    set(map, "date", pub_value_int(1));
    set(map, "tags", pub_value_list());
    CHECK_INT(map->as.map.len, 3);
    CHECK_STR(pub_value_str(pub_map_get(map, "title")), "Hello");
    CHECK(pub_map_get(map, "missing") == NULL);
    CHECK(pub_map_get(NULL, "title") == NULL);
    CHECK(pub_map_get(pub_map_get(map, "tags"), "x") == NULL); /* not a map */

    /* Replacing keeps the key's place. */
    set(map, "date", str("later"));
    CHECK_INT(map->as.map.len, 3);
    CHECK_STR(map->as.map.pairs[0].key, "title");
    CHECK_STR(map->as.map.pairs[1].key, "date");
    CHECK_STR(map->as.map.pairs[2].key, "tags");
    CHECK_STR(pub_value_str(pub_map_get(map, "date")), "later");

    /* Keys are compared by length too: "tag" is not "tags". */
    CHECK(pub_map_get(map, "tag") == NULL);
    pub_map_set(map, "tagsX", 4, pub_value_int(7)); /* only "tags" is used */
    CHECK_INT(map->as.map.len, 3);
    CHECK_INT(pub_map_get(map, "tags")->as.integer, 7);
    pub_map_set(map, "", 0, pub_value_null());
    CHECK(pub_map_get(map, "") != NULL);
    CHECK_INT(map->as.map.pairs[3].key_len, 0);

    for (int i = 0; i < 500; i++) {
        char key[16];
        snprintf(key, sizeof key, "k%d", i);
        set(map, key, pub_value_int(i));
    }
    CHECK_INT(map->as.map.len, 504);
    CHECK_INT(pub_map_get(map, "k321")->as.integer, 321);
    pub_value_free(map);
}

static pub_value *sample(void)
{
    pub_value *root = pub_value_map();
    set(root, "title", str("제목"));
    pub_value *tags = pub_value_list();
    pub_list_push(tags, str("a"));
    pub_list_push(tags, pub_value_float(NAN));
    pub_value *inner = pub_value_map();
    set(inner, "x", pub_value_int(1));
    set(inner, "y", pub_value_bool(false));
    pub_list_push(tags, inner);
    set(root, "tags", tags);
    pub_date d = date(2024, 6, 19, 9, 30, 0, true, true, 540);
    set(root, "date", pub_value_date(&d));
    set(root, "none", pub_value_null());
    root->line = 2;
    root->col = 1;
    return root;
}

static void test_copy_equal(void)
{
    pub_value *a = sample();
    pub_value *b = pub_value_copy(a);
    CHECK(a != b);
    CHECK(pub_value_equal(a, b));
    CHECK(b->line == 2 && b->col == 1);
    CHECK(pub_map_get(a, "tags") != pub_map_get(b, "tags"));
    CHECK(pub_value_str(pub_map_get(a, "title")) != pub_value_str(pub_map_get(b, "title")));

    /* The copy is independent. */
    set(pub_map_get(b, "tags")->as.list.items[2], "x", pub_value_int(2));
    CHECK(!pub_value_equal(a, b));
    CHECK_INT(pub_map_get(pub_map_get(a, "tags")->as.list.items[2], "x")->as.integer, 1);
    pub_value_free(b);

    /* Key order is ignored; values and sizes are not. */
    b = pub_value_map();
    set(b, "none", pub_value_null());
    set(b, "date", pub_value_copy(pub_map_get(a, "date")));
    set(b, "tags", pub_value_copy(pub_map_get(a, "tags")));
    set(b, "title", str("제목"));
    CHECK(pub_value_equal(a, b));
    set(b, "extra", pub_value_null());
    CHECK(!pub_value_equal(a, b));
    CHECK(!pub_value_equal(b, a));
    pub_value_free(b);

    /* Types matter: 1 is not 1.0, "1" is not 1. */
    pub_value *i = pub_value_int(1), *f = pub_value_float(1.0), *s = str("1");
    CHECK(!pub_value_equal(i, f));
    CHECK(!pub_value_equal(i, s));
    CHECK(pub_value_equal(i, i));
    CHECK(!pub_value_equal(i, NULL));
    CHECK(pub_value_equal(NULL, NULL));
    pub_value_free(i);
    pub_value_free(f);
    pub_value_free(s);

    /* Strings compare all their bytes, NULs included. */
    pub_value *s1 = pub_value_string("a\0b", 3), *s2 = pub_value_string("a\0c", 3);
    CHECK(!pub_value_equal(s1, s2));
    pub_value_free(s1);
    pub_value_free(s2);

    /* Lists are ordered. */
    pub_value *l1 = pub_value_list(), *l2 = pub_value_list();
    pub_list_push(l1, pub_value_int(1));
    pub_list_push(l1, pub_value_int(2));
    pub_list_push(l2, pub_value_int(2));
    pub_list_push(l2, pub_value_int(1));
    CHECK(!pub_value_equal(l1, l2));
    pub_value_free(l1);
    pub_value_free(l2);

    /* Dates: as written; the offset counts only with an explicit zone. */
    pub_date d1 = date(2024, 6, 19, 9, 0, 0, true, true, 540);
    pub_date d2 = date(2024, 6, 19, 0, 0, 0, true, true, 0); /* same instant */
    pub_date d3 = date(2024, 6, 19, 9, 0, 0, true, false, 540);
    pub_date d4 = date(2024, 6, 19, 9, 0, 0, true, false, -300);
    pub_date d5 = date(2024, 6, 19, 0, 0, 0, false, false, 0);
    pub_date d6 = date(2024, 6, 19, 0, 0, 0, true, false, 0);
    pub_value *v1 = pub_value_date(&d1), *v2 = pub_value_date(&d2), *v3 = pub_value_date(&d3),
              *v4 = pub_value_date(&d4), *v5 = pub_value_date(&d5), *v6 = pub_value_date(&d6);
    CHECK(!pub_value_equal(v1, v2));
    CHECK(!pub_value_equal(v1, v3));
    CHECK(pub_value_equal(v3, v4));
    CHECK(!pub_value_equal(v5, v6));
    v2->as.date.nsec = 1;
    pub_value *v2b = pub_value_date(&d2);
    CHECK(!pub_value_equal(v2, v2b));
    pub_value_free(v1);
    pub_value_free(v2);
    pub_value_free(v2b);
    pub_value_free(v3);
    pub_value_free(v4);
    pub_value_free(v5);
    pub_value_free(v6);

    /* NaN equals NaN; +0 equals -0. */
    pub_value *n1 = pub_value_float(NAN), *n2 = pub_value_float(NAN);
    CHECK(pub_value_equal(n1, n2));
    n2->as.number = 0.0;
    n1->as.number = -0.0;
    CHECK(pub_value_equal(n1, n2));
    pub_value_free(n1);
    pub_value_free(n2);
    pub_value_free(a);
}

static void test_dates(void)
{
    pub_date d = date(1970, 1, 1, 0, 0, 0, false, false, 0);
    CHECK_INT(pub_date_epoch(&d), 0);
    d = date(2024, 6, 19, 9, 30, 0, true, true, 540);
    CHECK_INT(pub_date_epoch(&d), 1718757000);
    d = date(2024, 6, 19, 0, 30, 0, true, true, 0);
    CHECK_INT(pub_date_epoch(&d), 1718757000);
    d = date(2024, 6, 18, 19, 30, 0, true, true, -300);
    CHECK_INT(pub_date_epoch(&d), 1718757000);
    d = date(1969, 12, 31, 23, 59, 59, true, true, 0);
    CHECK_INT(pub_date_epoch(&d), -1);
    d = date(2000, 3, 1, 0, 0, 0, false, false, 0);
    CHECK_INT(pub_date_epoch(&d), 951868800);
    d = date(2024, 2, 29, 12, 0, 0, true, true, 0);
    CHECK_INT(pub_date_epoch(&d), 1709208000);
    d = date(1900, 1, 1, 0, 0, 0, false, false, 0);
    CHECK_INT(pub_date_epoch(&d), -2208988800LL);
    d = date(2100, 12, 31, 23, 59, 59, true, true, 0);
    CHECK_INT(pub_date_epoch(&d), 4133980799LL);
    /* A date without time is midnight at its offset. */
    d = date(2024, 6, 19, 9, 30, 0, false, false, 540);
    CHECK_INT(pub_date_epoch(&d), 1718722800);

    /* TZ does not change epoch arithmetic. */
    setenv("TZ", "EST5EDT,M3.2.0,M11.1.0", 1); /* no zone database needed */
    tzset();
    d = date(2024, 6, 19, 9, 30, 0, true, true, 540);
    CHECK_INT(pub_date_epoch(&d), 1718757000);

    /* Localizing: the process zone's offset for that day, DST included. */
    d = date(2024, 6, 19, 9, 30, 0, true, false, 0);
    pub_date_localize(&d);
    CHECK_INT(d.offset_min, -240);
    CHECK(!d.has_zone);
    CHECK(d.hour == 9 && d.min == 30);
    CHECK_INT(pub_date_epoch(&d), 1718803800);
    d = date(2024, 1, 5, 0, 0, 0, false, false, 0);
    pub_date_localize(&d);
    CHECK_INT(d.offset_min, -300);
    CHECK_INT(pub_date_epoch(&d), 1704430800);

    setenv("TZ", "KST-9", 1);
    tzset();
    d = date(2024, 6, 19, 9, 30, 0, true, false, 0);
    pub_date_localize(&d);
    CHECK_INT(d.offset_min, 540);
    CHECK_INT(pub_date_epoch(&d), 1718757000);
    /* An explicit zone is left alone. */
    d = date(2024, 6, 19, 9, 30, 0, true, true, -420);
    pub_date_localize(&d);
    CHECK_INT(d.offset_min, -420);

    setenv("TZ", "IST-5:30", 1);
    tzset();
    d = date(2024, 6, 19, 0, 0, 0, false, false, 0);
    pub_date_localize(&d);
    CHECK_INT(d.offset_min, 330);

    /* Zone names, as a site's `timezone` gives them, where tzdata exists. */
    if (access("/usr/share/zoneinfo/Asia/Seoul", R_OK) == 0) {
        setenv("TZ", "Asia/Seoul", 1);
        tzset();
        d = date(1987, 7, 1, 12, 0, 0, true, false, 0); /* Korea had DST in 1987 */
        pub_date_localize(&d);
        CHECK_INT(d.offset_min, 600);
        d = date(2024, 6, 19, 0, 0, 0, false, false, 0);
        pub_date_localize(&d);
        CHECK_INT(d.offset_min, 540);
    }

    setenv("TZ", "UTC", 1);
    tzset();
    d = date(2024, 6, 19, 9, 30, 0, true, false, 123);
    pub_date_localize(&d);
    CHECK_INT(d.offset_min, 0);
}

int main(void)
{
    test_scalars();
    test_collections();
    test_copy_equal();
    test_dates();
    return check_finish();
}
