#include "usam-test-util.h"
#include "usam-model.h"
#include "usam-workers.h"

#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char *
under (const char *env, const char *fallback, const char *relative)
{
  const char *root = g_getenv (env);
  return g_build_filename (root ? root : fallback, relative, NULL);
}

char *
usam_test_shared_path (const char *relative)
{
  char *path = under ("USAM_SHARED_DIR", "../shared", relative);
  ck_assert_msg (g_file_test (path, G_FILE_TEST_EXISTS), "test input %s is missing", path);
  return path;
}

char *
usam_test_source_path (const char *relative)
{
  return under ("USAM_SOURCE_DIR", ".", relative);
}

char *
usam_test_build_path (const char *relative)
{
  return under ("USAM_BUILD_DIR", ".", relative);
}

static char *tmpdir;

static void
remove_tree (const char *path)
{
  GDir *dir = g_dir_open (path, 0, NULL);
  if (dir)
    {
      const char *name;
      while ((name = g_dir_read_name (dir)))
        {
          g_autofree char *child = g_build_filename (path, name, NULL);
          if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
            remove_tree (child);
          else
            g_unlink (child);
        }
      g_dir_close (dir);
    }
  g_rmdir (path);
}

static pid_t owner_pid;

static void
remove_tmpdir (void)
{
  /* Check forks a child per test and children run atexit handlers too. */
  if (tmpdir && getpid () == owner_pid)
    remove_tree (tmpdir);
}

const char *
usam_test_tmpdir (void)
{
  if (!tmpdir)
    {
      g_autoptr (GError) error = NULL;
      /* Called before Check runs too, where ck_assert cannot report. */
      tmpdir = g_dir_make_tmp ("usam-test-XXXXXX", &error);
      if (!tmpdir)
        g_error ("cannot make a temporary directory: %s", error->message);
    }
  return tmpdir;
}

int
usam_test_run (Suite *suite)
{
  /* Made in the parent, so every forked test shares it. */
  owner_pid = getpid ();
  usam_test_tmpdir ();
  atexit (remove_tmpdir);
  SRunner *runner = srunner_create (suite);
  srunner_run_all (runner, CK_ENV);
  int failed = srunner_ntests_failed (runner);
  srunner_free (runner);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

static void
wait_for_workers (void)
{
  ck_assert_msg (usam_workers_wait (300 * G_USEC_PER_SEC), "background work still running 300 s after the test");
}

TCase *
usam_test_tcase_new (const char *name)
{
  TCase *tcase = tcase_create (name);
  tcase_add_checked_fixture (tcase, NULL, wait_for_workers);
  return tcase;
}

enum { W = USAM_TEST_SERIES_WIDTH, H = USAM_TEST_SERIES_HEIGHT, T = USAM_TEST_SERIES_FRAMES };

const UsamCtcTrack usam_test_lineage[4] = {
  { 1, 0, 2, 0 },
  { 2, 3, 5, 1 },
  { 3, 3, 5, 1 },
  { 4, 0, 5, 0 },
};

const UsamCtcTrack usam_test_undivided[3] = { { 1, 0, 5, 0 }, { 2, 3, 5, 0 }, { 3, 0, 5, 0 } };

static void
paint_disc (guint16 *plane, int cx, int cy, int r, guint16 value)
{
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++)
      if ((x - cx) * (x - cx) + (y - cy) * (y - cy) <= r * r)
        plane[y * W + x] = value;
}

UsamImage *
usam_test_series_labels (gboolean divided)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (UsamImage) labels = usam_image_new (USAM_PIXEL_TYPE_U16, W, H, 1, 1, T, &error);
  ck_assert_msg (labels != NULL, "%s", error ? error->message : "");
  for (guint t = 0; t < T; t++)
    {
      guint16 *plane = usam_image_get_plane_mutable (labels, t, 0);
      if (t < 3)
        paint_disc (plane, 20 + 4 * (int) t, 30, 7, 1);
      else
        {
          int spread = 6 + 2 * (int) (t - 3);
          paint_disc (plane, 32 - spread, 30, 5, divided ? 2 : 1);
          paint_disc (plane, 32 + spread, 30, 5, divided ? 3 : 2);
        }
      paint_disc (plane, 54, 54, 4, divided ? 4 : 3);
    }
  return g_steal_pointer (&labels);
}

