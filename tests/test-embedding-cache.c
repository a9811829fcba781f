/* The embedding cache: computed once and read back bit for bit; a changed
 * image, model, normalisation or tiling, a damaged file or a slice whose
 * completion flag was never written is recomputed, never used; precomputing
 * reports progress and stops when cancelled; `usam embed --volume` writes one
 * embedding per Z slice, equal to encoding each slice alone. A small random
 * model (input 256², embeddings 256 × 16 × 16) keeps it fast. */
#include <math.h>
#include <string.h>
#include <sys/wait.h>

#include "usam-embedding-cache.h"
#include "usam-error.h"
#include "usam-h5.h"
#include "usam-test-util.h"

#define SIDE 16
#define N_FEATURES (256 * SIDE * SIDE)

static UsamEmbedding *
dup_slice (UsamEmbeddingCache *cache, guint slice)
{
  g_autoptr (GError) error = NULL;
  UsamEmbedding *e = usam_embedding_cache_dup_slice (cache, slice, NULL, NULL, NULL, &error);
  ck_assert_msg (e != NULL, "%s", error ? error->message : "");
  return e;
}

static void
assert_close (const float *a, const float *b, gsize n, float tolerance)
{
  float worst = 0;
  for (gsize i = 0; i < n; i++)
    worst = fmaxf (worst, fabsf (a[i] - b[i]));
  ck_assert_msg (worst <= tolerance, "max |difference| %g > %g", worst, tolerance);
}

/* The reason must say what changed, and name the file. */
static void
assert_reset (UsamEmbeddingCache *cache, const char *needle)
{
  ck_assert (usam_embedding_cache_was_reset (cache));
  g_autofree char *reason = usam_embedding_cache_dup_reset_reason (cache);
  ck_assert_msg (reason && strstr (reason, needle), "reason '%s' does not mention '%s'", reason, needle);
  ck_assert_msg (strstr (reason, usam_embedding_cache_get_path (cache)), "reason '%s' names no file", reason);
}

/* Writes @value into /complete[@slice] or integer attribute @attr of @path. */
static void
poke_flag (const char *path, guint slice, guint8 value)
{
  g_autoptr (GError) error = NULL;
  g_auto (UsamH5File) f = usam_h5_open (path, TRUE, &error);
  ck_assert_msg (f >= 0, "%s", error ? error->message : "");
  g_auto (UsamH5Dataset) d = H5Dopen2 (f, "/complete", H5P_DEFAULT);
  g_auto (UsamH5Space) space = H5Dget_space (d);
  hsize_t start[1] = { slice }, count[1] = { 1 };
  g_auto (UsamH5Space) mem = H5Screate_simple (1, count, NULL);
  ck_assert (H5Sselect_hyperslab (space, H5S_SELECT_SET, start, NULL, count, NULL) >= 0);
  ck_assert (H5Dwrite (d, H5T_NATIVE_UINT8, mem, space, H5P_DEFAULT, &value) >= 0);
}

static void
poke_attr (const char *path, const char *attr, gint64 a, gint64 b)
{
  g_auto (UsamH5File) f = usam_h5_open (path, TRUE, NULL);
  ck_assert (f >= 0);
  const gint64 values[2] = { a, b };
  ck_assert (usam_h5_write_attr_ints (f, attr, values, 2, NULL));
}

