/* bench-util.h — what the benchmarks share: a clock, memory, medians and
 * the random vit_b checkpoint they time. */
#pragma once

#include <glib.h>

/* Monotonic seconds. */
double bench_now (void);
/* Peak resident memory of the process, MB. */
double bench_peak_rss_mb (void);
/* The median of @v (sorted in place). */
double bench_median (double *v, int n);
/* A vit_b with random weights, made once and kept in the user's cache
 * (~/.cache/usam/bench-vit_b-random.pth). */
char *bench_random_vit_b_path (GError **error);
