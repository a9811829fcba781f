/* test-image.c — image I/O: real TIFF/PNG data, round trips, OME-TIFF and
 * ImageJ layouts, damaged files.
 *
 * The expected pixel values of the shared data were computed outside
 * usam, by a pure-Python TIFF/PNG decoder (zlib, LZW and PNG filters
 * written out by hand), not by libtiff or libpng.
 */
#include "usam-error.h"
#include "usam-image.h"
#include "usam-test-util.h"

#include <glib/gstdio.h>
#include <string.h>
#include <tiffio.h>
#include <zlib.h>

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TIFF, TIFFClose)

#define DSB_GREY(folder) "data/dsb2018/" folder "/003cee89357d9fe13516167fd67b609a164651b21934585648c740d2c3d86dc1.png"
#define DSB_COLOUR(folder)                                                                                             \
  "data/dsb2018/" folder "/0d3640c1f1b80f24e94cc9a5f3e1d9e8db7bf6af7d4aba920265f46cadc25e37.png"

static char *
tmp_file (const char *name)
{
  return g_build_filename (usam_test_tmpdir (), name, NULL);
}

static UsamImage *
load_ok (const char *path)
{
  g_autoptr (GError) error = NULL;
  UsamImage *image = usam_image_load (path, &error);
  ck_assert_msg (image != NULL, "%s", error ? error->message : "no error set");
  ck_assert_ptr_null (error);
  ck_assert_str_eq (usam_image_get_path (image), path);
  return image;
}

static UsamImage *
load_shared (const char *relative)
{
  g_autofree char *path = usam_test_shared_path (relative);
  return load_ok (path);
}

static void
assert_shape (UsamImage *image, UsamPixelType type, guint width, guint height, guint channels, guint depth,
              guint frames)
{
  ck_assert_str_eq (usam_pixel_type_to_string (usam_image_get_pixel_type (image)), usam_pixel_type_to_string (type));
  ck_assert_uint_eq (usam_image_get_width (image), width);
  ck_assert_uint_eq (usam_image_get_height (image), height);
  ck_assert_uint_eq (usam_image_get_channels (image), channels);
  ck_assert_uint_eq (usam_image_get_depth (image), depth);
  ck_assert_uint_eq (usam_image_get_frames (image), frames);
  ck_assert_uint_eq (g_bytes_get_size (usam_image_get_bytes (image)),
                     usam_image_get_plane_size (image) * depth * frames);
}

static double
image_sum (UsamImage *image)
{
  double sum = 0;
  for (guint t = 0; t < usam_image_get_frames (image); t++)
    for (guint z = 0; z < usam_image_get_depth (image); z++)
      for (guint y = 0; y < usam_image_get_height (image); y++)
        for (guint x = 0; x < usam_image_get_width (image); x++)
          for (guint c = 0; c < usam_image_get_channels (image); c++)
            sum += usam_image_get_value (image, t, z, y, x, c);
  return sum;
}

static double
image_max (UsamImage *image)
{
  double max = -G_MAXDOUBLE;
  for (guint z = 0; z < usam_image_get_depth (image); z++)
    for (guint y = 0; y < usam_image_get_height (image); y++)
      for (guint x = 0; x < usam_image_get_width (image); x++)
        max = MAX (max, usam_image_get_value (image, 0, z, y, x, 0));
  return max;
}

#define assert_value(image, t, z, y, x, c, expected)                                                                   \
  ck_assert_double_eq (usam_image_get_value ((image), (t), (z), (y), (x), (c)), (expected))

static void
assert_fails (GError *error, int code, const char *path)
{
  ck_assert_msg (g_error_matches (error, USAM_ERROR, code), "wanted code %d, got %s (%d)", code,
                 error ? error->message : "no error", error ? error->code : -1);
  ck_assert_msg (strstr (error->message, path) != NULL, "'%s' does not name %s", error->message, path);
  ck_assert_msg (strchr (error->message, '\n') == NULL, "'%s' is not one line", error->message);
}

/* @says: a part of the message, or NULL. */
static void
assert_load_fails (const char *path, int code, const char *says)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (UsamImage) image = usam_image_load (path, &error);
  ck_assert_ptr_null (image);
  assert_fails (error, code, path);
  ck_assert_msg (!says || strstr (error->message, says), "'%s' does not say '%s'", error->message, says);
}

static void
write_file (const char *path, const void *data, gsize size)
{
  g_autoptr (GError) error = NULL;
  ck_assert_msg (g_file_set_contents (path, data, (gssize) size, &error), "%s", error ? error->message : "");
}

/* Shared data, against values computed independently */

START_TEST (test_usiigaci_tiff)
{
  g_autoptr (UsamImage) image = load_shared ("data/usiigaci/images/train_set1.tif");
  assert_shape (image, USAM_PIXEL_TYPE_U16, 1024, 1022, 1, 1, 1);
  assert_value (image, 0, 0, 0, 0, 0, 34319);
  assert_value (image, 0, 0, 511, 341, 0, 32521);
  assert_value (image, 0, 0, 340, 512, 0, 32834);
  assert_value (image, 0, 0, 1021, 1023, 0, 31076);
  ck_assert_double_eq (image_sum (image), 34143663448.0);

  g_autoptr (UsamImage) labels = load_shared ("data/usiigaci/labels/train_set1.tif");
  assert_shape (labels, USAM_PIXEL_TYPE_U16, 1024, 1022, 1, 1, 1);
  ck_assert_double_eq (image_max (labels), 66);
  ck_assert_double_eq (image_sum (labels), 8725341.0);
}
END_TEST