START_TEST (test_computed_once_then_read_back)
{
  g_autoptr (UsamModel) model = usam_test_small_model (1);
  g_autoptr (UsamImage) image = usam_test_noise_volume (3, 7);
  g_autofree char *path = usam_test_tmp_path ("once.h5");
  g_autoptr (UsamEmbeddingCache) cache = usam_test_open_cache (path, model, image, NULL);
  ck_assert (!usam_embedding_cache_was_reset (cache));
  ck_assert_uint_eq (usam_embedding_cache_get_n_slices (cache), 3);
  ck_assert (!usam_embedding_cache_has_slice (cache, 1));
  /* Nothing is written before there is something to write. */
  ck_assert (!g_file_test (path, G_FILE_TEST_EXISTS));

  g_autoptr (UsamEmbedding) first = dup_slice (cache, 1);
  ck_assert_uint_eq (usam_embedding_cache_get_n_computed (cache), 1);
  ck_assert (usam_embedding_cache_has_slice (cache, 1));
  ck_assert (!usam_embedding_cache_has_slice (cache, 0));
  g_autoptr (UsamEmbedding) again = dup_slice (cache, 1);
  ck_assert_uint_eq (usam_embedding_cache_get_n_computed (cache), 1);
  usam_test_assert_same_embedding (first, again);
  g_autoptr (UsamEmbedding) direct = usam_test_encode (model, image, 1);
  usam_test_assert_same_embedding (first, direct);
  g_autoptr (GError) error = NULL;
  ck_assert (!usam_embedding_cache_dup_slice (cache, 3, NULL, NULL, NULL, &error));
  ck_assert (g_error_matches (error, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT));
  g_clear_object (&cache);

  /* A new process's view: the file alone. */
  cache = usam_test_open_cache (path, model, image, NULL);
  ck_assert (!usam_embedding_cache_was_reset (cache));
  ck_assert (usam_embedding_cache_has_slice (cache, 1));
  ck_assert (!usam_embedding_cache_has_slice (cache, 2));
  g_autoptr (UsamEmbedding) reread = dup_slice (cache, 1);
  ck_assert_uint_eq (usam_embedding_cache_get_n_computed (cache), 0);
  usam_test_assert_same_embedding (first, reread);
  g_clear_object (&cache);

  /* The layout: per-slice features and flags, the sizes where μSAM keeps them. */
  g_auto (UsamH5File) f = usam_h5_open (path, FALSE, &error);
  ck_assert (f >= 0);
  const hsize_t fdims[4] = { 3, 256, SIDE, SIDE }, cdims[1] = { 3 };
  g_autofree float *features = usam_h5_read_shaped (f, "/features", H5T_NATIVE_FLOAT, 4, fdims, &error);
  ck_assert_msg (features != NULL, "%s", error ? error->message : "");
  ck_assert (memcmp (features + N_FEATURES, usam_embedding_get_features (first), N_FEATURES * sizeof (float)) == 0);
  g_autofree guint8 *complete = usam_h5_read_shaped (f, "/complete", H5T_NATIVE_UINT8, 1, cdims, &error);
  ck_assert (complete && complete[0] == 0 && complete[1] == 1 && complete[2] == 0);
  gint64 input_size[2], original_size[2], version = 0;
  ck_assert (usam_h5_read_attr_ints (f, "input_size", input_size, 2, NULL));
  ck_assert (usam_h5_read_attr_ints (f, "original_size", original_size, 2, NULL));
  ck_assert (usam_h5_read_attr_ints (f, "format_version", &version, 1, NULL));
  ck_assert_int_eq (original_size[0], 32);
  ck_assert_int_eq (original_size[1], 40);
  ck_assert_int_eq (input_size[0], 205);
  ck_assert_int_eq (input_size[1], 256);
  ck_assert_int_eq (version, USAM_EMBEDDING_CACHE_FORMAT_VERSION);
}
END_TEST

