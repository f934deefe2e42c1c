/* publish.date: formatting dates for templates, reading date strings, and
 * the current time. Dates are the publish.Date tables of bridge.c; a
 * date is formatted from its own fields (its own zone), never converted to
 * another zone, so a post written at 09:30 in Seoul shows 09:30. */
#include "lib.h"
#include "../frontmatter.h"
#include "bridge.h"
#include <lauxlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static const char *const month_names[] = {
    "January", "February", "March", "April", "May", "June", "July",
    "August", "September", "October", "November", "December",
};
static const char *const day_names[] = {
    "Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday",
};

static int valid_date(const pub_date *d)
{
    return d->month >= 1 && d->month <= 12 && d->day >= 1 &&
           d->day <= pub_date_days_in_month(d->year, d->month) && d->hour >= 0 && d->hour < 24 &&
           d->min >= 0 && d->min < 60 && d->sec >= 0 && d->sec <= 60;
}

/* ------------------------------------------------------------- parsing */

/* The forms people write by hand that YAML's timestamp does not take
 * ("2024-06-19 09:30", "2024-06-19T09:30:00+0900"), as Jekyll accepts
 * them: util/date.h's grammar, blanks around allowed. */
static int parse_loose(const char *s, size_t len, pub_date *d)
{
    if (strlen(s) != len) return 0;
    while (len && (*s == ' ' || *s == '\t')) s++, len--;
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\t')) len--;
    return pub_date_match(s, len, d) == 1;
}

/* Reads s with the front matter's YAML timestamp rules, then the looser
 * hand-written forms. */
static int parse_date(const char *s, size_t len, pub_date *d)
{
    pub_value *v = NULL;
    pub_diag *err = pub_yaml_parse("<string>", s, len, 1, &v);
    int ok = 0;
    if (!err && v && v->type == PUB_DATE) {
        *d = v->as.date;
        ok = 1;
    }
    pub_diag_free(err);
    pub_value_free(v);
    return ok || parse_loose(s, len, d);
}

/* publish.date.parse(s) -> Date | nil, message
 * Reads a timestamp as front matter does ("2024-06-19", "2024-06-19
 * 09:30:00 +09:00", "2024-06-19T09:30:00Z"), and also "2024-06-19 09:30"
 * and "+0900" zones. A date without a zone is in the site's zone. */
static int l_parse(lua_State *L)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    pub_date d;
    if (!parse_date(s, len, &d)) {
        lua_pushnil(L);
        lua_pushfstring(L, "invalid date '%s'", s);
        return 2;
    }
    pub_lua_push_date(L, &d);
    return 1;
}

/* ----------------------------------------------------------- formatting */

/* Argument idx as a date: a publish.Date or a string parse accepts. */
static pub_date check_date_arg(lua_State *L, int idx)
{
    pub_date d;
    if (pub_lua_to_date(L, idx, &d)) return d;
    if (lua_type(L, idx) == LUA_TSTRING) {
        size_t len;
        const char *s = lua_tolstring(L, idx, &len);
        if (!parse_date(s, len, &d))
            luaL_argerror(L, idx, lua_pushfstring(L, "invalid date '%s'", s));
        if (!d.has_zone) pub_date_localize(&d);
        return d;
    }
    luaL_typeerror(L, idx, "date");
    return d;
}

static void add_num(luaL_Buffer *b, long long v, int width, char pad)
{
    char tmp[32];
    if (width == 0) snprintf(tmp, sizeof tmp, "%lld", v);
    else if (pad == ' ') snprintf(tmp, sizeof tmp, "%*lld", width, v);
    else snprintf(tmp, sizeof tmp, "%0*lld", width, v);
    luaL_addstring(b, tmp);
}

