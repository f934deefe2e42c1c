/* The calendar and the date grammar (the contract is in date.h). */
#define _DEFAULT_SOURCE
#include "date.h"
#include <string.h>
#include <time.h>

int pub_date_days_in_month(int year, int month)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return month == 2 && leap ? 29 : days[month - 1];
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool read_digits(const char *s, size_t n, size_t *i, int min, int max, int *out)
{
    int v = 0, count = 0;
    while (*i < n && count < max && is_digit(s[*i])) {
        v = v * 10 + (s[*i] - '0');
        (*i)++;
        count++;
    }
    *out = v;
    return count >= min;
}

int pub_date_match(const char *s, size_t n, pub_date *d)
{
    memset(d, 0, sizeof *d);
    size_t i = 0;
    if (!read_digits(s, n, &i, 4, 4, &d->year) || i >= n || s[i++] != '-') return 0;
    if (!read_digits(s, n, &i, 1, 2, &d->month) || i >= n || s[i++] != '-') return 0;
    if (!read_digits(s, n, &i, 1, 2, &d->day)) return 0;
    int zone_hour = 0, zone_min = 0;
    if (i < n) {
        if (s[i] == 'T' || s[i] == 't') i++;
        else if (s[i] == ' ' || s[i] == '\t')
            while (i < n && (s[i] == ' ' || s[i] == '\t')) i++;
        else return 0;
        if (!read_digits(s, n, &i, 1, 2, &d->hour) || i >= n || s[i++] != ':') return 0;
        if (!read_digits(s, n, &i, 2, 2, &d->min)) return 0;
        if (i < n && s[i] == ':') {
            i++;
            if (!read_digits(s, n, &i, 2, 2, &d->sec)) return 0;
            if (i < n && s[i] == '.') {
                i++;
                int digits = 0;
                while (i < n && is_digit(s[i])) {
                    if (digits < 9) d->nsec = d->nsec * 10 + (s[i] - '0');
                    digits++;
                    i++;
                }
                if (!digits) return 0;
                for (; digits < 9; digits++) d->nsec *= 10;
            }
        }
        d->has_time = true;
        while (i < n && (s[i] == ' ' || s[i] == '\t')) i++;
        if (i < n) {
            if (s[i] == 'Z' || s[i] == 'z') {
                i++;
            } else if (s[i] == '+' || s[i] == '-') {
                int sign = s[i++] == '-' ? -1 : 1;
                if (!read_digits(s, n, &i, 1, 2, &zone_hour)) return 0;
                if (i < n) {
                    if (s[i] == ':') i++;
                    if (!read_digits(s, n, &i, 2, 2, &zone_min)) return 0;
                }
                d->offset_min = sign * (zone_hour * 60 + zone_min);
            } else {
                return 0;
            }
            d->has_zone = true;
        }
        if (i != n) return 0;
    }
    if (d->month < 1 || d->month > 12 || d->day < 1 ||
        d->day > pub_date_days_in_month(d->year, d->month) || d->hour > 23 || d->min > 59 ||
        d->sec > 59 || zone_hour > 23 || zone_min > 59)
        return -1;
    return 1;
}

void pub_date_localize(pub_date *d)
{
    if (d->has_zone) return;
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    tm.tm_year = d->year - 1900;
    tm.tm_mon = d->month - 1;
    tm.tm_mday = d->day;
    if (d->has_time) {
        tm.tm_hour = d->hour;
        tm.tm_min = d->min;
        tm.tm_sec = d->sec;
    }
    tm.tm_isdst = -1;
    /* On failure (a year mktime cannot represent) tm_gmtoff keeps the 0
     * set above, which reads the date as UTC: better than refusing it. */
    mktime(&tm);
    d->offset_min = (int)(tm.tm_gmtoff / 60);
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
 * days_from_civil), so the result never depends on TZ or the C library. */
static long long days_from_civil(long long y, int m, int d)
{
    y -= m <= 2;
    long long era = (y >= 0 ? y : y - 399) / 400;
    long long yoe = y - era * 400;
    long long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

long long pub_date_epoch(const pub_date *d)
{
    long long t = days_from_civil(d->year, d->month, d->day) * 86400;
    if (d->has_time) t += d->hour * 3600LL + d->min * 60LL + d->sec;
    return t - d->offset_min * 60LL;
}