START_TEST (test_changed_inputs_reset)
{
  g_autoptr (UsamModel) model = usam_test_small_model (1);
  g_autoptr (UsamImage) image = usam_test_noise_volume (2, 7);
  g_autofree char *path = usam_test_tmp_path ("changed.h5");
  g_autoptr (UsamEmbeddingCache) cache = usam_test_open_cache (path, model, image, NULL);
  g_autoptr (UsamEmbedding) original = dup_slice (cache, 0);
  g_clear_object (&cache);

  /* One pixel of another slice. */
  g_autoptr (UsamImage) edited = usam_test_noise_volume (2, 7);
  guint8 *p = usam_image_get_plane_mutable (edited, 0, 1);
  p[100] ^= 1;
  cache = usam_test_open_cache (path, model, edited, NULL);
  assert_reset (cache, "pixel");
  ck_assert (!usam_embedding_cache_has_slice (cache, 0));
  g_autoptr (UsamEmbedding) recomputed = dup_slice (cache, 0);
  ck_assert_uint_eq (usam_embedding_cache_get_n_computed (cache), 1);
  usam_test_assert_same_embedding (original, recomputed); /* slice 0 itself did not change */
  g_clear_object (&cache);
  cache = usam_test_open_cache (path, model, edited, NULL);
  ck_assert (!usam_embedding_cache_was_reset (cache));
  ck_assert (usam_embedding_cache_has_slice (cache, 0));
  g_clear_object (&cache);

  /* Another model. */
  g_autoptr (UsamModel) other = usam_test_small_model (2);
  cache = usam_test_open_cache (path, other, edited, NULL);
  assert_reset (cache, "another model");
  g_autoptr (UsamEmbedding) by_other = dup_slice (cache, 0);
  ck_assert_uint_eq (usam_embedding_cache_get_n_computed (cache), 1);
  g_autoptr (UsamEmbedding) expected = usam_test_encode (other, edited, 0);
  usam_test_assert_same_embedding (by_other, expected);
  g_clear_object (&cache);

  /* Another normalisation. */
  UsamEmbeddingCacheOptions none = { .normalize = USAM_NORMALIZE_NONE };
  cache = usam_test_open_cache (path, other, edited, &none);
  assert_reset (cache, "normalisation");
  g_clear_object (&cache);

  /* A file written with tiles, or another halo. */
  cache = usam_test_open_cache (path, other, edited, NULL);
  ck_assert (!usam_embedding_cache_was_reset (cache));
  g_clear_object (&cache);
  poke_attr (path, "tile_shape", 512, 512);
  cache = usam_test_open_cache (path, other, edited, NULL);
  assert_reset (cache, "tile shape");
  ck_assert (!usam_embedding_cache_has_slice (cache, 0));
  g_autoptr (UsamEmbedding) untiled = dup_slice (cache, 0);
  usam_test_assert_same_embedding (untiled, expected);
  g_clear_object (&cache);
  poke_attr (path, "halo", 16, 16);
  cache = usam_test_open_cache (path, other, edited, NULL);
  assert_reset (cache, "halo");
  g_clear_object (&cache);

  UsamEmbeddingCacheOptions tiled = { .tile_width = 16, .tile_height = 16, .halo_width = 4, .halo_height = 4 };
  cache = usam_test_open_cache (path, other, edited, &tiled);
  assert_reset (cache, "tile shape");
  g_clear_object (&cache);

  /* A halo of half a tile or more would encode the neighbours whole. */
  UsamEmbeddingCacheOptions bad = { .tile_width = 16, .tile_height = 16, .halo_width = 8, .halo_height = 2 };
  g_autoptr (GError) error = NULL;
  ck_assert (!usam_embedding_cache_open (path, other, edited, &bad, &error));
  ck_assert (g_error_matches (error, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT));
}
END_TEST

