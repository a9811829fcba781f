/* HDF5 datasets as images (usam-image-h5.c): the axes of a volume, a time
 * series, an RGB image; the one dataset of a file, the preferred one among
 * several, a named one ("FILE.h5:/group/dataset"), and the errors for a
 * file with several unnamed images, a missing dataset or a non-image. */
#include <string.h>

#include "usam-error.h"
#include "usam-h5.h"
#include "usam-image.h"
#include "usam-test-util.h"

typedef struct
{
  const char *name;
  hid_t type;
  int rank;
  hsize_t dims[4];
  const void *data;
  const char *axes; /* attribute, or NULL */
} Dataset;

static char *
write_h5 (const char *file_name, const Dataset *sets, guint n)
{
  g_autofree char *path = g_build_filename (usam_test_tmpdir (), file_name, NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (UsamH5Output) out = usam_h5_output_new (path, &error);
  ck_assert_msg (out != NULL, "%s", error ? error->message : "");
  hid_t file = usam_h5_output_get_file (out);
  for (guint i = 0; i < n; i++)
    {
      if (strchr (sets[i].name + 1, '/'))
        {
          g_autofree char *group = g_path_get_dirname (sets[i].name);
          g_auto (UsamH5Group) g = H5Gcreate2 (file, group, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
          ck_assert (g >= 0);
        }
      ck_assert_msg (usam_h5_write (file, sets[i].name, sets[i].type, sets[i].rank, sets[i].dims, sets[i].data, TRUE,
                                    &error),
                     "%s", error ? error->message : "");
      if (sets[i].axes)
        {
          g_auto (UsamH5Dataset) d = H5Dopen2 (file, sets[i].name, H5P_DEFAULT);
          ck_assert (usam_h5_write_attr_string (d, "axes", sets[i].axes, &error));
        }
    }
  ck_assert_msg (usam_h5_output_commit (out, &error), "%s", error ? error->message : "");
  return g_steal_pointer (&path);
}

static UsamImage *
load (const char *path)
{
  g_autoptr (GError) error = NULL;
  UsamImage *image = usam_image_load (path, &error);
  ck_assert_msg (image != NULL, "%s", error ? error->message : "");
  return image;
}

static guint16 volume[3 * 5 * 4];

START_TEST (test_axes)
{
  for (guint i = 0; i < G_N_ELEMENTS (volume); i++)
    volume[i] = (guint16) (i * 7);
  const Dataset zyx = { "/raw", H5T_NATIVE_UINT16, 3, { 3, 5, 4 }, volume, NULL };
  g_autofree char *a = write_h5 ("zyx.h5", &zyx, 1);
  g_autoptr (UsamImage) v = load (a);
  ck_assert_uint_eq (usam_image_get_depth (v), 3);
  ck_assert_uint_eq (usam_image_get_frames (v), 1);
  ck_assert_uint_eq (usam_image_get_height (v), 5);
  ck_assert_uint_eq (usam_image_get_width (v), 4);
  ck_assert_int_eq (usam_image_get_pixel_type (v), USAM_PIXEL_TYPE_U16);
  ck_assert (usam_image_get_value (v, 0, 2, 3, 1, 0) == (double) ((2 * 20 + 3 * 4 + 1) * 7));
  ck_assert_str_eq (usam_image_get_path (v), a);

  /* A time series, as its "axes" attribute says. */
  const Dataset tyx = { "/data", H5T_NATIVE_UINT16, 3, { 3, 5, 4 }, volume, "tyx" };
  g_autofree char *b = write_h5 ("tyx.h5", &tyx, 1);
  g_autoptr (UsamImage) series = load (b);
  ck_assert_uint_eq (usam_image_get_frames (series), 3);
  ck_assert_uint_eq (usam_image_get_depth (series), 1);
  ck_assert (usam_image_get_value (series, 1, 0, 0, 2, 0) == (double) ((20 + 2) * 7));

  /* RGB, channels last; 64-bit integers widen to float64. */
  static guint8 rgb[6 * 5 * 3];
  for (guint i = 0; i < G_N_ELEMENTS (rgb); i++)
    rgb[i] = (guint8) i;
  static gint64 big[5 * 4];
  for (guint i = 0; i < G_N_ELEMENTS (big); i++)
    big[i] = (gint64) i * 1000000000LL;
  const Dataset sets[] = { { "/rgb", H5T_NATIVE_UINT8, 3, { 6, 5, 3 }, rgb, NULL },
                           { "/more/big", H5T_NATIVE_INT64, 2, { 5, 4 }, big, NULL } };
  g_autofree char *c = write_h5 ("two.h5", sets, 2);
  g_autofree char *rgb_path = g_strdup_printf ("%s:/rgb", c);
  g_autoptr (UsamImage) colour = load (rgb_path);
  ck_assert_uint_eq (usam_image_get_channels (colour), 3);
  ck_assert (usam_image_get_value (colour, 0, 0, 1, 2, 1) == (double) ((5 + 2) * 3 + 1));
  ck_assert_str_eq (usam_image_get_path (colour), rgb_path);
  g_autofree char *big_path = g_strdup_printf ("%s:/more/big", c);
  g_autoptr (UsamImage) wide = load (big_path);
  ck_assert_int_eq (usam_image_get_pixel_type (wide), USAM_PIXEL_TYPE_F64);
  ck_assert (usam_image_get_value (wide, 0, 0, 4, 3, 0) == 19e9);
}
END_TEST

START_TEST (test_which_dataset)
{
  static guint8 plane[6 * 6];
  memset (plane, 9, sizeof plane);
  static float labels[6 * 6];
  /* Several images: "raw" is μSAM's name for the image beside its labels. */
  const Dataset named[] = { { "/labels", H5T_NATIVE_FLOAT, 2, { 6, 6 }, labels, NULL },
                            { "/raw", H5T_NATIVE_UINT8, 2, { 6, 6 }, plane, NULL } };
  g_autofree char *a = write_h5 ("named.h5", named, 2);
  g_autoptr (UsamImage) raw = load (a);
  ck_assert_int_eq (usam_image_get_pixel_type (raw), USAM_PIXEL_TYPE_U8);

  /* Several, none preferred: the error lists them and shows how to choose. */
  const Dataset unnamed[] = { { "/a", H5T_NATIVE_UINT8, 2, { 6, 6 }, plane, NULL },
                              { "/b", H5T_NATIVE_UINT8, 2, { 6, 6 }, plane, NULL } };
  g_autofree char *b = write_h5 ("unnamed.h5", unnamed, 2);
  g_autoptr (GError) error = NULL;
  ck_assert_ptr_null (usam_image_load (b, &error));
  ck_assert_msg (strstr (error->message, b) && strstr (error->message, "/a, /b") && strstr (error->message, ":/a"),
                 "%s", error->message);
  g_clear_error (&error);

  g_autofree char *missing = g_strdup_printf ("%s:/c", b);
  ck_assert_ptr_null (usam_image_load (missing, &error));
  ck_assert (g_error_matches (error, USAM_ERROR, USAM_ERROR_NOT_FOUND));
  ck_assert_msg (strstr (error->message, "/c"), "%s", error->message);
  g_clear_error (&error);

  /* A 1-D dataset is no image. */
  static guint8 line[6];
  const Dataset flat = { "/line", H5T_NATIVE_UINT8, 1, { 6 }, line, NULL };
  g_autofree char *c = write_h5 ("flat.h5", &flat, 1);
  ck_assert_ptr_null (usam_image_load (c, &error));
  ck_assert_msg (strstr (error->message, "holds no image"), "%s", error->message);
  g_clear_error (&error);
  g_autofree char *named_flat = g_strdup_printf ("%s:/line", c);
  ck_assert_ptr_null (usam_image_load (named_flat, &error));
  ck_assert (g_error_matches (error, USAM_ERROR, USAM_ERROR_UNSUPPORTED));
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("image-h5");
  TCase *tc = usam_test_tcase_new ("h5");
  tcase_add_test (tc, test_axes);
  tcase_add_test (tc, test_which_dataset);
  suite_add_tcase (s, tc);
  return usam_test_run (s);
}
