/* usam segment — automatic instance segmentation of a 2D image (AMG, AIS,
 * APG), or of a volume (--volume: AIS per slice, merged across slices). */
#include "usam-cli-private.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "usam-ais-maps.h"
#include "usam-ais-post.h"
#include "usam-ais-stack.h"
#include "usam-amg.h"
#include "usam-apg.h"
#include "usam-auto-eval.h"
#include "usam-error.h"
#include "usam-volume-merge.h"

typedef enum {
  MODE_AUTO,
  MODE_AMG,
  MODE_AIS,
  MODE_APG,
} Mode;

/* Options left unset keep the mode's default; NAN and -1 mark them. */
typedef struct
{
  UsamCliCommon common;
  char *mode, *embedding, *maps_in, *maps_out, *amg_masks, *preset, *tile, *halo;
  UsamEmbeddingCacheOptions tiling;
  int points_per_side, points_per_batch, min_size, min_z_extent;
  double pred_iou_thresh, stability_score_thresh, stability_score_offset, box_nms_thresh;
  double center_threshold, boundary_threshold, foreground_threshold, distance_smoothing, foreground_smoothing;
  double nms_thresh;
  gboolean keep_largest, volume;
} Options;

static void
options_clear (Options *o)
{
  usam_cli_common_clear (&o->common);
  g_clear_pointer (&o->mode, g_free);
  g_clear_pointer (&o->embedding, g_free);
  g_clear_pointer (&o->maps_in, g_free);
  g_clear_pointer (&o->maps_out, g_free);
  g_clear_pointer (&o->amg_masks, g_free);
  g_clear_pointer (&o->preset, g_free);
  g_clear_pointer (&o->tile, g_free);
  g_clear_pointer (&o->halo, g_free);
}

static gboolean
is_set (double v)
{
  return !isnan (v);
}

static int
check_ranges (const char *name, const Options *o)
{
  const struct
  {
    const char *option;
    double value, lo, hi;
  } unit[] = {
    { "--stability-score-thresh", o->stability_score_thresh, -INFINITY, 1.0 },
    { "--box-nms-thresh", o->box_nms_thresh, 0.0, 1.0 },
    { "--center-distance-threshold", o->center_threshold, 0.0, 1.0 },
    { "--boundary-distance-threshold", o->boundary_threshold, 0.0, 1.0 },
    { "--foreground-threshold", o->foreground_threshold, 0.0, 1.0 },
    { "--nms-thresh", o->nms_thresh, 0.0, 1.0 },
    { "--distance-smoothing", o->distance_smoothing, 0.0, 100.0 },
    { "--foreground-smoothing", o->foreground_smoothing, 0.0, 100.0 },
    { "--stability-score-offset", o->stability_score_offset, 0.0, 1e6 },
  };
  for (guint i = 0; i < G_N_ELEMENTS (unit); i++)
    if (is_set (unit[i].value) && !(unit[i].value >= unit[i].lo && unit[i].value <= unit[i].hi))
      return usam_cli_usage_error (name, "%s must be in [%g, %g], not %g", unit[i].option, unit[i].lo, unit[i].hi,
                                   unit[i].value);
  if (is_set (o->pred_iou_thresh) && !isfinite (o->pred_iou_thresh))
    return usam_cli_usage_error (name, "--pred-iou-thresh must be finite");
  if (o->points_per_side != -1 && (o->points_per_side < 1 || o->points_per_side > 1024))
    return usam_cli_usage_error (name, "--points-per-side must be in 1…1024, not %d", o->points_per_side);
  if (o->points_per_batch != -1 && o->points_per_batch < 1)
    return usam_cli_usage_error (name, "--points-per-batch must be positive, not %d", o->points_per_batch);
  if (o->min_size != -1 && o->min_size < 0)
    return usam_cli_usage_error (name, "--min-size must be 0 or more, not %d", o->min_size);
  if (o->min_z_extent != -1 && o->min_z_extent < 1)
    return usam_cli_usage_error (name, "--min-z-extent must be 1 or more, not %d", o->min_z_extent);
  return USAM_EXIT_OK;
}

