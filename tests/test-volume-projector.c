/* test-volume-projector.c — several objects projected through Z at once,
 * with a tiny random model whose masks mean nothing: what must hold is that
 * each seed gets exactly what usam_projection_run() gives it alone, through
 * the embedding cache as without it, in a worker thread with progress on
 * the caller's main context, and that cancelling keeps the seeds. */
#include <math.h>
#include <string.h>

#include "usam-test-util.h"
#include "usam-volume-projector.h"

enum { W = 64, H = 48, D = 6 };

static UsamModel *model;
static UsamImage *volume;
static guint8 seeds[2][W * H];
static const guint seed_z[2] = { 2, 4 };

static void
disc (guint8 *mask, double cx, double cy, double r, guint8 inside, guint8 outside)
{
  for (guint y = 0; y < H; y++)
    for (guint x = 0; x < W; x++)
      mask[y * W + x] = (x - cx) * (x - cx) + (y - cy) * (y - cy) <= r * r ? inside : outside;
}

static void
setup (void)
{
  g_autoptr (GError) error = NULL;
  /* The tiny preset at a 256² input: at its 1024² every slice's encoding
   * and decoding cost ~16× more, for masks that mean nothing either way. */
  UsamArchitecture arch;
  ck_assert (usam_architecture_from_preset ("tiny", &arch, &error));
  arch.img_size = 256;
  model = usam_model_new_from_architecture (&arch, 3, USAM_PRECISION_FP32, &error);
  ck_assert_msg (model, "%s", error ? error->message : "");
  volume = usam_image_new (USAM_PIXEL_TYPE_U8, W, H, 1, D, 1, &error);
  ck_assert_msg (volume, "%s", error ? error->message : "");
  for (guint z = 0; z < D; z++)
    {
      guint8 *p = usam_image_get_plane_mutable (volume, 0, z);
      disc (p, 20, 24, 8 + z, 200, 20);
      for (guint y = 0; y < H; y++)
        for (guint x = 0; x < W; x++)
          if ((x - 48.0) * (x - 48.0) + (y - 20.0) * (y - 20.0) <= 36)
            p[y * W + x] = 150;
    }
  disc (seeds[0], 20, 24, 10, 1, 0);
  disc (seeds[1], 48, 20, 6, 1, 0);
}

static void
teardown (void)
{
  g_clear_object (&model);
  g_clear_object (&volume);
}

static UsamProjectionParams
params (double iou_threshold)
{
  UsamProjectionParams p = usam_projection_params_default ();
  p.iou_threshold = iou_threshold;
  return p;
}

/* usam_projection_run() for one seed alone. */
static guint8 *
alone (guint i, const UsamProjectionParams *p, UsamProjectionEnd *down, UsamProjectionEnd *up)
{
  g_autoptr (GError) error = NULL;
  guint8 *masks = g_malloc0 ((gsize) D * W * H);
  ck_assert_msg (usam_projection_run (model, volume, 0, seed_z[i], seeds[i], p, NULL, NULL, NULL, NULL, NULL, masks,
                                      down, up, &error),
                 "%s", error ? error->message : "");
  return masks;
}

static void
check_like_alone (UsamVolumeProjector *projector, const UsamProjectionParams *p)
{
  ck_assert_uint_eq (usam_volume_projector_get_n_seeds (projector), 2);
  for (guint i = 0; i < 2; i++)
    {
      UsamProjectionEnd down, up, d, u;
      g_autofree guint8 *expected = alone (i, p, &down, &up);
      usam_volume_projector_get_ends (projector, i, &d, &u);
      ck_assert_msg (memcmp (usam_volume_projector_get_masks (projector, i), expected, (gsize) D * W * H) == 0,
                     "seed %u's masks differ from its projection alone", i);
      ck_assert_int_eq (d.stop, down.stop);
      ck_assert_int_eq (u.stop, up.stop);
      ck_assert_uint_eq (d.last, down.last);
      ck_assert_uint_eq (u.last, up.last);
      ck_assert_uint_eq (d.stop_slice, down.stop_slice);
      ck_assert_uint_eq (u.stop_slice, up.stop_slice);
    }
}

