#include "usam-preprocess.hpp"

#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include "usam-error.hpp"

namespace usam {

namespace {

size_t
pixel_size (usam_sam_pixel_type type)
{
  switch (type)
    {
    case USAM_SAM_PIXEL_U8: return 1;
    case USAM_SAM_PIXEL_U16: case USAM_SAM_PIXEL_I16: return 2;
    case USAM_SAM_PIXEL_U32: case USAM_SAM_PIXEL_I32: case USAM_SAM_PIXEL_F32: return 4;
    case USAM_SAM_PIXEL_F64: return 8;
    }
  return 0;
}

/* The reference converts every pixel to float32 before normalising. */
float
sample_f32 (const uint8_t *p, usam_sam_pixel_type type)
{
  switch (type)
    {
    case USAM_SAM_PIXEL_U8: return (float) *p;
    case USAM_SAM_PIXEL_U16: { uint16_t v; memcpy (&v, p, 2); return (float) v; }
    case USAM_SAM_PIXEL_I16: { int16_t v; memcpy (&v, p, 2); return (float) v; }
    case USAM_SAM_PIXEL_U32: { uint32_t v; memcpy (&v, p, 4); return (float) v; }
    case USAM_SAM_PIXEL_I32: { int32_t v; memcpy (&v, p, 4); return (float) v; }
    case USAM_SAM_PIXEL_F32: { float v; memcpy (&v, p, 4); return v; }
    case USAM_SAM_PIXEL_F64: { double v; memcpy (&v, p, 8); return (float) v; }
    }
  return 0.0f;
}

} // namespace

Rgb8
image_to_rgb8 (const usam_sam_image_view *image, usam_sam_normalize normalize)
{
  if (!image || !image->data)
    fail (USAM_SAM_STATUS_INVALID_ARGUMENT, "no image data");
  size_t psize = pixel_size (image->type);
  if (psize == 0)
    fail (USAM_SAM_STATUS_INVALID_ARGUMENT, "unknown pixel type");
  if (image->width <= 0 || image->height <= 0 || image->channels <= 0)
    fail (USAM_SAM_STATUS_INVALID_ARGUMENT, "image has an empty shape (" + std::to_string (image->width) + "×"
                                           + std::to_string (image->height) + "×" + std::to_string (image->channels) + ")");
  if (image->width > 65536 || image->height > 65536)
    fail (USAM_SAM_STATUS_INVALID_ARGUMENT, "image is too large for a single embedding; tile it");
  if (normalize == USAM_SAM_NORMALIZE_NONE && image->type != USAM_SAM_PIXEL_U8)
    fail (USAM_SAM_STATUS_INVALID_ARGUMENT, "normalisation 'none' needs an 8-bit image");

  const int w = image->width, h = image->height, ch = image->channels;
  const size_t stride = image->row_stride ? image->row_stride : (size_t) w * (size_t) ch * psize;
  /* grey → 3 copies; 2 channels → add a zero channel; more than 3 → the first three */
  const int used = ch >= 3 ? 3 : ch;
  const uint8_t *base = static_cast<const uint8_t *> (image->data);

  Rgb8 out;
  out.width = w;
  out.height = h;
  out.pixels.assign ((size_t) w * h * 3, 0);

  if (normalize == USAM_SAM_NORMALIZE_NONE)
    {
      for (int y = 0; y < h; y++)
        {
          const uint8_t *row = base + (size_t) y * stride;
          uint8_t *o = &out.pixels[(size_t) y * w * 3];
          for (int x = 0; x < w; x++)
            for (int c = 0; c < 3; c++)
              {
                int src = ch == 1 ? 0 : c;
                o[x * 3 + c] = src < used ? row[(size_t) x * ch + src] : 0;
              }
        }
      return out;
    }

  for (int c = 0; c < used; c++)
    {
      float lo = std::numeric_limits<float>::infinity ();
      float hi = -std::numeric_limits<float>::infinity ();
      for (int y = 0; y < h; y++)
        {
          const uint8_t *row = base + (size_t) y * stride;
          for (int x = 0; x < w; x++)
            {
              float v = sample_f32 (row + ((size_t) x * ch + c) * psize, image->type);
              if (std::isnan (v))
                continue; /* NaNs would poison the range; they map to 0 below */
              lo = v < lo ? v : lo;
              hi = v > hi ? v : hi;
            }
        }
      if (!(lo <= hi))
        lo = hi = 0.0f;
      /* Exactly μSAM: x -= min; x /= (max(x) + 1e-7); uint8(x * 255), all float32. */
      const float range = (hi - lo) + 1e-7f;
      for (int y = 0; y < h; y++)
        {
          const uint8_t *row = base + (size_t) y * stride;
          uint8_t *o = &out.pixels[(size_t) y * w * 3];
          for (int x = 0; x < w; x++)
            {
              float v = sample_f32 (row + ((size_t) x * ch + c) * psize, image->type);
              if (std::isnan (v))
                v = lo;
              float t = (v - lo) / range;
              t = t * 255.0f;
              uint8_t q = t <= 0.0f ? 0 : t >= 255.0f ? 255 : (uint8_t) t;
              if (ch == 1)
                o[x * 3 + 0] = o[x * 3 + 1] = o[x * 3 + 2] = q;
              else
                o[x * 3 + c] = q;
            }
        }
      if (ch == 1)
        break;
    }
  return out;
}

void
resize_longest_shape (int h, int w, int target, int *out_h, int *out_w)
{
  double scale = target * 1.0 / (h > w ? h : w);
  *out_h = (int) (h * scale + 0.5);
  *out_w = (int) (w * scale + 0.5);
}

namespace {

constexpr int PRECISION_BITS = 32 - 8 - 2;

struct Coeffs
{
  int ksize = 0;
  std::vector<int> bounds;   /* (xmin, count) per output pixel */
  std::vector<int32_t> k;    /* ksize per output pixel, fixed point */
};

/* Pillow's precompute_coeffs() + normalize_coeffs_8bpc() for the bilinear filter. */
Coeffs
precompute (int in_size, int out_size)
{
  const double support_base = 1.0;
  double scale = (double) ((float) in_size - 0.0f) / out_size;
  double filterscale = scale < 1.0 ? 1.0 : scale;
  double support = support_base * filterscale;
  Coeffs c;
  c.ksize = (int) std::ceil (support) * 2 + 1;
  c.bounds.resize ((size_t) out_size * 2);
  c.k.assign ((size_t) out_size * c.ksize, 0);
  std::vector<double> kk ((size_t) c.ksize);
  double inv_filterscale = 1.0 / filterscale;
  for (int xx = 0; xx < out_size; xx++)
    {
      double center = 0.0 + (xx + 0.5) * scale;
      double ww = 0.0;
      int xmin = (int) (center - support + 0.5);
      if (xmin < 0)
        xmin = 0;
      int xmax = (int) (center + support + 0.5);
      if (xmax > in_size)
        xmax = in_size;
      xmax -= xmin;
      for (int x = 0; x < xmax; x++)
        {
          double t = (x + xmin - center + 0.5) * inv_filterscale;
          if (t < 0.0)
            t = -t;
          double wt = t < 1.0 ? 1.0 - t : 0.0;
          kk[(size_t) x] = wt;
          ww += wt;
        }
      for (int x = 0; x < xmax; x++)
        {
          double v = ww != 0.0 ? kk[(size_t) x] / ww : kk[(size_t) x];
          c.k[(size_t) xx * c.ksize + x] = v < 0 ? (int32_t) (-0.5 + v * (1 << PRECISION_BITS))
                                                 : (int32_t) (0.5 + v * (1 << PRECISION_BITS));
        }
      c.bounds[(size_t) xx * 2] = xmin;
      c.bounds[(size_t) xx * 2 + 1] = xmax;
    }
  return c;
}

inline uint8_t
clip8 (int32_t in)
{
  int32_t v = in >> PRECISION_BITS;
  return v < 0 ? 0 : v > 255 ? 255 : (uint8_t) v;
}

} // namespace

Rgb8
resize_bilinear_pil (const Rgb8 &in, int out_w, int out_h)
{
  if (out_w == in.width && out_h == in.height)
    return in;
  if (out_w <= 0 || out_h <= 0)
    fail (USAM_SAM_STATUS_INVALID_ARGUMENT, "resize to an empty image");

  /* Horizontal pass first, into an image of the input height, then vertical. */
  Rgb8 tmp;
  if (out_w != in.width)
    {
      Coeffs ch = precompute (in.width, out_w);
      tmp.width = out_w;
      tmp.height = in.height;
      tmp.pixels.resize ((size_t) out_w * in.height * 3);
      for (int y = 0; y < in.height; y++)
        {
          const uint8_t *line = &in.pixels[(size_t) y * in.width * 3];
          uint8_t *o = &tmp.pixels[(size_t) y * out_w * 3];
          for (int xx = 0; xx < out_w; xx++)
            {
              int xmin = ch.bounds[(size_t) xx * 2], xmax = ch.bounds[(size_t) xx * 2 + 1];
              const int32_t *k = &ch.k[(size_t) xx * ch.ksize];
              int32_t s0 = 1 << (PRECISION_BITS - 1), s1 = s0, s2 = s0;
              for (int x = 0; x < xmax; x++)
                {
                  const uint8_t *p = line + (size_t) (x + xmin) * 3;
                  s0 += p[0] * k[x];
                  s1 += p[1] * k[x];
                  s2 += p[2] * k[x];
                }
              o[xx * 3 + 0] = clip8 (s0);
              o[xx * 3 + 1] = clip8 (s1);
              o[xx * 3 + 2] = clip8 (s2);
            }
        }
    }
  const Rgb8 &src = out_w != in.width ? tmp : in;
  if (out_h == src.height)
    return tmp.pixels.empty () ? in : tmp;

  Coeffs cv = precompute (src.height, out_h);
  Rgb8 out;
  out.width = out_w;
  out.height = out_h;
  out.pixels.resize ((size_t) out_w * out_h * 3);
  const size_t row = (size_t) out_w * 3;
  std::vector<int32_t> acc (row);
  for (int yy = 0; yy < out_h; yy++)
    {
      int ymin = cv.bounds[(size_t) yy * 2], ymax = cv.bounds[(size_t) yy * 2 + 1];
      const int32_t *k = &cv.k[(size_t) yy * cv.ksize];
      std::fill (acc.begin (), acc.end (), 1 << (PRECISION_BITS - 1));
      for (int y = 0; y < ymax; y++)
        {
          const uint8_t *line = &src.pixels[(size_t) (y + ymin) * row];
          int32_t ky = k[y];
          for (size_t i = 0; i < row; i++)
            acc[i] += line[i] * ky;
        }
      uint8_t *o = &out.pixels[(size_t) yy * row];
      for (size_t i = 0; i < row; i++)
        o[i] = clip8 (acc[i]);
    }
  return out;
}

void
normalize_and_pad (const Rgb8 &in, int size, float *out)
{
  static const float mean[3] = { 123.675f, 116.28f, 103.53f };
  static const float std_[3] = { 58.395f, 57.12f, 57.375f };
  const size_t plane = (size_t) size * size;
  memset (out, 0, 3 * plane * sizeof (float));
  for (int c = 0; c < 3; c++)
    for (int y = 0; y < in.height; y++)
      {
        const uint8_t *line = &in.pixels[(size_t) y * in.width * 3];
        float *o = out + c * plane + (size_t) y * size;
        for (int x = 0; x < in.width; x++)
          o[x] = ((float) line[x * 3 + c] - mean[c]) / std_[c];
      }
}

} // namespace usam
