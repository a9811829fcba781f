#include "usam-train-data.h"

#include <string.h>

#include "usam-ais-targets.h"
#include "usam-error.h"
#include "usam-sam.h"

typedef struct
{
  char *name;
  guint width, height;
  guint8 *rgb;    /* height × width × 3 */
  gint32 *labels; /* height × width */
} Item;

struct _UsamTrainData
{
  GObject parent_instance;
  GArray *items; /* Item */
};

G_DEFINE_FINAL_TYPE (UsamTrainData, usam_train_data, G_TYPE_OBJECT)

static void
item_clear (Item *item)
{
  g_free (item->name);
  g_free (item->rgb);
  g_free (item->labels);
}

static void
usam_train_data_finalize (GObject *object)
{
  UsamTrainData *self = USAM_TRAIN_DATA (object);
  g_array_unref (self->items);
  G_OBJECT_CLASS (usam_train_data_parent_class)->finalize (object);
}

static void
usam_train_data_class_init (UsamTrainDataClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = usam_train_data_finalize;
}

static void
usam_train_data_init (UsamTrainData *self)
{
  self->items = g_array_new (FALSE, TRUE, sizeof (Item));
  g_array_set_clear_func (self->items, (GDestroyNotify) item_clear);
}

UsamTrainData *
usam_train_data_new (void)
{
  return g_object_new (USAM_TYPE_TRAIN_DATA, NULL);
}

static const char *
name_of (UsamImage *image)
{
  return usam_image_get_path (image) ? usam_image_get_path (image) : "image";
}

gboolean
usam_train_data_add (UsamTrainData *self, UsamImage *image, UsamImage *labels, GError **error)
{
  guint w = usam_image_get_width (image), h = usam_image_get_height (image);
  if (usam_image_get_depth (image) != 1 || usam_image_get_frames (image) != 1)
    {
      g_set_error (error, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT, "%s: training takes 2D images", name_of (image));
      return FALSE;
    }
  if (usam_image_get_width (labels) != w || usam_image_get_height (labels) != h || usam_image_get_channels (labels) != 1
      || usam_image_get_depth (labels) != 1 || usam_image_get_frames (labels) != 1)
    {
      g_set_error (error, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT, "%s: labels must be one %u×%u plane, like %s",
                   name_of (labels), w, h, name_of (image));
      return FALSE;
    }
  UsamPixelType lt = usam_image_get_pixel_type (labels);
  if (lt == USAM_PIXEL_TYPE_F32 || lt == USAM_PIXEL_TYPE_F64)
    {
      g_set_error (error, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT, "%s: labels must be integers", name_of (labels));
      return FALSE;
    }

  static const usam_sam_pixel_type types[] = {
    [USAM_PIXEL_TYPE_U8] = USAM_SAM_PIXEL_U8,   [USAM_PIXEL_TYPE_U16] = USAM_SAM_PIXEL_U16,
    [USAM_PIXEL_TYPE_I16] = USAM_SAM_PIXEL_I16, [USAM_PIXEL_TYPE_U32] = USAM_SAM_PIXEL_U32,
    [USAM_PIXEL_TYPE_I32] = USAM_SAM_PIXEL_I32, [USAM_PIXEL_TYPE_F32] = USAM_SAM_PIXEL_F32,
    [USAM_PIXEL_TYPE_F64] = USAM_SAM_PIXEL_F64,
  };
  usam_sam_image_view view = {
    usam_image_get_plane (image, 0, 0), types[usam_image_get_pixel_type (image)], (int) w, (int) h,
    (int) usam_image_get_channels (image), 0,
  };
  Item item = { 0 };
  item.name = g_strdup (name_of (image));
  item.width = w;
  item.height = h;
  item.rgb = g_malloc ((gsize) w * h * 3);
  usam_sam_status status = usam_sam_image_to_rgb8 (&view, USAM_SAM_NORMALIZE_MINMAX, item.rgb);
  if (status != USAM_SAM_STATUS_OK)
    {
      g_set_error (error, USAM_ERROR, USAM_ERROR_INVALID_DATA, "%s: %s", item.name, usam_sam_last_error ());
      item_clear (&item);
      return FALSE;
    }
  item.labels = g_malloc ((gsize) w * h * sizeof (gint32));
  for (gsize i = 0; i < (gsize) w * h; i++)
    item.labels[i] = (gint32) usam_image_get_value (labels, 0, 0, (guint) (i / w), (guint) (i % w), 0);
  g_array_append_val (self->items, item);
  return TRUE;
}

