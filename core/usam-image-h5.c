/* HDF5 datasets as images: what μSAM's volumes and time series often are.
 *
 * "FILE.h5" opens the file's one image dataset; "FILE.h5:/group/dataset"
 * names it. A dataset of rank 2 is Y, X; rank 3 is Z, Y, X — or Y, X, C with
 * 3 or 4 channels last behind two sides larger than 4 — and rank 4 T, Z, Y,
 * X (or Z, Y, X, C likewise). An "axes" attribute ("tyx",
 * "zyx", "tzyx", "yxc", …, as written by some tools) overrides the guess,
 * so a time series stored as (T, Y, X) opens with a T slider.
 */
#include "usam-image-private.h"

#include <string.h>

#include "usam-h5.h"

/* Names tried first when a file holds several datasets. */
static const char *const preferred[] = { "raw", "data", "image", "images", "volume", NULL };

gboolean
usam_image_split_h5_path (const char *path, char **file, char **dataset)
{
  *file = NULL;
  *dataset = NULL;
  const char *colon = strstr (path, ":/");
  if (!colon || g_file_test (path, G_FILE_TEST_EXISTS))
    return FALSE;
  *file = g_strndup (path, (gsize) (colon - path));
  *dataset = g_strdup (colon + 1);
  return TRUE;
}

typedef struct
{
  GPtrArray *names;
} Found;

static herr_t
visit (hid_t object, const char *name, const H5O_info_t *info, void *data)
{
  Found *found = data;
  if (info->type != H5O_TYPE_DATASET)
    return 0;
  g_auto (UsamH5Dataset) dset = H5Dopen2 (object, name, H5P_DEFAULT);
  g_auto (UsamH5Space) space = dset >= 0 ? H5Dget_space (dset) : H5I_INVALID_HID;
  g_auto (UsamH5Type) type = dset >= 0 ? H5Dget_type (dset) : H5I_INVALID_HID;
  int rank = space >= 0 ? H5Sget_simple_extent_ndims (space) : -1;
  H5T_class_t klass = type >= 0 ? H5Tget_class (type) : H5T_NO_CLASS;
  if (rank >= 2 && rank <= 4 && (klass == H5T_INTEGER || klass == H5T_FLOAT))
    g_ptr_array_add (found->names, g_strconcat ("/", name, NULL));
  return 0;
}

/* The one image dataset of @file, or NULL with an error listing them. */
static char *
find_dataset (hid_t file, const char *path, GError **error)
{
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  Found found = { names };
  if (H5Ovisit2 (file, H5_INDEX_NAME, H5_ITER_INC, visit, &found, H5O_INFO_BASIC) < 0)
    {
      usam_image_set_error (error, USAM_ERROR_INVALID_DATA, path, "cannot list the datasets of the HDF5 file");
      return NULL;
    }
  if (names->len == 1)
    return g_strdup (names->pdata[0]);
  for (guint p = 0; preferred[p]; p++)
    for (guint i = 0; i < names->len; i++)
      {
        const char *base = strrchr (names->pdata[i], '/') + 1;
        if (g_ascii_strcasecmp (base, preferred[p]) == 0)
          return g_strdup (names->pdata[i]);
      }
  if (names->len == 0)
    usam_image_set_error (error, USAM_ERROR_INVALID_DATA, path, "the HDF5 file holds no image (no numeric dataset of "
                                                                "2 to 4 dimensions)");
  else
    {
      g_ptr_array_add (names, NULL);
      g_autofree char *list = g_strjoinv (", ", (char **) names->pdata);
      usam_image_set_error (error, USAM_ERROR_INVALID_ARGUMENT, path,
                            "the HDF5 file holds several images (%s): name one, as %s:%s", list, path,
                            (char *) names->pdata[0]);
    }
  return NULL;
}

static gboolean
pixel_type_of (hid_t type, UsamPixelType *out, hid_t *mem_type)
{
  H5T_class_t klass = H5Tget_class (type);
  gsize size = H5Tget_size (type);
  gboolean is_signed = klass == H5T_INTEGER && H5Tget_sign (type) == H5T_SGN_2;
  if (klass == H5T_FLOAT)
    {
      *out = size <= 4 ? USAM_PIXEL_TYPE_F32 : USAM_PIXEL_TYPE_F64;
      *mem_type = size <= 4 ? H5T_NATIVE_FLOAT : H5T_NATIVE_DOUBLE;
      return TRUE;
    }
  if (klass != H5T_INTEGER)
    return FALSE;
  /* Widened where usam has no such type: int8 to int16, 64-bit to float64. */
  if (size == 1 && !is_signed)
    *out = USAM_PIXEL_TYPE_U8, *mem_type = H5T_NATIVE_UINT8;
  else if (size <= 2 && !is_signed)
    *out = USAM_PIXEL_TYPE_U16, *mem_type = H5T_NATIVE_UINT16;
  else if (size <= 2)
    *out = USAM_PIXEL_TYPE_I16, *mem_type = H5T_NATIVE_INT16;
  else if (size == 4 && !is_signed)
    *out = USAM_PIXEL_TYPE_U32, *mem_type = H5T_NATIVE_UINT32;
  else if (size == 4)
    *out = USAM_PIXEL_TYPE_I32, *mem_type = H5T_NATIVE_INT32;
  else
    *out = USAM_PIXEL_TYPE_F64, *mem_type = H5T_NATIVE_DOUBLE;
  return TRUE;
}

