/* Model-driven volumes with tiny random models, whose masks mean nothing,
 * so only what must hold for any model is checked: prompt projection
 * through Z (directions, stop reasons, cancel, the embedding callback,
 * progress) and AIS over a stack's slices feeding the 3D merge. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "usam-ais-stack.h"
#include "usam-error.h"
#include "usam-projection.h"
#include "usam-test-util.h"
#include "usam-volume-merge.h"

enum { W = 64, H = 48, D = 4 };

static UsamModel *model;
static UsamImage *volume;
static guint8 seed[W * H];

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
  for (guint z = 0; z < D; z++)
    {
      guint8 *p = usam_image_get_plane_mutable (volume, 0, z);
      for (guint y = 0; y < H; y++)
        for (guint x = 0; x < W; x++)
          {
            double r = 10 + 2.0 * z;
            p[y * W + x] = (x - 30.0) * (x - 30.0) + (y - 24.0) * (y - 24.0) <= r * r ? 200 : 20;
          }
    }
  for (guint y = 0; y < H; y++)
    for (guint x = 0; x < W; x++)
      seed[y * W + x] = (x - 30.0) * (x - 30.0) + (y - 24.0) * (y - 24.0) <= 14 * 14;
}

static void
teardown (void)
{
  g_clear_object (&model);
  g_clear_object (&volume);
}

static gsize
area (const guint8 *masks, guint z)
{
  gsize n = 0;
  for (gsize i = 0; i < W * H; i++)
    n += masks[z * W * H + i];
  return n;
}

/* What holds for any model: the seed slice is the seed; kept slices form
 * one run around it, each non-empty; outside it nothing. */
static void
check_consistent (const guint8 *masks, guint z_seed, const UsamProjectionEnd *down, const UsamProjectionEnd *up)
{
  ck_assert (memcmp (masks + z_seed * W * H, seed, W * H) == 0);
  ck_assert (down->last <= z_seed && up->last >= z_seed);
  for (guint z = 0; z < D; z++)
    {
      gboolean kept = z >= down->last && z <= up->last;
      ck_assert_msg (kept == (area (masks, z) > 0), "slice %u", z);
    }
  if (down->stop == USAM_PROJECTION_STOP_END)
    ck_assert_uint_eq (down->last, 0);
  if (up->stop == USAM_PROJECTION_STOP_END)
    ck_assert_uint_eq (up->last, D - 1);
  if (down->stop == USAM_PROJECTION_STOP_IOU || down->stop == USAM_PROJECTION_STOP_EMPTY)
    ck_assert_uint_eq (down->stop_slice + 1, down->last);
  if (up->stop == USAM_PROJECTION_STOP_IOU || up->stop == USAM_PROJECTION_STOP_EMPTY)
    ck_assert_uint_eq (up->stop_slice, up->last + 1);
}

static void
count_progress (double fraction, gpointer data)
{
  ck_assert (fraction > 0 && fraction <= 1);
  (*(guint *) data)++;
}

START_TEST (test_threshold_zero_never_stops_on_iou)
{
  UsamProjectionParams p = usam_projection_params_default ();
  p.iou_threshold = 0;
  p.prompts = USAM_PROJECTION_BOX | USAM_PROJECTION_MASK | USAM_PROJECTION_POINTS;
  guint8 masks[D * W * H];
  UsamProjectionEnd down, up;
  guint calls = 0;
  g_autoptr (GError) error = NULL;
  gint64 start = g_get_monotonic_time ();
  ck_assert_msg (usam_projection_run (model, volume, 0, 2, seed, &p, NULL, NULL, count_progress, &calls, NULL, masks,
                                      &down, &up, &error),
                 "%s", error ? error->message : "");
  g_print ("tiny random model: %u slices predicted, %.1f ms per slice; down: %s at %u, up: %s at %u\n", calls,
           (g_get_monotonic_time () - start) / 1000.0 / MAX (calls, 1), usam_projection_stop_to_string (down.stop),
           down.stop_slice, usam_projection_stop_to_string (up.stop), up.stop_slice);
  ck_assert (down.stop == USAM_PROJECTION_STOP_END || down.stop == USAM_PROJECTION_STOP_EMPTY);
  ck_assert (up.stop == USAM_PROJECTION_STOP_END || up.stop == USAM_PROJECTION_STOP_EMPTY);
  check_consistent (masks, 2, &down, &up);
  /* a slice is predicted for every kept one and every rejected one */
  guint expected = (up.last - down.last) + (down.stop == USAM_PROJECTION_STOP_EMPTY) +
                   (up.stop == USAM_PROJECTION_STOP_EMPTY);
  ck_assert_uint_eq (calls, expected);
}
END_TEST