gboolean
usam_train_data_add_files (UsamTrainData *self, const char *image_path, const char *label_path, GError **error)
{
  g_autoptr (UsamImage) image = usam_image_load (image_path, error);
  if (!image)
    return FALSE;
  g_autoptr (UsamImage) labels = usam_image_load (label_path, error);
  if (!labels)
    return FALSE;
  return usam_train_data_add (self, image, labels, error);
}

static char *
stem (const char *name)
{
  char *s = g_strdup (name);
  char *dot = strrchr (s, '.');
  if (dot && dot != s)
    *dot = '\0';
  if (g_str_has_suffix (s, ".ome"))
    s[strlen (s) - 4] = '\0';
  return s;
}

GPtrArray *
usam_train_data_pair_folders (const char *image_dir, const char *label_dir, GError **error)
{
  g_autoptr (GHashTable) labels = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  {
    g_autoptr (GDir) ldir = g_dir_open (label_dir, 0, error);
    if (!ldir)
      return NULL;
    const char *name;
    while ((name = g_dir_read_name (ldir)))
      g_hash_table_insert (labels, stem (name), g_build_filename (label_dir, name, NULL));
  }
  g_autoptr (GDir) dir = g_dir_open (image_dir, 0, error);
  if (!dir)
    return NULL;
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;
  while ((name = g_dir_read_name (dir)))
    if (name[0] != '.')
      g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, (GCompareFunc) g_strcmp0);
  g_autoptr (GPtrArray) pairs = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *key = stem (names->pdata[i]);
      const char *label = g_hash_table_lookup (labels, key);
      if (!label)
        continue;
      g_ptr_array_add (pairs, g_build_filename (image_dir, (char *) names->pdata[i], NULL));
      g_ptr_array_add (pairs, g_strdup (label));
    }
  if (pairs->len == 0)
    {
      g_set_error (error, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT, "%s: no image has a label file of the same name in %s",
                   image_dir, label_dir);
      return NULL;
    }
  return g_steal_pointer (&pairs);
}

gboolean
usam_train_data_add_folders (UsamTrainData *self, const char *image_dir, const char *label_dir, GError **error)
{
  g_autoptr (GPtrArray) pairs = usam_train_data_pair_folders (image_dir, label_dir, error);
  if (!pairs)
    return FALSE;
  for (guint i = 0; i < pairs->len; i += 2)
    if (!usam_train_data_add_files (self, pairs->pdata[i], pairs->pdata[i + 1], error))
      return FALSE;
  return TRUE;
}

gboolean
usam_train_data_add_list (UsamTrainData *self, const char *list_path, GError **error)
{
  g_autofree char *text = NULL;
  if (!g_file_get_contents (list_path, &text, NULL, error))
    return FALSE;
  g_autofree char *base = g_path_get_dirname (list_path);
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i]; i++)
    {
      char *line = g_strstrip (lines[i]);
      if (!*line || *line == '#')
        continue;
      g_auto (GStrv) parts = g_strsplit_set (line, " \t", -1);
      g_autoptr (GPtrArray) fields = g_ptr_array_new ();
      for (guint k = 0; parts[k]; k++)
        if (*parts[k])
          g_ptr_array_add (fields, parts[k]);
      if (fields->len != 2)
        {
          g_set_error (error, USAM_ERROR, USAM_ERROR_INVALID_DATA, "%s:%u: expected 'IMAGE LABELS'", list_path, i + 1);
          return FALSE;
        }
      g_autofree char *image = g_path_is_absolute (fields->pdata[0]) ? g_strdup (fields->pdata[0])
                                                                      : g_build_filename (base, fields->pdata[0], NULL);
      g_autofree char *label = g_path_is_absolute (fields->pdata[1]) ? g_strdup (fields->pdata[1])
                                                                      : g_build_filename (base, fields->pdata[1], NULL);
      if (!usam_train_data_add_files (self, image, label, error))
        return FALSE;
    }
  if (self->items->len == 0)
    {
      g_set_error (error, USAM_ERROR, USAM_ERROR_INVALID_DATA, "%s: lists no images", list_path);
      return FALSE;
    }
  return TRUE;
}

