/* Prints the host's TSC frequency in kHz (rdtsc against CLOCK_MONOTONIC_RAW
 * over about 200 ms, best of 3). Under QEMU TCG without -icount the guest's
 * TSC is the host's, so bench-guest.sh passes this as tsc_early_khz= and
 * the guest kernel need not calibrate its TSC against the PIT (which fails
 * on a busy host and leaves the guest on the jiffies clocksource). */
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <x86intrin.h>

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

int main(void)
{
	double khz[3], t;

	for (int i = 0; i < 3; i++) {
		struct timespec d = { 0, 200 * 1000 * 1000 };
		double t0 = now_ns();
		uint64_t c0 = __rdtsc();
		double t1;
		uint64_t c1;

		nanosleep(&d, NULL);
		t1 = now_ns();
		c1 = __rdtsc();
		khz[i] = (double)(c1 - c0) / (t1 - t0) * 1e6;
	}
	/* median of three */
	if (khz[0] > khz[1]) { t = khz[0]; khz[0] = khz[1]; khz[1] = t; }
	if (khz[1] > khz[2]) { t = khz[1]; khz[1] = khz[2]; khz[2] = t; }
	if (khz[0] > khz[1]) { t = khz[0]; khz[0] = khz[1]; khz[1] = t; }
	if (khz[1] < 1000) {
		fprintf(stderr, "host-tsc-khz: implausible TSC rate %.0f kHz\n", khz[1]);
		return 1;
	}
	printf("%.0f\n", khz[1]);
	return 0;
}