START_TEST (test_impossible_threshold_stops_next_to_seed)
{
  UsamProjectionParams p = usam_projection_params_default ();
  p.iou_threshold = 1.5;
  guint8 masks[D * W * H];
  UsamProjectionEnd down, up;
  g_autoptr (GError) error = NULL;
  ck_assert (usam_projection_run (model, volume, 0, 2, seed, &p, NULL, NULL, NULL, NULL, NULL, masks, &down, &up,
                                  &error));
  ck_assert (down.stop == USAM_PROJECTION_STOP_IOU || down.stop == USAM_PROJECTION_STOP_EMPTY);
  ck_assert (up.stop == USAM_PROJECTION_STOP_IOU || up.stop == USAM_PROJECTION_STOP_EMPTY);
  ck_assert (down.last == 2 && up.last == 2 && down.stop_slice == 1 && up.stop_slice == 3);
  if (down.stop == USAM_PROJECTION_STOP_IOU)
    ck_assert (down.stop_iou >= 0 && down.stop_iou <= 1);
  check_consistent (masks, 2, &down, &up);

  /* from the first slice, down ends at once */
  ck_assert (usam_projection_run (model, volume, 0, 0, seed, &p, NULL, NULL, NULL, NULL, NULL, masks, &down, &up,
                                  &error));
  ck_assert (down.stop == USAM_PROJECTION_STOP_END && down.last == 0);
  check_consistent (masks, 0, &down, &up);
}
END_TEST

typedef struct
{
  guint calls;
  GCancellable *cancel;
} EmbedData;

static UsamEmbedding *
embed_and_cancel (guint z, gpointer user_data, GCancellable *cancellable, GError **error)
{
  EmbedData *d = user_data;
  d->calls++;
  ck_assert (cancellable == d->cancel);
  /* cancel while the first slice below the seed is being predicted */
  g_cancellable_cancel (d->cancel);
  return usam_model_encode (model, volume, 0, z, USAM_NORMALIZE_MINMAX, NULL, NULL, NULL, error);
}

START_TEST (test_cancel)
{
  UsamProjectionParams p = usam_projection_params_default ();
  p.iou_threshold = 0;
  guint8 masks[D * W * H];
  UsamProjectionEnd down, up;
  g_autoptr (GError) error = NULL;
  g_autoptr (GCancellable) cancel = g_cancellable_new ();
  g_cancellable_cancel (cancel);
  ck_assert (usam_projection_run (model, volume, 0, 2, seed, &p, NULL, NULL, NULL, NULL, cancel, masks, &down, &up,
                                  &error));
  ck_assert (down.stop == USAM_PROJECTION_STOP_CANCELLED && up.stop == USAM_PROJECTION_STOP_CANCELLED);
  ck_assert (down.last == 2 && up.last == 2);
  check_consistent (masks, 2, &down, &up);

  /* cancelled during the first prediction: the embedding callback is asked
   * once, and both directions report the cancel, keeping the seed */
  g_autoptr (GCancellable) later = g_cancellable_new ();
  EmbedData d = { 0, later };
  ck_assert_msg (usam_projection_run (model, volume, 0, 2, seed, &p, embed_and_cancel, &d, NULL, NULL, later, masks,
                                      &down, &up, &error),
                 "%s", error ? error->message : "");
  ck_assert_uint_eq (d.calls, 1);
  ck_assert (down.stop == USAM_PROJECTION_STOP_CANCELLED && up.stop == USAM_PROJECTION_STOP_CANCELLED);
  ck_assert (up.last == 2);
}
END_TEST

