/* Dates as front matter, file names and plugins write them: the pub_date
 * record, the calendar, the one grammar of a written date, and the
 * conversion to an instant. Local time means the process's TZ, which the
 * site's loading (pub_site_open) sets to its `timezone` before any thread
 * starts. */
#ifndef PUB_UTIL_DATE_H
#define PUB_UTIL_DATE_H
#include <stdbool.h>
#include <stddef.h>

typedef struct pub_date {
    int year, month, day;
    int hour, min, sec;
    int nsec;
    bool has_time;  /* "2024-06-19" alone is a date without time */
    bool has_zone;  /* an explicit Z or +hh:mm was given */
    int offset_min; /* minutes east of UTC (given, or set by pub_date_localize) */
} pub_date;

/* Days in `month` (1-12) of `year` (proleptic Gregorian). */
int pub_date_days_in_month(int year, int month);

/* YYYY-M[M]-D[D], then optionally [Tt or blanks]H[H]:MM[:SS[.frac]] and a
 * zone (Z, +hh, +hhmm, +hh:mm) with optional blanks before it: what YAML
 * 1.1 timestamps and Jekyll's `date: 2024-06-19 09:30 +0900` allow; the
 * whole of s[0..n) must match. 1 when it is a date (*d set), 0 when it is
 * not shaped like one, -1 when it is shaped like one but out of range
 * (month 13, February 30, 24:00). */
int pub_date_match(const char *s, size_t n, pub_date *d);

/* Gives a date without an explicit zone the offset of the process's local
 * time zone (pub_site_open sets TZ to the site's `timezone` before any thread
 * starts), so "2024-06-19 09:00" means 09:00 in Seoul for a Seoul site.
 * Dates with a zone are left alone. */
void pub_date_localize(pub_date *d);

/* Unix time of a date, using its offset_min. */
long long pub_date_epoch(const pub_date *d);

#endif
