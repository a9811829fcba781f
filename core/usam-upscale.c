#include "usam-upscale.h"

/* One axis of torch's linear interpolation: per output index, two input
 * indices and their weights. */
typedef struct
{
  guint n;
  guint *i0, *i1;
  float *w0, *w1;
} Axis;

static void
axis_init (Axis *a, guint in, guint out)
{
  a->n = out;
  a->i0 = g_new (guint, out);
  a->i1 = g_new (guint, out);
  a->w0 = g_new (float, out);
  a->w1 = g_new (float, out);
  /* torch's area_pixel_compute_scale and _source_index. Computed in double:
   * for non-dyadic scales (1024 → 320) that lands closer to what the
   * engine's torch kernels give than float does (relative logit error
   * 5e-5 instead of 1e-4); dyadic scales are exact either way. */
  const double scale = (double) in / (double) out;
  for (guint i = 0; i < out; i++)
    {
      double src = scale * ((double) i + 0.5) - 0.5;
      if (src < 0.0)
        src = 0.0;
      guint i0 = (guint) src;
      float l1 = (float) (src - (double) i0);
      l1 = l1 < 0.0f ? 0.0f : l1 > 1.0f ? 1.0f : l1;
      a->i0[i] = i0;
      a->i1[i] = i0 + (i0 + 1 < in ? 1 : 0);
      a->w1[i] = l1;
      a->w0[i] = 1.0f - l1;
    }
}

static void
axis_clear (Axis *a)
{
  g_free (a->i0);
  g_free (a->i1);
  g_free (a->w0);
  g_free (a->w1);
}

struct _UsamUpscale
{
  guint low_res, input_w, input_h, orig_w, orig_h;
  gboolean identity; /* the second resampling is to the same size */
  Axis x1, y1;       /* low-res → input size (cropped) */
  Axis x2, y2;       /* cropped → original */
  float *rows;       /* stage 1 along x: low_res × input_w */
  float *mid;        /* stage 2 along x: input_h × orig_w, rows that are used */
  gboolean *used;    /* input_h: rows of @mid the output reads */
};

UsamUpscale *
usam_upscale_new (guint low_res, guint img_size, guint input_width, guint input_height, guint original_width,
                  guint original_height)
{
  g_return_val_if_fail (low_res > 0 && input_width <= img_size && input_height <= img_size, NULL);
  UsamUpscale *self = g_new0 (UsamUpscale, 1);
  self->low_res = low_res;
  self->input_w = input_width;
  self->input_h = input_height;
  self->orig_w = original_width;
  self->orig_h = original_height;
  self->identity = input_width == original_width && input_height == original_height;
  /* The crop keeps the first input_* of img_size outputs: their indices
   * are those of the full-size resampling. */
  axis_init (&self->x1, low_res, img_size);
  axis_init (&self->y1, low_res, img_size);
  axis_init (&self->x2, input_width, original_width);
  axis_init (&self->y2, input_height, original_height);
  self->rows = g_new (float, (gsize) low_res * input_width);
  self->used = g_new0 (gboolean, input_height);
  if (!self->identity)
    {
      self->mid = g_new (float, (gsize) input_height * original_width);
      for (guint y = 0; y < original_height; y++)
        self->used[self->y2.i0[y]] = self->used[self->y2.i1[y]] = TRUE;
    }
  return self;
}

void
usam_upscale_free (UsamUpscale *self)
{
  if (!self)
    return;
  axis_clear (&self->x1);
  axis_clear (&self->y1);
  axis_clear (&self->x2);
  axis_clear (&self->y2);
  g_free (self->rows);
  g_free (self->mid);
  g_free (self->used);
  g_free (self);
}

void
usam_upscale_run (UsamUpscale *self, const float *low_res, float *out)
{
  const guint L = self->low_res, iw = self->input_w, ih = self->input_h, ow = self->orig_w, oh = self->orig_h;
  const Axis *x1 = &self->x1, *y1 = &self->y1, *x2 = &self->x2, *y2 = &self->y2;
  for (guint h = 0; h < L; h++)
    {
      const float *src = low_res + (gsize) h * L;
      float *dst = self->rows + (gsize) h * iw;
      for (guint c = 0; c < iw; c++)
        dst[c] = src[x1->i0[c]] * x1->w0[c] + src[x1->i1[c]] * x1->w1[c];
    }
  if (self->identity)
    {
      for (guint r = 0; r < ih; r++)
        {
          const float *a = self->rows + (gsize) y1->i0[r] * iw, *b = self->rows + (gsize) y1->i1[r] * iw;
          const float wa = y1->w0[r], wb = y1->w1[r];
          float *dst = out + (gsize) r * ow;
          for (guint c = 0; c < iw; c++)
            dst[c] = a[c] * wa + b[c] * wb;
        }
      return;
    }
  for (guint r = 0; r < ih; r++)
    {
      if (!self->used[r])
        continue;
      const float *a = self->rows + (gsize) y1->i0[r] * iw, *b = self->rows + (gsize) y1->i1[r] * iw;
      const float wa = y1->w0[r], wb = y1->w1[r];
      float *dst = self->mid + (gsize) r * ow;
      for (guint x = 0; x < ow; x++)
        {
          guint c0 = x2->i0[x], c1 = x2->i1[x];
          /* The value of the input-size image at (r, c), as the first
           * resampling gives it. */
          float v0 = a[c0] * wa + b[c0] * wb;
          float v1 = a[c1] * wa + b[c1] * wb;
          dst[x] = v0 * x2->w0[x] + v1 * x2->w1[x];
        }
    }
  for (guint y = 0; y < oh; y++)
    {
      const float *a = self->mid + (gsize) y2->i0[y] * ow, *b = self->mid + (gsize) y2->i1[y] * ow;
      const float wa = y2->w0[y], wb = y2->w1[y];
      float *dst = out + (gsize) y * ow;
      for (guint x = 0; x < ow; x++)
        dst[x] = a[x] * wa + b[x] * wb;
    }
}