START_TEST (test_errors)
{
  UsamProjectionParams p = usam_projection_params_default ();
  guint8 masks[D * W * H];
  guint8 empty[W * H] = { 0 };
  UsamProjectionEnd down, up;
  g_autoptr (GError) error = NULL;
  ck_assert (!usam_projection_run (model, volume, 0, 2, empty, &p, NULL, NULL, NULL, NULL, NULL, masks, &down, &up,
                                   &error));
  ck_assert (g_error_matches (error, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT));
  g_clear_error (&error);
  ck_assert (!usam_projection_run (model, volume, 0, D, seed, &p, NULL, NULL, NULL, NULL, NULL, masks, &down, &up,
                                   &error));
  g_clear_error (&error);
  p.prompts = 0;
  ck_assert (!usam_projection_run (model, volume, 0, 2, seed, &p, NULL, NULL, NULL, NULL, NULL, masks, &down, &up,
                                   &error));
  g_clear_error (&error);
}
END_TEST

/* An object seeded on several slices: outside its outermost seeds it is
 * projected as from one seed, and each gap is filled from both ends. */
enum { GD = 9 };

static UsamImage *deep;
static UsamEmbedding *deep_embeddings[GD];

/* Encodes each slice once over all the runs of the test. */
static UsamEmbedding *
embed_deep (guint z, gpointer user_data, GCancellable *cancellable, GError **error)
{
  if (!deep_embeddings[z])
    deep_embeddings[z] = usam_model_encode (model, deep, 0, z, USAM_NORMALIZE_MINMAX, cancellable, NULL, NULL, error);
  return deep_embeddings[z] ? usam_embedding_ref (deep_embeddings[z]) : NULL;
}

static guint8 *
run_deep (const UsamProjectionParams *p, guint n, const guint *z, UsamProjectionEnd *down, UsamProjectionEnd *up,
          UsamProjectionGap *gaps)
{
  g_autoptr (GError) error = NULL;
  const guint8 *seeds[3] = { seed, seed, seed };
  guint8 *masks = g_malloc ((gsize) GD * W * H);
  ck_assert (n <= 3);
  ck_assert_msg (usam_projection_run_multi (model, deep, 0, n, z, seeds, p, embed_deep, NULL, NULL, NULL, NULL, masks,
                                            down, up, gaps, &error),
                 "%s", error ? error->message : "");
  return masks;
}

static gboolean
same_slice (const guint8 *a, const guint8 *b, guint z)
{
  return memcmp (a + (gsize) z * W * H, b + (gsize) z * W * H, W * H) == 0;
}