START_TEST (test_dsb2018_png)
{
  g_autoptr (UsamImage) grey = load_shared (DSB_GREY ("images"));
  assert_shape (grey, USAM_PIXEL_TYPE_U8, 256, 256, 3, 1, 1);
  assert_value (grey, 0, 0, 0, 0, 1, 5);
  assert_value (grey, 0, 0, 128, 85, 2, 46);
  assert_value (grey, 0, 0, 100, 37, 0, 49);
  ck_assert_double_eq (image_sum (grey), 1773129.0);

  g_autoptr (UsamImage) colour = load_shared (DSB_COLOUR ("images"));
  assert_shape (colour, USAM_PIXEL_TYPE_U8, 320, 256, 3, 1, 1);
  assert_value (colour, 0, 0, 0, 0, 0, 183);
  assert_value (colour, 0, 0, 0, 0, 1, 165);
  assert_value (colour, 0, 0, 0, 0, 2, 201);
  assert_value (colour, 0, 0, 100, 37, 0, 92);
  assert_value (colour, 0, 0, 100, 37, 1, 43);
  assert_value (colour, 0, 0, 100, 37, 2, 183);
  ck_assert_double_eq (image_sum (colour), 38823821.0);

  /* 16-bit label PNGs stay 16-bit; their maxima are manifest.csv's counts. */
  g_autoptr (UsamImage) labels = load_shared (DSB_GREY ("labels"));
  assert_shape (labels, USAM_PIXEL_TYPE_U16, 256, 256, 1, 1, 1);
  assert_value (labels, 0, 0, 128, 85, 0, 10);
  assert_value (labels, 0, 0, 100, 37, 0, 5);
  ck_assert_double_eq (image_max (labels), 36);
  ck_assert_double_eq (image_sum (labels), 90019.0);
  g_autoptr (UsamImage) colour_labels = load_shared (DSB_COLOUR ("labels"));
  ck_assert_double_eq (image_max (colour_labels), 21);
}
END_TEST

START_TEST (test_plantseg3d_volume)
{
  /* ImageJ "slices=100" over 100 uncompressed pages. */
  g_autoptr (UsamImage) raw = load_shared ("data/plantseg3d/1135_mini_raw.tif");
  assert_shape (raw, USAM_PIXEL_TYPE_U8, 100, 100, 1, 100, 1);
  assert_value (raw, 0, 0, 0, 0, 0, 4);
  assert_value (raw, 0, 0, 50, 33, 0, 28);
  assert_value (raw, 0, 50, 33, 50, 0, 70);
  assert_value (raw, 0, 99, 99, 99, 0, 60);
  ck_assert_double_eq (image_sum (raw), 31636293.0);

  g_autoptr (UsamImage) labels = load_shared ("data/plantseg3d/1135_mini_labels.tif");
  assert_shape (labels, USAM_PIXEL_TYPE_U16, 100, 100, 1, 100, 1);
  assert_value (labels, 0, 50, 33, 50, 0, 26);
  ck_assert_double_eq (image_sum (labels), 6003856.0);
}
END_TEST

START_TEST (test_stardist_and_ctc)
{
  g_autoptr (UsamImage) nuclei = load_shared ("data/stardist/nuclei2d_image.tif");
  assert_shape (nuclei, USAM_PIXEL_TYPE_U16, 512, 512, 1, 1, 1);
  assert_value (nuclei, 0, 0, 0, 0, 0, 14);
  assert_value (nuclei, 0, 0, 256, 170, 0, 17);
  assert_value (nuclei, 0, 0, 511, 511, 0, 37);
  ck_assert_double_eq (image_sum (nuclei), 8331268.0);
  g_autoptr (UsamImage) nuclei_labels = load_shared ("data/stardist/nuclei2d_labels.tif");
  assert_value (nuclei_labels, 0, 0, 170, 256, 0, 26);
  ck_assert_double_eq (image_max (nuclei_labels), 183);

  /* A plain 31-page deflate TIFF (tifffile's JSON description) is a volume. */
  g_autoptr (UsamImage) synth = load_shared ("data/stardist/synth3d_image.tif");
  assert_shape (synth, USAM_PIXEL_TYPE_U16, 57, 61, 1, 31, 1);
  assert_value (synth, 0, 0, 30, 19, 0, 198);
  assert_value (synth, 0, 15, 20, 28, 0, 163);
  assert_value (synth, 0, 30, 60, 56, 0, 219);
  ck_assert_double_eq (image_sum (synth), 21342435.0);
  g_autoptr (UsamImage) synth_labels = load_shared ("data/stardist/synth3d_labels.tif");
  assert_shape (synth_labels, USAM_PIXEL_TYPE_U16, 57, 61, 1, 31, 1);
  ck_assert_double_eq (image_sum (synth_labels), 3198014.0);

  /* LZW with 21-row strips. */
  g_autoptr (UsamImage) seg = load_shared ("data/ctc-metrics-fixture/GT/SEG/man_seg000.tif");
  assert_shape (seg, USAM_PIXEL_TYPE_U16, 189, 279, 1, 1, 1);
  assert_value (seg, 0, 0, 139, 63, 0, 20);
  ck_assert_double_eq (image_max (seg), 24);
  ck_assert_double_eq (image_sum (seg), 66902.0);
}
END_TEST

/* Round trips */

static UsamImage *
make_pattern (UsamPixelType type, guint width, guint height, guint channels, guint depth, guint frames)
{
  g_autoptr (GError) error = NULL;
  UsamImage *image = usam_image_new (type, width, height, channels, depth, frames, &error);
  ck_assert_msg (image != NULL, "%s", error ? error->message : "");
  guint8 *data = usam_image_get_plane_mutable (image, 0, 0);

  /* Random bytes: every bit pattern, NaNs and infinities included, must
   * come back as it was. */
  g_autoptr (GRand) rand = g_rand_new_with_seed (width * 7919 + channels * 31 + depth + type);
  for (gsize i = 0; i < g_bytes_get_size (usam_image_get_bytes (image)); i++)
    data[i] = (guint8) g_rand_int (rand);
  return image;
}

static void
assert_same_image (UsamImage *a, UsamImage *b)
{
  assert_shape (b, usam_image_get_pixel_type (a), usam_image_get_width (a), usam_image_get_height (a),
                usam_image_get_channels (a), usam_image_get_depth (a), usam_image_get_frames (a));
  ck_assert (g_bytes_equal (usam_image_get_bytes (a), usam_image_get_bytes (b)));
}

