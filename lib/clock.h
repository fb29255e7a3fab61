/* The time as vmattest's programs measure it and show it. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* CLOCK_MONOTONIC in milliseconds: for deadlines and durations, which a change of the wall
 * clock must not stretch; never a date. */
uint64_t monotonic_ms(void);

/* `t`, seconds since the epoch, in UTC as ISO 8601 ("2026-12-07T06:20:57Z"), for people to read;
 * "never" for 0 (no such time: a token that does not expire, a poll not made yet) and for a time
 * that cannot be written so. */
void utc_time_format(int64_t t, char *out, size_t size);