START_TEST (test_damaged_files_recomputed)
{
  g_autoptr (UsamModel) model = usam_test_small_model (1);
  g_autoptr (UsamImage) image = usam_test_noise_volume (2, 7);
  g_autoptr (UsamEmbedding) expected = usam_test_encode (model, image, 0);
  g_autofree char *path = usam_test_tmp_path ("damaged.h5");

  /* Garbage, and an empty file. */
  const char *garbage[] = { "this is not HDF5 at all", "" };
  for (guint i = 0; i < G_N_ELEMENTS (garbage); i++)
    {
      ck_assert (g_file_set_contents (path, garbage[i], -1, NULL));
      g_autoptr (UsamEmbeddingCache) cache = usam_test_open_cache (path, model, image, NULL);
      assert_reset (cache, "not an HDF5 file");
      ck_assert (!usam_embedding_cache_has_slice (cache, 0));
      g_autoptr (UsamEmbedding) e = dup_slice (cache, 0);
      usam_test_assert_same_embedding (e, expected);
    }
  {
    g_autoptr (UsamEmbeddingCache) cache = usam_test_open_cache (path, model, image, NULL);
    ck_assert (!usam_embedding_cache_was_reset (cache));
    ck_assert (usam_embedding_cache_has_slice (cache, 0));
  }

  /* Truncated: detected at open or when the slice is read; never used. */
  g_autofree char *contents = NULL;
  gsize length = 0;
  ck_assert (g_file_get_contents (path, &contents, &length, NULL));
  for (gsize keep = length / 2; keep > 0; keep /= 8)
    {
      ck_assert (g_file_set_contents (path, contents, (gssize) keep, NULL));
      g_autoptr (UsamEmbeddingCache) cache = usam_test_open_cache (path, model, image, NULL);
      ck_assert (usam_embedding_cache_was_reset (cache) || usam_embedding_cache_has_slice (cache, 0));
      g_autoptr (UsamEmbedding) e = dup_slice (cache, 0);
      usam_test_assert_same_embedding (e, expected);
      ck_assert_uint_eq (usam_embedding_cache_get_n_computed (cache), 1);
    }

  /* A flipped byte inside the stored features: its checksum fails. */
  ck_assert (g_file_set_contents (path, contents, (gssize) length, NULL));
  haddr_t address = HADDR_UNDEF;
  {
    g_auto (UsamH5File) f = usam_h5_open (path, FALSE, NULL);
    g_auto (UsamH5Dataset) d = H5Dopen2 (f, "/features", H5P_DEFAULT);
    const hsize_t origin[4] = { 0, 0, 0, 0 };
    unsigned mask = 0;
    hsize_t size = 0;
    ck_assert (H5Dget_chunk_info_by_coord (d, origin, &mask, &address, &size) >= 0);
    ck_assert (address != HADDR_UNDEF && size == N_FEATURES * sizeof (float) + 4);
  }
  contents[address + 1000] ^= 0x40;
  ck_assert (g_file_set_contents (path, contents, (gssize) length, NULL));
  g_autoptr (UsamEmbeddingCache) cache = usam_test_open_cache (path, model, image, NULL);
  ck_assert (!usam_embedding_cache_was_reset (cache));
  ck_assert (usam_embedding_cache_has_slice (cache, 0));
  g_autoptr (UsamEmbedding) repaired = dup_slice (cache, 0);
  usam_test_assert_same_embedding (repaired, expected);
  ck_assert_uint_eq (usam_embedding_cache_get_n_repaired (cache), 1);
  ck_assert_uint_eq (usam_embedding_cache_get_n_computed (cache), 1);
  g_autoptr (UsamEmbedding) reread = dup_slice (cache, 0);
  ck_assert_uint_eq (usam_embedding_cache_get_n_computed (cache), 1);
  usam_test_assert_same_embedding (reread, expected);
}
END_TEST

