/* The monotonic clock (the contract is in clock.h). */
#define _POSIX_C_SOURCE 200809L
#include "clock.h"
#include <time.h>

double pub_clock_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}