static UsamVolumeProjector *
new_projector (const UsamProjectionParams *p)
{
  UsamVolumeProjector *projector = usam_volume_projector_new (model, volume, 0, p);
  for (guint i = 0; i < 2; i++)
    ck_assert_uint_eq (usam_volume_projector_add_seed (projector, seed_z[i], seeds[i]), i);
  return projector;
}

START_TEST (test_seeds_like_alone)
{
  /* Threshold 0 goes as far as the model finds something; 1.5 stops
   * next to every seed: both kinds of end. */
  const double thresholds[] = { 0, 1.5 };
  for (guint k = 0; k < G_N_ELEMENTS (thresholds); k++)
    {
      UsamProjectionParams p = params (thresholds[k]);
      g_autoptr (UsamVolumeProjector) projector = new_projector (&p);
      g_autoptr (GError) error = NULL;
      ck_assert_msg (usam_volume_projector_run (projector, NULL, NULL, NULL, &error), "%s",
                     error ? error->message : "");
      ck_assert (!usam_volume_projector_was_cancelled (projector));
      check_like_alone (projector, &p);
    }
}
END_TEST

START_TEST (test_through_cache)
{
  UsamProjectionParams p = params (0);
  g_autofree char *path = g_build_filename (usam_test_tmpdir (), "projector-cache.h5", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (UsamEmbeddingCache) cache = usam_embedding_cache_open (path, model, volume, NULL, &error);
  ck_assert_msg (cache, "%s", error ? error->message : "");
  g_autoptr (UsamVolumeProjector) projector = new_projector (&p);
  usam_volume_projector_set_cache (projector, cache);
  ck_assert_msg (usam_volume_projector_run (projector, NULL, NULL, NULL, &error), "%s", error ? error->message : "");
  check_like_alone (projector, &p);
  /* Slices both seeds visit are encoded once. */
  ck_assert_uint_le (usam_embedding_cache_get_n_computed (cache), D);
  ck_assert_uint_ge (usam_embedding_cache_get_n_computed (cache), 1);
}
END_TEST

typedef struct
{
  GThread *main_thread;
  guint calls;
  double last;
  gboolean done, ok;
  GError *error;
} AsyncData;

static void
on_progress (double fraction, gpointer user_data)
{
  AsyncData *d = user_data;
  ck_assert (g_thread_self () == d->main_thread);
  ck_assert (!d->done);
  ck_assert (fraction >= d->last - 1e-9 && fraction <= 1 + 1e-9);
  d->last = fraction;
  d->calls++;
}

static void
on_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  AsyncData *d = user_data;
  d->ok = usam_volume_projector_run_finish (USAM_VOLUME_PROJECTOR (source), result, &d->error);
  d->done = TRUE;
}

START_TEST (test_async_progress)
{
  UsamProjectionParams p = params (0);
  g_autoptr (UsamVolumeProjector) projector = new_projector (&p);
  AsyncData d = { .main_thread = g_thread_self () };
  usam_volume_projector_run_async (projector, NULL, on_progress, &d, on_done, &d);
  ck_assert (usam_volume_projector_is_running (projector));
  while (!d.done)
    g_main_context_iteration (NULL, TRUE);
  ck_assert_msg (d.ok, "%s", d.error ? d.error->message : "");
  ck_assert (!usam_volume_projector_is_running (projector));
  ck_assert_uint_gt (d.calls, 0);
  check_like_alone (projector, &p);
  /* Nothing arrives after the callback. */
  for (int i = 0; i < 10; i++)
    g_main_context_iteration (NULL, FALSE);
}
END_TEST

START_TEST (test_cancel_keeps_seeds)
{
  UsamProjectionParams p = params (0);
  g_autoptr (UsamVolumeProjector) projector = new_projector (&p);
  g_autoptr (GCancellable) cancel = g_cancellable_new ();
  g_cancellable_cancel (cancel);
  g_autoptr (GError) error = NULL;
  ck_assert_msg (usam_volume_projector_run (projector, cancel, NULL, NULL, &error), "%s",
                 error ? error->message : "");
  ck_assert (usam_volume_projector_was_cancelled (projector));
  for (guint i = 0; i < 2; i++)
    {
      UsamProjectionEnd down, up;
      usam_volume_projector_get_ends (projector, i, &down, &up);
      ck_assert_int_eq (down.stop, USAM_PROJECTION_STOP_CANCELLED);
      ck_assert_int_eq (up.stop, USAM_PROJECTION_STOP_CANCELLED);
      const guint8 *masks = usam_volume_projector_get_masks (projector, i);
      for (guint z = 0; z < D; z++)
        for (gsize j = 0; j < W * H; j++)
          ck_assert_uint_eq (masks[z * W * H + j], z == seed_z[i] ? seeds[i][j] : 0);
    }
}
END_TEST