START_TEST (test_incomplete_slice_recomputed)
{
  g_autoptr (UsamModel) model = usam_test_small_model (1);
  g_autoptr (UsamImage) image = usam_test_noise_volume (3, 9);
  g_autofree char *path = usam_test_tmp_path ("incomplete.h5");
  g_autoptr (UsamEmbeddingCache) cache = usam_test_open_cache (path, model, image, NULL);
  g_autoptr (UsamEmbedding) e0 = dup_slice (cache, 0);
  g_autoptr (UsamEmbedding) e1 = dup_slice (cache, 1);
  g_clear_object (&cache);

  /* Killed between the features and the flag: the flag is all that counts. */
  poke_flag (path, 1, 0);
  cache = usam_test_open_cache (path, model, image, NULL);
  ck_assert (!usam_embedding_cache_was_reset (cache));
  ck_assert (usam_embedding_cache_has_slice (cache, 0));
  ck_assert (!usam_embedding_cache_has_slice (cache, 1));
  g_autoptr (UsamEmbedding) again = dup_slice (cache, 1);
  ck_assert_uint_eq (usam_embedding_cache_get_n_computed (cache), 1);
  usam_test_assert_same_embedding (again, e1);
  g_autoptr (UsamEmbedding) kept = dup_slice (cache, 0);
  ck_assert_uint_eq (usam_embedding_cache_get_n_computed (cache), 1);
  usam_test_assert_same_embedding (kept, e0);
  g_clear_object (&cache);

  /* A flag that is neither 0 nor 1 is not complete either. */
  poke_flag (path, 0, 7);
  cache = usam_test_open_cache (path, model, image, NULL);
  ck_assert (!usam_embedding_cache_has_slice (cache, 0));
  ck_assert (usam_embedding_cache_has_slice (cache, 1));
  g_clear_object (&cache);

  /* usam_embedding_load() reads a 2D cache, but not before its flag is set. */
  g_autoptr (UsamImage) flat = usam_test_noise_volume (1, 9);
  g_autofree char *flat_path = usam_test_tmp_path ("flat.h5");
  cache = usam_test_open_cache (flat_path, model, flat, NULL);
  g_autoptr (UsamEmbedding) e = dup_slice (cache, 0);
  g_clear_object (&cache);
  g_autoptr (GError) error = NULL;
  g_autoptr (UsamEmbedding) loaded = usam_embedding_load (model, flat_path, &error);
  ck_assert_msg (loaded != NULL, "%s", error ? error->message : "");
  usam_test_assert_same_embedding (loaded, e);
  poke_flag (flat_path, 0, 0);
  ck_assert (!usam_embedding_load (model, flat_path, &error));
  ck_assert_msg (strstr (error->message, "never completely written"), "%s", error->message);
}
END_TEST

typedef struct
{
  GArray *fractions;
  GCancellable *cancel_after_first; /* cancelled once a slice of @cache is done */
  UsamEmbeddingCache *cache;
  GAsyncResult *result;
} AsyncState;

static void
on_progress (double fraction, gpointer user_data)
{
  AsyncState *s = user_data;
  g_array_append_val (s->fractions, fraction);
  if (s->cancel_after_first && usam_embedding_cache_get_n_computed (s->cache) >= 1)
    g_cancellable_cancel (s->cancel_after_first);
}

static void
on_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  AsyncState *s = user_data;
  s->result = g_object_ref (result);
}

static gboolean
run_async (UsamEmbeddingCache *cache, guint first, guint last, guint center, AsyncState *s, GCancellable *cancellable,
           GError **error)
{
  s->fractions = g_array_new (FALSE, FALSE, sizeof (double));
  usam_embedding_cache_precompute_async (cache, first, last, center, cancellable, on_progress, s, NULL, on_done, s);
  while (!s->result)
    g_main_context_iteration (NULL, TRUE);
  /* Progress posted before the result is dispatched by now too. */
  while (g_main_context_pending (NULL))
    g_main_context_iteration (NULL, FALSE);
  gboolean ok = usam_embedding_cache_precompute_finish (cache, s->result, error);
  g_clear_object (&s->result);
  /* The worker lets go of its task, and so of the cache, just after. */
  while (g_atomic_int_get ((gint *) &G_OBJECT (cache)->ref_count) > 1)
    g_usleep (1000);
  return ok;
}