static UsamAmgParams
amg_params (const Options *o)
{
  UsamAmgParams p;
  usam_amg_params_for_model (o->preset, &p);
  if (o->points_per_side != -1)
    p.points_per_side = (guint) o->points_per_side;
  if (o->points_per_batch != -1)
    p.points_per_batch = (guint) o->points_per_batch;
  if (is_set (o->pred_iou_thresh))
    p.pred_iou_thresh = o->pred_iou_thresh;
  if (is_set (o->stability_score_thresh))
    p.stability_score_thresh = o->stability_score_thresh;
  if (is_set (o->stability_score_offset))
    p.stability_score_offset = o->stability_score_offset;
  if (is_set (o->box_nms_thresh))
    p.box_nms_thresh = o->box_nms_thresh;
  if (o->min_size != -1)
    p.min_size = (guint) o->min_size;
  if (o->keep_largest)
    p.remove_largest = FALSE;
  return p;
}

/* μSAM's preset when one is named, else the thresholds tuned for the
 * checkpoint by usam evaluate-auto (CKPT.presets) when it has them, else the
 * defaults; options given on the command line win. */
static gboolean
ais_params (const Options *o, UsamAisParams *out, GError **error)
{
  UsamAisParams p;
  usam_ais_params_for_model (o->preset, &p);
  if (!o->preset && o->common.model && !usam_ais_params_load_presets (o->common.model, &p, error) && error && *error)
    return FALSE;
  if (is_set (o->center_threshold))
    p.center_distance_threshold = o->center_threshold;
  if (is_set (o->boundary_threshold))
    p.boundary_distance_threshold = o->boundary_threshold;
  if (is_set (o->foreground_threshold))
    p.foreground_threshold = o->foreground_threshold;
  if (is_set (o->distance_smoothing))
    p.distance_smoothing = o->distance_smoothing;
  if (is_set (o->foreground_smoothing))
    p.foreground_smoothing = o->foreground_smoothing;
  if (o->min_size != -1)
    p.min_size = (guint) o->min_size;
  *out = p;
  return TRUE;
}

static UsamApgParams
apg_params (const Options *o)
{
  UsamApgParams p = usam_apg_params_default ();
  if (is_set (o->center_threshold))
    p.center_distance_threshold = o->center_threshold;
  if (is_set (o->boundary_threshold))
    p.boundary_distance_threshold = o->boundary_threshold;
  if (is_set (o->foreground_threshold))
    p.foreground_threshold = o->foreground_threshold;
  if (o->min_size != -1)
    p.min_size = (guint) o->min_size;
  if (is_set (o->nms_thresh))
    p.nms_thresh = o->nms_thresh;
  if (o->points_per_batch != -1)
    p.batch_size = (guint) o->points_per_batch;
  return p;
}

static gboolean
save_labels (const guint32 *labels, guint width, guint height, const char *path, GError **error)
{
  g_autoptr (UsamImage) image = usam_image_new (USAM_PIXEL_TYPE_U32, width, height, 1, 1, 1, error);
  if (!image)
    return FALSE;
  memcpy (usam_image_get_plane_mutable (image, 0, 0), labels, (gsize) width * height * sizeof (guint32));
  return usam_image_save_tiff (image, path, error);
}

static UsamEmbedding *
embedding_for (UsamModel *model, UsamImage *image, const char *path, UsamNormalize normalize, GError **error)
{
  if (!path)
    return usam_model_encode (model, image, 0, 0, normalize, NULL, NULL, NULL, error);
  g_autoptr (UsamEmbedding) e = usam_embedding_load (model, path, error);
  if (!e)
    return NULL;
  UsamEmbeddingShape s;
  usam_embedding_get_shape (e, &s);
  if (s.original_width != usam_image_get_width (image) || s.original_height != usam_image_get_height (image))
    {
      g_set_error (error, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT, "%s: the embedding is of a %u×%u image, but %s is %u×%u",
                   path, s.original_width, s.original_height, usam_image_get_path (image), usam_image_get_width (image),
                   usam_image_get_height (image));
      return NULL;
    }
  return g_steal_pointer (&e);
}

/* AIS from maps only: no model, no image. */
static int
run_maps_in (const char *name, const Options *o)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (UsamAisMaps) maps = usam_ais_maps_load (o->maps_in, &error);
  if (!maps)
    return usam_cli_failure (name, error);
  UsamAisParams p;
  if (!ais_params (o, &p, &error))
    return usam_cli_failure (name, error);
  g_autofree guint32 *labels = g_new (guint32, (gsize) maps->width * maps->height);
  guint n = 0;
  if (!usam_ais_segment (maps->foreground, maps->center_distances, maps->boundary_distances, maps->width, maps->height,
                         &p, labels, &n, NULL, &error)
      || !save_labels (labels, maps->width, maps->height, o->common.out, &error))
    return usam_cli_failure (name, error);
  printf ("%u objects\n", n);
  return USAM_EXIT_OK;
}