guint
usam_train_data_get_n_items (UsamTrainData *self)
{
  return self->items->len;
}

const char *
usam_train_data_get_name (UsamTrainData *self, guint index)
{
  return g_array_index (self->items, Item, index).name;
}

void
usam_train_data_get_item (UsamTrainData *self, guint index, const guint8 **rgb, const gint32 **labels, guint *width,
                          guint *height)
{
  const Item *item = &g_array_index (self->items, Item, index);
  *rgb = item->rgb;
  *labels = item->labels;
  *width = item->width;
  *height = item->height;
}

UsamBatchSpec
usam_batch_spec_default (guint image_size)
{
  UsamBatchSpec s = { 0 };
  s.n_images = 4;
  s.image_size = image_size;
  s.n_objects = 12;
  s.min_objects = 2;
  s.min_size = 25;
  s.min_scale = 0.5;
  s.max_scale = 1.5;
  s.augment = TRUE;
  s.ais_targets = FALSE;
  return s;
}

void
usam_train_batch_free (UsamTrainBatch *batch)
{
  if (!batch)
    return;
  g_free (batch->images);
  g_free (batch->labels);
  g_free (batch->object_ids);
  g_free (batch->ais_targets);
  g_free (batch->sources);
  g_free (batch);
}

/* One crop, resized; returns the number of objects kept, or 0. */
static guint
draw_crop (const Item *item, const UsamBatchSpec *spec, GRand *rand, guint8 *rgb_out, gint32 *labels_out)
{
  const guint S = spec->image_size;
  guint min_side = MIN (item->width, item->height);
  double scale = g_rand_double_range (rand, spec->min_scale, spec->max_scale);
  guint C = MIN (min_side, MAX (16u, (guint) (S * scale + 0.5)));
  guint x0 = item->width > C ? (guint) g_rand_int_range (rand, 0, (gint32) (item->width - C + 1)) : 0;
  guint y0 = item->height > C ? (guint) g_rand_int_range (rand, 0, (gint32) (item->height - C + 1)) : 0;
  gboolean flip_x = spec->augment && g_rand_boolean (rand);
  gboolean flip_y = spec->augment && g_rand_boolean (rand);
  gboolean transpose = spec->augment && g_rand_boolean (rand);

  g_autofree guint8 *crop = g_malloc ((gsize) C * C * 3);
  g_autofree gint32 *crop_labels = g_malloc ((gsize) C * C * sizeof (gint32));
  for (guint y = 0; y < C; y++)
    for (guint x = 0; x < C; x++)
      {
        guint sx = flip_x ? C - 1 - x : x, sy = flip_y ? C - 1 - y : y;
        if (transpose)
          {
            guint t = sx;
            sx = sy;
            sy = t;
          }
        gsize src = (gsize) (y0 + sy) * item->width + (x0 + sx);
        memcpy (crop + ((gsize) y * C + x) * 3, item->rgb + src * 3, 3);
        crop_labels[(gsize) y * C + x] = item->labels[src];
      }

  int out_w, out_h;
  if (usam_sam_resize_longest_side (crop, (int) C, (int) C, (int) S, rgb_out, &out_w, &out_h) != USAM_SAM_STATUS_OK
      || out_w != (int) S || out_h != (int) S)
    return 0;
  for (guint y = 0; y < S; y++)
    {
      guint sy = MIN (C - 1, (guint) (((double) y + 0.5) * C / S));
      for (guint x = 0; x < S; x++)
        {
          guint sx = MIN (C - 1, (guint) (((double) x + 0.5) * C / S));
          labels_out[(gsize) y * S + x] = crop_labels[(gsize) sy * C + sx];
        }
    }

  /* Consecutive ids; objects below the minimum size become background. */
  g_autoptr (GHashTable) ids = g_hash_table_new (g_direct_hash, g_direct_equal);
  g_autoptr (GArray) sizes = g_array_new (FALSE, TRUE, sizeof (guint));
  guint zero = 0;
  g_array_append_val (sizes, zero);
  for (gsize i = 0; i < (gsize) S * S; i++)
    {
      gint32 v = labels_out[i];
      if (v == 0)
        continue;
      guint id = GPOINTER_TO_UINT (g_hash_table_lookup (ids, GINT_TO_POINTER (v)));
      if (id == 0)
        {
          id = sizes->len;
          g_hash_table_insert (ids, GINT_TO_POINTER (v), GUINT_TO_POINTER (id));
          g_array_append_val (sizes, zero);
        }
      g_array_index (sizes, guint, id)++;
      labels_out[i] = (gint32) id;
    }
  g_autofree gint32 *remap = g_new0 (gint32, sizes->len);
  guint kept = 0;
  for (guint id = 1; id < sizes->len; id++)
    remap[id] = g_array_index (sizes, guint, id) >= spec->min_size ? (gint32) ++kept : 0;
  for (gsize i = 0; i < (gsize) S * S; i++)
    labels_out[i] = remap[labels_out[i]];
  return kept;
}