START_TEST (test_precompute_async)
{
  g_autoptr (UsamModel) model = usam_test_small_model (1);
  g_autoptr (UsamImage) image = usam_test_noise_volume (5, 11);
  g_autofree char *path = usam_test_tmp_path ("ahead.h5");
  g_autoptr (UsamEmbeddingCache) cache = usam_test_open_cache (path, model, image, NULL);
  g_autoptr (UsamEmbedding) middle = dup_slice (cache, 2);

  AsyncState s = { 0 };
  g_autoptr (GError) error = NULL;
  ck_assert_msg (run_async (cache, 0, 4, 2, &s, NULL, &error), "%s", error ? error->message : "");
  ck_assert_uint_eq (usam_embedding_cache_get_n_computed (cache), 5);
  for (guint z = 0; z < 5; z++)
    ck_assert (usam_embedding_cache_has_slice (cache, z));
  ck_assert_uint_ge (s.fractions->len, 5);
  for (guint i = 1; i < s.fractions->len; i++)
    ck_assert (g_array_index (s.fractions, double, i) >= g_array_index (s.fractions, double, i - 1));
  ck_assert (g_array_index (s.fractions, double, s.fractions->len - 1) == 1.0);
  g_array_unref (s.fractions);
  for (guint z = 0; z < 5; z++)
    {
      g_autoptr (UsamEmbedding) cached = dup_slice (cache, z);
      g_autoptr (UsamEmbedding) direct = usam_test_encode (model, image, z);
      usam_test_assert_same_embedding (cached, direct);
    }
  ck_assert_uint_eq (usam_embedding_cache_get_n_computed (cache), 5);
  g_clear_object (&cache);

  /* Cancelled once the first slice is done, which is the centre one: it
   * stops there, keeping what it finished. In the calling thread, so the
   * moment of cancelling is exact. */
  g_autofree char *path2 = usam_test_tmp_path ("cancelled.h5");
  cache = usam_test_open_cache (path2, model, image, NULL);
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  AsyncState c = { g_array_new (FALSE, FALSE, sizeof (double)), cancellable, cache, NULL };
  ck_assert (!usam_embedding_cache_precompute (cache, 0, 4, 3, cancellable, on_progress, &c, &error));
  ck_assert (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED));
  g_clear_error (&error);
  g_array_unref (c.fractions);
  ck_assert_uint_eq (usam_embedding_cache_get_n_computed (cache), 1);
  for (guint z = 0; z < 5; z++)
    ck_assert (usam_embedding_cache_has_slice (cache, z) == (z == 3));

  /* Cancelled before it starts: nothing is computed. */
  AsyncState d = { 0 };
  ck_assert (!run_async (cache, 0, 4, 0, &d, cancellable, &error));
  ck_assert (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED));
  g_clear_error (&error);
  g_array_unref (d.fractions);
  ck_assert_uint_eq (usam_embedding_cache_get_n_computed (cache), 1);
  g_clear_object (&cache);

  /* Cancelled from the main loop while the worker runs. */
  g_autoptr (UsamImage) deep = usam_test_noise_volume (12, 5);
  g_autofree char *path3 = usam_test_tmp_path ("cancelled-async.h5");
  cache = usam_test_open_cache (path3, model, deep, NULL);
  g_autoptr (GCancellable) stop = g_cancellable_new ();
  AsyncState e = { 0 };
  e.cancel_after_first = stop;
  e.cache = cache;
  ck_assert (!run_async (cache, 0, 11, 0, &e, stop, &error));
  ck_assert (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED));
  g_array_unref (e.fractions);
  guint n = usam_embedding_cache_get_n_computed (cache);
  ck_assert_msg (n < 12, "%u slices computed", n);
  ck_assert (!usam_embedding_cache_has_slice (cache, 11));
}
END_TEST