static UsamImage *
round_trip (UsamImage *image, const char *name, gboolean png)
{
  g_autofree char *path = tmp_file (name);
  g_autoptr (GError) error = NULL;
  gboolean ok = png ? usam_image_save_png (image, path, &error) : usam_image_save_tiff (image, path, &error);
  ck_assert_msg (ok, "%s", error ? error->message : "");
  ck_assert_str_eq (usam_image_get_path (image), path);
  UsamImage *back = load_ok (path);
  assert_same_image (image, back);
  return back;
}

static const UsamPixelType all_types[] = {
  USAM_PIXEL_TYPE_U8,  USAM_PIXEL_TYPE_U16, USAM_PIXEL_TYPE_I16, USAM_PIXEL_TYPE_U32,
  USAM_PIXEL_TYPE_I32, USAM_PIXEL_TYPE_F32, USAM_PIXEL_TYPE_F64,
};

START_TEST (test_tiff_round_trip)
{
  for (guint i = 0; i < G_N_ELEMENTS (all_types); i++)
    for (guint channels = 1; channels <= 4; channels++)
      {
        g_autofree char *name = g_strdup_printf ("rt-%s-%u.tif", usam_pixel_type_to_string (all_types[i]), channels);
        g_autoptr (UsamImage) image = make_pattern (all_types[i], 13, 7, channels, 1, 1);
        g_autoptr (UsamImage) back = round_trip (image, name, FALSE);

        /* What other readers rely on: the tags, checked with libtiff. */
        g_autoptr (TIFF) tif = TIFFOpen (usam_image_get_path (back), "r");
        guint16 compression, photometric, format, spp;
        TIFFGetField (tif, TIFFTAG_COMPRESSION, &compression);
        TIFFGetField (tif, TIFFTAG_PHOTOMETRIC, &photometric);
        TIFFGetFieldDefaulted (tif, TIFFTAG_SAMPLEFORMAT, &format);
        TIFFGetField (tif, TIFFTAG_SAMPLESPERPIXEL, &spp);
        ck_assert_uint_eq (compression, COMPRESSION_ADOBE_DEFLATE);
        ck_assert_uint_eq (spp, channels);
        gboolean rgb = channels == 3 && (all_types[i] == USAM_PIXEL_TYPE_U8 || all_types[i] == USAM_PIXEL_TYPE_U16);
        ck_assert_uint_eq (photometric, rgb ? PHOTOMETRIC_RGB : PHOTOMETRIC_MINISBLACK);
        ck_assert_uint_eq (format, all_types[i] >= USAM_PIXEL_TYPE_F32   ? SAMPLEFORMAT_IEEEFP
                                   : all_types[i] == USAM_PIXEL_TYPE_I16 ? SAMPLEFORMAT_INT
                                   : all_types[i] == USAM_PIXEL_TYPE_I32 ? SAMPLEFORMAT_INT
                                                                         : SAMPLEFORMAT_UINT);
      }

  /* Several strips per page. */
  g_autoptr (UsamImage) big = make_pattern (USAM_PIXEL_TYPE_U16, 301, 517, 3, 1, 1);
  g_autoptr (UsamImage) big_back = round_trip (big, "rt-strips.tif", FALSE);
  g_autoptr (TIFF) big_tif = TIFFOpen (usam_image_get_path (big_back), "r");
  ck_assert_uint_ge (TIFFNumberOfStrips (big_tif), 2);

  /* Saving over an existing file replaces it. */
  g_autoptr (UsamImage) small = make_pattern (USAM_PIXEL_TYPE_U8, 3, 2, 1, 1, 1);
  g_object_unref (round_trip (small, "rt-strips.tif", FALSE));
}
END_TEST

START_TEST (test_tiff_hyperstack)
{
  static const guint shapes[][3] = { { 3, 2, 2 }, { 4, 1, 1 }, { 1, 3, 3 }, { 2, 2, 4 } }; /* depth, frames, channels */
  for (guint i = 0; i < G_N_ELEMENTS (shapes); i++)
    {
      guint depth = shapes[i][0], frames = shapes[i][1], channels = shapes[i][2];
      g_autofree char *name = g_strdup_printf ("stack-%u.tif", i);
      g_autoptr (UsamImage) image = make_pattern (USAM_PIXEL_TYPE_U16, 9, 5, channels, depth, frames);
      g_autoptr (UsamImage) back = round_trip (image, name, FALSE);

      g_autoptr (TIFF) tif = TIFFOpen (usam_image_get_path (back), "r");
      const char *desc = NULL;
      ck_assert (TIFFGetField (tif, TIFFTAG_IMAGEDESCRIPTION, &desc));
      g_autofree char *want = g_strdup_printf ("ImageJ=1.11a\nimages=%u\n", depth * frames);
      g_autofree char *slices = g_strdup_printf ("\nslices=%u\nframes=%u\n", depth, frames);
      ck_assert_msg (g_str_has_prefix (desc, want) && strstr (desc, slices), "%s", desc);
      ck_assert ((strstr (desc, "hyperstack=true\n") != NULL) == (depth > 1 && frames > 1));
      ck_assert ((strstr (desc, "channels=") != NULL) == (channels != 1 && channels != 3));
      ck_assert_uint_eq (TIFFNumberOfDirectories (tif), depth * frames);
    }
}
END_TEST

START_TEST (test_png_round_trip)
{
  for (guint wide = 0; wide < 2; wide++)
    for (guint channels = 1; channels <= 4; channels++)
      {
        g_autofree char *name = g_strdup_printf ("rt-%u-%u.png", wide, channels);
        g_autoptr (UsamImage) image
            = make_pattern (wide ? USAM_PIXEL_TYPE_U16 : USAM_PIXEL_TYPE_U8, 17, 11, channels, 1, 1);
        g_object_unref (round_trip (image, name, TRUE));
      }

  /* The magic decides, not the extension. */
  g_autoptr (UsamImage) image = make_pattern (USAM_PIXEL_TYPE_U8, 4, 4, 3, 1, 1);
  g_object_unref (round_trip (image, "really-a-png.tif", TRUE));
}
END_TEST

/* Layouts written here with libtiff, the way other programs write them */

