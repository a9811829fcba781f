/* usam predict — masks from prompts, in the layout of SamPredictor.predict(). */
#include "usam-cli-private.h"
#include "usam-tiling.h"

#include "usam-error.h"
#include "usam-h5.h"

typedef struct
{
  GArray *points; /* float x, y */
  GArray *labels; /* gint32 */
  float box[4];
  gboolean has_box;
} Prompt;

static int
parse_prompt (const char *name, char **point_args, const char *box_arg, Prompt *p)
{
  for (guint i = 0; point_args && point_args[i]; i++)
    {
      double v[3];
      if (!usam_cli_parse_numbers (point_args[i], v, 3))
        return usam_cli_usage_error (name, "--point needs X,Y,L (got '%s')", point_args[i]);
      if (v[2] != 0.0 && v[2] != 1.0)
        return usam_cli_usage_error (name, "--point label must be 1 (positive) or 0 (negative), got '%s'",
                                     point_args[i]);
      float xy[2] = { (float) v[0], (float) v[1] };
      gint32 label = (gint32) v[2];
      g_array_append_vals (p->points, xy, 2);
      g_array_append_val (p->labels, label);
    }
  if (box_arg)
    {
      double v[4];
      if (!usam_cli_parse_numbers (box_arg, v, 4))
        return usam_cli_usage_error (name, "--box needs X0,Y0,X1,Y1 (got '%s')", box_arg);
      if (v[2] < v[0] || v[3] < v[1])
        return usam_cli_usage_error (name, "--box needs X0 <= X1 and Y0 <= Y1 (got '%s')", box_arg);
      for (int i = 0; i < 4; i++)
        p->box[i] = (float) v[i];
      p->has_box = TRUE;
    }
  return USAM_EXIT_OK;
}

static float *
read_mask_input (const char *path, guint size, GError **error)
{
  g_auto (UsamH5File) file = usam_h5_open (path, FALSE, error);
  if (file < 0)
    return NULL;
  int rank = 0;
  hsize_t dims[USAM_H5_MAX_RANK];
  g_autofree float *data = usam_h5_read (file, "/mask_input", H5T_NATIVE_FLOAT, &rank, dims, error);
  if (!data)
    return NULL;
  gboolean ok = (rank == 3 && dims[0] == 1 && dims[1] == size && dims[2] == size)
                || (rank == 2 && dims[0] == size && dims[1] == size);
  if (!ok)
    {
      g_set_error (error, USAM_ERROR, USAM_ERROR_INVALID_DATA, "%s: '/mask_input' must have shape (1, %u, %u)", path,
                   size, size);
      return NULL;
    }
  return g_steal_pointer (&data);
}

static UsamEmbedding *
embedding_for (UsamModel *model, UsamImage *image, const char *embedding_path, UsamNormalize normalize,
               GError **error)
{
  if (!embedding_path)
    return usam_model_encode (model, image, 0, 0, normalize, NULL, NULL, NULL, error);
  g_autoptr (UsamEmbedding) e = usam_embedding_load (model, embedding_path, error);
  if (!e)
    return NULL;
  UsamEmbeddingShape s;
  usam_embedding_get_shape (e, &s);
  if (s.original_width != usam_image_get_width (image) || s.original_height != usam_image_get_height (image))
    {
      g_set_error (error, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT,
                   "%s: the embedding is of a %u×%u image, but %s is %u×%u", embedding_path, s.original_width,
                   s.original_height, usam_image_get_path (image), usam_image_get_width (image),
                   usam_image_get_height (image));
      return NULL;
    }
  return g_steal_pointer (&e);
}

/* @masks: C × @h × @w, or NULL for the prediction's own. */
static gboolean
write_prediction (UsamPrediction *p, const guint8 *masks, guint h, guint w, const char *path, GError **error)
{
  guint C = usam_prediction_get_n_masks (p), lr = usam_prediction_get_low_res_size (p);
  if (!masks)
    usam_prediction_get_size (p, &h, &w);
  g_autoptr (UsamH5Output) out = usam_h5_output_new (path, error);
  if (!out)
    return FALSE;
  hid_t file = usam_h5_output_get_file (out);
  const hsize_t mdims[3] = { C, h, w }, idims[1] = { C }, ldims[3] = { C, lr, lr };
  return usam_h5_write (file, "/masks", H5T_NATIVE_UINT8, 3, mdims, masks ? masks : usam_prediction_get_masks (p, 0),
                        TRUE, error)
         && usam_h5_write (file, "/iou", H5T_NATIVE_FLOAT, 1, idims, usam_prediction_get_iou (p, 0), FALSE, error)
         && usam_h5_write (file, "/low_res_logits", H5T_NATIVE_FLOAT, 3, ldims,
                           usam_prediction_get_low_res_logits (p, 0), FALSE, error)
         && usam_h5_output_commit (out, error);
}

/* The prompt decoded on the tile that holds it, its masks pasted back into
 * the image; the low-res logits stay the tile's. */
