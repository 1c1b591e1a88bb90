/* Clocks. Wall time only where the protocol uses it (block timestamps);
 * monotonic time for measuring and timeouts. */
#ifndef OL_UTIL_TIME_H
#define OL_UTIL_TIME_H

#include <stdint.h>

uint64_t util_wall_ms(void);
uint64_t util_mono_ns(void);

#endif