typedef struct
{
  guint width, height, spp, bps, format, photometric, planar, compression, tile, pages;
  const char *mode, *desc;
} Layout;

/* @data: the pages one after another, each rows of packed samples (plane by
 * plane when planar), as libtiff takes them. */
static void
write_tiff (const char *path, const Layout *l, const void *data, const guint16 *cmap)
{
  g_autoptr (TIFF) tif = TIFFOpen (path, l->mode ? l->mode : "w");
  guint planes = l->planar == PLANARCONFIG_SEPARATE ? l->spp : 1;
  gsize row = ((gsize) (l->spp / planes) * l->width * l->bps + 7) / 8;
  gsize page_size = row * l->height * planes;
  /* libtiff byte-swaps big-endian output in the caller's buffer. */
  g_autofree guint8 *all = g_memdup2 (data, page_size * MAX (l->pages, 1));
  for (guint p = 0; p < MAX (l->pages, 1); p++)
    {
      guint8 *bytes = all + p * page_size;
      TIFFSetField (tif, TIFFTAG_IMAGEWIDTH, l->width);
      TIFFSetField (tif, TIFFTAG_IMAGELENGTH, l->height);
      TIFFSetField (tif, TIFFTAG_BITSPERSAMPLE, l->bps);
      TIFFSetField (tif, TIFFTAG_SAMPLESPERPIXEL, l->spp);
      TIFFSetField (tif, TIFFTAG_SAMPLEFORMAT, l->format ? l->format : SAMPLEFORMAT_UINT);
      TIFFSetField (tif, TIFFTAG_PHOTOMETRIC, l->photometric);
      TIFFSetField (tif, TIFFTAG_PLANARCONFIG, l->planar ? l->planar : PLANARCONFIG_CONTIG);
      TIFFSetField (tif, TIFFTAG_COMPRESSION, l->compression ? l->compression : COMPRESSION_NONE);
      if (cmap)
        TIFFSetField (tif, TIFFTAG_COLORMAP, cmap, cmap + 256, cmap + 512);
      if (l->desc && p == 0)
        TIFFSetField (tif, TIFFTAG_IMAGEDESCRIPTION, l->desc);
      if (l->tile)
        {
          /* Contiguous samples of whole bytes only; edge tiles are padded. */
          TIFFSetField (tif, TIFFTAG_TILEWIDTH, l->tile);
          TIFFSetField (tif, TIFFTAG_TILELENGTH, l->tile);
          gsize px = l->spp * l->bps / 8;
          g_autofree guint8 *tile = g_malloc0 (TIFFTileSize (tif));
          for (guint y = 0; y < l->height; y += l->tile)
            for (guint x = 0; x < l->width; x += l->tile)
              {
                for (guint r = 0; r < l->tile && y + r < l->height; r++)
                  memcpy (tile + r * l->tile * px, bytes + (y + r) * row + x * px, MIN (l->tile, l->width - x) * px);
                ck_assert_int_ge (TIFFWriteTile (tif, tile, x, y, 0, 0), 0);
              }
        }
      else
        {
          TIFFSetField (tif, TIFFTAG_ROWSPERSTRIP, 3);
          for (guint s = 0; s < planes; s++)
            for (guint y = 0; y < l->height; y++)
              ck_assert_int_eq (TIFFWriteScanline (tif, bytes + (s * l->height + y) * row, y, (guint16) s), 1);
        }
      ck_assert (TIFFWriteDirectory (tif));
    }
}

static UsamImage *
write_and_load (const char *path, const Layout *layout, const void *data, const guint16 *cmap)
{
  write_tiff (path, layout, data, cmap);
  return load_ok (path);
}

/* uint16 pages whose pixel (y, x) on page p is p * 1000 + y * 10 + x. */
static void
write_u16_pages (const char *path, const char *desc, guint width, guint height, guint n_pages)
{
  g_autofree guint16 *data = g_new (guint16, width * height * n_pages);
  for (guint i = 0; i < width * height * n_pages; i++)
    data[i] = (guint16) (i / (width * height) * 1000 + i / width % height * 10 + i % width);
  write_tiff (path,
              &(Layout){ width, height, 1, 16, 0, PHOTOMETRIC_MINISBLACK, .compression = COMPRESSION_LZW,
                         .pages = n_pages, .desc = desc },
              data, NULL);
}

START_TEST (test_ome_tiff)
{
  /* SizeC=2, SizeZ=3, SizeT=2 as 12 single-channel pages. */
  static const char *const orders[] = { "XYCZT", "XYZTC" };
  for (guint i = 0; i < G_N_ELEMENTS (orders); i++)
    {
      const char *ns = i == 0 ? "" : "ome:";
      g_autofree char *desc = g_strdup_printf (
          "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<%sOME "
          "xmlns%s%s=\"http://www.openmicroscopy.org/Schemas/OME/2016-06\">"
          "<%sImage ID=\"Image:0\" Name=\"cells\">\n  <%sPixels BigEndian=\"false\" DimensionOrder=\"%s\" "
          "ID=\"Pixels:0\"\n"
          "   SizeC = '2' SizeT=\"2\" SizeX=\"8\" SizeY=\"6\" SizeZ=\"3\" Type=\"uint16\">"
          "<%sChannel ID=\"Channel:0:0\" SamplesPerPixel=\"1\"/><%sTiffData/></%sPixels></%sImage></%sOME>",
          ns, i == 0 ? "" : ":", i == 0 ? "" : "ome", ns, ns, orders[i], ns, ns, ns, ns, ns);
      g_autofree char *path = tmp_file (i == 0 ? "cells.ome.tif" : "cells-ns.ome.tiff");
      write_u16_pages (path, desc, 8, 6, 12);

      g_autoptr (UsamImage) image = load_ok (path);
      assert_shape (image, USAM_PIXEL_TYPE_U16, 8, 6, 2, 3, 2);
      for (guint t = 0; t < 2; t++)
        for (guint z = 0; z < 3; z++)
          for (guint c = 0; c < 2; c++)
            {
              /* The first letter after XY varies fastest. */
              guint page = i == 0 ? c + 2 * (z + 3 * t) : z + 3 * (t + 2 * c);
              assert_value (image, t, z, 0, 0, c, page * 1000);
              assert_value (image, t, z, 5, 7, c, page * 1000 + 57);
            }
    }

  /* OME-XML that promises more planes than the file holds. */
  g_autofree char *path = tmp_file ("partial.ome.tif");
  write_u16_pages (path,
                   "<OME><Image><Pixels DimensionOrder=\"XYZCT\" SizeC=\"1\" SizeZ=\"5\" SizeT=\"1\"/></Image></OME>",
                   4, 4, 3);
  assert_load_fails (path, USAM_ERROR_UNSUPPORTED, "describes 5 planes");
}
END_TEST