UsamTrainBatch *
usam_train_data_sample (UsamTrainData *self, const UsamBatchSpec *spec, GRand *rand, GError **error)
{
  g_return_val_if_fail (spec->n_images > 0 && spec->image_size > 0 && spec->n_objects > 0, NULL);
  if (self->items->len == 0)
    {
      g_set_error_literal (error, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT, "no training images");
      return NULL;
    }
  const guint n = spec->n_images, S = spec->image_size;
  const gsize plane = (gsize) S * S;
  g_autoptr (UsamTrainBatch) b = g_new0 (UsamTrainBatch, 1);
  b->n_images = n;
  b->image_size = S;
  b->images = g_malloc (n * plane * 3);
  b->labels = g_malloc (n * plane * sizeof (gint32));
  b->sources = g_new0 (guint, n);
  g_autofree guint *counts = g_new0 (guint, n);

  for (guint i = 0; i < n; i++)
    {
      guint tries = 0;
      while (counts[i] < MAX (spec->min_objects, 1u))
        {
          if (++tries > 200)
            {
              g_set_error (error, USAM_ERROR, USAM_ERROR_INVALID_DATA,
                           "no crop with %u objects of at least %u pixels in 200 draws; the training images hold "
                           "too few objects",
                           spec->min_objects, spec->min_size);
              return NULL;
            }
          guint index = (guint) g_rand_int_range (rand, 0, (gint32) self->items->len);
          b->sources[i] = index;
          counts[i] = draw_crop (&g_array_index (self->items, Item, index), spec, rand, b->images + i * plane * 3,
                                 b->labels + i * plane);
        }
    }

  guint K = spec->n_objects;
  for (guint i = 0; i < n; i++)
    K = MIN (K, counts[i]);
  b->n_objects = K;
  b->object_ids = g_new (gint32, (gsize) n * K);
  for (guint i = 0; i < n; i++)
    {
      /* a random choice of K of the objects, by a partial shuffle */
      g_autofree gint32 *all = g_new (gint32, counts[i]);
      for (guint k = 0; k < counts[i]; k++)
        all[k] = (gint32) k + 1;
      for (guint k = 0; k < K; k++)
        {
          guint j = k + (guint) g_rand_int_range (rand, 0, (gint32) (counts[i] - k));
          gint32 t = all[k];
          all[k] = all[j];
          all[j] = t;
          b->object_ids[(gsize) i * K + k] = all[k];
        }
    }

  if (spec->ais_targets)
    {
      b->ais_targets = g_malloc (n * 3 * plane * sizeof (float));
      for (guint i = 0; i < n; i++)
        {
          float *t = b->ais_targets + (gsize) i * 3 * plane;
          if (!usam_ais_targets ((const guint32 *) (b->labels + i * plane), S, S, spec->min_size, t, t + plane,
                                 t + 2 * plane, NULL, error))
            return NULL;
        }
    }
  return g_steal_pointer (&b);
}