char *
usam_test_write_ctc_gt (UsamImage *labels, const UsamCtcTrack *tracks, guint n_tracks, const char *name)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_build_filename (usam_test_tmpdir (), name, NULL);
  g_autofree char *tra = g_build_filename (dir, "TRA", NULL);
  ck_assert_int_eq (g_mkdir_with_parents (tra, 0755), 0);
  guint w = usam_image_get_width (labels), h = usam_image_get_height (labels);
  for (guint t = 0; t < usam_image_get_frames (labels); t++)
    {
      g_autoptr (UsamImage) frame = usam_image_new (USAM_PIXEL_TYPE_U16, w, h, 1, 1, 1, &error);
      memcpy (usam_image_get_plane_mutable (frame, 0, 0), usam_image_get_plane (labels, t, 0), (gsize) w * h * 2);
      g_autofree char *file = g_strdup_printf ("man_track%03u.tif", t);
      g_autofree char *path = g_build_filename (tra, file, NULL);
      ck_assert_msg (usam_image_save_tiff (frame, path, &error), "%s", error ? error->message : "");
    }
  g_autofree char *table = g_build_filename (tra, "man_track.txt", NULL);
  ck_assert (usam_ctc_tracks_save (table, tracks, n_tracks, &error));
  return g_steal_pointer (&dir);
}

UsamModel *
usam_test_small_model (guint64 seed)
{
  UsamArchitecture arch;
  g_autoptr (GError) error = NULL;
  ck_assert (usam_architecture_from_preset ("tiny", &arch, &error));
  arch.img_size = 256;
  UsamModel *model = usam_model_new_from_architecture (&arch, seed, USAM_PRECISION_FP32, &error);
  ck_assert_msg (model != NULL, "%s", error ? error->message : "");
  ck_assert_uint_eq (usam_model_get_embedding_size (model), 16);
  return model;
}

/* A 40 × 32 8-bit volume of @depth noisy slices, each different. */
UsamImage *
usam_test_noise_volume (guint depth, guint32 seed)
{
  g_autoptr (GError) error = NULL;
  UsamImage *image = usam_image_new (USAM_PIXEL_TYPE_U8, 40, 32, 1, depth, 1, &error);
  ck_assert_msg (image != NULL, "%s", error ? error->message : "");
  g_autoptr (GRand) rand = g_rand_new_with_seed (seed);
  for (guint z = 0; z < depth; z++)
    {
      guint8 *p = usam_image_get_plane_mutable (image, 0, z);
      for (guint i = 0; i < 40 * 32; i++)
        p[i] = (guint8) g_rand_int_range (rand, 0, 256);
    }
  return image;
}

int
usam_test_run_usam (const char *const *args, char **err)
{
  return usam_test_run_usam_full (args, NULL, err);
}

int
usam_test_run_usam_full (const char *const *args, char **out, char **err)
{
  g_autofree char *exe = usam_test_build_path ("app/usam");
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_ptr_array_add (argv, exe);
  for (int i = 0; args[i]; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);
  int wait_status = 0;
  g_autoptr (GError) error = NULL;
  ck_assert_msg (g_spawn_sync (NULL, (char **) argv->pdata, NULL, out ? G_SPAWN_DEFAULT : G_SPAWN_STDOUT_TO_DEV_NULL,
                               NULL, NULL, out, err, &wait_status, &error),
                 "cannot run %s: %s", exe, error ? error->message : "");
  ck_assert_msg (WIFEXITED (wait_status), "usam did not exit normally (crash?): %s", *err);
  return WEXITSTATUS (wait_status);
}

char *
usam_test_tmp_path (const char *name)
{
  return g_build_filename (usam_test_tmpdir (), name, NULL);
}

UsamEmbeddingCache *
usam_test_open_cache (const char *path, UsamModel *model, UsamImage *image, const UsamEmbeddingCacheOptions *options)
{
  g_autoptr (GError) error = NULL;
  UsamEmbeddingCache *cache = usam_embedding_cache_open (path, model, image, options, &error);
  ck_assert_msg (cache != NULL, "%s", error ? error->message : "");
  return cache;
}

UsamEmbedding *
usam_test_encode (UsamModel *model, UsamImage *image, guint z)
{
  g_autoptr (GError) error = NULL;
  UsamEmbedding *e = usam_model_encode (model, image, 0, z, USAM_NORMALIZE_MINMAX, NULL, NULL, NULL, &error);
  ck_assert_msg (e != NULL, "%s", error ? error->message : "");
  return e;
}

void
usam_test_assert_same_embedding (UsamEmbedding *a, UsamEmbedding *b)
{
  UsamEmbeddingShape sa, sb;
  usam_embedding_get_shape (a, &sa);
  usam_embedding_get_shape (b, &sb);
  ck_assert (memcmp (&sa, &sb, sizeof sa) == 0);
  gsize n = (gsize) sa.channels * sa.height * sa.width;
  ck_assert_msg (memcmp (usam_embedding_get_features (a), usam_embedding_get_features (b), n * sizeof (float)) == 0,
                 "embeddings differ");
}
