/* test-auto-segmenter.c — the annotator's automatic segmentation core:
 * labels equal the one-shot core paths of each mode; a change to a
 * post-processing parameter re-runs without the model, a change to a
 * stage parameter decodes again; cancel stops a run. A small random model
 * with an AIS decoder (input 256²) keeps it fast; its objects mean
 * nothing, only the equalities are checked. */
#include "usam-auto-eval.h"
#include "usam-auto-segmenter.h"
#include "usam-error.h"
#include "usam-test-util.h"

#include <string.h>

#define W 64
#define H 48

static UsamModel *model;
static UsamEmbedding *embedding;

static void
setup (void)
{
  g_autoptr (GError) error = NULL;
  UsamArchitecture arch;
  ck_assert (usam_architecture_from_preset ("tiny", &arch, &error));
  arch.img_size = 256;
  arch.ais_variant = "interpolation";
  model = usam_model_new_from_architecture (&arch, 11, USAM_PRECISION_FP32, &error);
  ck_assert_msg (model != NULL, "%s", error ? error->message : "");
  ck_assert (usam_model_has_decoder (model));
  /* Bright discs on a dark ramp. */
  g_autoptr (UsamImage) image = usam_image_new (USAM_PIXEL_TYPE_U8, W, H, 1, 1, 1, &error);
  ck_assert_msg (image != NULL, "%s", error ? error->message : "");
  guint8 *p = usam_image_get_plane_mutable (image, 0, 0);
  for (guint y = 0; y < H; y++)
    for (guint x = 0; x < W; x++)
      {
        int dx = (int) (x % 16) - 8, dy = (int) (y % 16) - 8;
        p[y * W + x] = (guint8) (dx * dx + dy * dy < 30 ? 220 : 20 + x);
      }
  embedding = usam_model_encode (model, image, 0, 0, USAM_NORMALIZE_MINMAX, NULL, NULL, NULL, &error);
  ck_assert_msg (embedding != NULL, "%s", error ? error->message : "");
}

static void
teardown (void)
{
  g_clear_pointer (&embedding, usam_embedding_unref);
  g_clear_object (&model);
}

static UsamAutoResult *
run (UsamAutoSegmenter *seg, const UsamAutoParams *params)
{
  g_autoptr (GError) error = NULL;
  UsamAutoResult *r = usam_auto_segmenter_run (seg, model, embedding, params, NULL, NULL, NULL, &error);
  ck_assert_msg (r != NULL, "%s", error ? error->message : "");
  ck_assert_uint_eq (r->width, W);
  ck_assert_uint_eq (r->height, H);
  return r;
}

static void
assert_labels (const UsamAutoResult *r, const guint32 *labels, guint n_objects)
{
  ck_assert_uint_eq (r->n_objects, n_objects);
  ck_assert (memcmp (r->labels, labels, sizeof (guint32) * W * H) == 0);
}

/* The one-shot paths. */
static void
ais_once (const UsamAisParams *p, guint32 *labels, guint *n)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (UsamAisMaps) maps = usam_ais_maps_predict (model, embedding, &error);
  ck_assert_msg (maps != NULL, "%s", error ? error->message : "");
  ck_assert_msg (usam_ais_segment (maps->foreground, maps->center_distances, maps->boundary_distances, W, H, p,
                                   labels, n, NULL, &error),
                 "%s", error ? error->message : "");
}

static void
amg_once (const UsamAmgParams *p, guint32 *labels, guint *n)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (UsamMaskSet) masks = usam_amg_generate (model, embedding, p, NULL, NULL, NULL, NULL, &error);
  ck_assert_msg (masks != NULL, "%s", error ? error->message : "");
  ck_assert_msg (usam_amg_paint (masks, p, labels, n, &error), "%s", error ? error->message : "");
}

static void
apg_once (const UsamApgParams *p, guint32 *labels, guint *n)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (UsamAisMaps) maps = usam_ais_maps_predict (model, embedding, &error);
  ck_assert_msg (maps != NULL, "%s", error ? error->message : "");
  g_autoptr (UsamMaskSet) masks = usam_apg_generate (model, embedding, maps, p, NULL, &error);
  ck_assert_msg (masks != NULL, "%s", error ? error->message : "");
  ck_assert_msg (usam_apg_paint (masks, p, labels, n, &error), "%s", error ? error->message : "");
}

