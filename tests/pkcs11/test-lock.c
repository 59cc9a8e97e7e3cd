/* test-lock.c - libsdr-test-lock.so: one process-wide mutex, standing for the lock
 * of a library that both sinadur and a PKCS#11 module use (libcrypto, libpcsclite,
 * GLib). test-probe holds it from a thread; lock-module.c takes it in C_Initialize.
 * glibc makes its own stdio and malloc locks safe across fork(); these are not. */
#include "test-lock.h"

#include <pthread.h>
#include <time.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

void
sdr_test_lock_hold(unsigned int ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };

	pthread_mutex_lock(&lock);
	while (nanosleep(&ts, &ts) != 0)
		;
	pthread_mutex_unlock(&lock);
}

void
sdr_test_lock_touch(void)
{
	pthread_mutex_lock(&lock);
	pthread_mutex_unlock(&lock);
}
