#include "usam-object.h"

G_DEFINE_BOXED_TYPE (UsamObject, usam_object, usam_object_ref, usam_object_unref)

static const char *const source_names[] = {
  [USAM_OBJECT_SOURCE_PROMPT] = "prompt",
  [USAM_OBJECT_SOURCE_AUTOMATIC] = "automatic",
  [USAM_OBJECT_SOURCE_BRUSH] = "brush",
  [USAM_OBJECT_SOURCE_IMPORTED] = "imported",
};

const char *
usam_object_source_to_string (UsamObjectSource source)
{
  return (guint) source < G_N_ELEMENTS (source_names) ? source_names[source] : "unknown";
}

gboolean
usam_object_source_from_string (const char *text, UsamObjectSource *out)
{
  for (guint i = 0; i < G_N_ELEMENTS (source_names); i++)
    if (g_strcmp0 (text, source_names[i]) == 0)
      {
        *out = (UsamObjectSource) i;
        return TRUE;
      }
  return FALSE;
}

UsamObject *
usam_object_new (GBytes *rle, const UsamRect *box, guint64 area, UsamObjectSource source)
{
  UsamObject *self = g_new0 (UsamObject, 1);
  g_atomic_ref_count_init (&self->ref);
  self->rle = g_bytes_ref (rle);
  self->box = *box;
  self->area = area;
  self->source = source;
  self->marks = g_array_new (FALSE, FALSE, sizeof (UsamMark));
  return self;
}

UsamObject *
usam_object_new_from_mask (const guint8 *mask, guint width, guint height, UsamObjectSource source)
{
  UsamRect box;
  guint64 area = 0;
  g_autoptr (GBytes) rle = usam_rle_encode (mask, width, height, width, &box, &area);
  if (!rle)
    return NULL;
  return usam_object_new (rle, &box, area, source);
}

UsamObject *
usam_object_ref (UsamObject *self)
{
  g_atomic_ref_count_inc (&self->ref);
  return self;
}

void
usam_object_unref (UsamObject *self)
{
  if (self && g_atomic_ref_count_dec (&self->ref))
    {
      g_bytes_unref (self->rle);
      g_array_unref (self->marks);
      g_free (self);
    }
}

void
usam_object_set_marks (UsamObject *self, const UsamMark *marks, guint n_marks)
{
  g_array_set_size (self->marks, 0);
  if (n_marks)
    g_array_append_vals (self->marks, marks, n_marks);
}

gboolean
usam_object_paint_labels (UsamObject *self, guint32 *labels, guint width, guint height, guint32 value,
                          GError **error)
{
  return usam_rle_paint_labels (self->rle, &self->box, labels, width, height, value, error);
}

gboolean
usam_object_paint_mask (UsamObject *self, guint8 *mask, guint width, guint height, guint8 value, GError **error)
{
  return usam_rle_paint_mask (self->rle, &self->box, mask, width, height, value, error);
}

typedef struct
{
  guint x, y;
  gboolean hit;
} HitTest;

static void
hit_run (guint y, guint x0, guint x1, gpointer user_data)
{
  HitTest *t = user_data;
  if (y == t->y && t->x >= x0 && t->x < x1)
    t->hit = TRUE;
}

gboolean
usam_object_contains (UsamObject *self, guint x, guint y)
{
  const UsamRect *b = &self->box;
  if (x < b->x || y < b->y || x >= b->x + b->width || y >= b->y + b->height)
    return FALSE;
  HitTest t = { x, y, FALSE };
  return usam_rle_foreach_run (self->rle, b, hit_run, &t, NULL) && t.hit;
}