START_TEST (test_imagej_channel_pages)
{
  g_autofree char *path = tmp_file ("imagej.tif");
  write_u16_pages (path, "ImageJ=1.53t\nimages=8\nchannels=2\nslices=2\nframes=2\nhyperstack=true\nmode=composite\n", 5,
                   3, 8);
  g_autoptr (UsamImage) image = load_ok (path);
  assert_shape (image, USAM_PIXEL_TYPE_U16, 5, 3, 2, 2, 2);
  for (guint t = 0; t < 2; t++)
    for (guint z = 0; z < 2; z++)
      for (guint c = 0; c < 2; c++)
        assert_value (image, t, z, 2, 4, c, (c + 2 * (z + 2 * t)) * 1000 + 24);

  /* Plain multi-page TIFF: a volume. */
  g_autofree char *plain = tmp_file ("plain.tif");
  write_u16_pages (plain, NULL, 5, 3, 4);
  g_autoptr (UsamImage) volume = load_ok (plain);
  assert_shape (volume, USAM_PIXEL_TYPE_U16, 5, 3, 1, 4, 1);
  assert_value (volume, 0, 3, 1, 2, 0, 3012);
}
END_TEST

START_TEST (test_tiff_variants)
{
  g_autofree char *path = tmp_file ("variant.tif");

  /* Min-is-white 8-bit is inverted. */
  guint8 grey[] = { 0, 1, 2, 3, 200, 254, 255, 128 };
  g_autoptr (UsamImage) white = write_and_load (path, &(Layout){ 4, 2, 1, 8, 0, PHOTOMETRIC_MINISWHITE }, grey, NULL);
  assert_shape (white, USAM_PIXEL_TYPE_U8, 4, 2, 1, 1, 1);
  assert_value (white, 0, 0, 0, 1, 0, 254);
  assert_value (white, 0, 0, 1, 0, 0, 55);

  /* 1-bit bilevel becomes 0/255; 2-bit grey is stretched to 0..255. */
  guint8 bits[] = { 0xA0, 0x40, 0x01, 0x80 }; /* 10 pixels a row: 1010000001, 0000000110 */
  write_tiff (path, &(Layout){ 10, 2, 1, 1, 0, PHOTOMETRIC_MINISBLACK, .compression = COMPRESSION_PACKBITS }, bits,
              NULL);
  g_autoptr (UsamImage) bilevel = load_ok (path);
  assert_shape (bilevel, USAM_PIXEL_TYPE_U8, 10, 2, 1, 1, 1);
  assert_value (bilevel, 0, 0, 0, 0, 0, 255);
  assert_value (bilevel, 0, 0, 0, 1, 0, 0);
  assert_value (bilevel, 0, 0, 0, 2, 0, 255);
  assert_value (bilevel, 0, 0, 1, 7, 0, 255);
  assert_value (bilevel, 0, 0, 1, 9, 0, 0);
  guint8 two_bit[] = { 0x1B }; /* 0 1 2 3 */
  g_autoptr (UsamImage) crumbs
      = write_and_load (path, &(Layout){ 4, 1, 1, 2, 0, PHOTOMETRIC_MINISBLACK }, two_bit, NULL);
  assert_value (crumbs, 0, 0, 0, 1, 0, 85);
  assert_value (crumbs, 0, 0, 0, 3, 0, 255);

  /* A 4-bit palette expands to RGB through a 16-bit colour map. */
  g_autofree guint16 *cmap = g_new0 (guint16, 3 * 256);
  for (guint i = 0; i < 16; i++)
    {
      cmap[i] = (guint16) (i * 4096);
      cmap[256 + i] = (guint16) (65535 - i * 4096);
      cmap[512 + i] = (guint16) (i * 257);
    }
  guint8 indices[] = { 0x01, 0x23, 0x40, 0xFE, 0xDC, 0xB0 }; /* 5 pixels a row */
  g_autoptr (UsamImage) palette = write_and_load (
      path, &(Layout){ 5, 2, 1, 4, 0, PHOTOMETRIC_PALETTE, .compression = COMPRESSION_LZW }, indices, cmap);
  assert_shape (palette, USAM_PIXEL_TYPE_U8, 5, 2, 3, 1, 1);
  assert_value (palette, 0, 0, 0, 3, 0, 3 * 16);
  assert_value (palette, 0, 0, 0, 3, 1, 255 - 3 * 16);
  assert_value (palette, 0, 0, 0, 3, 2, 3);
  assert_value (palette, 0, 0, 1, 1, 0, 14 * 16);

  /* Planar RGB: three planes of strips become interleaved channels. */
  guint16 planes[3 * 4 * 6];
  for (guint i = 0; i < G_N_ELEMENTS (planes); i++)
    planes[i] = (guint16) (i * 900 + 7);
  write_tiff (path, &(Layout){ 6, 4, 3, 16, 0, PHOTOMETRIC_RGB, PLANARCONFIG_SEPARATE, COMPRESSION_ADOBE_DEFLATE },
              planes, NULL);
  g_autoptr (UsamImage) planar = load_ok (path);
  assert_shape (planar, USAM_PIXEL_TYPE_U16, 6, 4, 3, 1, 1);
  for (guint c = 0; c < 3; c++)
    assert_value (planar, 0, 0, 2, 5, c, (c * 24 + 2 * 6 + 5) * 900 + 7);

  /* Tiles, with partial tiles on the right and bottom edges. */
  g_autofree guint16 *tiled_data = g_new (guint16, 40 * 24 * 2);
  for (guint i = 0; i < 40 * 24 * 2; i++)
    tiled_data[i] = (guint16) (i * 3);
  write_tiff (path, &(Layout){ 40, 24, 2, 16, 0, PHOTOMETRIC_MINISBLACK, .compression = COMPRESSION_LZW, .tile = 16 },
              tiled_data, NULL);
  g_autoptr (UsamImage) tiled = load_ok (path);
  assert_shape (tiled, USAM_PIXEL_TYPE_U16, 40, 24, 2, 1, 1);
  ck_assert (memcmp (usam_image_get_plane (tiled, 0, 0), tiled_data, 40 * 24 * 2 * 2) == 0);

  /* Signed 8-bit is held in int16. */
  gint8 signed_bytes[] = { -128, -1, 0, 127 };
  g_autoptr (UsamImage) s8
      = write_and_load (path, &(Layout){ 2, 2, 1, 8, SAMPLEFORMAT_INT, PHOTOMETRIC_MINISBLACK }, signed_bytes, NULL);
  assert_shape (s8, USAM_PIXEL_TYPE_I16, 2, 2, 1, 1, 1);
  assert_value (s8, 0, 0, 0, 0, 0, -128);
  assert_value (s8, 0, 0, 0, 1, 0, -1);
  assert_value (s8, 0, 0, 1, 1, 0, 127);

  /* Big-endian floats come back in native order. */
  float floats[] = { -1.5f, 0.25f, 1e20f, 3.0f, -0.0f, 42.0f };
  g_autoptr (UsamImage) f32 = write_and_load (
      path, &(Layout){ 3, 2, 1, 32, SAMPLEFORMAT_IEEEFP, PHOTOMETRIC_MINISBLACK, .mode = "wb" }, floats, NULL);
  assert_shape (f32, USAM_PIXEL_TYPE_F32, 3, 2, 1, 1, 1);
  ck_assert (memcmp (usam_image_get_plane (f32, 0, 0), floats, sizeof floats) == 0);
  double doubles[] = { -1e-300, 2.5 };
  g_autoptr (UsamImage) f64 = write_and_load (
      path, &(Layout){ 1, 2, 1, 64, SAMPLEFORMAT_IEEEFP, PHOTOMETRIC_MINISBLACK, .mode = "w8" }, doubles, NULL);
  assert_value (f64, 0, 0, 0, 0, 0, -1e-300);
  assert_value (f64, 0, 0, 1, 0, 0, 2.5);

  /* Complex samples are understood, not supported. */
  float complex_samples[] = { 1, 2, 3, 4 };
  write_tiff (path, &(Layout){ 2, 1, 1, 64, SAMPLEFORMAT_COMPLEXIEEEFP, PHOTOMETRIC_MINISBLACK }, complex_samples,
              NULL);
  assert_load_fails (path, USAM_ERROR_UNSUPPORTED, "complex");

  /* Every page must match the first; the error names the odd one. */
  guint8 zeros[64] = { 0 };
  write_tiff (path, &(Layout){ 4, 4, 1, 8, 0, PHOTOMETRIC_MINISBLACK, .pages = 2 }, zeros, NULL);
  write_tiff (path, &(Layout){ 8, 8, 1, 8, 0, PHOTOMETRIC_MINISBLACK, .mode = "a" }, zeros, NULL);
  assert_load_fails (path, USAM_ERROR_INVALID_DATA, "page 3 (8 × 8");
}
END_TEST