static int
run_model (const char *name, const Options *o, Mode mode, UsamNormalize normalize, UsamPrecision precision)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (UsamImage) image = usam_cli_load_2d_image (o->common.image, &error);
  if (!image)
    return usam_cli_failure (name, error);
  g_autoptr (UsamModel) model = usam_model_new_from_file (o->common.model, precision, &error);
  if (!model)
    return usam_cli_failure (name, error);
  if (mode == MODE_AUTO)
    mode = usam_model_has_decoder (model) ? MODE_AIS : MODE_AMG;
  if (mode != MODE_AMG && !usam_model_has_decoder (model))
    {
      g_set_error (&error, USAM_ERROR, USAM_ERROR_UNSUPPORTED,
                   "%s: the checkpoint has no AIS decoder (decoder_state), which --mode %s needs; use --mode amg",
                   o->common.model, mode == MODE_AIS ? "ais" : "apg");
      return usam_cli_failure (name, error);
    }
  g_autoptr (UsamEmbedding) embedding = NULL;
  g_auto (UsamCliTiles) tiles = { 0 };
  if (o->tile ? !usam_cli_tiles_open (&tiles, o->embedding, model, image, &o->tiling, &error)
              : !(embedding = embedding_for (model, image, o->embedding, normalize, &error)))
    return usam_cli_failure (name, error);
  guint w = usam_image_get_width (image), h = usam_image_get_height (image);
  g_autofree guint32 *labels = g_new (guint32, (gsize) w * h);
  guint n = 0;

  if (mode == MODE_AMG)
    {
      UsamAmgParams p = amg_params (o);
      UsamAmgStats stats;
      g_autoptr (UsamMaskSet) masks = tiles.cache
                                          ? usam_amg_generate_tiled (model, tiles.cache, 0, &p, NULL, NULL, NULL, &error)
                                          : usam_amg_generate (model, embedding, &p, &stats, NULL, NULL, NULL, &error);
      if (!masks || (o->amg_masks && !usam_mask_set_save (masks, o->amg_masks, &error))
          || !usam_amg_paint (masks, &p, labels, &n, &error))
        return usam_cli_failure (name, error);
    }
  else
    {
      g_autoptr (UsamAisMaps) maps = tiles.cache
                                         ? usam_ais_maps_predict_tiled (model, tiles.cache, 0, NULL, NULL, NULL, &error)
                                         : usam_ais_maps_predict (model, embedding, &error);
      if (!maps || (o->maps_out && !usam_ais_maps_save (maps, o->maps_out, &error)))
        return usam_cli_failure (name, error);
      if (mode == MODE_AIS)
        {
          UsamAisParams p;
          if (!ais_params (o, &p, &error)
              || !usam_ais_segment (maps->foreground, maps->center_distances, maps->boundary_distances, w, h, &p, labels,
                                 &n, NULL, &error))
            return usam_cli_failure (name, error);
        }
      else
        {
          UsamApgParams p = apg_params (o);
          g_autoptr (UsamMaskSet) masks = tiles.cache
                                              ? usam_apg_generate_tiled (model, tiles.cache, 0, maps, &p, NULL, &error)
                                              : usam_apg_generate (model, embedding, maps, &p, NULL, &error);
          if (!masks || !usam_apg_paint (masks, &p, labels, &n, &error))
            return usam_cli_failure (name, error);
        }
    }
  if (!save_labels (labels, w, h, o->common.out, &error))
    return usam_cli_failure (name, error);
  printf ("%u objects\n", n);
  return USAM_EXIT_OK;
}

static void
print_slice_progress (double fraction, gpointer user_data)
{
  fprintf (stderr, "segmenting slices: %3.0f %%\n", 100 * fraction);
}