static long long floor_div(long long a, long long b)
{
    return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

/* publish.date.format(d, fmt) -> string
 * strftime-like, from the date's own fields, English names:
 *   %Y 2024  %y 24  %m 06  %d 09  %e " 9"  %H 09  %I 09  %M 30  %S 00
 *   %p AM/PM  %b Jun  %B June  %a Wed  %A Wednesday  %j 171 (day of year)
 *   %z +0900  %Z +09:00  %F %Y-%m-%d  %T %H:%M:%S  %s epoch  %% %
 * "%-d" (any numeric conversion after '-') drops the padding. Other text,
 * UTF-8 included, is copied ("%Y년 %-m월 %-d일"). d may also be a date
 * string. An unknown conversion is an error. */
static int l_format(lua_State *L)
{
    pub_date d = check_date_arg(L, 1);
    size_t len;
    const char *fmt = luaL_checklstring(L, 2, &len);
    if (!valid_date(&d)) return luaL_argerror(L, 1, "date fields out of range");
    pub_date midnight = d;
    midnight.hour = midnight.min = midnight.sec = 0;
    midnight.offset_min = 0;
    long long days = floor_div(pub_date_epoch(&midnight), 86400);
    int weekday = (int)(((days + 4) % 7 + 7) % 7); /* 1970-01-01 was a Thursday */
    int yday = d.day;
    for (int m = 1; m < d.month; m++) yday += pub_date_days_in_month(d.year, m);
    int off = d.offset_min < 0 ? -d.offset_min : d.offset_min;
    char sign = d.offset_min < 0 ? '-' : '+';

    luaL_Buffer b;
    luaL_buffinit(L, &b);
    size_t start = 0;
    for (size_t i = 0; i < len; i++) {
        if (fmt[i] != '%') continue;
        luaL_addlstring(&b, fmt + start, i - start);
        size_t at = i++;
        int nopad = i < len && fmt[i] == '-';
        if (nopad) i++;
        if (i >= len) return luaL_error(L, "bad argument #2 to 'format' (format ends in '%%')");
        char c = fmt[i];
        int w2 = nopad ? 0 : 2;
        switch (c) {
        case 'Y': add_num(&b, d.year, nopad ? 0 : 4, '0'); break;
        case 'y': add_num(&b, ((d.year % 100) + 100) % 100, w2, '0'); break;
        case 'm': add_num(&b, d.month, w2, '0'); break;
        case 'd': add_num(&b, d.day, w2, '0'); break;
        case 'e': add_num(&b, d.day, w2, ' '); break;
        case 'H': add_num(&b, d.hour, w2, '0'); break;
        case 'I': add_num(&b, d.hour % 12 == 0 ? 12 : d.hour % 12, w2, '0'); break;
        case 'M': add_num(&b, d.min, w2, '0'); break;
        case 'S': add_num(&b, d.sec, w2, '0'); break;
        case 'j': add_num(&b, yday, nopad ? 0 : 3, '0'); break;
        case 'p': luaL_addstring(&b, d.hour < 12 ? "AM" : "PM"); break;
        case 'b': luaL_addlstring(&b, month_names[d.month - 1], 3); break;
        case 'B': luaL_addstring(&b, month_names[d.month - 1]); break;
        case 'a': luaL_addlstring(&b, day_names[weekday], 3); break;
        case 'A': luaL_addstring(&b, day_names[weekday]); break;
        case 'z':
            luaL_addchar(&b, sign);
            add_num(&b, off / 60, 2, '0');
            add_num(&b, off % 60, 2, '0');
            break;
        case 'Z':
            luaL_addchar(&b, sign);
            add_num(&b, off / 60, 2, '0');
            luaL_addchar(&b, ':');
            add_num(&b, off % 60, 2, '0');
            break;
        case 'F':
            add_num(&b, d.year, 4, '0');
            luaL_addchar(&b, '-');
            add_num(&b, d.month, 2, '0');
            luaL_addchar(&b, '-');
            add_num(&b, d.day, 2, '0');
            break;
        case 'T':
            add_num(&b, d.hour, 2, '0');
            luaL_addchar(&b, ':');
            add_num(&b, d.min, 2, '0');
            luaL_addchar(&b, ':');
            add_num(&b, d.sec, 2, '0');
            break;
        case 's': add_num(&b, pub_date_epoch(&d), 0, '0'); break;
        case '%': luaL_addchar(&b, '%'); break;
        default: {
            /* Name the whole conversion, even a multi-byte character. */
            size_t n = 1;
            while (i + n < len && ((unsigned char)fmt[i + n] & 0xC0) == 0x80) n++;
            lua_pushlstring(L, fmt + at, i + n - at);
            return luaL_error(L, "bad argument #2 to 'format' (unknown conversion '%s')",
                              lua_tostring(L, -1));
        }
        }
        start = i + 1;
    }
    luaL_addlstring(&b, fmt + start, len - start);
    luaL_pushresult(&b);
    return 1;
}

/* publish.date.now() -> Date
 * The current time in the local (site) zone, to the second. */
static int l_now(lua_State *L)
{
    time_t t = time(NULL);
    struct tm tm;
    localtime_r(&t, &tm);
    pub_date d;
    memset(&d, 0, sizeof d);
    d.year = tm.tm_year + 1900;
    d.month = tm.tm_mon + 1;
    d.day = tm.tm_mday;
    d.hour = tm.tm_hour;
    d.min = tm.tm_min;
    d.sec = tm.tm_sec > 59 ? 59 : tm.tm_sec;
    d.has_time = true;
    d.has_zone = true;
    /* The local fields read as UTC, minus the real instant, is the offset
     * (portable where tm_gmtoff is not). */
    d.offset_min = (int)((pub_date_epoch(&d) - (long long)t) / 60);
    pub_lua_push_date(L, &d);
    return 1;
}

/* publish.date.is(v) -> boolean
 * Whether v is a Date (a table with the publish.Date metatable). */
static int l_is(lua_State *L)
{
    lua_pushboolean(L, pub_lua_to_date(L, 1, NULL));
    return 1;
}

static const luaL_Reg date_funcs[] = {
    {"format", l_format},
    {"is", l_is},
    {"parse", l_parse},
    {"now", l_now},
    {NULL, NULL},
};

int pub_luaopen_date(lua_State *L)
{
    luaL_newlib(L, date_funcs);
    return 1;
}
