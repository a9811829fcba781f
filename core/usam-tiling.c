#include "usam-tiling.h"

#include <math.h>
#include <string.h>

static guint
tile_w (const UsamTiling *t)
{
  return t->tile_width ? MIN (t->tile_width, t->width) : t->width;
}

static guint
tile_h (const UsamTiling *t)
{
  return t->tile_height ? MIN (t->tile_height, t->height) : t->height;
}

static guint
n_columns (const UsamTiling *t)
{
  return (t->width + tile_w (t) - 1) / tile_w (t);
}

guint
usam_tiling_get_n_tiles (const UsamTiling *t)
{
  if (!t->width || !t->height)
    return 0;
  return n_columns (t) * ((t->height + tile_h (t) - 1) / tile_h (t));
}

static void
grow (guint begin, guint size, guint halo, guint limit, guint *outer_begin, guint *outer_size)
{
  guint b = begin > halo ? begin - halo : 0;
  guint e = MIN ((guint64) begin + size + halo, limit);
  *outer_begin = b;
  *outer_size = e - b;
}

void
usam_tiling_get_tile (const UsamTiling *t, guint index, UsamTile *tile)
{
  g_return_if_fail (index < usam_tiling_get_n_tiles (t));
  guint tw = tile_w (t), th = tile_h (t), cols = n_columns (t);
  UsamRect inner = { (index % cols) * tw, (index / cols) * th, 0, 0 };
  inner.width = MIN (tw, t->width - inner.x);
  inner.height = MIN (th, t->height - inner.y);
  tile->inner = inner;
  grow (inner.x, inner.width, t->tile_width ? t->halo_width : 0, t->width, &tile->outer.x, &tile->outer.width);
  grow (inner.y, inner.height, t->tile_height ? t->halo_height : 0, t->height, &tile->outer.y, &tile->outer.height);
}

guint
usam_tiling_find_tile (const UsamTiling *t, double x, double y)
{
  guint tw = tile_w (t), th = tile_h (t);
  double cx = isfinite (x) ? CLAMP (floor (x), 0.0, (double) t->width - 1) : 0.0;
  double cy = isfinite (y) ? CLAMP (floor (y), 0.0, (double) t->height - 1) : 0.0;
  return ((guint) cy / th) * n_columns (t) + (guint) cx / tw;
}

guint
usam_tiling_route_prompt (const UsamTiling *t, const UsamPrompt *prompt)
{
  if (prompt->n_points > 0)
    {
      double x = 0, y = 0;
      for (guint i = 0; i < prompt->n_points; i++)
        {
          x += prompt->points[2 * i];
          y += prompt->points[2 * i + 1];
        }
      return usam_tiling_find_tile (t, x / prompt->n_points, y / prompt->n_points);
    }
  if (prompt->box)
    return usam_tiling_find_tile (t, 0.5 * (prompt->box[0] + prompt->box[2]), 0.5 * (prompt->box[1] + prompt->box[3]));
  return 0;
}

void
usam_tiling_move_prompt (const UsamTile *tile, const UsamPrompt *prompt, float *points, float *box, UsamPrompt *out)
{
  *out = *prompt;
  const float dx = (float) tile->outer.x, dy = (float) tile->outer.y;
  for (guint i = 0; i < prompt->n_points; i++)
    {
      points[2 * i] = prompt->points[2 * i] - dx;
      points[2 * i + 1] = prompt->points[2 * i + 1] - dy;
    }
  out->points = prompt->n_points ? points : NULL;
  if (prompt->box)
    {
      const float shift[4] = { dx, dy, dx, dy };
      for (int k = 0; k < 4; k++)
        box[k] = prompt->box[k] - shift[k];
      out->box = box;
    }
}

void
usam_tiling_paste_mask (const UsamTiling *t, const UsamTile *tile, const guint8 *mask, guint8 *plane)
{
  memset (plane, 0, (gsize) t->width * t->height);
  for (guint y = 0; y < tile->outer.height; y++)
    memcpy (plane + (gsize) (tile->outer.y + y) * t->width + tile->outer.x, mask + (gsize) y * tile->outer.width,
            tile->outer.width);
}