START_TEST (test_gaps_filled_from_both_ends)
{
  g_autoptr (GError) error = NULL;
  deep = usam_image_new (USAM_PIXEL_TYPE_U8, W, H, 1, GD, 1, &error);
  for (guint z = 0; z < GD; z++)
    {
      guint8 *p = usam_image_get_plane_mutable (deep, 0, z);
      for (guint y = 0; y < H; y++)
        for (guint x = 0; x < W; x++)
          {
            double r = 10 + z;
            p[y * W + x] = (x - 30.0) * (x - 30.0) + (y - 24.0) * (y - 24.0) <= r * r ? 200 : 20;
          }
    }
  UsamProjectionParams p = usam_projection_params_default ();
  p.iou_threshold = 0;
  /* gap 1–4 has two slices (one per seed), gap 4–8 three (a middle one) */
  const guint z[3] = { 1, 4, 8 };
  UsamProjectionEnd down, up, d1, u1;
  UsamProjectionGap gaps[2];
  g_autofree guint8 *masks = run_deep (&p, 3, z, &down, &up, gaps);
  g_autofree guint8 *from1 = run_deep (&p, 1, z, &d1, &u1, NULL);
  g_autofree guint8 *from4 = run_deep (&p, 1, z + 1, &d1, &u1, NULL);
  g_autofree guint8 *from8 = run_deep (&p, 1, z + 2, &d1, &u1, NULL);
  g_print ("gaps: 1–4 up %s at %u, down %s at %u; 4–8 up %s at %u, down %s at %u\n",
           usam_projection_stop_to_string (gaps[0].up.stop), gaps[0].up.last,
           usam_projection_stop_to_string (gaps[0].down.stop), gaps[0].down.last,
           usam_projection_stop_to_string (gaps[1].up.stop), gaps[1].up.last,
           usam_projection_stop_to_string (gaps[1].down.stop), gaps[1].down.last);
  for (guint i = 0; i < 3; i++)
    ck_assert (memcmp (masks + (gsize) z[i] * W * H, seed, W * H) == 0);
  ck_assert (gaps[0].lower == 1 && gaps[0].upper == 4 && gaps[1].lower == 4 && gaps[1].upper == 8);
  /* outside: as the outermost seeds alone */
  ck_assert (same_slice (masks, from1, 0));
  ck_assert (up.stop == USAM_PROJECTION_STOP_END && up.last == 8);
  /* the lower half of a gap is the lower seed's projection, the upper
   * half the upper seed's */
  ck_assert (same_slice (masks, from1, 2) && same_slice (masks, from4, 3));
  ck_assert (same_slice (masks, from4, 5) && same_slice (masks, from8, 7));
  /* with no IoU threshold a half fills its part unless the model finds
   * nothing */
  for (guint g = 0; g < 2; g++)
    {
      const UsamProjectionEnd *ends[2] = { &gaps[g].up, &gaps[g].down };
      for (guint e = 0; e < 2; e++)
        {
          ck_assert (ends[e]->stop == USAM_PROJECTION_STOP_MET || ends[e]->stop == USAM_PROJECTION_STOP_EMPTY);
          if (ends[e]->stop == USAM_PROJECTION_STOP_EMPTY)
            ck_assert (area (masks, ends[e]->stop_slice) == 0);
        }
    }
  if (gaps[0].up.stop == USAM_PROJECTION_STOP_MET)
    ck_assert (gaps[0].up.last == 2 && area (masks, 2) > 0);
  if (gaps[0].down.stop == USAM_PROJECTION_STOP_MET)
    ck_assert (gaps[0].down.last == 3 && area (masks, 3) > 0);
  /* the middle slice, from both neighbours: kept, it is both halves' last */
  if (gaps[1].up.stop == USAM_PROJECTION_STOP_MET && gaps[1].down.stop == USAM_PROJECTION_STOP_MET)
    ck_assert (gaps[1].up.last == 6 && gaps[1].down.last == 6 && area (masks, 5) > 0 && area (masks, 6) > 0 &&
               area (masks, 7) > 0);
  if (gaps[1].up.stop == USAM_PROJECTION_STOP_EMPTY && gaps[1].down.stop == USAM_PROJECTION_STOP_EMPTY &&
      gaps[1].up.stop_slice == 6)
    ck_assert (gaps[1].down.stop_slice == 6 && area (masks, 6) == 0);

  /* an unreachable threshold: every half stops right after its seed and
   * says so; the seeds stay, nothing else is kept */
  p.iou_threshold = 1.5;
  g_autofree guint8 *none = run_deep (&p, 3, z, &down, &up, gaps);
  ck_assert (gaps[0].up.last == 1 && gaps[0].up.stop_slice == 2);
  ck_assert (gaps[0].down.last == 4 && gaps[0].down.stop_slice == 3);
  ck_assert (gaps[1].up.last == 4 && gaps[1].up.stop_slice == 5);
  ck_assert (gaps[1].down.last == 8 && gaps[1].down.stop_slice == 7);
  for (guint g = 0; g < 2; g++)
    ck_assert ((gaps[g].up.stop == USAM_PROJECTION_STOP_IOU || gaps[g].up.stop == USAM_PROJECTION_STOP_EMPTY) &&
               (gaps[g].down.stop == USAM_PROJECTION_STOP_IOU || gaps[g].down.stop == USAM_PROJECTION_STOP_EMPTY));
  ck_assert (down.last == 1 && down.stop_slice == 0);
  for (guint k = 0; k < GD; k++)
    ck_assert_uint_eq (area (none, k) > 0, k == 1 || k == 4 || k == 8);
  for (guint i = 0; i < 3; i++)
    ck_assert (memcmp (none + (gsize) z[i] * W * H, seed, W * H) == 0);

  /* adjacent seeds: nothing between them to fill */
  const guint adjacent[2] = { 3, 4 };
  g_autofree guint8 *next = run_deep (&p, 2, adjacent, &down, &up, gaps);
  ck_assert (gaps[0].up.stop == USAM_PROJECTION_STOP_MET && gaps[0].up.last == 3);
  ck_assert (gaps[0].down.stop == USAM_PROJECTION_STOP_MET && gaps[0].down.last == 4);

  /* seeds must be ascending */
  const guint8 *seeds[2] = { seed, seed };
  const guint unordered[2] = { 4, 1 };
  ck_assert (!usam_projection_run_multi (model, deep, 0, 2, unordered, seeds, &p, NULL, NULL, NULL, NULL, NULL, next,
                                         &down, &up, gaps, &error));
  ck_assert (g_error_matches (error, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT));
  for (guint k = 0; k < GD; k++)
    g_clear_pointer (&deep_embeddings[k], usam_embedding_unref);
  g_clear_object (&deep);
}
END_TEST