/* Automatic 3D: AIS slice by slice, then the slices' objects joined along Z. */
static int
run_volume (const char *name, const Options *o, UsamNormalize normalize, UsamPrecision precision)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (UsamImage) image = usam_image_load (o->common.image, &error);
  if (!image)
    return usam_cli_failure (name, error);
  if (usam_image_get_frames (image) > 1)
    {
      g_set_error (&error, USAM_ERROR, USAM_ERROR_UNSUPPORTED,
                   "%s: a time series (%u frames); --volume segments the Z slices of one volume, use usam track",
                   o->common.image, usam_image_get_frames (image));
      return usam_cli_failure (name, error);
    }
  g_autoptr (UsamModel) model = usam_model_new_from_file (o->common.model, precision, &error);
  if (!model)
    return usam_cli_failure (name, error);
  if (!usam_model_has_decoder (model))
    {
      g_set_error (&error, USAM_ERROR, USAM_ERROR_UNSUPPORTED,
                   "%s: the checkpoint has no AIS decoder (decoder_state), which --volume needs", o->common.model);
      return usam_cli_failure (name, error);
    }
  UsamAisParams p;
  if (!ais_params (o, &p, &error))
    return usam_cli_failure (name, error);
  UsamVolumeMergeParams mp = usam_volume_merge_params_default ();
  if (o->min_z_extent > 0)
    mp.min_z_extent = (guint) o->min_z_extent;
  guint n = 0, d = usam_image_get_depth (image);
  g_autoptr (UsamImage) merged
      = usam_ais_segment_volume (model, image, 0, &p, &mp, normalize, print_slice_progress, NULL, NULL, &n, &error);
  if (!merged || !usam_image_save_tiff (merged, o->common.out, &error))
    return usam_cli_failure (name, error);
  printf ("%u objects in %u slices\n", n, d);
  return USAM_EXIT_OK;
}

static int
check_and_run (const char *name, Options *o)
{
  Mode mode = MODE_AUTO;
  if (o->mode)
    {
      if (g_str_equal (o->mode, "amg"))
        mode = MODE_AMG;
      else if (g_str_equal (o->mode, "ais"))
        mode = MODE_AIS;
      else if (g_str_equal (o->mode, "apg"))
        mode = MODE_APG;
      else
        return usam_cli_usage_error (name, "--mode must be 'amg', 'ais' or 'apg', not '%s'", o->mode);
    }
  int status = check_ranges (name, o);
  if (status != USAM_EXIT_OK)
    return status;
  if (o->preset)
    {
      UsamAmgParams a;
      UsamAisParams b;
      if (!usam_amg_params_for_model (o->preset, &a) && !usam_ais_params_for_model (o->preset, &b))
        return usam_cli_usage_error (name, "--preset '%s' is not a μSAM model with settings (vit_b_lm, vit_l_em_organelles, …)",
                                     o->preset);
    }
  if (o->amg_masks && mode != MODE_AMG && mode != MODE_AUTO)
    return usam_cli_usage_error (name, "--amg-masks needs --mode amg");
  if (o->maps_in)
    {
      if (mode != MODE_AIS && mode != MODE_AUTO)
        return usam_cli_usage_error (name, "--maps-in runs the AIS post-processing only; use it with --mode ais");
      if (o->maps_out || o->amg_masks || o->embedding)
        return usam_cli_usage_error (name, "--maps-in takes no --maps-out, --amg-masks or --embedding");
      if (!o->common.out)
        return usam_cli_usage_error (name, "--out LABELS.tif is required");
      return run_maps_in (name, o);
    }
  if (o->maps_out && mode == MODE_AMG)
    return usam_cli_usage_error (name, "--maps-out needs --mode ais or apg");
  if (o->volume && (mode == MODE_AMG || mode == MODE_APG || o->maps_out || o->embedding))
    return usam_cli_usage_error (name, "--volume runs AIS per slice; it takes no --mode amg/apg, --maps-out or --embedding");
  if (o->min_z_extent != -1 && !o->volume)
    return usam_cli_usage_error (name, "--min-z-extent needs --volume");
  UsamNormalize normalize;
  UsamPrecision precision;
  status = usam_cli_common_check (name, &o->common, TRUE, &normalize, &precision);
  if (status != USAM_EXIT_OK)
    return status;
  o->tiling.normalize = normalize;
  status = usam_cli_tiling_check (name, o->tile, o->halo, &o->tiling);
  if (status != USAM_EXIT_OK)
    return status;
  if (o->tile && o->volume)
    return usam_cli_usage_error (name, "--tile works on one 2D image; tiled --volume is not implemented yet");
  if (o->volume)
    return run_volume (name, o, normalize, precision);
  return run_model (name, o, mode, normalize, precision);
}