/* Damaged and missing files */

/* A one-strip, 16-bit TIFF header whose strip holds 16 bytes. */
static void
write_header_only (const char *path, guint32 width, guint32 height, guint32 compression)
{
  const guint32 entries[][3] = {
    { 256, 4, width }, { 257, 4, height }, { 258, 3, 16 },     { 259, 3, compression }, { 262, 3, 1 },
    { 273, 4, 8 },     { 277, 3, 1 },      { 278, 4, height }, { 279, 4, 16 },
  };
  guint8 bytes[10 + G_N_ELEMENTS (entries) * 12 + 4] = { 'I', 'I', 42, 0, 8, 0, 0, 0, G_N_ELEMENTS (entries), 0 };
  for (guint i = 0; i < G_N_ELEMENTS (entries); i++)
    {
      guint16 tag = GUINT16_TO_LE ((guint16) entries[i][0]), type = GUINT16_TO_LE ((guint16) entries[i][1]);
      guint32 count = GUINT32_TO_LE (1), value = GUINT32_TO_LE (entries[i][2]);
      memcpy (bytes + 10 + 12 * i, &tag, 2);
      memcpy (bytes + 12 + 12 * i, &type, 2);
      memcpy (bytes + 14 + 12 * i, &count, 4);
      memcpy (bytes + 18 + 12 * i, &value, 4);
    }
  write_file (path, bytes, sizeof bytes);
}

