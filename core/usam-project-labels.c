/* Label images in and out of a project: what other tools read and write. */
#include "usam-project.h"

#include <stdlib.h>
#include <string.h>

#include "usam-error.h"
#include "usam-project-private.h"

static int
compare_ids (const void *a, const void *b)
{
  guint32 x = *(const guint32 *) a, y = *(const guint32 *) b;
  return x < y ? -1 : x > y;
}

static gboolean
image_shape (UsamProject *self, gint64 image_id, UsamProjectImage **out, GError **error)
{
  g_autoptr (UsamProjectImage) im = usam_project_get_image (self, image_id, error);
  if (!im)
    return FALSE;
  if (im->width == 0)
    {
      g_set_error (error, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT,
                   "%s: its shape is not known yet; open it in the project first", im->path);
      return FALSE;
    }
  *out = g_steal_pointer (&im);
  return TRUE;
}

UsamImage *
usam_project_render_labels (UsamProject *self, gint64 image_id, GError **error)
{
  return usam_project_render_labels_full (self, image_id, FALSE, error);
}

UsamImage *
usam_project_render_labels_full (UsamProject *self, gint64 image_id, gboolean keep, GError **error)
{
  g_autoptr (UsamProjectImage) im = NULL;
  if (!image_shape (self, image_id, &im, error))
    return NULL;
  g_autoptr (GPtrArray) objects = usam_project_list_objects (self, image_id, -1, -1, error);
  if (!objects)
    return NULL;
  /* Exported ids are consecutive, so the smallest type that holds them. */
  gboolean wide = keep || objects->len > G_MAXUINT16;
  g_autoptr (UsamImage) labels = usam_image_new (wide ? USAM_PIXEL_TYPE_U32 : USAM_PIXEL_TYPE_U16, im->width,
                                                 im->height, 1, MAX (im->depth, 1), MAX (im->frames, 1), error);
  if (!labels)
    return NULL;
  gsize plane = (gsize) im->width * im->height;
  g_autofree guint32 *scratch = g_new0 (guint32, plane);
  /* Objects come by label; paint each plane into 32-bit scratch, then
   * narrow. Gather per plane so each is written once. */
  for (guint pt = 0; pt < MAX (im->frames, 1); pt++)
    for (guint pz = 0; pz < MAX (im->depth, 1); pz++)
      {
        memset (scratch, 0, plane * sizeof (guint32));
        gboolean any = FALSE;
        for (guint i = 0; i < objects->len; i++)
          {
            UsamObject *o = g_ptr_array_index (objects, i);
            if (o->t != pt || o->z != pz)
              continue;
            if (!usam_object_paint_labels (o, scratch, im->width, im->height, keep ? o->label : i + 1, error))
              return NULL;
            any = TRUE;
          }
        if (!any)
          continue;
        void *out = usam_image_get_plane_mutable (labels, pt, pz);
        if (wide)
          memcpy (out, scratch, plane * sizeof (guint32));
        else
          for (gsize p = 0; p < plane; p++)
            ((guint16 *) out)[p] = (guint16) scratch[p];
      }
  return g_steal_pointer (&labels);
}

gboolean
usam_project_export_labels (UsamProject *self, gint64 image_id, const char *path, GError **error)
{
  g_autoptr (UsamImage) labels = usam_project_render_labels (self, image_id, error);
  return labels && usam_image_save_tiff (labels, path, error);
}

gboolean
usam_project_import_labels (UsamProject *self, gint64 image_id, UsamImage *labels, guint *n_added, GError **error)
{
  if (n_added)
    *n_added = 0;
  g_autoptr (UsamProjectEdit) edit = usam_project_edit_new (self, image_id, "import labels");
  if (!usam_project_edit_add_label_image (edit, self, image_id, labels, FALSE, 0, USAM_OBJECT_SOURCE_IMPORTED,
                                          n_added, error))
    return FALSE;
  if (usam_project_edit_is_empty (edit))
    return TRUE;
  return usam_project_commit_edit (self, g_steal_pointer (&edit), error);
}

