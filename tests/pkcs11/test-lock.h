/* test-lock.h - a mutex shared by a test program and a test module (test-lock.c). */
#pragma once

/* Takes the mutex, sleeps ms milliseconds, releases it. */
void sdr_test_lock_hold(unsigned int ms);
/* Takes and releases the mutex (waits while someone holds it). */
void sdr_test_lock_touch(void);