START_TEST (test_load_errors)
{
  g_autofree char *missing = tmp_file ("no-such-image.tif");
  assert_load_fails (missing, USAM_ERROR_NOT_FOUND, "no such file");
  assert_load_fails (usam_test_tmpdir (), USAM_ERROR_IO, NULL);

  g_autofree char *empty = tmp_file ("empty.tif");
  write_file (empty, "", 0);
  assert_load_fails (empty, USAM_ERROR_INVALID_DATA, "empty");

  g_autofree char *noise = tmp_file ("noise.png");
  guint8 random_bytes[4096];
  g_autoptr (GRand) rand = g_rand_new_with_seed (7);
  for (guint i = 0; i < sizeof random_bytes; i++)
    random_bytes[i] = (guint8) g_rand_int_range (rand, 0, 256);
  write_file (noise, random_bytes, sizeof random_bytes);
  assert_load_fails (noise, USAM_ERROR_INVALID_DATA, "not a TIFF, PNG or HDF5");
  /* TIFF magic, then noise. */
  memcpy (random_bytes, "II*\0", 4);
  write_file (noise, random_bytes, sizeof random_bytes);
  assert_load_fails (noise, USAM_ERROR_INVALID_DATA, NULL);

  /* A real TIFF cut in the middle of its pixels, and in its header. */
  g_autofree char *source = usam_test_shared_path ("data/usiigaci/images/train_set1.tif");
  g_autofree char *contents = NULL;
  gsize size;
  ck_assert (g_file_get_contents (source, &contents, &size, NULL));
  g_autofree char *cut = tmp_file ("cut.tif");
  write_file (cut, contents, size / 2);
  assert_load_fails (cut, USAM_ERROR_INVALID_DATA, NULL);
  write_file (cut, contents, 100);
  assert_load_fails (cut, USAM_ERROR_INVALID_DATA, NULL);

  /* Headers claiming more pixels than there are: beyond the 1 TiB cap,
   * beyond what libtiff handles, and 7 GB of uncompressed data in a
   * 124-byte file. None may crash or allocate it all. */
  g_autofree char *huge = tmp_file ("huge.tif");
  write_header_only (huge, 1u << 20, 1u << 20, COMPRESSION_ADOBE_DEFLATE);
  assert_load_fails (huge, USAM_ERROR_INVALID_DATA, "too large");
  write_header_only (huge, 1u << 31, 1u << 31, COMPRESSION_NONE);
  assert_load_fails (huge, USAM_ERROR_INVALID_DATA, NULL);
  write_header_only (huge, 60000, 60000, COMPRESSION_NONE);
  assert_load_fails (huge, USAM_ERROR_INVALID_DATA, "truncated");
}
END_TEST

static gsize
find_chunk (const guint8 *png, gsize size, const char *type)
{
  for (gsize pos = 8; pos + 12 <= size;)
    {
      guint32 length;
      memcpy (&length, png + pos, 4);
      length = GUINT32_FROM_BE (length);
      if (memcmp (png + pos + 4, type, 4) == 0)
        return pos;
      pos += 12 + (gsize) length;
    }
  ck_abort_msg ("no %s chunk", type);
  return 0;
}

START_TEST (test_png_damaged)
{
  g_autofree char *source = usam_test_shared_path (DSB_GREY ("images"));
  g_autofree char *contents = NULL;
  gsize size;
  ck_assert (g_file_get_contents (source, &contents, &size, NULL));
  guint8 *png = (guint8 *) contents;
  gsize idat = find_chunk (png, size, "IDAT");
  guint32 length;
  memcpy (&length, png + idat, 4);
  length = GUINT32_FROM_BE (length);
  ck_assert_uint_gt (length, 200);

  /* Damaged pixel data, then the same with a CRC that matches it. */
  g_autofree char *path = tmp_file ("damaged.png");
  memset (png + idat + 8 + length / 2, 0xFF, 64);
  write_file (path, png, size);
  assert_load_fails (path, USAM_ERROR_INVALID_DATA, NULL);

  guint32 crc = GUINT32_TO_BE ((guint32) crc32 (0, png + idat + 4, length + 4));
  memcpy (png + idat + 8 + length, &crc, 4);
  write_file (path, png, size);
  assert_load_fails (path, USAM_ERROR_INVALID_DATA, NULL);

  /* Truncated. */
  write_file (path, contents, size / 2);
  assert_load_fails (path, USAM_ERROR_INVALID_DATA, "truncated");
}
END_TEST

START_TEST (test_save_errors)
{
  g_autoptr (UsamImage) image = make_pattern (USAM_PIXEL_TYPE_U8, 4, 4, 1, 1, 1);
  g_autofree char *path = g_build_filename (usam_test_tmpdir (), "no-such-dir", "out.tif", NULL);
  g_autoptr (GError) error = NULL;
  ck_assert (!usam_image_save_tiff (image, path, &error));
  assert_fails (error, USAM_ERROR_NOT_FOUND, path);
  g_clear_error (&error);
  ck_assert (!usam_image_save_png (image, path, &error));
  assert_fails (error, USAM_ERROR_NOT_FOUND, path);
  ck_assert_ptr_null (usam_image_get_path (image));

  /* PNG holds 8/16-bit 2D images of 1 to 4 channels. */
  g_autofree char *refused = tmp_file ("refused.png");
  struct
  {
    UsamPixelType type;
    guint channels, depth, frames;
    int code;
  } cases[] = {
    { USAM_PIXEL_TYPE_U8, 1, 3, 1, USAM_ERROR_INVALID_ARGUMENT },
    { USAM_PIXEL_TYPE_U16, 1, 1, 2, USAM_ERROR_INVALID_ARGUMENT },
    { USAM_PIXEL_TYPE_U8, 5, 1, 1, USAM_ERROR_INVALID_ARGUMENT },
    { USAM_PIXEL_TYPE_F32, 1, 1, 1, USAM_ERROR_UNSUPPORTED },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) refusal = NULL;
      g_autoptr (UsamImage) refused_image
          = make_pattern (cases[i].type, 4, 4, cases[i].channels, cases[i].depth, cases[i].frames);
      ck_assert (!usam_image_save_png (refused_image, refused, &refusal));
      assert_fails (refusal, cases[i].code, refused);
      ck_assert (!g_file_test (refused, G_FILE_TEST_EXISTS));
    }

  /* A failed or successful save leaves no temporary file behind. */
  g_autofree char *dir = g_build_filename (usam_test_tmpdir (), "atomic", NULL);
  ck_assert_int_eq (g_mkdir (dir, 0700), 0);
  g_autofree char *ok_path = g_build_filename (dir, "a.tif", NULL);
  ck_assert (usam_image_save_tiff (image, ok_path, NULL));
  g_autofree char *png_path = g_build_filename (dir, "a.png", NULL);
  ck_assert (usam_image_save_png (image, png_path, NULL));
  g_autoptr (UsamImage) volume = make_pattern (USAM_PIXEL_TYPE_U8, 4, 4, 1, 2, 1);
  ck_assert (!usam_image_save_png (volume, png_path, NULL));
  g_autoptr (GDir) listing = g_dir_open (dir, 0, NULL);
  guint count = 0;
  for (const char *name; (name = g_dir_read_name (listing)); count++)
    ck_assert_msg (name[0] != '.', "left behind: %s", name);
  ck_assert_uint_eq (count, 2);
}
END_TEST