START_TEST (test_ais)
{
  g_autoptr (UsamAutoSegmenter) seg = usam_auto_segmenter_new ();
  UsamAutoParams params;
  ck_assert (usam_auto_params_init (&params, model, NULL));
  ck_assert_int_eq (params.mode, USAM_AUTO_MODE_AIS);
  /* A random decoder's maps sit near 0.5: thresholds around it find objects. */
  params.ais.min_size = 0;
  guint32 labels[W * H];
  guint n = 0, total = 0;
  const double thresholds[][3] = { { 0.5, 0.5, 0.5 }, { 0.6, 0.6, 0.4 }, { 0.8, 0.8, 0.2 } };
  for (guint i = 0; i < G_N_ELEMENTS (thresholds); i++)
    {
      params.ais.center_distance_threshold = thresholds[i][0];
      params.ais.boundary_distance_threshold = thresholds[i][1];
      params.ais.foreground_threshold = thresholds[i][2];
      params.ais.distance_smoothing = 1.0 + i * 0.3;
      g_autoptr (UsamAutoResult) r = run (seg, &params);
      ais_once (&params.ais, labels, &n);
      assert_labels (r, labels, n);
      total += n;
      /* The maps were predicted once, for the first run only. */
      ck_assert_uint_eq (usam_auto_segmenter_get_n_decoder_runs (seg), 1);
    }
  ck_assert_uint_gt (total, 0);
  /* Forgotten, the maps are predicted again. */
  usam_auto_segmenter_clear (seg);
  g_autoptr (UsamAutoResult) again = run (seg, &params);
  assert_labels (again, labels, n);
  ck_assert_uint_eq (usam_auto_segmenter_get_n_decoder_runs (seg), 2);
}
END_TEST

START_TEST (test_amg)
{
  g_autoptr (UsamAutoSegmenter) seg = usam_auto_segmenter_new ();
  UsamAutoParams params;
  usam_auto_params_init (&params, model, NULL);
  params.mode = USAM_AUTO_MODE_AMG;
  params.amg.points_per_side = 6;
  params.amg.points_per_batch = 16;
  guint32 labels[W * H];
  guint n = 0, total = 0;
  /* pred IoU, stability, NMS, min size, remove largest */
  const struct { double iou, stability, nms; guint min_size; gboolean remove_largest; } post[] = {
    { 0.0, 0.0, 0.7, 0, FALSE },
    { 0.0, 0.5, 0.5, 4, FALSE },
    { 0.05, 0.0, 0.9, 0, TRUE },
    { 0.1, 0.3, 0.3, 10, FALSE },
  };
  for (guint i = 0; i < G_N_ELEMENTS (post); i++)
    {
      params.amg.pred_iou_thresh = post[i].iou;
      params.amg.stability_score_thresh = post[i].stability;
      params.amg.box_nms_thresh = post[i].nms;
      params.amg.min_size = post[i].min_size;
      params.amg.remove_largest = post[i].remove_largest;
      g_autoptr (UsamAutoResult) r = run (seg, &params);
      amg_once (&params.amg, labels, &n);
      assert_labels (r, labels, n);
      total += n;
      ck_assert_uint_eq (usam_auto_segmenter_get_n_decoder_runs (seg), 1);
    }
  ck_assert_uint_gt (total, 0);
  /* Another grid decodes again, once. */
  params.amg.points_per_side = 4;
  for (guint i = 0; i < 2; i++)
    {
      params.amg.min_size = i * 3;
      g_autoptr (UsamAutoResult) r = run (seg, &params);
      amg_once (&params.amg, labels, &n);
      assert_labels (r, labels, n);
      ck_assert_uint_eq (usam_auto_segmenter_get_n_decoder_runs (seg), 2);
    }
  /* So does another stability offset: the scores depend on it. */
  params.amg.stability_score_offset = 0.5;
  params.amg.stability_score_thresh = 0.4;
  g_autoptr (UsamAutoResult) r = run (seg, &params);
  amg_once (&params.amg, labels, &n);
  assert_labels (r, labels, n);
  ck_assert_uint_eq (usam_auto_segmenter_get_n_decoder_runs (seg), 3);
}
END_TEST