START_TEST (test_cli_embed_volume)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (UsamModel) random = usam_test_small_model (3);
  g_autofree char *ckpt = usam_test_tmp_path ("small.pt");
  ck_assert_msg (usam_model_save (random, ckpt, FALSE, &error), "%s", error ? error->message : "");
  g_autoptr (UsamModel) model = usam_model_new_from_file (ckpt, USAM_PRECISION_FP32, &error);
  ck_assert_msg (model != NULL, "%s", error ? error->message : "");
  g_autoptr (UsamImage) volume = usam_test_noise_volume (3, 13);
  g_autofree char *image = usam_test_tmp_path ("volume.tif");
  ck_assert_msg (usam_image_save_tiff (volume, image, &error), "%s", error ? error->message : "");
  g_autoptr (UsamImage) reloaded = usam_image_load (image, &error);
  ck_assert (reloaded && usam_image_get_depth (reloaded) == 3);
  g_autofree char *out = usam_test_tmp_path ("volume.emb.h5");

  /* A stale file in the way is reported and replaced. */
  ck_assert (g_file_set_contents (out, "stale", -1, NULL));
  const char *args[] = { "embed", "--volume", "--model", ckpt, "--image", image, "--out", out, NULL };
  g_autofree char *err = NULL;
  int status = usam_test_run_usam (args, &err);
  ck_assert_msg (status == 0, "exit %d: %s", status, err);
  ck_assert_msg (strstr (err, "not an HDF5 file"), "stderr: %s", err);
  ck_assert_msg (strstr (err, "embedding slices: 100 %"), "stderr: %s", err);

  g_auto (UsamH5File) f = usam_h5_open (out, FALSE, &error);
  ck_assert_msg (f >= 0, "%s", error ? error->message : "");
  const hsize_t fdims[4] = { 3, 256, SIDE, SIDE }, cdims[1] = { 3 };
  g_autofree float *features = usam_h5_read_shaped (f, "/features", H5T_NATIVE_FLOAT, 4, fdims, &error);
  ck_assert_msg (features != NULL, "%s", error ? error->message : "");
  g_autofree guint8 *complete = usam_h5_read_shaped (f, "/complete", H5T_NATIVE_UINT8, 1, cdims, &error);
  ck_assert (complete && complete[0] == 1 && complete[1] == 1 && complete[2] == 1);
  for (guint z = 0; z < 3; z++)
    {
      g_autoptr (UsamEmbedding) alone = usam_test_encode (model, volume, z);
      assert_close (features + (gsize) z * N_FEATURES, usam_embedding_get_features (alone), N_FEATURES, 1e-5f);
    }
  usam_h5_file_close (f);
  f = H5I_INVALID_HID;

  /* The same signature in this process: nothing to recompute. */
  g_autoptr (UsamEmbeddingCache) cache = usam_test_open_cache (out, model, reloaded, NULL);
  ck_assert (!usam_embedding_cache_was_reset (cache));
  for (guint z = 0; z < 3; z++)
    ck_assert (usam_embedding_cache_has_slice (cache, z));
  g_clear_object (&cache);

  /* A second run reuses the file: no reset reported. */
  g_clear_pointer (&err, g_free);
  status = usam_test_run_usam (args, &err);
  ck_assert_msg (status == 0, "exit %d: %s", status, err);
  ck_assert_msg (!strstr (err, "computed again"), "stderr: %s", err);

  /* A time series is not a volume. */
  g_autoptr (UsamImage) series = usam_image_new (USAM_PIXEL_TYPE_U8, 16, 16, 1, 1, 3, &error);
  g_autofree char *series_path = usam_test_tmp_path ("series.tif");
  ck_assert (usam_image_save_tiff (series, series_path, &error));
  g_autofree char *never = usam_test_tmp_path ("never.h5");
  const char *bad[] = { "embed", "--volume", "--model", ckpt, "--image", series_path, "--out", never, NULL };
  g_clear_pointer (&err, g_free);
  ck_assert_int_eq (usam_test_run_usam (bad, &err), 1);
  ck_assert_msg (strstr (err, "time series"), "stderr: %s", err);
  ck_assert (!g_file_test (never, G_FILE_TEST_EXISTS));
}
END_TEST

static Suite *
cache_suite (void)
{
  Suite *s = suite_create ("embedding-cache");
  TCase *tc = usam_test_tcase_new ("cache");
  tcase_add_test (tc, test_computed_once_then_read_back);
  tcase_add_test (tc, test_changed_inputs_reset);
  tcase_add_test (tc, test_damaged_files_recomputed);
  tcase_add_test (tc, test_incomplete_slice_recomputed);
  tcase_add_test (tc, test_precompute_async);
  suite_add_tcase (s, tc);
  TCase *cli = usam_test_tcase_new ("cli");
  tcase_add_test (cli, test_cli_embed_volume);
  suite_add_tcase (s, cli);
  return s;
}

int
main (void)
{
  return usam_test_run (cache_suite ());
}
