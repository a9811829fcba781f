#include "usam-rle.h"

#include <math.h>
#include <string.h>

#include "usam-error.h"

static void
put_varint (GByteArray *out, guint64 value)
{
  do
    {
      guint8 byte = value & 0x7f;
      value >>= 7;
      if (value)
        byte |= 0x80;
      g_byte_array_append (out, &byte, 1);
    }
  while (value);
}

static gboolean
get_varint (const guint8 **p, const guint8 *end, guint64 *value)
{
  guint64 v = 0;
  for (guint shift = 0; shift < 64; shift += 7)
    {
      if (*p >= end)
        return FALSE;
      guint8 byte = *(*p)++;
      v |= (guint64) (byte & 0x7f) << shift;
      if (!(byte & 0x80))
        {
          *value = v;
          return TRUE;
        }
    }
  return FALSE;
}

typedef gboolean (*InsideFunc) (const void *data, gsize stride, guint x, guint y, guint32 value);

static gboolean
mask_inside (const void *data, gsize stride, guint x, guint y, guint32 value)
{
  return ((const guint8 *) data)[y * stride + x] != 0;
}

static gboolean
label_inside (const void *data, gsize stride, guint x, guint y, guint32 value)
{
  return ((const guint32 *) data)[y * stride + x] == value;
}

static GBytes *
encode (const void *data, guint width, guint height, gsize stride, guint32 value, InsideFunc inside,
        const UsamRect *within, UsamRect *box, guint64 *area)
{
  guint wx0 = 0, wy0 = 0, wx1 = width, wy1 = height;
  if (within)
    {
      wx0 = MIN (within->x, width);
      wy0 = MIN (within->y, height);
      wx1 = MIN ((guint64) within->x + within->width, width);
      wy1 = MIN ((guint64) within->y + within->height, height);
    }
  guint x0 = width, y0 = height, x1 = 0, y1 = 0;
  for (guint y = wy0; y < wy1; y++)
    for (guint x = wx0; x < wx1; x++)
      if (inside (data, stride, x, y, value))
        {
          x0 = MIN (x0, x);
          x1 = MAX (x1, x + 1);
          y0 = MIN (y0, y);
          y1 = MAX (y1, y + 1);
        }
  *box = (UsamRect) { 0, 0, 0, 0 };
  *area = 0;
  if (x1 == 0)
    return NULL;
  *box = (UsamRect) { x0, y0, x1 - x0, y1 - y0 };
  g_autoptr (GByteArray) out = g_byte_array_new ();
  gboolean in = FALSE;
  guint64 run = 0, n = 0;
  for (guint y = y0; y < y1; y++)
    for (guint x = x0; x < x1; x++)
      {
        gboolean here = inside (data, stride, x, y, value);
        n += here;
        if (here != in)
          {
            put_varint (out, run);
            run = 0;
            in = here;
          }
        run++;
      }
  put_varint (out, run);
  *area = n;
  return g_byte_array_free_to_bytes (g_steal_pointer (&out));
}

GBytes *
usam_rle_encode (const guint8 *mask, guint width, guint height, gsize stride, UsamRect *box, guint64 *area)
{
  return encode (mask, width, height, stride ? stride : width, 0, mask_inside, NULL, box, area);
}

GBytes *
usam_rle_encode_label (const guint32 *labels, guint width, guint height, guint32 value, const UsamRect *within,
                       UsamRect *box, guint64 *area)
{
  return encode (labels, width, height, width, value, label_inside, within, box, area);
}

gboolean
usam_rle_foreach_run (GBytes *rle, const UsamRect *box, UsamRleRunFunc func, gpointer user_data, GError **error)
{
  gsize size = 0;
  const guint8 *p = rle ? g_bytes_get_data (rle, &size) : NULL;
  const guint8 *end = p + size;
  guint64 total = (guint64) box->width * box->height, pos = 0;
  gboolean in = FALSE;
  while (p < end)
    {
      guint64 run = 0;
      if (!get_varint (&p, end, &run) || run > total - pos)
        break;
      /* A foreground run may span rows: report it row by row. */
      for (guint64 left = run, at = pos; in && left > 0;)
        {
          guint row = (guint) (at / box->width), col = (guint) (at % box->width);
          guint64 n = MIN (left, (guint64) box->width - col);
          func (box->y + row, box->x + col, box->x + col + (guint) n, user_data);
          at += n;
          left -= n;
        }
      pos += run;
      in = !in;
    }
  if (p != end || pos != total)
    {
      g_set_error (error, USAM_ERROR, USAM_ERROR_INVALID_DATA,
                   "a stored mask is damaged: its runs do not fill its %u × %u box", box->width, box->height);
      return FALSE;
    }
  return TRUE;
}

typedef struct
{
  void *data;
  guint width, height;
  guint32 value;
} Paint;

static void
paint_mask_run (guint y, guint x0, guint x1, gpointer user_data)
{
  Paint *p = user_data;
  if (y >= p->height || x0 >= p->width)
    return;
  x1 = MIN (x1, p->width);
  memset ((guint8 *) p->data + (gsize) y * p->width + x0, (int) p->value, x1 - x0);
}

static void
paint_labels_run (guint y, guint x0, guint x1, gpointer user_data)
{
  Paint *p = user_data;
  if (y >= p->height || x0 >= p->width)
    return;
  x1 = MIN (x1, p->width);
  guint32 *row = (guint32 *) p->data + (gsize) y * p->width;
  for (guint x = x0; x < x1; x++)
    row[x] = p->value;
}

gboolean
usam_rle_paint_mask (GBytes *rle, const UsamRect *box, guint8 *mask, guint width, guint height, guint8 value,
                     GError **error)
{
  Paint p = { mask, width, height, value };
  return usam_rle_foreach_run (rle, box, paint_mask_run, &p, error);
}

gboolean
usam_rle_paint_labels (GBytes *rle, const UsamRect *box, guint32 *labels, guint width, guint height, guint32 value,
                       GError **error)
{
  Paint p = { labels, width, height, value };
  return usam_rle_foreach_run (rle, box, paint_labels_run, &p, error);
}

void
usam_mask_paint_segment (guint8 *mask, guint width, guint height, double x0, double y0, double x1, double y1,
                         double radius, guint8 value)
{
  double bx0 = MIN (x0, x1) - radius, bx1 = MAX (x0, x1) + radius;
  double by0 = MIN (y0, y1) - radius, by1 = MAX (y0, y1) + radius;
  double dx = x1 - x0, dy = y1 - y0, len2 = dx * dx + dy * dy;
  int ya = (int) MAX (0, floor (by0)), yb = (int) MIN ((double) height - 1, ceil (by1));
  int xa = (int) MAX (0, floor (bx0)), xb = (int) MIN ((double) width - 1, ceil (bx1));
  for (int y = ya; y <= yb; y++)
    for (int x = xa; x <= xb; x++)
      {
        /* The nearest point of the segment to the pixel centre. */
        double px = x + 0.5 - x0, py = y + 0.5 - y0;
        double s = len2 > 0 ? CLAMP ((px * dx + py * dy) / len2, 0, 1) : 0;
        double ex = px - s * dx, ey = py - s * dy;
        if (ex * ex + ey * ey <= radius * radius)
          mask[(gsize) y * width + (gsize) x] = value;
      }
}