int
usam_cli_segment (const char *name, int argc, char **argv)
{
  Options o = {
    .points_per_side = -1, .points_per_batch = -1, .min_size = -1, .min_z_extent = -1,
    .pred_iou_thresh = NAN, .stability_score_thresh = NAN, .stability_score_offset = NAN, .box_nms_thresh = NAN,
    .center_threshold = NAN, .boundary_threshold = NAN, .foreground_threshold = NAN, .distance_smoothing = NAN,
    .foreground_smoothing = NAN, .nms_thresh = NAN,
  };
  GOptionEntry entries[] = {
    COMMON_ENTRIES (o.common),
    { "mode", 0, 0, G_OPTION_ARG_STRING, &o.mode, "amg, ais or apg (default: ais with a decoder, else amg)", "MODE" },
    { "embedding", 'e', 0, G_OPTION_ARG_FILENAME, &o.embedding,
      "use this embedding instead of encoding (with --tile: the tiled embeddings' file, written when missing)",
      "EMB.h5" },
    TILING_ENTRIES (o.tile, o.halo),
    { "preset", 0, 0, G_OPTION_ARG_STRING, &o.preset, "μSAM's settings for a model: vit_b_lm, vit_l_em_organelles, …",
      "MODEL" },
    { "points-per-side", 0, 0, G_OPTION_ARG_INT, &o.points_per_side, "AMG: grid points per side (32)", "N" },
    { "points-per-batch", 0, 0, G_OPTION_ARG_INT, &o.points_per_batch, "AMG, APG: prompts decoded at once (64, 32)",
      "N" },
    { "pred-iou-thresh", 0, 0, G_OPTION_ARG_DOUBLE, &o.pred_iou_thresh, "AMG: keep predicted IoU above (0.88)", "T" },
    { "stability-score-thresh", 0, 0, G_OPTION_ARG_DOUBLE, &o.stability_score_thresh,
      "AMG: keep stability at least (0.95)", "T" },
    { "stability-score-offset", 0, 0, G_OPTION_ARG_DOUBLE, &o.stability_score_offset,
      "AMG: logit offset of the stability score (1.0)", "T" },
    { "box-nms-thresh", 0, 0, G_OPTION_ARG_DOUBLE, &o.box_nms_thresh, "AMG: box NMS IoU threshold (0.7)", "T" },
    { "keep-largest", 0, 0, G_OPTION_ARG_NONE, &o.keep_largest,
      "AMG: keep the largest object (μSAM takes it for background)", NULL },
    { "min-size", 0, 0, G_OPTION_ARG_INT, &o.min_size, "objects smaller than this are removed (AMG 0, AIS 100, APG 25)",
      "PIXELS" },
    { "center-distance-threshold", 0, 0, G_OPTION_ARG_DOUBLE, &o.center_threshold, "AIS, APG: seeds (0.5)", "T" },
    { "boundary-distance-threshold", 0, 0, G_OPTION_ARG_DOUBLE, &o.boundary_threshold, "AIS, APG: seeds (0.5)", "T" },
    { "foreground-threshold", 0, 0, G_OPTION_ARG_DOUBLE, &o.foreground_threshold, "AIS, APG: foreground (0.5)", "T" },
    { "distance-smoothing", 0, 0, G_OPTION_ARG_DOUBLE, &o.distance_smoothing, "AIS: Gaussian sigma (1.6)", "S" },
    { "foreground-smoothing", 0, 0, G_OPTION_ARG_DOUBLE, &o.foreground_smoothing, "AIS: Gaussian sigma (1.0)", "S" },
    { "nms-thresh", 0, 0, G_OPTION_ARG_DOUBLE, &o.nms_thresh, "APG: mask NMS IoU threshold (0.9)", "T" },
    { "maps-out", 0, 0, G_OPTION_ARG_FILENAME, &o.maps_out, "AIS, APG: also write the decoder maps", "MAPS.h5" },
    { "maps-in", 0, 0, G_OPTION_ARG_FILENAME, &o.maps_in, "AIS from saved maps, without a model", "MAPS.h5" },
    { "amg-masks", 0, 0, G_OPTION_ARG_FILENAME, &o.amg_masks, "AMG: also write the masks before painting", "OUT.h5" },
    { "volume", 0, 0, G_OPTION_ARG_NONE, &o.volume,
      "automatic 3D: AIS on every Z slice, objects joined across slices; writes a 3D label TIFF", NULL },
    { "min-z-extent", 0, 0, G_OPTION_ARG_INT, &o.min_z_extent, "--volume: objects spanning fewer slices are removed (1)",
      "N" },
    { NULL },
  };
  int status = USAM_EXIT_USAGE;
  if (usam_cli_parse (name, "automatic instance segmentation; --out LABELS.tif", entries, &argc, &argv))
    status = check_and_run (name, &o);
  options_clear (&o);
  return status;
}
