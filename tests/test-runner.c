/* test-runner.c — the annotator's model runner without a window: a model
 * read from a file keeps a volume's embeddings in one disk cache, computes
 * the neighbouring planes ahead, and a second runner reads them back
 * without encoding. A small random model (input 256²) keeps it fast. */
#include "usam-embedding-cache.h"
#include "usam-project.h"
#include "usam-runner.h"
#include "usam-test-util.h"

#include <string.h>

#define WAIT_SECONDS 8
#define DEPTH 3

static UsamModel *
small_model (void)
{
  UsamArchitecture arch;
  g_autoptr (GError) error = NULL;
  ck_assert (usam_architecture_from_preset ("tiny", &arch, &error));
  arch.img_size = 256;
  UsamModel *model = usam_model_new_from_architecture (&arch, 7, USAM_PRECISION_FP32, &error);
  ck_assert_msg (model != NULL, "%s", error ? error->message : "");
  return model;
}

/* A 40 × 32 8-bit volume of DEPTH different slices. */
static UsamImage *
small_volume (void)
{
  g_autoptr (GError) error = NULL;
  UsamImage *image = usam_image_new (USAM_PIXEL_TYPE_U8, 40, 32, 1, DEPTH, 1, &error);
  ck_assert_msg (image != NULL, "%s", error ? error->message : "");
  for (guint z = 0; z < DEPTH; z++)
    {
      guint8 *p = usam_image_get_plane_mutable (image, 0, z);
      for (guint i = 0; i < 40 * 32; i++)
        p[i] = (guint8) ((i * 7 + z * 50) % 256);
    }
  return image;
}

/* The files in @dir; *@last gets one of their paths. */
static guint
list_files (const char *dir, char **last)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  guint n = 0;
  const char *name;
  while (d && (name = g_dir_read_name (d)))
    {
      n++;
      if (last)
        {
          g_free (*last);
          *last = g_build_filename (dir, name, NULL);
        }
    }
  return n;
}

/* Runs the main loop until @done holds. Polled: some conditions are on disk. */
static void
wait_until (gboolean (*done) (gpointer), gpointer data, const char *what)
{
  gint64 end = g_get_monotonic_time () + WAIT_SECONDS * G_USEC_PER_SEC;
  while (!done (data))
    {
      ck_assert_msg (g_get_monotonic_time () < end, "timed out waiting for %s", what);
      while (g_main_context_iteration (NULL, FALSE))
        ;
      g_usleep (10000);
    }
}

static gboolean
has_embedding (gpointer data)
{
  return usam_runner_has_embedding (data);
}

typedef struct
{
  const char *dir;
  UsamModel *model;
  UsamImage *image;
  const char *hash;
} Disk;

/* One file in the cache folder, every slice of it complete. Opened afresh
 * each time: a cache reads the slices' states when it opens. */
static gboolean
all_slices_on_disk (gpointer data)
{
  Disk *d = data;
  g_autofree char *path = NULL;
  if (list_files (d->dir, &path) != 1 || !g_str_has_suffix (path, ".h5"))
    return FALSE;
  UsamEmbeddingCacheOptions options = { .image_hash = d->hash };
  g_autoptr (GError) error = NULL;
  g_autoptr (UsamEmbeddingCache) cache = usam_embedding_cache_open (path, d->model, d->image, &options, &error);
  ck_assert_msg (cache != NULL, "%s", error ? error->message : "");
  ck_assert_uint_eq (usam_embedding_cache_get_n_slices (cache), DEPTH);
  for (guint s = 0; s < DEPTH; s++)
    if (!usam_embedding_cache_has_slice (cache, s))
      return FALSE;
  return TRUE;
}

static void
count_progress (UsamRunner *runner, double fraction, guint *n)
{
  if (fraction >= 0)
    (*n)++;
}

START_TEST (test_volume_cache_ahead)
{
  g_autofree char *xdg = g_build_filename (usam_test_tmpdir (), "xdg-cache", NULL);
  g_setenv ("XDG_CACHE_HOME", xdg, TRUE);
  g_autofree char *dir = g_build_filename (g_get_user_cache_dir (), "usam", "embeddings", NULL);
  g_autofree char *model_path = g_build_filename (usam_test_tmpdir (), "small.pt", NULL);
  g_autoptr (GError) error = NULL;
  {
    g_autoptr (UsamModel) random = small_model ();
    ck_assert_msg (usam_model_save (random, model_path, FALSE, &error), "%s", error ? error->message : "");
  }
  g_autoptr (UsamImage) volume = small_volume ();
  g_autofree char *hash = usam_image_dup_content_hash (volume);

  for (int round = 0; round < 2; round++)
    {
      g_autoptr (UsamModel) model = usam_model_new_from_file (model_path, USAM_PRECISION_FP32, &error);
      ck_assert_msg (model != NULL, "%s", error ? error->message : "");
      g_autoptr (UsamRunner) runner = usam_runner_new ();
      guint progress = 0;
      g_signal_connect (runner, "progress", G_CALLBACK (count_progress), &progress);
      usam_runner_set_model (runner, model);
      /* The middle plane: its neighbours lie on both sides. */
      usam_runner_set_plane (runner, volume, 1, hash, 0, 1);
      wait_until (has_embedding, runner, "the middle plane's embedding");
      if (round == 0)
        {
          /* Encoded, then the other planes computed ahead, into one file. */
          ck_assert_uint_gt (progress, 0);
          Disk disk = { dir, model, volume, hash };
          wait_until (all_slices_on_disk, &disk, "the neighbouring planes on disk");
        }
      else
        {
          /* Every plane read back: the model never encodes. */
          for (guint z = 0; z < DEPTH; z++)
            {
              usam_runner_set_plane (runner, volume, 1, hash, 0, z);
              wait_until (has_embedding, runner, "a plane's embedding");
            }
          ck_assert_uint_eq (progress, 0);
        }
      ck_assert_uint_eq (list_files (dir, NULL), 1);
      usam_runner_set_plane (runner, NULL, 0, NULL, 0, 0);
    }
}
END_TEST

static Suite *
runner_suite (void)
{
  Suite *suite = suite_create ("runner");
  TCase *tc = usam_test_tcase_new ("cache");
  tcase_add_test (tc, test_volume_cache_ahead);
  suite_add_tcase (suite, tc);
  return suite;
}

int
main (void)
{
  return usam_test_run (runner_suite ());
}
