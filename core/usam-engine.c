#include "usam-engine-private.h"

#include <dlfcn.h>
#include <malloc.h>
#include <unistd.h>

#include "usam-config.h"
#include "usam-error.h"

static GOnce load_once = G_ONCE_INIT;
static char *module_path;
static char *load_error;

static char *
self_dir (void)
{
  g_autofree char *exe = g_file_read_link ("/proc/self/exe", NULL);
  return exe ? g_path_get_dirname (exe) : NULL;
}

/* The module: $USAM_ENGINE, else the build tree's when running from it, else
 * the installed one. */
static GPtrArray *
candidates (void)
{
  GPtrArray *paths = g_ptr_array_new_with_free_func (g_free);
  const char *env = g_getenv ("USAM_ENGINE");
  if (env && *env)
    g_ptr_array_add (paths, g_strdup (env));
  g_autofree char *dir = self_dir ();
  gboolean in_build_tree = dir && g_str_has_prefix (dir, USAM_BUILD_ROOT);
  if (in_build_tree)
    g_ptr_array_add (paths, g_strdup (USAM_ENGINE_BUILD_PATH));
  g_ptr_array_add (paths, g_strdup (USAM_ENGINE_INSTALL_PATH));
  if (!in_build_tree)
    g_ptr_array_add (paths, g_strdup (USAM_ENGINE_BUILD_PATH));
  return paths;
}

static gpointer
load (gpointer data)
{
  /* Before libgomp is loaded with libtorch: let idle OpenMP threads sleep
   * instead of spinning, which on a two-core machine steals the cores
   * OpenBLAS's threads need (measured: prompt decoding 166 → 71 ms). */
  g_setenv ("OMP_WAIT_POLICY", "PASSIVE", FALSE);
  /* Likewise OpenBLAS's workers, which otherwise yield-spin for 2^28 cycles
   * after each product while libtorch's threads wait for the core (measured
   * with OMP passive: one point prompt on vit_b 49–55 → ~43 ms). */
  g_setenv ("OPENBLAS_THREAD_TIMEOUT", "4", FALSE);
  /* libtorch makes and frees tensors of tens to hundreds of MB in every
   * operation; glibc serves each from a fresh mmap, so each operation faults
   * its output in page by page (perf of bench-amg: a fifth of the time in
   * the kernel clearing pages). From the heap, freed blocks are reused.
   * Measured (bench-amg, vit_b, 512², 16 × 16 points): decoding 12.3 →
   * 8.3 s, encoding 9.4 → 6.8 s. Memory above 1 GB free at the top of the
   * heap still goes back to the system. glibc's own variables win. */
  if (!g_getenv ("MALLOC_MMAP_MAX_") && !g_getenv ("GLIBC_TUNABLES"))
    {
      mallopt (M_MMAP_MAX, 0);
      mallopt (M_TRIM_THRESHOLD, 1 << 30);
    }

  g_autoptr (GPtrArray) paths = candidates ();
  g_autoptr (GString) why = g_string_new (NULL);
  void *handle = NULL;
  for (guint i = 0; i < paths->len && !handle; i++)
    {
      const char *path = paths->pdata[i];
      if (!g_file_test (path, G_FILE_TEST_EXISTS))
        continue;
      handle = dlopen (path, RTLD_NOW | RTLD_LOCAL);
      if (handle)
        module_path = g_strdup (path);
      else
        g_string_append_printf (why, "%s%s", why->len ? "; " : "", dlerror ());
    }
  if (!handle)
    {
      load_error = g_strdup_printf ("cannot load the SAM engine (libusam-shim.so): %s",
                                    why->len ? why->str : "not found; set USAM_ENGINE to its path");
      return NULL;
    }
  for (const UsamEngineSymbol *s = usam_engine_symbols (); s->name; s++)
    {
      *s->slot = dlsym (handle, s->name);
      if (!*s->slot)
        {
          load_error = g_strdup_printf ("%s: does not provide %s (an older engine?)", module_path, s->name);
          g_clear_pointer (&module_path, g_free);
          return NULL;
        }
    }
  return GINT_TO_POINTER (1);
}

gboolean
usam_engine_ready (void)
{
  return g_once (&load_once, load, NULL) != NULL;
}

const char *
usam_engine_get_load_error (void)
{
  return load_error ? load_error : "";
}

gboolean
usam_engine_load (GError **error)
{
  if (usam_engine_ready ())
    return TRUE;
  g_set_error_literal (error, USAM_ERROR, USAM_ERROR_FAILED, usam_engine_get_load_error ());
  return FALSE;
}

gboolean
usam_engine_is_loaded (void)
{
  return module_path != NULL;
}

const char *
usam_engine_get_path (void)
{
  return module_path;
}
