/* The one monotonic clock the engine times things with: build phases,
 * PUBLISH_TIMINGS, slow documents, serve's debounce, the CLI's progress
 * and summary line. Wall-clock time (dates, the build fingerprint) is not
 * here: that is CLOCK_REALTIME, read where it is meant. */
#ifndef PUB_UTIL_CLOCK_H
#define PUB_UTIL_CLOCK_H

/* Seconds on CLOCK_MONOTONIC (an arbitrary origin): only differences mean
 * something. */
double pub_clock_now(void);

#endif