/* Asynchronous loading */

typedef struct
{
  GMainLoop *loop;
  UsamImage *image;
  GError *error;
} AsyncResult;

static void
on_loaded (GObject *source, GAsyncResult *result, gpointer user_data)
{
  AsyncResult *out = user_data;
  out->image = usam_image_load_finish (result, &out->error);
  g_main_loop_quit (out->loop);
}

static void
load_async (const char *path, GCancellable *cancellable, AsyncResult *out)
{
  out->loop = g_main_loop_new (NULL, FALSE);
  usam_image_load_async (path, cancellable, on_loaded, out);
  g_main_loop_run (out->loop);
  g_main_loop_unref (out->loop);
}

START_TEST (test_async)
{
  g_autofree char *path = usam_test_shared_path ("data/stardist/synth3d_image.tif");
  g_autoptr (UsamImage) sync = load_ok (path);

  AsyncResult result = { NULL };
  load_async (path, NULL, &result);
  ck_assert_msg (result.image != NULL, "%s", result.error ? result.error->message : "");
  assert_same_image (sync, result.image);
  ck_assert_str_eq (usam_image_get_path (result.image), path);
  g_clear_object (&result.image);

  g_autofree char *missing = tmp_file ("missing.png");
  load_async (missing, NULL, &result);
  ck_assert_ptr_null (result.image);
  assert_fails (result.error, USAM_ERROR_NOT_FOUND, missing);
  g_clear_error (&result.error);

  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_cancellable_cancel (cancellable);
  load_async (path, cancellable, &result);
  ck_assert_ptr_null (result.image);
  ck_assert (g_error_matches (result.error, G_IO_ERROR, G_IO_ERROR_CANCELLED));
  g_clear_error (&result.error);
}
END_TEST

/* Constructors and accessors */

START_TEST (test_new_and_accessors)
{
  g_autoptr (GError) zero_size = NULL, overflow = NULL, short_size = NULL;
  g_autoptr (GBytes) short_bytes = g_bytes_new_static ("abc", 3);
  ck_assert_ptr_null (usam_image_new (USAM_PIXEL_TYPE_U8, 0, 4, 1, 1, 1, &zero_size));
  ck_assert_ptr_null (usam_image_new (USAM_PIXEL_TYPE_F64, G_MAXUINT, G_MAXUINT, 4, 1, 1, &overflow));
  ck_assert_ptr_null (usam_image_new_from_bytes (short_bytes, USAM_PIXEL_TYPE_U16, 2, 1, 1, 1, 1, &short_size));
  ck_assert (g_error_matches (zero_size, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT));
  ck_assert (g_error_matches (overflow, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT));
  ck_assert (g_error_matches (short_size, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT));
  g_autoptr (GError) error = NULL;

  /* T × Z × Y × X × C: values from an independent index formula. */
  gint32 values[2 * 3 * 2 * 4 * 2];
  for (guint i = 0; i < G_N_ELEMENTS (values); i++)
    values[i] = (gint32) i * 11 - 500;
  g_autoptr (GBytes) bytes = g_bytes_new (values, sizeof values);
  g_autoptr (UsamImage) image = usam_image_new_from_bytes (bytes, USAM_PIXEL_TYPE_I32, 4, 2, 2, 3, 2, &error);
  ck_assert_ptr_nonnull (image);
  ck_assert_ptr_null (usam_image_get_path (image));
  ck_assert_uint_eq (usam_image_get_plane_size (image), 4 * 2 * 2 * 4);
  ck_assert_ptr_eq (usam_image_get_plane (image, 1, 2), (const guint8 *) g_bytes_get_data (bytes, NULL) + 5 * 64);
  assert_value (image, 1, 2, 1, 3, 1, (((1 * 3 + 2) * 2 + 1) * 4 + 3) * 2 * 11 + 11 - 500);

  g_autoptr (UsamImage) plane = usam_image_dup_plane (image, 1, 0);
  assert_shape (plane, USAM_PIXEL_TYPE_I32, 4, 2, 2, 1, 1);
  ck_assert (memcmp (usam_image_get_plane (plane, 0, 0), usam_image_get_plane (image, 1, 0), 64) == 0);

  static const gsize sizes[] = { 1, 2, 2, 4, 4, 4, 8 };
  for (guint i = 0; i < G_N_ELEMENTS (all_types); i++)
    {
      ck_assert_uint_eq (usam_pixel_type_get_size (all_types[i]), sizes[i]);
      g_autoptr (UsamImage) zero = usam_image_new (all_types[i], 3, 2, 1, 1, 1, NULL);
      ck_assert_double_eq (image_sum (zero), 0);
    }
  ck_assert_str_eq (usam_pixel_type_to_string (USAM_PIXEL_TYPE_I16), "int16");
  ck_assert_str_eq (usam_pixel_type_to_string (USAM_PIXEL_TYPE_F64), "float64");
}
END_TEST

static Suite *
image_suite (void)
{
  Suite *suite = suite_create ("image");
  TCase *tc = usam_test_tcase_new ("io");
  tcase_add_test (tc, test_usiigaci_tiff);
  tcase_add_test (tc, test_dsb2018_png);
  tcase_add_test (tc, test_plantseg3d_volume);
  tcase_add_test (tc, test_stardist_and_ctc);
  tcase_add_test (tc, test_tiff_round_trip);
  tcase_add_test (tc, test_tiff_hyperstack);
  tcase_add_test (tc, test_png_round_trip);
  tcase_add_test (tc, test_ome_tiff);
  tcase_add_test (tc, test_imagej_channel_pages);
  tcase_add_test (tc, test_tiff_variants);
  tcase_add_test (tc, test_load_errors);
  tcase_add_test (tc, test_png_damaged);
  tcase_add_test (tc, test_save_errors);
  tcase_add_test (tc, test_async);
  tcase_add_test (tc, test_new_and_accessors);
  suite_add_tcase (suite, tc);
  return suite;
}

int
main (void)
{
  return usam_test_run (image_suite ());
}
