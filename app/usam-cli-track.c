/* usam track: automatic tracking with divisions into the Cell Tracking
 * Challenge result format. Either links per-frame labels computed elsewhere
 * (--labels), or segments every frame with the model's AIS decoder first
 * (--model, --image). */
#include <stdio.h>

#include "usam-auto-eval.h"
#include "usam-auto-tracker.h"
#include "usam-cli-private.h"
#include "usam-ctc.h"
#include "usam-error.h"
#include "usam-tracking.h"

/* A plain multi-page TIFF reads as a volume; a time series of 2D labels
 * saved that way means its pages are frames. */
static UsamImage *
pages_as_frames (UsamImage *image, GError **error)
{
  if (usam_image_get_frames (image) > 1 || usam_image_get_depth (image) == 1)
    return g_object_ref (image);
  GBytes *bytes = usam_image_get_bytes (image); /* not a new reference */
  return usam_image_new_from_bytes (bytes, usam_image_get_pixel_type (image), usam_image_get_width (image),
                                    usam_image_get_height (image), usam_image_get_channels (image), 1,
                                    usam_image_get_depth (image), error);
}

static int
compare_names (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(char *const *) a, *(char *const *) b);
}

/* Every TIFF or PNG in @dir, in name order, one frame each. */
static UsamImage *
load_label_folder (const char *dir_path, GError **error)
{
  g_autoptr (GDir) dir = g_dir_open (dir_path, 0, error);
  if (!dir)
    return NULL;
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;
  while ((name = g_dir_read_name (dir)))
    if (g_str_has_suffix (name, ".tif") || g_str_has_suffix (name, ".tiff") || g_str_has_suffix (name, ".png"))
      g_ptr_array_add (names, g_strdup (name));
  if (names->len == 0)
    {
      g_set_error (error, USAM_ERROR, USAM_ERROR_NOT_FOUND, "%s: no label images (TIFF or PNG)", dir_path);
      return NULL;
    }
  g_ptr_array_sort (names, compare_names);
  g_autoptr (UsamImage) stack = NULL;
  for (guint t = 0; t < names->len; t++)
    {
      g_autofree char *path = g_build_filename (dir_path, names->pdata[t], NULL);
      g_autoptr (UsamImage) frame = usam_image_load (path, error);
      if (!frame)
        return NULL;
      guint w = usam_image_get_width (frame), h = usam_image_get_height (frame), d = usam_image_get_depth (frame);
      if (!stack)
        stack = usam_image_new (USAM_PIXEL_TYPE_U32, w, h, 1, d, names->len, error);
      if (!stack)
        return NULL;
      if (usam_image_get_frames (frame) != 1 || w != usam_image_get_width (stack) ||
          h != usam_image_get_height (stack) || d != usam_image_get_depth (stack))
        {
          g_set_error (error, USAM_ERROR, USAM_ERROR_INVALID_DATA, "%s: %u×%u×%u, %u frames; expected one %u×%u×%u frame",
                       path, w, h, d, usam_image_get_frames (frame), usam_image_get_width (stack),
                       usam_image_get_height (stack), usam_image_get_depth (stack));
          return NULL;
        }
      if (!usam_ctc_get_frame_labels (frame, 0, usam_image_get_plane_mutable (stack, t, 0), error))
        {
          g_prefix_error (error, "%s: ", path);
          return NULL;
        }
    }
  return g_steal_pointer (&stack);
}

static void
print_progress (double fraction, gpointer user_data)
{
  fprintf (stderr, "segmenting frames: %3.0f %%\n", 100 * fraction);
}

/* Per-frame AIS and linking (usam-auto-tracker.h). */
static gboolean
auto_track (UsamCliCommon *common, UsamNormalize normalize, UsamPrecision precision,
            const UsamTrackingParams *tracking, UsamImage **tracked, GArray **tracks, double *ms_per_frame,
            GError **error)
{
  g_autoptr (UsamImage) loaded = usam_image_load (common->image, error);
  if (!loaded)
    return FALSE;
  g_autoptr (UsamImage) image = pages_as_frames (loaded, error);
  if (!image)
    return FALSE;
  g_autoptr (UsamModel) model = usam_model_new_from_file (common->model, precision, error);
  if (!model)
    return FALSE;
  UsamAutoTrackParams params = usam_auto_track_params_default ();
  params.normalize = normalize;
  params.tracking = *tracking;
  /* the thresholds usam evaluate-auto tuned for this checkpoint, if any */
  if (!usam_ais_params_load_presets (common->model, &params.ais, error) && error && *error)
    return FALSE;
  return usam_auto_track (model, image, &params, print_progress, NULL, NULL, tracked, tracks, ms_per_frame, error);
}