START_TEST (test_apg)
{
  g_autoptr (UsamAutoSegmenter) seg = usam_auto_segmenter_new ();
  UsamAutoParams params;
  usam_auto_params_init (&params, model, NULL);
  params.mode = USAM_AUTO_MODE_APG;
  params.apg.center_distance_threshold = 0.6;
  params.apg.boundary_distance_threshold = 0.6;
  params.apg.foreground_threshold = 0.4;
  guint32 labels[W * H];
  guint n = 0, total = 0;
  const struct { guint min_size; double nms; } post[] = { { 0, 0.9 }, { 5, 0.5 }, { 20, 0.2 } };
  for (guint i = 0; i < G_N_ELEMENTS (post); i++)
    {
      params.apg.min_size = post[i].min_size;
      params.apg.nms_thresh = post[i].nms;
      g_autoptr (UsamAutoResult) r = run (seg, &params);
      apg_once (&params.apg, labels, &n);
      assert_labels (r, labels, n);
      total += n;
      /* The maps and the decoded prompts: two expensive stages, once. */
      ck_assert_uint_eq (usam_auto_segmenter_get_n_decoder_runs (seg), 2);
    }
  ck_assert_uint_gt (total, 0);
  /* Other seeds are other prompts: decoded again, the maps kept. */
  params.apg.foreground_threshold = 0.3;
  g_autoptr (UsamAutoResult) r = run (seg, &params);
  apg_once (&params.apg, labels, &n);
  assert_labels (r, labels, n);
  ck_assert_uint_eq (usam_auto_segmenter_get_n_decoder_runs (seg), 3);
  /* AIS after APG uses the same maps. */
  params.mode = USAM_AUTO_MODE_AIS;
  g_autoptr (UsamAutoResult) ais = run (seg, &params);
  ck_assert_uint_eq (usam_auto_segmenter_get_n_decoder_runs (seg), 3);
}
END_TEST

START_TEST (test_no_decoder)
{
  g_autoptr (GError) error = NULL;
  UsamArchitecture arch;
  ck_assert (usam_architecture_from_preset ("tiny", &arch, &error));
  arch.img_size = 256;
  g_autoptr (UsamModel) plain = usam_model_new_from_architecture (&arch, 3, USAM_PRECISION_FP32, &error);
  ck_assert (plain && !usam_model_has_decoder (plain));
  UsamAutoParams params;
  ck_assert (usam_auto_params_init (&params, plain, NULL));
  ck_assert_int_eq (params.mode, USAM_AUTO_MODE_AMG);
  params.mode = USAM_AUTO_MODE_AIS;
  g_autoptr (UsamAutoSegmenter) seg = usam_auto_segmenter_new ();
  /* The embedding is of the other model; the check comes first. */
  UsamAutoResult *r = usam_auto_segmenter_run (seg, plain, embedding, &params, NULL, NULL, NULL, &error);
  ck_assert_ptr_null (r);
  ck_assert (g_error_matches (error, USAM_ERROR, USAM_ERROR_UNSUPPORTED));
}
END_TEST

/* The panel starts from the AIS thresholds stored beside the checkpoint. */
START_TEST (test_presets)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = g_build_filename (usam_test_tmpdir (), "auto-presets.pt", NULL);
  ck_assert_msg (usam_model_save (model, path, TRUE, &error), "%s", error ? error->message : "");
  UsamAutoParams params;
  g_autoptr (UsamModel) loaded = usam_model_new_from_file (path, USAM_PRECISION_FP32, &error);
  ck_assert_msg (loaded != NULL, "%s", error ? error->message : "");
  ck_assert (usam_auto_params_init (&params, loaded, &error));
  ck_assert_double_eq (params.ais.center_distance_threshold, usam_ais_params_default ().center_distance_threshold);
  UsamAisParams tuned = usam_ais_params_default ();
  tuned.center_distance_threshold = 0.33;
  tuned.foreground_threshold = 0.61;
  tuned.min_size = 7;
  ck_assert_msg (usam_ais_params_save_presets (&tuned, path, &error), "%s", error ? error->message : "");
  ck_assert (usam_auto_params_init (&params, loaded, &error));
  ck_assert_int_eq (params.mode, USAM_AUTO_MODE_AIS);
  ck_assert_double_eq (params.ais.center_distance_threshold, 0.33);
  ck_assert_double_eq (params.ais.foreground_threshold, 0.61);
  ck_assert_uint_eq (params.ais.min_size, 7);
  /* A damaged presets file is reported, the defaults kept. */
  g_autofree char *presets = g_strconcat (path, ".presets", NULL);
  ck_assert (g_file_set_contents (presets, "[ais]\ncenter-distance-threshold=oops\n", -1, NULL));
  ck_assert (!usam_auto_params_init (&params, loaded, &error));
  ck_assert (g_error_matches (error, USAM_ERROR, USAM_ERROR_INVALID_DATA));
  ck_assert_double_eq (params.ais.center_distance_threshold, usam_ais_params_default ().center_distance_threshold);
}
END_TEST

