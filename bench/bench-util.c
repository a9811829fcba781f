#include "bench-util.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "usam-model.h"

double
bench_now (void)
{
  return (double) g_get_monotonic_time () / 1e6;
}

double
bench_peak_rss_mb (void)
{
  struct rusage ru;
  getrusage (RUSAGE_SELF, &ru);
  return (double) ru.ru_maxrss / 1024.0;
}

static int
compare_doubles (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

double
bench_median (double *v, int n)
{
  qsort (v, (size_t) n, sizeof *v, compare_doubles);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

char *
bench_random_vit_b_path (GError **error)
{
  g_autofree char *path = g_build_filename (g_get_user_cache_dir (), "usam", "bench-vit_b-random.pth", NULL);
  if (g_file_test (path, G_FILE_TEST_EXISTS))
    return g_steal_pointer (&path);
  g_autofree char *dir = g_path_get_dirname (path);
  g_mkdir_with_parents (dir, 0755);
  double t0 = bench_now ();
  g_autoptr (UsamModel) fresh = usam_model_new_random ("vit_b", 1, USAM_PRECISION_FP32, error);
  if (!fresh || !usam_model_save (fresh, path, FALSE, error))
    return NULL;
  printf ("made %s in %.1f s\n", path, bench_now () - t0);
  return g_steal_pointer (&path);
}