static gboolean
predict_tiled (UsamModel *model, UsamImage *image, const char *embedding_path, const UsamEmbeddingCacheOptions *tiling,
               const UsamPrompt *prompt, UsamPredictFlags flags, const char *out, GError **error)
{
  UsamCliTiles tiles;
  gboolean ok = FALSE;
  if (usam_cli_tiles_open (&tiles, embedding_path, model, image, tiling, error))
    {
      const UsamTiling *t = usam_embedding_cache_get_tiling (tiles.cache);
      guint index = usam_tiling_route_prompt (t, prompt);
      UsamTile tile;
      usam_tiling_get_tile (t, index, &tile);
      g_autofree float *points = g_new (float, 2 * (gsize) prompt->n_points + 2);
      float box[4];
      UsamPrompt moved;
      usam_tiling_move_prompt (&tile, prompt, points, box, &moved);
      g_autoptr (UsamEmbedding) embedding = usam_embedding_cache_dup_tile (tiles.cache, 0, index, NULL, NULL, NULL, error);
      g_autoptr (UsamPrediction) p = embedding ? usam_model_predict (model, embedding, &moved, 1, flags, NULL, error)
                                               : NULL;
      if (p)
        {
          guint C = usam_prediction_get_n_masks (p);
          gsize plane = (gsize) t->width * t->height, part = (gsize) tile.outer.width * tile.outer.height;
          g_autofree guint8 *masks = g_new (guint8, C * plane);
          for (guint m = 0; m < C; m++)
            usam_tiling_paste_mask (t, &tile, usam_prediction_get_masks (p, 0) + m * part, masks + m * plane);
          ok = write_prediction (p, masks, t->height, t->width, out, error);
        }
    }
  usam_cli_tiles_close (&tiles);
  return ok;
}

static int
run (const char *name, UsamCliCommon *c, UsamNormalize normalize, UsamPrecision precision, const Prompt *prompt,
     const char *embedding_path, const char *mask_input_path, gboolean multimask,
     const UsamEmbeddingCacheOptions *tiling)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (UsamImage) image = usam_cli_load_2d_image (c->image, &error);
  if (!image)
    return usam_cli_failure (name, error);
  g_autoptr (UsamModel) model = usam_model_new_from_file (c->model, precision, &error);
  if (!model)
    return usam_cli_failure (name, error);
  g_autofree float *mask_input = NULL;
  if (mask_input_path)
    {
      mask_input = read_mask_input (mask_input_path, 4 * usam_model_get_embedding_size (model), &error);
      if (!mask_input)
        return usam_cli_failure (name, error);
    }
  UsamPrompt p = {
    (const float *) prompt->points->data, (const gint32 *) prompt->labels->data, prompt->labels->len,
    prompt->has_box ? prompt->box : NULL, mask_input,
  };
  UsamPredictFlags flags = USAM_PREDICT_LOW_RES | (multimask ? USAM_PREDICT_MULTIMASK : 0);
  if (tiling->tile_width)
    return predict_tiled (model, image, embedding_path, tiling, &p, flags, c->out, &error)
               ? USAM_EXIT_OK
               : usam_cli_failure (name, error);
  g_autoptr (UsamEmbedding) embedding = embedding_for (model, image, embedding_path, normalize, &error);
  if (!embedding)
    return usam_cli_failure (name, error);
  g_autoptr (UsamPrediction) prediction = usam_model_predict (model, embedding, &p, 1, flags, NULL, &error);
  if (!prediction || !write_prediction (prediction, NULL, 0, 0, c->out, &error))
    return usam_cli_failure (name, error);
  return USAM_EXIT_OK;
}

int
usam_cli_predict (const char *name, int argc, char **argv)
{
  UsamCliCommon c = { 0 };
  g_autofree char *embedding_path = NULL, *box = NULL, *mask_input_path = NULL, *tile = NULL, *halo = NULL;
  g_auto (GStrv) points = NULL;
  gboolean multimask = FALSE;
  GOptionEntry entries[] = {
    COMMON_ENTRIES (c),
    { "embedding", 'e', 0, G_OPTION_ARG_FILENAME, &embedding_path, "use this embedding instead of encoding", "EMB.h5" },
    { "point", 'p', 0, G_OPTION_ARG_STRING_ARRAY, &points, "a point prompt; L is 1 (positive) or 0 (negative); repeatable",
      "X,Y,L" },
    { "box", 'b', 0, G_OPTION_ARG_STRING, &box, "a box prompt", "X0,Y0,X1,Y1" },
    { "mask-input", 0, 0, G_OPTION_ARG_FILENAME, &mask_input_path, "low-res logits /mask_input (1,256,256)", "MI.h5" },
    { "multimask", 0, 0, G_OPTION_ARG_NONE, &multimask, "three masks instead of one", NULL },
    TILING_ENTRIES (tile, halo),
    { NULL },
  };
  UsamEmbeddingCacheOptions tiling = { 0 };
  UsamPrecision precision;
  Prompt prompt = { g_array_new (FALSE, FALSE, sizeof (float)), g_array_new (FALSE, FALSE, sizeof (gint32)), { 0 },
                    FALSE };
  int status = USAM_EXIT_USAGE;
  if (usam_cli_parse (name, "segment an object from prompts", entries, &argc, &argv))
    status = usam_cli_common_check (name, &c, TRUE, &tiling.normalize, &precision);
  if (status == USAM_EXIT_OK)
    status = usam_cli_tiling_check (name, tile, halo, &tiling);
  if (status == USAM_EXIT_OK)
    status = parse_prompt (name, points, box, &prompt);
  if (status == USAM_EXIT_OK && prompt.labels->len == 0 && !prompt.has_box && !mask_input_path)
    status = usam_cli_usage_error (name, "give at least one --point, --box or --mask-input");
  if (status == USAM_EXIT_OK)
    status = run (name, &c, tiling.normalize, precision, &prompt, embedding_path, mask_input_path, multimask, &tiling);
  g_array_unref (prompt.points);
  g_array_unref (prompt.labels);
  usam_cli_common_clear (&c);
  return status;
}
