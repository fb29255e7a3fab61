/* The time as vmattest's programs measure it. */
#pragma once

#include <stdint.h>

/* CLOCK_MONOTONIC in milliseconds: for deadlines and durations, which a change of the wall
 * clock must not stretch; never a date. */
uint64_t monotonic_ms(void);