/* AIS over a stack's planes, then the 3D merge: the mechanics. */
START_TEST (test_ais_stack)
{
  g_autoptr (GError) error = NULL;
  UsamAisParams params = usam_ais_params_default ();
  /* the tiny model of the fixture has no AIS decoder */
  g_autoptr (UsamImage) none = usam_ais_segment_stack (model, volume, TRUE, 0, &params, USAM_NORMALIZE_MINMAX, NULL,
                                                       NULL, NULL, &error);
  ck_assert (!none && g_error_matches (error, USAM_ERROR, USAM_ERROR_UNSUPPORTED));
  g_clear_error (&error);

  UsamArchitecture arch;
  ck_assert (usam_architecture_from_preset ("tiny", &arch, &error));
  arch.ais_variant = "interpolation";
  g_autoptr (UsamModel) ais = usam_model_new_from_architecture (&arch, 4, USAM_PRECISION_FP32, &error);
  ck_assert_msg (ais, "%s", error ? error->message : "");
  /* frames of a volume are not planes */
  g_autoptr (UsamImage) wrong = usam_ais_segment_stack (ais, volume, FALSE, 0, &params, USAM_NORMALIZE_MINMAX, NULL,
                                                        NULL, NULL, &error);
  ck_assert (!wrong && g_error_matches (error, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT));
  g_clear_error (&error);
  g_autoptr (GCancellable) cancel = g_cancellable_new ();
  g_cancellable_cancel (cancel);
  g_autoptr (UsamImage) cancelled = usam_ais_segment_stack (ais, volume, TRUE, 0, &params, USAM_NORMALIZE_MINMAX,
                                                            NULL, NULL, cancel, &error);
  ck_assert (!cancelled && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED));
  g_clear_error (&error);

  guint calls = 0;
  params.min_size = 0;
  g_autoptr (UsamImage) labels = usam_ais_segment_stack (ais, volume, TRUE, 0, &params, USAM_NORMALIZE_MINMAX,
                                                         count_progress, &calls, NULL, &error);
  ck_assert_msg (labels, "%s", error ? error->message : "");
  ck_assert_uint_eq (calls, D);
  ck_assert (usam_image_get_depth (labels) == D && usam_image_get_frames (labels) == 1 &&
             usam_image_get_width (labels) == W && usam_image_get_pixel_type (labels) == USAM_PIXEL_TYPE_U32);
  g_autofree guint32 *merged = g_new (guint32, D * W * H);
  guint n = 0;
  UsamVolumeMergeParams mp = usam_volume_merge_params_default ();
  ck_assert_msg (usam_volume_merge (usam_image_get_plane (labels, 0, 0), W, H, D, &mp, merged, &n, NULL, &error), "%s",
                 error ? error->message : "");
  /* with no size or extent limits, every slice object is kept (the merge
   * may only add gap fills) */
  const guint32 *slices = usam_image_get_plane (labels, 0, 0);
  for (gsize i = 0; i < D * W * H; i++)
    ck_assert (!slices[i] || merged[i]);
}
END_TEST