int
usam_cli_track (const char *name, int argc, char **argv)
{
  UsamCliCommon common = { 0 };
  g_autofree char *labels_path = NULL;
  UsamTrackingParams params = usam_tracking_params_default ();
  double max_distance = params.max_distance;
  int max_gap = (int) params.max_gap, min_size = (int) params.min_size;
  gboolean no_divisions = FALSE;
  GOptionEntry entries[] = {
    { "labels", 'l', 0, G_OPTION_ARG_FILENAME, &labels_path,
      "per-frame labels: a folder of label images (name order) or one time-series TIFF", "DIR|STACK" },
    /* UsamCliCommon's options, described for a time series */
    { "model", 'm', 0, G_OPTION_ARG_FILENAME, &common.model, "μSAM checkpoint with an AIS decoder", "CKPT" },
    { "image", 'i', 0, G_OPTION_ARG_FILENAME, &common.image, "time series to segment (frames, or pages as frames)",
      "STACK" },
    { "normalize", 0, 0, G_OPTION_ARG_STRING, &common.normalize, "minmax (default, as μSAM) or none", "MODE" },
    { "precision", 0, 0, G_OPTION_ARG_STRING, &common.precision, "encoder precision: fp32 (default), bf16 or auto",
      "P" },
    { "threads", 0, 0, G_OPTION_ARG_INT, &common.threads, "CPU threads (default: all cores)", "N" },
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &common.out, "result folder: maskTTT.tif and res_track.txt", "DIR" },
    { "max-distance", 0, 0, G_OPTION_ARG_DOUBLE, &max_distance, "largest centroid step in pixels (default 30)", "PX" },
    { "max-gap", 0, 0, G_OPTION_ARG_INT, &max_gap, "frames an object may be missed (default 1; 0: no gap closing)",
      "N" },
    { "min-size", 0, 0, G_OPTION_ARG_INT, &min_size, "ignore objects smaller than this (pixels)", "N" },
    { "no-divisions", 0, 0, G_OPTION_ARG_NONE, &no_divisions, "never link a cell to two daughters", NULL },
    { NULL },
  };
  gboolean parsed = usam_cli_parse (name, "link per-frame instances into tracks with divisions (CTC format)", entries,
                                    &argc, &argv);
  int status = USAM_EXIT_USAGE;
  g_autoptr (GError) error = NULL;
  g_autoptr (UsamImage) labels = NULL;
  g_autoptr (UsamImage) tracked = NULL;
  g_autoptr (GArray) tracks = NULL;
  double segment_ms = -1;
  if (!parsed)
    goto out;
  if (!common.out)
    {
      status = usam_cli_usage_error (name, "--out DIR is required");
      goto out;
    }
  if (!labels_path == !common.model || (common.model && !common.image) || (labels_path && common.image))
    {
      status = usam_cli_usage_error (name, "give either --labels DIR|STACK, or --model CKPT with --image STACK");
      goto out;
    }
  if (!(max_distance > 0) || max_gap < 0 || min_size < 0)
    {
      status = usam_cli_usage_error (name, "--max-distance must be positive, --max-gap and --min-size ≥ 0");
      goto out;
    }
  params.max_distance = max_distance;
  params.max_gap = (guint) max_gap;
  params.min_size = (guint) MAX (min_size, 1);
  params.divisions = !no_divisions;

  status = USAM_EXIT_FAILURE;
  if (labels_path && g_file_test (labels_path, G_FILE_TEST_IS_DIR))
    labels = load_label_folder (labels_path, &error);
  else if (labels_path)
    {
      g_autoptr (UsamImage) loaded = usam_image_load (labels_path, &error);
      labels = loaded ? pages_as_frames (loaded, &error) : NULL;
    }
  else
    {
      UsamNormalize normalize;
      UsamPrecision precision;
      status = usam_cli_common_check (name, &common, TRUE, &normalize, &precision);
      if (status != USAM_EXIT_OK)
        goto out;
      status = USAM_EXIT_FAILURE;
      if (!auto_track (&common, normalize, precision, &params, &tracked, &tracks, &segment_ms, &error))
        {
          status = usam_cli_failure (name, error);
          goto out;
        }
    }
  if (!labels && !tracked)
    {
      status = usam_cli_failure (name, error);
      goto out;
    }
  {
    guint frames = usam_image_get_frames (labels ? labels : tracked);
    gint64 start = g_get_monotonic_time ();
    if (!tracked && !usam_tracking_link (labels, &params, &tracked, &tracks, NULL, &error))
      {
        status = usam_cli_failure (name, error);
        goto out;
      }
    double link_ms = (double) (g_get_monotonic_time () - start) / 1000.0 / frames;
    if (!usam_ctc_result_save (common.out, tracked, (const UsamCtcTrack *) tracks->data, tracks->len, &error))
      {
        status = usam_cli_failure (name, error);
        goto out;
      }
    guint daughters = 0;
    for (guint i = 0; i < tracks->len; i++)
      daughters += g_array_index (tracks, UsamCtcTrack, i).parent != 0;
    printf ("%u frames, %u tracks, %u with a parent", frames, tracks->len, daughters);
    /* With --model the linking is inside usam_auto_track(), timed with it. */
    if (labels)
      printf ("; linking %.2f ms per frame", link_ms);
    if (segment_ms >= 0)
      printf (", segmentation %.0f ms per frame", segment_ms);
    printf ("\n");
    status = USAM_EXIT_OK;
  }
out:
  usam_cli_common_clear (&common);
  return status;
}