typedef struct
{
  GMainLoop *loop;
  UsamAutoResult *result;
  GError *error;
  double last_progress;
  guint n_progress;
} Wait;

static void
on_progress (double fraction, gpointer user_data)
{
  Wait *w = user_data;
  ck_assert (fraction >= w->last_progress && fraction <= 1.0);
  w->last_progress = fraction;
  w->n_progress++;
}

static void
on_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Wait *w = user_data;
  w->result = usam_auto_segmenter_run_finish (USAM_AUTO_SEGMENTER (source), result, &w->error);
  g_main_loop_quit (w->loop);
}

/* Cancels once a batch is done (the first report, 0, comes before any). */
static void
cancel_on_progress (double fraction, gpointer user_data)
{
  if (fraction > 0)
    g_cancellable_cancel (user_data);
}

START_TEST (test_cancel_and_async)
{
  g_autoptr (UsamAutoSegmenter) seg = usam_auto_segmenter_new ();
  UsamAutoParams params;
  usam_auto_params_init (&params, model, NULL);
  params.mode = USAM_AUTO_MODE_AMG;
  params.amg.points_per_side = 6;
  params.amg.points_per_batch = 4;
  params.amg.pred_iou_thresh = 0;
  params.amg.stability_score_thresh = 0;

  /* Cancelled before it starts: nothing decoded, nothing kept. */
  g_autoptr (GCancellable) cancelled = g_cancellable_new ();
  g_cancellable_cancel (cancelled);
  g_autoptr (GError) error = NULL;
  for (UsamAutoMode mode = 0; mode < USAM_N_AUTO_MODES; mode++)
    {
      params.mode = mode;
      UsamAutoResult *r = usam_auto_segmenter_run (seg, model, embedding, &params, cancelled, NULL, NULL, &error);
      ck_assert_ptr_null (r);
      ck_assert_msg (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED), "%s", error->message);
      g_clear_error (&error);
    }
  ck_assert_uint_eq (usam_auto_segmenter_get_n_decoder_runs (seg), 0);

  /* Cancelled while it runs, after the first batch: the grid is not kept,
   * so the next run decodes it whole. */
  params.mode = USAM_AUTO_MODE_AMG;
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  UsamAutoResult *r = usam_auto_segmenter_run (seg, model, embedding, &params, cancellable, cancel_on_progress,
                                               cancellable, &error);
  ck_assert_ptr_null (r);
  ck_assert (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED));
  g_clear_error (&error);
  ck_assert_uint_eq (usam_auto_segmenter_get_n_decoder_runs (seg), 0);

  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  Wait w = { loop, NULL, NULL, 0, 0 };
  /* Uncancelled, asynchronously: progress up to 1 in this thread, and the
   * labels of the one-shot path. */
  usam_auto_segmenter_run_async (seg, model, embedding, &params, NULL, on_progress, &w, NULL, on_done, &w);
  g_main_loop_run (loop);
  ck_assert_msg (w.result != NULL, "%s", w.error ? w.error->message : "");
  g_autoptr (UsamAutoResult) result = w.result;
  while (g_main_context_iteration (NULL, FALSE))
    ;
  ck_assert_uint_ge (w.n_progress, 2);
  ck_assert_double_eq (w.last_progress, 1.0);
  guint32 labels[W * H];
  guint n = 0;
  amg_once (&params.amg, labels, &n);
  assert_labels (result, labels, n);
  ck_assert_uint_eq (usam_auto_segmenter_get_n_decoder_runs (seg), 1);
}
END_TEST

static Suite *
auto_segmenter_suite (void)
{
  Suite *s = suite_create ("auto-segmenter");
  TCase *tc = usam_test_tcase_new ("core");
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_add_test (tc, test_ais);
  tcase_add_test (tc, test_amg);
  tcase_add_test (tc, test_apg);
  tcase_add_test (tc, test_no_decoder);
  tcase_add_test (tc, test_presets);
  tcase_add_test (tc, test_cancel_and_async);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  return usam_test_run (auto_segmenter_suite ());
}