/* Frames of a real DSB image seen through a window that slides 7 pixels a
 * frame: every nucleus moves steadily left. @truth gets the labels. */
static UsamImage *
sliding_window (guint frames, guint8 **truth_out)
{
  const char *id = "a65bbfc5673e8053b6ce49f39c79cf3a846fe5cc46dd93105f74fb07cf44606d";
  g_autofree char *rel = g_strdup_printf ("data/dsb2018/images/%s.png", id);
  g_autofree char *rel_labels = g_strdup_printf ("data/dsb2018/labels/%s.png", id);
  g_autofree char *ip = usam_test_shared_path (rel), *lp = usam_test_shared_path (rel_labels);
  g_autoptr (GError) error = NULL;
  g_autoptr (UsamImage) image = usam_image_load (ip, &error);
  g_autoptr (UsamImage) labels = usam_image_load (lp, &error);
  ck_assert_msg (image && labels, "%s", error ? error->message : "");
  UsamImage *series = usam_image_new (USAM_PIXEL_TYPE_U8, 192, 192, 1, 1, frames, &error);
  guint8 *truth = g_new (guint8, (gsize) frames * 192 * 192);
  for (guint t = 0; t < frames; t++)
    {
      guint8 *p = usam_image_get_plane_mutable (series, t, 0);
      for (guint y = 0; y < 192; y++)
        for (guint x = 0; x < 192; x++)
          {
            guint sx = 200 + 7 * t + x, sy = 150 + y;
            p[y * 192 + x] = (guint8) usam_image_get_value (image, 0, 0, sy, sx, 0);
            truth[((gsize) t * 192 + y) * 192 + x] = (guint8) usam_image_get_value (labels, 0, 0, sy, sx, 0);
          }
    }
  *truth_out = truth;
  return series;
}

static double
label_iou (const guint8 *mask, const guint8 *truth, guint8 label)
{
  gsize inter = 0, uni = 0;
  for (gsize i = 0; i < 192 * 192; i++)
    {
      gboolean in = truth[i] == label;
      inter += in && mask[i];
      uni += in || mask[i];
    }
  return uni ? (double) inter / uni : 0;
}

/* Following through time with trained weights (the starter model): each
 * nucleus that stays in view is followed through at least 7 of the 9
 * frames, both ways from the middle one, close to its true outline. Without
 * motion compensation the backward direction loses all of them within two
 * frames (measured: 3–7 frames kept). */