/* One object seen on several slices is one seed: it gets what
 * usam_projection_run_multi() gives those slices, gaps included, and a
 * cancelled run keeps all of its slices. */
START_TEST (test_object_on_several_slices)
{
  UsamProjectionParams p = params (0);
  g_autoptr (UsamVolumeProjector) projector = usam_volume_projector_new (model, volume, 0, &p);
  /* added out of order; the projector sorts them */
  ck_assert_uint_eq (usam_volume_projector_add_seed (projector, 4, seeds[0]), 0);
  usam_volume_projector_add_seed_slice (projector, 0, 1, seeds[0]);
  guint n;
  const guint *slices = usam_volume_projector_get_seed_slices (projector, 0, &n);
  ck_assert (n == 2 && slices[0] == 1 && slices[1] == 4);
  ck_assert_uint_eq (usam_volume_projector_get_seed_slice (projector, 0), 1);
  g_autoptr (GError) error = NULL;
  ck_assert_msg (usam_volume_projector_run (projector, NULL, NULL, NULL, &error), "%s", error ? error->message : "");
  const guint z[2] = { 1, 4 };
  const guint8 *masks[2] = { seeds[0], seeds[0] };
  g_autofree guint8 *expected = g_malloc ((gsize) D * W * H);
  UsamProjectionEnd down, up, d, u;
  UsamProjectionGap gap;
  ck_assert_msg (usam_projection_run_multi (model, volume, 0, 2, z, masks, &p, NULL, NULL, NULL, NULL, NULL, expected,
                                            &down, &up, &gap, &error),
                 "%s", error ? error->message : "");
  ck_assert (memcmp (usam_volume_projector_get_masks (projector, 0), expected, (gsize) D * W * H) == 0);
  usam_volume_projector_get_ends (projector, 0, &d, &u);
  ck_assert (d.stop == down.stop && d.last == down.last && u.stop == up.stop && u.last == up.last);
  guint n_gaps;
  const UsamProjectionGap *gaps = usam_volume_projector_get_gaps (projector, 0, &n_gaps);
  ck_assert_uint_eq (n_gaps, 1);
  ck_assert (gaps[0].lower == 1 && gaps[0].upper == 4);
  ck_assert (gaps[0].up.stop == gap.up.stop && gaps[0].up.last == gap.up.last);
  ck_assert (gaps[0].down.stop == gap.down.stop && gaps[0].down.last == gap.down.last);

  g_autoptr (GCancellable) cancel = g_cancellable_new ();
  g_cancellable_cancel (cancel);
  ck_assert (usam_volume_projector_run (projector, cancel, NULL, NULL, &error));
  ck_assert (usam_volume_projector_was_cancelled (projector));
  gaps = usam_volume_projector_get_gaps (projector, 0, &n_gaps);
  ck_assert (n_gaps == 1 && gaps[0].up.stop == USAM_PROJECTION_STOP_CANCELLED &&
             gaps[0].down.stop == USAM_PROJECTION_STOP_CANCELLED);
  const guint8 *kept = usam_volume_projector_get_masks (projector, 0);
  for (guint k = 0; k < D; k++)
    for (gsize j = 0; j < W * H; j++)
      ck_assert_uint_eq (kept[k * W * H + j], k == 1 || k == 4 ? seeds[0][j] : 0);
}
END_TEST

static Suite *
volume_projector_suite (void)
{
  Suite *suite = suite_create ("volume-projector");
  TCase *tc = usam_test_tcase_new ("projector");
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_set_timeout (tc, 600);
  tcase_add_test (tc, test_seeds_like_alone);
  tcase_add_test (tc, test_through_cache);
  tcase_add_test (tc, test_async_progress);
  tcase_add_test (tc, test_cancel_keeps_seeds);
  tcase_add_test (tc, test_object_on_several_slices);
  suite_add_tcase (suite, tc);
  return suite;
}

int
main (void)
{
  return usam_test_run (volume_projector_suite ());
}