gboolean
usam_project_add_labels (UsamProject *self, gint64 image_id, UsamImage *labels, UsamObjectSource source,
                         const char *what, guint *n_added, GError **error)
{
  if (n_added)
    *n_added = 0;
  g_autoptr (UsamProjectEdit) edit = usam_project_edit_new (self, image_id, what);
  guint offset = usam_project_next_label (self, image_id) - 1;
  if (!usam_project_edit_add_label_image (edit, self, image_id, labels, TRUE, offset, source, n_added, error))
    return FALSE;
  if (usam_project_edit_is_empty (edit))
    return TRUE;
  return usam_project_commit_edit (self, g_steal_pointer (&edit), error);
}

gboolean
usam_project_edit_add_label_image (UsamProjectEdit *edit, UsamProject *self, gint64 image_id, UsamImage *labels,
                                   gboolean keep, guint offset, UsamObjectSource source, guint *n_added,
                                   GError **error)
{
  g_autoptr (UsamProjectImage) im = NULL;
  if (!image_shape (self, image_id, &im, error))
    return FALSE;
  UsamPixelType type = usam_image_get_pixel_type (labels);
  const char *name = usam_image_get_path (labels) ? usam_image_get_path (labels) : "the label image";
  if (type == USAM_PIXEL_TYPE_F32 || type == USAM_PIXEL_TYPE_F64 || usam_image_get_channels (labels) != 1)
    {
      g_set_error (error, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT,
                   "%s: is not a label image (it needs one channel of integers, not %u × %s)", name,
                   usam_image_get_channels (labels), usam_pixel_type_to_string (type));
      return FALSE;
    }
  guint w = usam_image_get_width (labels), h = usam_image_get_height (labels);
  guint depth = usam_image_get_depth (labels), frames = usam_image_get_frames (labels);
  if (w != im->width || h != im->height || depth != MAX (im->depth, 1) || frames != MAX (im->frames, 1))
    {
      g_set_error (error, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT,
                   "%s: is %u × %u (%u slices, %u frames) but the image is %u × %u (%u slices, %u frames)", name, w,
                   h, depth, frames, im->width, im->height, im->depth, im->frames);
      return FALSE;
    }
  gsize plane = (gsize) w * h;
  g_autofree guint32 *ids = g_new (guint32, plane);
  for (guint t = 0; t < frames; t++)
    for (guint z = 0; z < depth; z++)
      {
        /* One pass finds every id's box, so encoding stays linear in the
         * pixels however many objects there are. */
        GHashTable *boxes = g_hash_table_new_full (NULL, NULL, NULL, g_free);
        for (guint y = 0; y < h; y++)
          for (guint x = 0; x < w; x++)
            {
              double v = usam_image_get_value (labels, t, z, y, x, 0);
              guint32 id = v > 0 && v <= G_MAXUINT32 ? (guint32) v : 0;
              ids[(gsize) y * w + x] = id;
              if (!id)
                continue;
              UsamRect *b = g_hash_table_lookup (boxes, GUINT_TO_POINTER (id));
              if (!b)
                {
                  b = g_new (UsamRect, 1);
                  *b = (UsamRect) { x, y, 1, 1 };
                  g_hash_table_insert (boxes, GUINT_TO_POINTER (id), b);
                  continue;
                }
              guint x1 = MAX (b->x + b->width, x + 1), y1 = MAX (b->y + b->height, y + 1);
              b->x = MIN (b->x, x);
              b->y = MIN (b->y, y);
              b->width = x1 - b->x;
              b->height = y1 - b->y;
            }
        /* Ids in increasing order, so labels follow the file's order. */
        guint n = 0;
        g_autofree gpointer *keys = g_hash_table_get_keys_as_array (boxes, &n);
        g_autofree guint32 *order = g_new (guint32, n + 1);
        for (guint i = 0; i < n; i++)
          order[i] = GPOINTER_TO_UINT (keys[i]);
        qsort (order, n, sizeof (guint32), compare_ids);
        for (guint i = 0; i < n; i++)
          {
            UsamRect box;
            guint64 area = 0;
            const UsamRect *within = g_hash_table_lookup (boxes, GUINT_TO_POINTER (order[i]));
            g_autoptr (GBytes) rle = usam_rle_encode_label (ids, w, h, order[i], within, &box, &area);
            g_autoptr (UsamObject) o = usam_object_new (rle, &box, area, source);
            o->t = t;
            o->z = z;
            if (keep)
              o->label = order[i] + offset;
            usam_project_edit_add (edit, o);
          }
        g_hash_table_unref (boxes);
        if (n_added)
          *n_added += n;
      }
  return TRUE;
}