/* The axes of a dataset of @rank and @dims: "yx", "zyx", "yxc", "tzyx", … */
static char *
axes_of (hid_t dset, int rank, const hsize_t *dims)
{
  g_autofree char *attr = NULL;
  if (H5Aexists (dset, "axes") > 0)
    attr = usam_h5_read_attr_string (dset, "axes", NULL);
  if (attr)
    {
      g_autofree char *lower = g_ascii_strdown (attr, -1);
      if ((int) strlen (lower) == rank)
        return g_steal_pointer (&lower);
    }
  if (rank == 2)
    return g_strdup ("yx");
  /* 3 or 4 last behind two larger sides: colour channels, not a 4-pixel-wide stack. */
  gboolean colour = (dims[rank - 1] == 3 || dims[rank - 1] == 4) && dims[rank - 2] > 4 && dims[rank - 3] > 4;
  if (rank == 3)
    return g_strdup (colour ? "yxc" : "zyx");
  return g_strdup (colour ? "zyxc" : "tzyx");
}

UsamImage *
usam_image_load_h5 (const char *path, const char *dataset, GCancellable *cancellable, GError **error)
{
  g_autoptr (GError) local = NULL;
  g_auto (UsamH5File) file = usam_h5_open (path, FALSE, &local);
  if (file < 0)
    {
      usam_image_set_error (error, USAM_ERROR_INVALID_DATA, path, "cannot open the HDF5 file (damaged?)");
      return NULL;
    }
  g_autofree char *name = dataset ? g_strdup (dataset) : find_dataset (file, path, error);
  if (!name)
    return NULL;
  if (!usam_h5_exists (file, name))
    {
      usam_image_set_error (error, USAM_ERROR_NOT_FOUND, path, "has no dataset %s", name);
      return NULL;
    }
  g_auto (UsamH5Dataset) dset = H5Dopen2 (file, name, H5P_DEFAULT);
  g_auto (UsamH5Space) space = dset >= 0 ? H5Dget_space (dset) : H5I_INVALID_HID;
  g_auto (UsamH5Type) type = dset >= 0 ? H5Dget_type (dset) : H5I_INVALID_HID;
  int rank = space >= 0 ? H5Sget_simple_extent_ndims (space) : -1;
  hsize_t dims[4] = { 0 };
  UsamPixelType pixel;
  hid_t mem_type;
  if (rank < 2 || rank > 4 || type < 0 || !pixel_type_of (type, &pixel, &mem_type))
    {
      usam_image_set_error (error, USAM_ERROR_UNSUPPORTED, path,
                            "dataset %s is not an image (usam reads numeric datasets of 2 to 4 dimensions)", name);
      return NULL;
    }
  H5Sget_simple_extent_dims (space, dims, NULL);
  g_autofree char *axes = axes_of (dset, rank, dims);
  guint64 size[256] = { 0 };
  for (char a = 'a'; a <= 'z'; a++)
    size[(guchar) a] = 1;
  for (int i = 0; i < rank; i++)
    size[(guchar) axes[i]] = dims[i];
  /* Planes are stored frame by frame, slice by slice, channels last: the
   * dataset's own order when its axes come in that order. */
  const char *order = "tzyxc";
  int k = 0;
  for (int i = 0; i < rank; i++)
    {
      while (order[k] && order[k] != axes[i])
        k++;
      if (!order[k])
        {
          usam_image_set_error (error, USAM_ERROR_UNSUPPORTED, path,
                                "dataset %s has axes '%s'; usam reads them in the order t, z, y, x, c", name, axes);
          return NULL;
        }
    }
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;
  gsize bytes;
  if (!usam_image_compute_size (path, pixel, size['x'], size['y'], size['c'], size['z'], size['t'], &bytes, error))
    return NULL;
  UsamImage *image = usam_image_new_for_reading (path, pixel, (guint) size['x'], (guint) size['y'], (guint) size['c'],
                                                 (guint) size['z'], (guint) size['t'], error);
  if (!image)
    return NULL;
  if (H5Dread (dset, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, usam_image_get_plane_mutable (image, 0, 0)) < 0)
    {
      g_object_unref (image);
      usam_image_set_error (error, USAM_ERROR_INVALID_DATA, path, "cannot read dataset %s (damaged?)", name);
      return NULL;
    }
  return image;
}
