/* Monotonic time for the daemon's threads (the pure modules get time passed in). */
#ifndef MAILSCAN_CLOCK_H
#define MAILSCAN_CLOCK_H

#include <stdint.h>

uint64_t now_ms(void);
uint64_t now_us(void);

#endif
