#include "usam-image-display.h"

#include <math.h>
#include <string.h>

#define HISTOGRAM_BINS 4096

/* Sample @i of a plane of @type as a double: a switch per sample is cheap
 * next to the rest of the work, and keeps one loop for every type. */
static inline double
sample (const void *plane, UsamPixelType type, gsize i)
{
  switch (type)
    {
    case USAM_PIXEL_TYPE_U8: return ((const guint8 *) plane)[i];
    case USAM_PIXEL_TYPE_U16: return ((const guint16 *) plane)[i];
    case USAM_PIXEL_TYPE_I16: return ((const gint16 *) plane)[i];
    case USAM_PIXEL_TYPE_U32: return ((const guint32 *) plane)[i];
    case USAM_PIXEL_TYPE_I32: return ((const gint32 *) plane)[i];
    case USAM_PIXEL_TYPE_F32: return ((const float *) plane)[i];
    case USAM_PIXEL_TYPE_F64: return ((const double *) plane)[i];
    default: return 0;
    }
}

void
usam_image_plane_range (UsamImage *image, guint t, guint z, guint channel, double *min, double *max)
{
  const void *plane = usam_image_get_plane (image, t, z);
  UsamPixelType type = usam_image_get_pixel_type (image);
  guint channels = usam_image_get_channels (image);
  gsize n = (gsize) usam_image_get_width (image) * usam_image_get_height (image);
  double lo = INFINITY, hi = -INFINITY;
  for (gsize p = 0; p < n; p++)
    {
      double v = sample (plane, type, p * channels + channel);
      if (isfinite (v))
        {
          lo = MIN (lo, v);
          hi = MAX (hi, v);
        }
    }
  *min = isfinite (lo) ? lo : 0;
  *max = isfinite (hi) ? hi : 1;
}

void
usam_image_plane_histogram (UsamImage *image, guint t, guint z, guint channel, double min, double max,
                            guint64 *bins, guint n_bins)
{
  memset (bins, 0, n_bins * sizeof *bins);
  double span = max - min;
  if (span <= 0 || n_bins == 0)
    return;
  const void *plane = usam_image_get_plane (image, t, z);
  UsamPixelType type = usam_image_get_pixel_type (image);
  guint channels = usam_image_get_channels (image);
  gsize n = (gsize) usam_image_get_width (image) * usam_image_get_height (image);
  for (gsize p = 0; p < n; p++)
    {
      double v = sample (plane, type, p * channels + channel);
      if (!(v >= min && v <= max)) /* NaN too */
        continue;
      gsize b = (gsize) ((v - min) / span * (n_bins - 1) + 0.5);
      bins[MIN (b, n_bins - 1)]++;
    }
}

void
usam_image_plane_percentiles (UsamImage *image, guint t, guint z, guint channel, double low_percent,
                              double high_percent, double *low, double *high)
{
  double lo, hi;
  usam_image_plane_range (image, t, z, channel, &lo, &hi);
  double span = hi - lo;
  if (span <= 0)
    {
      *low = lo;
      *high = lo + 1;
      return;
    }
  /* A fine histogram between the extremes instead of sorting millions of
   * pixels. */
  g_autofree guint64 *bins = g_new0 (guint64, HISTOGRAM_BINS);
  usam_image_plane_histogram (image, t, z, channel, lo, hi, bins, HISTOGRAM_BINS);
  guint64 counted = 0;
  for (int b = 0; b < HISTOGRAM_BINS; b++)
    counted += bins[b];
  double want_lo = counted * low_percent / 100.0, want_hi = counted * high_percent / 100.0;
  guint64 seen = 0;
  int b_lo = 0, b_hi = HISTOGRAM_BINS - 1;
  gboolean found_lo = FALSE;
  for (int b = 0; b < HISTOGRAM_BINS; b++)
    {
      seen += bins[b];
      if (!found_lo && seen > want_lo)
        {
          b_lo = b;
          found_lo = TRUE;
        }
      if (seen >= want_hi)
        {
          b_hi = b;
          break;
        }
    }
  *low = lo + span * b_lo / (HISTOGRAM_BINS - 1);
  *high = MAX (lo + span * (b_hi + 1) / (HISTOGRAM_BINS - 1), *low + span / HISTOGRAM_BINS);
}

GBytes *
usam_image_render_rgb8 (UsamImage *image, guint t, guint z, double low, double high)
{
  const void *plane = usam_image_get_plane (image, t, z);
  UsamPixelType type = usam_image_get_pixel_type (image);
  guint channels = usam_image_get_channels (image);
  gboolean rgb = channels == 3;
  gsize n = (gsize) usam_image_get_width (image) * usam_image_get_height (image);
  guint8 *out = g_malloc (n * 3);
  double scale = high > low ? 255.0 / (high - low) : 0;
  for (gsize p = 0; p < n; p++)
    for (guint c = 0; c < 3; c++)
      {
        double g = (sample (plane, type, p * channels + (rgb ? c : 0)) - low) * scale;
        /* NaN lands on 0 too. */
        out[p * 3 + c] = (guint8) (g > 0 ? (g >= 255 ? 255 : g + 0.5) : 0);
      }
  return g_bytes_new_take (out, n * 3);
}
