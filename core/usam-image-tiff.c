/* usam-image-tiff.c — TIFF, ImageJ hyperstacks and OME-TIFF through libtiff. */
#include "usam-image-private.h"

#include <glib/gstdio.h>
#include <string.h>
#include <tiffio.h>

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TIFF, TIFFClose)

/* libtiff reports through callbacks; the first error of a load or save
 * becomes the GError's text. */
typedef struct
{
  const char *path;
  char *message;
} TiffLog;

static void
tiff_log_clear (TiffLog *log)
{
  g_clear_pointer (&log->message, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (TiffLog, tiff_log_clear)

static int on_tiff_error (TIFF *tif, void *user_data, const char *module, const char *format, va_list args)
    G_GNUC_PRINTF (4, 0);

static int
on_tiff_error (TIFF *tif, void *user_data, const char *module, const char *format, va_list args)
{
  TiffLog *log = user_data;
  if (!log->message)
    {
      log->message = g_strdup_vprintf (format, args);
      /* Our message names the file already. */
      gsize len = strlen (log->path);
      if (strncmp (log->message, log->path, len) == 0 && strncmp (log->message + len, ": ", 2) == 0)
        memmove (log->message, log->message + len + 2, strlen (log->message + len + 2) + 1);
    }
  /* Non-zero keeps the global handler (stderr by default) quiet. */
  return 1;
}

static int
on_tiff_warning (TIFF *tif, void *user_data, const char *module, const char *format, va_list args)
{
  /* Unknown private tags (ImageJ's, Micro-Manager's…) warn on every page. */
  return 1;
}

static const char *
tiff_log_message (TiffLog *log, const char *fallback)
{
  /* Stays owned by the log, which is cleared only at the end. */
  return log->message ? log->message : fallback;
}

static TIFF *
tiff_open (const char *path, int fd, const char *mode, TiffLog *log)
{
  static gsize silenced = 0;
  if (g_once_init_enter (&silenced))
    {
      /* Errors raised before a handle exists go to the global handlers. */
      TIFFSetErrorHandler (NULL);
      TIFFSetWarningHandler (NULL);
      g_once_init_leave (&silenced, 1);
    }

  TIFFOpenOptions *options = TIFFOpenOptionsAlloc ();
  TIFFOpenOptionsSetErrorHandlerExtR (options, on_tiff_error, log);
  TIFFOpenOptionsSetWarningHandlerExtR (options, on_tiff_warning, log);
  TIFF *tif = fd >= 0 ? TIFFFdOpenExt (fd, path, mode, options) : TIFFOpenExt (path, mode, options);
  TIFFOpenOptionsFree (options);
  return tif;
}

/* Reading */

typedef enum
{
  SOURCE_SAMPLES, /* stored samples, converted at most in width or bit order */
  SOURCE_PALETTE, /* indices into a colour map, expanded to RGB */
  SOURCE_RGBA,    /* YCbCr, CMYK, Lab…: decoded to RGB by libtiff */
} SourceKind;

typedef struct
{
  guint32 width;
  guint32 height;
  guint16 bps;
  guint16 spp;
  guint16 format;
  guint16 planar;
  SourceKind kind;
  UsamPixelType type; /* of the image we make */
  guint out_spp;      /* samples per pixel this page contributes */
  gboolean invert;    /* min-is-white integers */
  guint cmap_shift;   /* 8 for 16-bit colour maps read into uint8 */
  guint16 *cmap[3];   /* owned by libtiff, valid for the current page */
  guint64 raw_bytes;  /* what uncompressed pixels take in the file, or 0 */
} PageInfo;

static gboolean
read_page_tags (TIFF *tif, const char *path, guint page, PageInfo *info, GError **error)
{
  guint16 photometric, compression;

  memset (info, 0, sizeof *info);
  if (!TIFFGetField (tif, TIFFTAG_IMAGEWIDTH, &info->width) || !TIFFGetField (tif, TIFFTAG_IMAGELENGTH, &info->height))
    {
      usam_image_set_error (error, USAM_ERROR_INVALID_DATA, path, "page %u has no image size", page);
      return FALSE;
    }
  TIFFGetFieldDefaulted (tif, TIFFTAG_BITSPERSAMPLE, &info->bps);
  TIFFGetFieldDefaulted (tif, TIFFTAG_SAMPLESPERPIXEL, &info->spp);
  TIFFGetFieldDefaulted (tif, TIFFTAG_SAMPLEFORMAT, &info->format);
  TIFFGetFieldDefaulted (tif, TIFFTAG_PLANARCONFIG, &info->planar);
  TIFFGetFieldDefaulted (tif, TIFFTAG_COMPRESSION, &compression);
  if (!TIFFGetField (tif, TIFFTAG_PHOTOMETRIC, &photometric))
    photometric = info->spp >= 3 ? PHOTOMETRIC_RGB : PHOTOMETRIC_MINISBLACK;

  if (info->spp == 0)
    {
      usam_image_set_error (error, USAM_ERROR_INVALID_DATA, path, "page %u has 0 samples per pixel", page);
      return FALSE;
    }
  if (!TIFFIsCODECConfigured (compression))
    {
      const TIFFCodec *codec = TIFFFindCODEC (compression);
      usam_image_set_error (error, USAM_ERROR_UNSUPPORTED, path,
                            "page %u uses %s compression (%u), which cannot be decoded", page,
                            codec ? codec->name : "unknown", compression);
      return FALSE;
    }

  switch (photometric)
    {
    case PHOTOMETRIC_PALETTE:
      if (info->spp != 1 || (info->bps != 1 && info->bps != 2 && info->bps != 4 && info->bps != 8 && info->bps != 16))
        {
          usam_image_set_error (error, USAM_ERROR_UNSUPPORTED, path,
                                "page %u is a palette image with %u samples of %u bits", page, info->spp, info->bps);
          return FALSE;
        }
      if (!TIFFGetField (tif, TIFFTAG_COLORMAP, &info->cmap[0], &info->cmap[1], &info->cmap[2]))
        {
          usam_image_set_error (error, USAM_ERROR_INVALID_DATA, path, "page %u is a palette image without a colour map",
                                page);
          return FALSE;
        }
      info->kind = SOURCE_PALETTE;
      info->type = info->bps == 16 ? USAM_PIXEL_TYPE_U16 : USAM_PIXEL_TYPE_U8;
      info->out_spp = 3;
      /* Old writers stored 8-bit colour maps; the standard says 16-bit. */
      if (info->bps <= 8)
        for (guint i = 0; i < (1u << info->bps) && info->cmap_shift == 0; i++)
          if (info->cmap[0][i] > 255 || info->cmap[1][i] > 255 || info->cmap[2][i] > 255)
            info->cmap_shift = 8;
      return TRUE;

    case PHOTOMETRIC_YCBCR:
    case PHOTOMETRIC_SEPARATED:
    case PHOTOMETRIC_CIELAB:
    case PHOTOMETRIC_ICCLAB:
    case PHOTOMETRIC_ITULAB:
    case PHOTOMETRIC_LOGL:
    case PHOTOMETRIC_LOGLUV:
      {
        char message[1024] = "";
        if (TIFFRGBAImageOK (tif, message))
          {
            info->kind = SOURCE_RGBA;
            info->type = USAM_PIXEL_TYPE_U8;
            info->out_spp = 3;
            return TRUE;
          }
        /* Multi-channel "separated" data that is not CMYK reads as samples. */
        if (photometric != PHOTOMETRIC_SEPARATED)
          {
            usam_image_set_error (error, USAM_ERROR_UNSUPPORTED, path, "page %u: %s", page, message);
            return FALSE;
          }
      }
      break;

    default:
      break;
    }

  info->kind = SOURCE_SAMPLES;
  info->out_spp = info->spp;
  gboolean ok = TRUE;
  switch (info->format)
    {
    case SAMPLEFORMAT_UINT:
    case SAMPLEFORMAT_VOID:
      switch (info->bps)
        {
        case 1:
        case 2:
        case 4:
        case 8:
          info->type = USAM_PIXEL_TYPE_U8;
          break;
        case 16:
          info->type = USAM_PIXEL_TYPE_U16;
          break;
        case 32:
          info->type = USAM_PIXEL_TYPE_U32;
          break;
        default:
          ok = FALSE;
        }
      break;
    case SAMPLEFORMAT_INT:
      /* There is no int8 type: int16 holds it exactly. */
      if (info->bps == 8 || info->bps == 16)
        info->type = USAM_PIXEL_TYPE_I16;
      else if (info->bps == 32)
        info->type = USAM_PIXEL_TYPE_I32;
      else
        ok = FALSE;
      break;
    case SAMPLEFORMAT_IEEEFP:
      if (info->bps == 32)
        info->type = USAM_PIXEL_TYPE_F32;
      else if (info->bps == 64)
        info->type = USAM_PIXEL_TYPE_F64;
      else
        ok = FALSE;
      break;
    case SAMPLEFORMAT_COMPLEXINT:
    case SAMPLEFORMAT_COMPLEXIEEEFP:
      usam_image_set_error (error, USAM_ERROR_UNSUPPORTED, path, "page %u has complex samples, which are not supported",
                            page);
      return FALSE;
    default:
      usam_image_set_error (error, USAM_ERROR_INVALID_DATA, path, "page %u has an unknown sample format (%u)", page,
                            info->format);
      return FALSE;
    }
  if (!ok)
    {
      static const char *const formats[] = { "", "unsigned integer", "signed integer", "floating-point", "untyped" };
      usam_image_set_error (error, USAM_ERROR_UNSUPPORTED, path,
                            "page %u has %u-bit %s samples, which are not supported", page, info->bps,
                            formats[info->format]);
      return FALSE;
    }
  info->invert = photometric == PHOTOMETRIC_MINISWHITE && info->format != SAMPLEFORMAT_IEEEFP;
  return TRUE;
}

static gboolean
read_page_info (TIFF *tif, const char *path, guint page, PageInfo *info, GError **error)
{
  guint16 compression;

  if (!read_page_tags (tif, path, page, info, error))
    return FALSE;
  TIFFGetFieldDefaulted (tif, TIFFTAG_COMPRESSION, &compression);
  if (compression != COMPRESSION_NONE || info->kind == SOURCE_RGBA)
    return TRUE;
  /* libtiff trusts (and splits up) a single strip of any claimed size. */
  if (TIFFIsTiled (tif))
    info->raw_bytes = (guint64) TIFFNumberOfTiles (tif) * (guint64) TIFFTileSize64 (tif);
  else
    info->raw_bytes
        = (guint64) TIFFScanlineSize64 (tif) * info->height * (info->planar == PLANARCONFIG_SEPARATE ? info->spp : 1);
  return TRUE;
}

static char *
describe_page (const PageInfo *info)
{
  return g_strdup_printf ("%u × %u, %u-bit, %u sample%s per pixel%s", info->width, info->height, info->bps, info->spp,
                          info->spp == 1 ? "" : "s", info->kind == SOURCE_PALETTE ? ", palette" : "");
}

static gboolean
same_layout (const PageInfo *a, const PageInfo *b)
{
  return a->width == b->width && a->height == b->height && a->type == b->type && a->out_spp == b->out_spp
         && a->kind == b->kind && a->bps == b->bps;
}

/* Where a page's decoded rows go. */
typedef struct
{
  const PageInfo *info;
  guint src_spp;      /* samples per pixel in a decoded row: spp, or 1 for planar data */
  gsize out_size;     /* bytes of one output sample */
  gsize pixel_stride; /* bytes between output pixels */
  gboolean direct;    /* rows are copied as they are */
} RowStore;

static inline void
put_sample (guint8 *dst, gsize size, guint64 v)
{
  switch (size)
    {
    case 1:
      *dst = (guint8) v;
      break;
    case 2:
      {
        guint16 x = (guint16) v;
        memcpy (dst, &x, 2);
      }
      break;
    case 4:
      {
        guint32 x = (guint32) v;
        memcpy (dst, &x, 4);
      }
      break;
    default:
      memcpy (dst, &v, 8);
    }
}

static inline guint64
get_sample (const guint8 *src, gsize j, guint bps)
{
  switch (bps)
    {
    case 8:
      return src[j];
    case 16:
      {
        guint16 x;
        memcpy (&x, src + 2 * j, 2);
        return x;
      }
    case 32:
      {
        guint32 x;
        memcpy (&x, src + 4 * j, 4);
        return x;
      }
    case 64:
      {
        guint64 x;
        memcpy (&x, src + 8 * j, 8);
        return x;
      }
    default:
      {
        /* 1, 2 or 4 bits, most significant first (libtiff undoes FillOrder). */
        gsize bit = j * bps;
        return (guint64) (src[bit / 8] >> (8 - bps - bit % 8)) & ((1u << bps) - 1);
      }
    }
}

static void
store_row (const RowStore *st, const guint8 *src, guint n_pixels, guint8 *dst)
{
  const PageInfo *info = st->info;

  if (st->direct)
    {
      memcpy (dst, src, (gsize) n_pixels * st->src_spp * st->out_size);
      return;
    }

  guint64 mask = info->bps == 64 ? G_MAXUINT64 : ((guint64) 1 << info->bps) - 1;
  for (gsize i = 0; i < n_pixels; i++)
    for (guint s = 0; s < st->src_spp; s++)
      {
        guint64 v = get_sample (src, i * st->src_spp + s, info->bps);
        guint8 *out = dst + i * st->pixel_stride + s * st->out_size;

        if (info->kind == SOURCE_PALETTE)
          {
            for (guint k = 0; k < 3; k++)
              put_sample (out + k * st->out_size, st->out_size, info->cmap[k][v] >> info->cmap_shift);
            continue;
          }
        if (info->invert)
          v ^= mask;
        if (info->bps < 8)
          v *= 255 / mask; /* stretched like Pillow and the PNG reader do */
        else if (info->bps == 8 && info->format == SAMPLEFORMAT_INT)
          v = (guint64) (gint64) (gint8) v;
        put_sample (out, st->out_size, v);
      }
}

static gboolean
read_page_error (TiffLog *log, const char *path, guint page, GError **error)
{
  usam_image_set_error (error, USAM_ERROR_INVALID_DATA, path, "page %u cannot be decoded: %s", page,
                        tiff_log_message (log, "damaged or truncated data"));
  return FALSE;
}

static gboolean
read_page_rgba (TIFF *tif, const PageInfo *info, guint8 *dest, gsize pixel_stride, TiffLog *log, const char *path,
                guint page, GError **error)
{
  gsize n = (gsize) info->width * info->height;
  g_autofree guint32 *raster = g_try_new (guint32, n);
  if (!raster)
    {
      usam_image_set_error (error, USAM_ERROR_FAILED, path, "not enough memory to decode page %u", page);
      return FALSE;
    }
  if (!TIFFReadRGBAImageOriented (tif, info->width, info->height, raster, ORIENTATION_TOPLEFT, 0))
    return read_page_error (log, path, page, error);
  for (gsize i = 0; i < n; i++)
    {
      guint8 *out = dest + i * pixel_stride;
      out[0] = (guint8) TIFFGetR (raster[i]);
      out[1] = (guint8) TIFFGetG (raster[i]);
      out[2] = (guint8) TIFFGetB (raster[i]);
    }
  return TRUE;
}

/* Decodes the current page into @dest, the first sample of its first pixel
 * in the image, with @pixel_stride bytes between pixels. */
static gboolean
read_page (TIFF *tif, const PageInfo *info, guint8 *dest, gsize pixel_stride, TiffLog *log, const char *path,
           guint page, GError **error)
{
  if (info->kind == SOURCE_RGBA)
    return read_page_rgba (tif, info, dest, pixel_stride, log, path, page, error);

  gboolean planar = info->planar == PLANARCONFIG_SEPARATE && info->spp > 1;
  RowStore st = {
    .info = info,
    .src_spp = planar ? 1 : info->spp,
    .out_size = usam_pixel_type_get_size (info->type),
    .pixel_stride = pixel_stride,
  };
  st.direct = info->kind == SOURCE_SAMPLES && !info->invert && st.out_size * 8 == info->bps
              && st.src_spp * st.out_size == pixel_stride;
  gsize row_stride = pixel_stride * info->width;
  guint planes = planar ? info->spp : 1;
  gboolean tiled = TIFFIsTiled (tif);
  guint32 block_w = info->width, block_h;
  tmsize_t block_size, block_row;

  if (tiled)
    {
      TIFFGetField (tif, TIFFTAG_TILEWIDTH, &block_w);
      TIFFGetField (tif, TIFFTAG_TILELENGTH, &block_h);
      block_size = TIFFTileSize (tif);
      block_row = TIFFTileRowSize (tif);
    }
  else
    {
      TIFFGetFieldDefaulted (tif, TIFFTAG_ROWSPERSTRIP, &block_h);
      block_h = block_h == 0 ? info->height : MIN (block_h, info->height);
      block_size = TIFFStripSize (tif);
      block_row = TIFFScanlineSize (tif);
    }
  /* A tile far larger than the page can only come from a damaged header. */
  gsize page_size = row_stride * info->height;
  if (block_w == 0 || block_h == 0 || block_size <= 0 || block_row <= 0
      || (guint64) block_size > 4 * (guint64) page_size + (1 << 24)
      || (guint64) block_row * block_h > (guint64) block_size)
    {
      usam_image_set_error (error, USAM_ERROR_INVALID_DATA, path, "page %u: %s", page,
                            tiff_log_message (log, "invalid strip or tile size"));
      return FALSE;
    }
  g_autofree guint8 *buffer = g_try_malloc ((gsize) block_size);
  if (!buffer)
    {
      usam_image_set_error (error, USAM_ERROR_FAILED, path, "not enough memory to decode page %u", page);
      return FALSE;
    }

  for (guint s = 0; s < planes; s++)
    for (guint32 y = 0; y < info->height; y += block_h)
      for (guint32 x = 0; x < info->width; x += block_w)
        {
          guint32 rows = MIN (block_h, info->height - y);
          guint32 cols = MIN (block_w, info->width - x);
          tmsize_t got;
          if (tiled)
            got = TIFFReadEncodedTile (tif, TIFFComputeTile (tif, x, y, 0, (guint16) s), buffer, block_size);
          else
            got = TIFFReadEncodedStrip (tif, TIFFComputeStrip (tif, y, (guint16) s), buffer, block_row * rows);
          if (got < block_row * (tmsize_t) rows)
            return read_page_error (log, path, page, error);
          for (guint32 r = 0; r < rows; r++)
            store_row (&st, buffer + (gsize) r * block_row, cols,
                       dest + (gsize) (y + r) * row_stride + (gsize) x * pixel_stride + s * st.out_size);
        }
  return TRUE;
}

static gboolean
is_reduced (TIFF *tif)
{
  guint32 subfile = 0;
  return TIFFGetField (tif, TIFFTAG_SUBFILETYPE, &subfile) && (subfile & FILETYPE_REDUCEDIMAGE);
}

UsamImage *
usam_image_load_tiff (const char *path, GCancellable *cancellable, GError **error)
{
  g_auto (TiffLog) log = { path, NULL };
  PageInfo first, info;
  UsamPageLayout layout;

  g_autoptr (TIFF) tif = tiff_open (path, -1, "rm", &log);
  if (!tif)
    {
      usam_image_set_error (error, USAM_ERROR_INVALID_DATA, path, "not a readable TIFF file: %s",
                            tiff_log_message (&log, "unknown error"));
      return NULL;
    }
  if (!read_page_info (tif, path, 1, &first, error))
    return NULL;
  const char *text = NULL;
  g_autofree char *desc = TIFFGetField (tif, TIFFTAG_IMAGEDESCRIPTION, &text) ? g_strdup (text) : NULL;

  /* A damaged chain of pages ends the count where it breaks; the pages
   * before it still load. */
  tdir_t n_dirs = TIFFNumberOfDirectories (tif);
  tiff_log_clear (&log);

  /* First pass: every full-resolution page must match the first, and
   * uncompressed pixels must fit in the file, which is checked before any
   * pixel is decoded: a damaged header must not make us allocate
   * gigabytes first. */
  guint64 file_size = (guint64) TIFFGetSizeProc (tif) (TIFFClientdata (tif));
  guint64 raw_bytes = first.raw_bytes;
  guint n_pages = 1;
  for (tdir_t d = 0; d < n_dirs; d++)
    {
      guint number = d + 1;
      if (d > 0)
        {
          if (!TIFFReadDirectory (tif))
            {
              usam_image_set_error (error, USAM_ERROR_INVALID_DATA, path, "page %u cannot be read: %s", number,
                                    tiff_log_message (&log, "damaged directory"));
              return NULL;
            }
          if (is_reduced (tif))
            continue;
          if (!read_page_info (tif, path, number, &info, error))
            return NULL;
          if (!same_layout (&first, &info))
            {
              g_autofree char *a = describe_page (&info);
              g_autofree char *b = describe_page (&first);
              usam_image_set_error (error, USAM_ERROR_INVALID_DATA, path,
                                    "page %u (%s) differs from page 1 (%s); all pages must have the same size and type",
                                    number, a, b);
              return NULL;
            }
          raw_bytes += info.raw_bytes;
          n_pages++;
        }
      if (raw_bytes > file_size)
        {
          usam_image_set_error (error, USAM_ERROR_INVALID_DATA, path,
                                "the file is truncated: page %u needs data past its end", number);
          return NULL;
        }
    }

  if (!usam_image_find_page_layout (path, desc, first.spp, n_pages, &layout, error))
    return NULL;

  if (first.out_spp > G_MAXUINT / layout.sizes[0])
    {
      usam_image_set_error (error, USAM_ERROR_INVALID_DATA, path, "too many channels (%u × %u)", layout.sizes[0],
                            first.out_spp);
      return NULL;
    }
  guint channels = layout.sizes[0] * first.out_spp;
  g_autoptr (UsamImage) image = usam_image_new_for_reading (path, first.type, first.width, first.height, channels,
                                                            layout.sizes[1], layout.sizes[2], error);
  if (!image)
    return NULL;

  gsize out_size = usam_pixel_type_get_size (first.type);
  gsize pixel_stride = (gsize) channels * out_size;
  guint n_planes = layout.sizes[0] * layout.sizes[1] * layout.sizes[2];
  guint page = 0;

  if (n_dirs > 1 && !TIFFSetDirectory (tif, 0))
    {
      read_page_error (&log, path, 1, error);
      return NULL;
    }
  for (tdir_t d = 0; d < n_dirs && page < n_planes; d++)
    {
      if (d > 0 && !TIFFReadDirectory (tif))
        {
          read_page_error (&log, path, d + 1, error);
          return NULL;
        }
      if (d > 0 && is_reduced (tif))
        continue;
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return NULL;
      if (!read_page_info (tif, path, d + 1, &info, error))
        return NULL;

      guint index[3];
      usam_page_layout_locate (&layout, page, index);
      guint8 *dest = (guint8 *) usam_image_get_plane_mutable (image, index[2], index[1])
                     + (gsize) index[0] * first.out_spp * out_size;
      if (!read_page (tif, &info, dest, pixel_stride, &log, path, d + 1, error))
        return NULL;
      page++;
    }
  if (page < n_planes)
    {
      usam_image_set_error (error, USAM_ERROR_INVALID_DATA, path, "only %u of %u pages could be read", page, n_planes);
      return NULL;
    }
  return g_steal_pointer (&image);
}

/* Writing */

static char *
imagej_description (guint channels, gboolean rgb, guint depth, guint frames)
{
  GString *text = g_string_new ("ImageJ=1.11a\n");
  g_string_append_printf (text, "images=%" G_GUINT64_FORMAT "\n", (guint64) depth * frames);
  if (!rgb && channels > 1)
    g_string_append_printf (text, "channels=%u\n", channels);
  g_string_append_printf (text, "slices=%u\nframes=%u\n", depth, frames);
  if (depth > 1 && frames > 1)
    g_string_append (text, "hyperstack=true\n");
  return g_string_free (text, FALSE);
}

static gboolean
write_pages (TIFF *tif, UsamImage *self, TiffLog *log, const char *path, GError **error)
{
  UsamPixelType type = usam_image_get_pixel_type (self);
  guint width = usam_image_get_width (self);
  guint height = usam_image_get_height (self);
  guint channels = usam_image_get_channels (self);
  guint depth = usam_image_get_depth (self);
  guint frames = usam_image_get_frames (self);
  gsize sample = usam_pixel_type_get_size (type);
  gsize row_bytes = (gsize) width * channels * sample;
  gboolean rgb = channels == 3 && (type == USAM_PIXEL_TYPE_U8 || type == USAM_PIXEL_TYPE_U16);
  gboolean is_float = type == USAM_PIXEL_TYPE_F32 || type == USAM_PIXEL_TYPE_F64;
  guint16 format = SAMPLEFORMAT_UINT;
  if (is_float)
    format = SAMPLEFORMAT_IEEEFP;
  else if (type == USAM_PIXEL_TYPE_I16 || type == USAM_PIXEL_TYPE_I32)
    format = SAMPLEFORMAT_INT;
  /* Deflate works best on strips of a few hundred kilobytes. */
  guint32 rows_per_strip = (guint32) CLAMP ((gsize) 262144 / row_bytes, 1, height);
  g_autofree char *desc = imagej_description (channels, rgb, depth, frames);
  g_autofree guint16 *extra = g_new0 (guint16, channels); /* EXTRASAMPLE_UNSPECIFIED */

  /* libtiff's predictor and byte swapping work in place on the buffer
   * given to it, and an image's buffer may be shared: copy each strip. */
  g_autofree guint8 *strip = g_try_malloc (row_bytes * rows_per_strip);
  if (!strip)
    {
      usam_image_set_error (error, USAM_ERROR_FAILED, path, "not enough memory to write");
      return FALSE;
    }

  for (guint t = 0; t < frames; t++)
    for (guint z = 0; z < depth; z++)
      {
        const guint8 *plane = usam_image_get_plane (self, t, z);

        TIFFSetField (tif, TIFFTAG_SUBFILETYPE, 0);
        TIFFSetField (tif, TIFFTAG_IMAGEWIDTH, (guint32) width);
        TIFFSetField (tif, TIFFTAG_IMAGELENGTH, (guint32) height);
        TIFFSetField (tif, TIFFTAG_BITSPERSAMPLE, (int) (sample * 8));
        TIFFSetField (tif, TIFFTAG_SAMPLESPERPIXEL, (int) channels);
        TIFFSetField (tif, TIFFTAG_SAMPLEFORMAT, (int) format);
        TIFFSetField (tif, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
        TIFFSetField (tif, TIFFTAG_PHOTOMETRIC, rgb ? PHOTOMETRIC_RGB : PHOTOMETRIC_MINISBLACK);
        if (!rgb && channels > 1)
          TIFFSetField (tif, TIFFTAG_EXTRASAMPLES, (int) (channels - 1), extra);
        TIFFSetField (tif, TIFFTAG_COMPRESSION, COMPRESSION_ADOBE_DEFLATE);
        if (!is_float)
          TIFFSetField (tif, TIFFTAG_PREDICTOR, PREDICTOR_HORIZONTAL);
        TIFFSetField (tif, TIFFTAG_ROWSPERSTRIP, rows_per_strip);
        TIFFSetField (tif, TIFFTAG_SOFTWARE, "usam");
        if (t == 0 && z == 0)
          TIFFSetField (tif, TIFFTAG_IMAGEDESCRIPTION, desc);

        for (guint32 y = 0; y < height; y += rows_per_strip)
          {
            gsize size = row_bytes * MIN (rows_per_strip, height - y);
            memcpy (strip, plane + (gsize) y * row_bytes, size);
            if (TIFFWriteEncodedStrip (tif, TIFFComputeStrip (tif, y, 0), strip, (tmsize_t) size) < 0)
              {
                usam_image_set_error (error, USAM_ERROR_IO, path, "cannot write: %s",
                                      tiff_log_message (log, "write error"));
                return FALSE;
              }
          }
        if (!TIFFWriteDirectory (tif))
          {
            usam_image_set_error (error, USAM_ERROR_IO, path, "cannot write: %s",
                                  tiff_log_message (log, "write error"));
            return FALSE;
          }
      }
  return TRUE;
}

gboolean
usam_image_save_tiff (UsamImage *self, const char *path, GError **error)
{
  g_return_val_if_fail (USAM_IS_IMAGE (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  g_autofree char *tmp_path = NULL;
  guint64 total
      = (guint64) usam_image_get_plane_size (self) * usam_image_get_depth (self) * usam_image_get_frames (self);
  /* Classic TIFF addresses 4 GiB; leave room for the directories and for
   * data that deflate cannot shrink. */
  const char *mode = total > (guint64) 3900 * 1024 * 1024 ? "w8" : "w";

  int fd = usam_image_open_temporary (path, &tmp_path, error);
  if (fd < 0)
    return FALSE;
  g_auto (TiffLog) log = { tmp_path, NULL };
  TIFF *tif = tiff_open (tmp_path, fd, mode, &log);
  if (!tif)
    {
      g_close (fd, NULL);
      usam_image_discard_temporary (tmp_path);
      usam_image_set_error (error, USAM_ERROR_IO, path, "cannot write: %s", tiff_log_message (&log, "unknown error"));
      return FALSE;
    }

  gboolean ok = write_pages (tif, self, &log, path, error);
  /* Data on disk before the rename, or a crash could leave an empty file
   * in place of the old one. */
  if (ok && (!TIFFFlush (tif) || g_fsync (TIFFFileno (tif)) != 0))
    {
      usam_image_set_error (error, USAM_ERROR_IO, path, "cannot write: %s",
                            tiff_log_message (&log, g_strerror (errno)));
      ok = FALSE;
    }
  TIFFClose (tif);
  if (!ok)
    {
      usam_image_discard_temporary (tmp_path);
      return FALSE;
    }
  if (!usam_image_commit_temporary (tmp_path, path, error))
    return FALSE;
  usam_image_set_path (self, path);
  return TRUE;
}