START_TEST (test_follow_moving_object)
{
  g_autofree char *path = usam_test_source_path ("data/models/usam-starter.pt");
  g_autoptr (GError) error = NULL;
  g_autoptr (UsamModel) starter = usam_model_new_from_file (path, USAM_PRECISION_FP32, &error);
  ck_assert_msg (starter != NULL, "%s", error ? error->message : "");
  enum { FRAMES = 9 };
  g_autofree guint8 *truth = NULL;
  g_autoptr (UsamImage) series = sliding_window (FRAMES, &truth);
  /* every label wholly inside every frame, and its mask in frame 4 */
  guint n_followed = 0;
  for (guint label = 1; label < 255; label++)
    {
      gboolean whole = TRUE, present = FALSE;
      for (guint t = 0; t < FRAMES && whole; t++)
        for (guint y = 0; y < 192 && whole; y++)
          for (guint x = 0; x < 192; x++)
            if (truth[((gsize) t * 192 + y) * 192 + x] == label)
              {
                present = TRUE;
                whole = whole && x > 0 && y > 0 && x < 191 && y < 191;
              }
      if (!present || !whole)
        continue;
      guint8 start[192 * 192];
      for (gsize i = 0; i < 192 * 192; i++)
        start[i] = truth[4 * 192 * 192 + i] == label;
      UsamProjectionParams p = usam_projection_params_default ();
      p.iou_threshold = 0.4;
      g_autofree guint8 *masks = g_new (guint8, FRAMES * 192 * 192);
      UsamProjectionEnd back, forward;
      ck_assert_msg (usam_projection_follow (starter, series, 0, 4, start, NULL, &p, NULL, NULL, NULL, NULL, NULL, masks,
                                             &back, &forward, &error),
                     "%s", error ? error->message : "");
      fprintf (stderr, "nucleus %u: frames %u–%u;", label, back.last, forward.last);
      double sum = 0;
      for (guint t = back.last; t <= forward.last; t++)
        {
          double iou = label_iou (masks + t * 192 * 192, truth + t * 192 * 192, label);
          fprintf (stderr, " %.2f", iou);
          sum += iou;
        }
      fprintf (stderr, "\n");
      guint kept = forward.last - back.last + 1;
      ck_assert_uint_ge (kept, 7);
      ck_assert_msg (sum / kept >= 0.55, "nucleus %u: mean IoU %.3f", label, sum / kept);
      n_followed++;

      /* Frames 0–2 belong to another object (as a mother's to a daughter's
       * track): going back stops at frame 3, the way forward is the same. */
      g_autofree guint8 *taken = g_malloc0 (FRAMES * 192 * 192);
      for (gsize i = 0; i < 3 * 192 * 192; i++)
        taken[i] = truth[i] == label;
      g_autofree guint8 *again = g_new (guint8, FRAMES * 192 * 192);
      UsamProjectionEnd back2, forward2;
      ck_assert (usam_projection_follow (starter, series, 0, 4, start, taken, &p, NULL, NULL, NULL, NULL, NULL, again,
                                         &back2, &forward2, &error));
      ck_assert_int_eq (back2.stop, USAM_PROJECTION_STOP_TAKEN);
      ck_assert_uint_eq (back2.last, 3);
      ck_assert_uint_eq (back2.stop_slice, 2);
      ck_assert_uint_eq (forward2.last, forward.last);
      ck_assert (memcmp (again + 3 * 192 * 192, masks + 3 * 192 * 192, (FRAMES - 3) * 192 * 192) == 0);
    }
  ck_assert_uint_ge (n_followed, 4);

  /* A plane that is not there, and an empty seed. */
  g_autofree guint8 *masks = g_new (guint8, FRAMES * 192 * 192);
  g_autofree guint8 *empty = g_malloc0 (192 * 192);
  UsamProjectionParams p = usam_projection_params_default ();
  UsamProjectionEnd back, forward;
  ck_assert (!usam_projection_follow (starter, series, 1, 4, truth, NULL, &p, NULL, NULL, NULL, NULL, NULL, masks, &back,
                                      &forward, NULL));
  ck_assert (!usam_projection_follow (starter, series, 0, 4, empty, NULL, &p, NULL, NULL, NULL, NULL, NULL, masks, &back,
                                      &forward, NULL));
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("projection");
  TCase *tc = usam_test_tcase_new ("projection");
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_set_timeout (tc, 1200);
  tcase_add_test (tc, test_threshold_zero_never_stops_on_iou);
  tcase_add_test (tc, test_impossible_threshold_stops_next_to_seed);
  tcase_add_test (tc, test_cancel);
  tcase_add_test (tc, test_errors);
  tcase_add_test (tc, test_gaps_filled_from_both_ends);
  tcase_add_test (tc, test_ais_stack);
  suite_add_tcase (s, tc);
  TCase *follow = usam_test_tcase_new ("follow");
  tcase_add_test (follow, test_follow_moving_object);
  suite_add_tcase (s, follow);
  return usam_test_run (s);
}
