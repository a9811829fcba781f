/* O_CLOEXEC: -std=c17 hides POSIX. */
#define _POSIX_C_SOURCE 200809L

#include "usam-image-private.h"
#include "usam-workers.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

struct _UsamImage
{
  GObject parent_instance;
  GBytes *bytes;
  /* Points into @bytes; writable only when @owns_data. */
  guint8 *data;
  gboolean owns_data;
  UsamPixelType type;
  guint width;
  guint height;
  guint channels;
  guint depth;
  guint frames;
  gsize plane_size;
  char *path;
};

G_DEFINE_FINAL_TYPE (UsamImage, usam_image, G_TYPE_OBJECT)

static void
usam_image_finalize (GObject *object)
{
  UsamImage *self = USAM_IMAGE (object);
  g_clear_pointer (&self->bytes, g_bytes_unref);
  g_clear_pointer (&self->path, g_free);
  G_OBJECT_CLASS (usam_image_parent_class)->finalize (object);
}

static void
usam_image_class_init (UsamImageClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = usam_image_finalize;
}

static void
usam_image_init (UsamImage *self)
{
}

gsize
usam_pixel_type_get_size (UsamPixelType type)
{
  switch (type)
    {
    case USAM_PIXEL_TYPE_U8:
      return 1;
    case USAM_PIXEL_TYPE_U16:
    case USAM_PIXEL_TYPE_I16:
      return 2;
    case USAM_PIXEL_TYPE_U32:
    case USAM_PIXEL_TYPE_I32:
    case USAM_PIXEL_TYPE_F32:
      return 4;
    case USAM_PIXEL_TYPE_F64:
      return 8;
    default:
      return 0;
    }
}

const char *
usam_pixel_type_to_string (UsamPixelType type)
{
  switch (type)
    {
    case USAM_PIXEL_TYPE_U8:
      return "uint8";
    case USAM_PIXEL_TYPE_U16:
      return "uint16";
    case USAM_PIXEL_TYPE_I16:
      return "int16";
    case USAM_PIXEL_TYPE_U32:
      return "uint32";
    case USAM_PIXEL_TYPE_I32:
      return "int32";
    case USAM_PIXEL_TYPE_F32:
      return "float32";
    case USAM_PIXEL_TYPE_F64:
      return "float64";
    default:
      return "unknown";
    }
}

void
usam_image_set_error (GError **error, int code, const char *path, const char *format, ...)
{
  va_list args;
  va_start (args, format);
  g_autofree char *message = g_strdup_vprintf (format, args);
  va_end (args);

  /* Callers show this in one line of a status bar or a log. */
  g_strchomp (g_strdelimit (message, "\r\n", ' '));
  if (path)
    {
      g_autofree char *display = g_filename_display_name (path);
      g_set_error (error, USAM_ERROR, code, "%s: %s", display, message);
    }
  else
    g_set_error_literal (error, USAM_ERROR, code, message);
}

gboolean
usam_image_compute_size (const char *path, UsamPixelType type, guint64 width, guint64 height, guint64 channels,
                         guint64 depth, guint64 frames, gsize *size, GError **error)
{
  int code = path ? USAM_ERROR_INVALID_DATA : USAM_ERROR_INVALID_ARGUMENT;
  guint64 total = usam_pixel_type_get_size (type);
  const guint64 dims[] = { width, height, channels, depth, frames };

  if (total == 0)
    {
      usam_image_set_error (error, code, path, "unknown pixel type %d", (int) type);
      return FALSE;
    }
  if (width == 0 || height == 0 || channels == 0 || depth == 0 || frames == 0)
    {
      usam_image_set_error (error, code, path,
                            "empty image (%" G_GUINT64_FORMAT " × %" G_GUINT64_FORMAT " pixels, %" G_GUINT64_FORMAT
                            " channels, depth %" G_GUINT64_FORMAT ", %" G_GUINT64_FORMAT " frames)",
                            width, height, channels, depth, frames);
      return FALSE;
    }
  /* Each factor is checked before it is multiplied in, so the product
   * never wraps even for 2^32 × 2^32 headers. */
  for (guint i = 0; i < G_N_ELEMENTS (dims); i++)
    {
      if (dims[i] > G_MAXUINT || dims[i] > USAM_IMAGE_MAX_BYTES / total)
        {
          usam_image_set_error (error, code, path,
                                "image too large (%" G_GUINT64_FORMAT " × %" G_GUINT64_FORMAT
                                " pixels, %" G_GUINT64_FORMAT " channels, depth %" G_GUINT64_FORMAT
                                ", %" G_GUINT64_FORMAT " frames)",
                                width, height, channels, depth, frames);
          return FALSE;
        }
      total *= dims[i];
    }
  if (total > G_MAXSIZE)
    {
      usam_image_set_error (error, code, path, "image too large for this computer's address space");
      return FALSE;
    }
  *size = (gsize) total;
  return TRUE;
}

static UsamImage *
image_new_internal (GBytes *bytes, gboolean owns_data, UsamPixelType type, guint width, guint height, guint channels,
                    guint depth, guint frames)
{
  UsamImage *self = g_object_new (USAM_TYPE_IMAGE, NULL);
  self->bytes = bytes;
  /* The buffer is ours when we allocated it; GBytes only hands out const. */
  self->data = (guint8 *) g_bytes_get_data (bytes, NULL);
  self->owns_data = owns_data;
  self->type = type;
  self->width = width;
  self->height = height;
  self->channels = channels;
  self->depth = depth;
  self->frames = frames;
  self->plane_size = (gsize) width * height * channels * usam_pixel_type_get_size (type);
  return self;
}

static UsamImage *
image_new_allocated (const char *path, UsamPixelType type, guint width, guint height, guint channels, guint depth,
                     guint frames, GError **error)
{
  gsize size;
  if (!usam_image_compute_size (path, type, width, height, channels, depth, frames, &size, error))
    return NULL;

  gpointer data = g_try_malloc0 (size);
  if (!data)
    {
      usam_image_set_error (error, USAM_ERROR_FAILED, path,
                            "not enough memory for an image of %" G_GSIZE_FORMAT " bytes", size);
      return NULL;
    }
  return image_new_internal (g_bytes_new_take (data, size), TRUE, type, width, height, channels, depth, frames);
}

UsamImage *
usam_image_new (UsamPixelType type, guint width, guint height, guint channels, guint depth, guint frames,
                GError **error)
{
  return image_new_allocated (NULL, type, width, height, channels, depth, frames, error);
}

UsamImage *
usam_image_new_for_reading (const char *path, UsamPixelType type, guint width, guint height, guint channels,
                            guint depth, guint frames, GError **error)
{
  UsamImage *self = image_new_allocated (path, type, width, height, channels, depth, frames, error);
  if (self)
    self->path = g_strdup (path);
  return self;
}

UsamImage *
usam_image_new_from_bytes (GBytes *bytes, UsamPixelType type, guint width, guint height, guint channels, guint depth,
                           guint frames, GError **error)
{
  g_return_val_if_fail (bytes != NULL, NULL);

  gsize size;
  if (!usam_image_compute_size (NULL, type, width, height, channels, depth, frames, &size, error))
    return NULL;
  if (g_bytes_get_size (bytes) != size)
    {
      usam_image_set_error (
          error, USAM_ERROR_INVALID_ARGUMENT, NULL,
          "%" G_GSIZE_FORMAT " bytes given for a %u × %u × %u × %u × %u %s image of %" G_GSIZE_FORMAT " bytes",
          g_bytes_get_size (bytes), frames, depth, height, width, channels, usam_pixel_type_to_string (type), size);
      return NULL;
    }
  return image_new_internal (g_bytes_ref (bytes), FALSE, type, width, height, channels, depth, frames);
}

void
usam_image_set_path (UsamImage *self, const char *path)
{
  g_return_if_fail (USAM_IS_IMAGE (self));
  if (self->path != path)
    {
      g_free (self->path);
      self->path = g_strdup (path);
    }
}

/* Loading */

static gssize
read_head (int fd, guint8 *buffer, gsize size)
{
  gsize done = 0;
  while (done < size)
    {
      gssize n = read (fd, buffer + done, size - done);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return -1;
      if (n == 0)
        break;
      done += (gsize) n;
    }
  return (gssize) done;
}

static UsamImage *
load_image (const char *path, GCancellable *cancellable, GError **error)
{
  static const guint8 png_magic[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
  guint8 head[8] = { 0 };

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;

  g_autofree char *h5_file = NULL, *h5_dataset = NULL;
  if (usam_image_split_h5_path (path, &h5_file, &h5_dataset) && g_file_test (h5_file, G_FILE_TEST_IS_REGULAR))
    {
      UsamImage *image = usam_image_load_h5 (h5_file, h5_dataset, cancellable, error);
      if (image)
        usam_image_set_path (image, path);
      return image;
    }

  int fd = g_open (path, O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0)
    {
      int saved = errno;
      if (saved == ENOENT || saved == ENOTDIR)
        usam_image_set_error (error, USAM_ERROR_NOT_FOUND, path, "no such file");
      else
        usam_image_set_error (error, USAM_ERROR_IO, path, "cannot open: %s", g_strerror (saved));
      return NULL;
    }
  gssize n = read_head (fd, head, sizeof head);
  int saved = errno;
  close (fd);
  if (n < 0)
    {
      usam_image_set_error (error, USAM_ERROR_IO, path, "cannot read: %s", g_strerror (saved));
      return NULL;
    }
  if (n == 0)
    {
      usam_image_set_error (error, USAM_ERROR_INVALID_DATA, path, "the file is empty");
      return NULL;
    }

  /* The magic decides, not the name: microscopes write ".tif" files that
   * are PNGs and ".ome" files that are TIFFs. */
  gboolean tiff = n >= 4
                  && ((head[0] == 'I' && head[1] == 'I' && (head[2] == 42 || head[2] == 43) && head[3] == 0)
                      || (head[0] == 'M' && head[1] == 'M' && head[2] == 0 && (head[3] == 42 || head[3] == 43)));
  static const guint8 hdf5_magic[8] = { 0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n' };
  UsamImage *image;
  if (tiff)
    image = usam_image_load_tiff (path, cancellable, error);
  else if (n == sizeof png_magic && memcmp (head, png_magic, sizeof png_magic) == 0)
    image = usam_image_load_png (path, cancellable, error);
  else if (n == sizeof hdf5_magic && memcmp (head, hdf5_magic, sizeof hdf5_magic) == 0)
    image = usam_image_load_h5 (path, NULL, cancellable, error);
  else
    {
      usam_image_set_error (error, USAM_ERROR_INVALID_DATA, path, "not a TIFF, PNG or HDF5 image");
      return NULL;
    }

  if (image)
    usam_image_set_path (image, path);
  return image;
}

gboolean
usam_image_path_exists (const char *path)
{
  if (g_file_test (path, G_FILE_TEST_IS_REGULAR))
    return TRUE;
  g_autofree char *file = NULL, *dataset = NULL;
  return usam_image_split_h5_path (path, &file, &dataset) && g_file_test (file, G_FILE_TEST_IS_REGULAR);
}

UsamImage *
usam_image_load (const char *path, GError **error)
{
  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);
  return load_image (path, NULL, error);
}

static void
load_thread (GTask *task, gpointer source_object, gpointer task_data, GCancellable *cancellable)
{
  GError *error = NULL;
  UsamImage *image = load_image (task_data, cancellable, &error);
  if (image)
    g_task_return_pointer (task, image, g_object_unref);
  else
    g_task_return_error (task, error);
}

void
usam_image_load_async (const char *path, GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
  g_return_if_fail (path != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  g_autoptr (GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, usam_image_load_async);
  g_task_set_name (task, "[usam] load image");
  g_task_set_task_data (task, g_strdup (path), g_free);
  usam_task_run_in_thread (task, load_thread);
}

UsamImage *
usam_image_load_finish (GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == usam_image_load_async, NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* Page layout of multi-page TIFFs: OME-XML, ImageJ, or a plain volume.
 * A few attributes are all that is needed, so a scan of the <Pixels> start
 * tag stands in for an XML parser. */

void
usam_page_layout_locate (const UsamPageLayout *layout, guint page, guint index[3])
{
  /* The first axis of the order varies fastest. */
  for (guint k = 0; k < 3; k++)
    {
      guint axis = layout->order[k] == 'C' ? 0 : layout->order[k] == 'Z' ? 1 : 2;
      index[axis] = page % layout->sizes[axis];
      page /= layout->sizes[axis];
    }
}

static const char *
find_pixels_element (const char *xml, const char **end)
{
  /* <Pixels …> or with a namespace prefix, <ome:Pixels …>. */
  for (const char *p = strstr (xml, "Pixels"); p; p = strstr (p + 1, "Pixels"))
    {
      if (p == xml || !g_ascii_isspace (p[6]))
        continue;
      const char *q = p - 1;
      if (*q == ':')
        while (q > xml && *q != '<' && !g_ascii_isspace (*q))
          q--;
      if (*q != '<')
        continue;
      *end = strchr (p, '>');
      return *end ? p + 6 : NULL;
    }
  return NULL;
}

static char *
get_attribute (const char *p, const char *end, const char *wanted)
{
  gsize wanted_len = strlen (wanted);
  while (p < end)
    {
      while (p < end && (g_ascii_isspace (*p) || *p == '/'))
        p++;
      const char *name = p;
      while (p < end && *p != '=' && !g_ascii_isspace (*p))
        p++;
      gsize name_len = (gsize) (p - name);
      while (p < end && g_ascii_isspace (*p))
        p++;
      if (p >= end || *p != '=')
        return NULL;
      p++;
      while (p < end && g_ascii_isspace (*p))
        p++;
      if (p >= end || (*p != '"' && *p != '\''))
        return NULL;
      const char *value = p + 1;
      const char *close = memchr (value, *p, (gsize) (end - value));
      if (!close)
        return NULL;
      if (name_len == wanted_len && strncmp (name, wanted, name_len) == 0)
        return g_strndup (value, (gsize) (close - value));
      p = close + 1;
    }
  return NULL;
}

static guint
parse_count (char *text)
{
  guint64 value = 0;
  if (!text || !g_ascii_string_to_unsigned (g_strstrip (text), 10, 1, G_MAXUINT, &value, NULL))
    return 0;
  return (guint) value;
}

static gboolean
parse_ome (const char *desc, guint spp, UsamPageLayout *layout)
{
  const char *end = NULL;
  const char *attrs = find_pixels_element (desc, &end);
  if (!attrs)
    return FALSE;

  g_autofree char *size_c = get_attribute (attrs, end, "SizeC");
  g_autofree char *size_z = get_attribute (attrs, end, "SizeZ");
  g_autofree char *size_t = get_attribute (attrs, end, "SizeT");
  g_autofree char *order = get_attribute (attrs, end, "DimensionOrder");
  guint c = size_c ? parse_count (size_c) : 1;
  guint z = size_z ? parse_count (size_z) : 1;
  guint t = size_t ? parse_count (size_t) : 1;
  if (c == 0 || z == 0 || t == 0)
    return FALSE;

  /* SizeC counts samples; RGB pages hold spp of them at once. */
  layout->sizes[0] = spp == 1 ? c : (c % spp == 0 ? c / spp : 1);
  layout->sizes[1] = z;
  layout->sizes[2] = t;
  if (order && strlen (order) == 5 && g_str_has_prefix (order, "XY") && strchr (order + 2, 'C')
      && strchr (order + 2, 'Z') && strchr (order + 2, 'T'))
    memcpy (layout->order, order + 2, 3);
  else
    memcpy (layout->order, "ZCT", 3);
  return TRUE;
}

static void
parse_imagej (const char *desc, guint spp, UsamPageLayout *layout)
{
  g_auto (GStrv) lines = g_strsplit (desc, "\n", -1);
  guint c = 1, z = 1, t = 1;
  for (guint i = 0; lines[i]; i++)
    {
      char *value = strchr (lines[i], '=');
      if (!value)
        continue;
      *value++ = '\0';
      if (strcmp (lines[i], "channels") == 0)
        c = MAX (parse_count (value), 1);
      else if (strcmp (lines[i], "slices") == 0)
        z = MAX (parse_count (value), 1);
      else if (strcmp (lines[i], "frames") == 0)
        t = MAX (parse_count (value), 1);
    }
  /* ImageJ stores channels as pages; usam (and RGB) as samples of a page. */
  layout->sizes[0] = spp > 1 && c == spp ? 1 : c;
  layout->sizes[1] = z;
  layout->sizes[2] = t;
  memcpy (layout->order, "CZT", 3);
}

gboolean
usam_image_find_page_layout (const char *path, const char *desc, guint spp, guint n_pages, UsamPageLayout *layout,
                             GError **error)
{
  const char *kind = NULL;

  memcpy (layout->order, "CZT", 4);
  if (desc && (strstr (desc, "<OME") || strstr (desc, ":OME")) && parse_ome (desc, spp, layout))
    kind = "OME-XML";
  else if (desc && g_str_has_prefix (desc, "ImageJ="))
    {
      parse_imagej (desc, spp, layout);
      kind = "ImageJ description";
      /* A plain stack saved by ImageJ says images= and nothing else. */
      if (layout->sizes[0] * layout->sizes[1] * layout->sizes[2] == 1)
        kind = NULL;
    }
  if (!kind)
    {
      /* A plain multi-page TIFF is a volume. */
      layout->sizes[0] = 1;
      layout->sizes[1] = n_pages;
      layout->sizes[2] = 1;
      return TRUE;
    }

  guint64 planes = (guint64) layout->sizes[0] * layout->sizes[1] * layout->sizes[2];
  if (planes > n_pages)
    {
      usam_image_set_error (error, USAM_ERROR_UNSUPPORTED, path,
                            "the %s describes %" G_GUINT64_FORMAT
                            " planes (%u channels × %u slices × %u frames) but the "
                            "file has %u pages; data spread over several files or stored past the first page is not "
                            "supported",
                            kind, planes, layout->sizes[0], layout->sizes[1], layout->sizes[2], n_pages);
      return FALSE;
    }
  /* Extra pages (a second OME series, a thumbnail) are left out. */
  return TRUE;
}

/* Atomic saving */

int
usam_image_open_temporary (const char *path, char **tmp_path, GError **error)
{
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *base = g_path_get_basename (path);
  g_autofree char *name = g_strdup_printf (".%s.XXXXXX", base);
  g_autofree char *tmpl = g_build_filename (dir, name, NULL);

  /* 0666 so the umask, not mkstemp's 0600, decides who may read it. */
  int fd = g_mkstemp_full (tmpl, O_RDWR | O_CLOEXEC, 0666);
  if (fd < 0)
    {
      int saved = errno;
      usam_image_set_error (error, saved == ENOENT ? USAM_ERROR_NOT_FOUND : USAM_ERROR_IO, path,
                            "cannot create a file in %s: %s", dir, g_strerror (saved));
      return -1;
    }
  *tmp_path = g_steal_pointer (&tmpl);
  return fd;
}

gboolean
usam_image_commit_temporary (const char *tmp_path, const char *path, GError **error)
{
  if (g_rename (tmp_path, path) != 0)
    {
      int saved = errno;
      g_unlink (tmp_path);
      usam_image_set_error (error, USAM_ERROR_IO, path, "cannot replace the file: %s", g_strerror (saved));
      return FALSE;
    }
  return TRUE;
}

void
usam_image_discard_temporary (const char *tmp_path)
{
  if (tmp_path)
    g_unlink (tmp_path);
}

/* Getters */

UsamPixelType
usam_image_get_pixel_type (UsamImage *self)
{
  g_return_val_if_fail (USAM_IS_IMAGE (self), USAM_PIXEL_TYPE_U8);
  return self->type;
}

guint
usam_image_get_width (UsamImage *self)
{
  g_return_val_if_fail (USAM_IS_IMAGE (self), 0);
  return self->width;
}

guint
usam_image_get_height (UsamImage *self)
{
  g_return_val_if_fail (USAM_IS_IMAGE (self), 0);
  return self->height;
}

guint
usam_image_get_channels (UsamImage *self)
{
  g_return_val_if_fail (USAM_IS_IMAGE (self), 0);
  return self->channels;
}

guint
usam_image_get_depth (UsamImage *self)
{
  g_return_val_if_fail (USAM_IS_IMAGE (self), 0);
  return self->depth;
}

guint
usam_image_get_frames (UsamImage *self)
{
  g_return_val_if_fail (USAM_IS_IMAGE (self), 0);
  return self->frames;
}

const char *
usam_image_get_path (UsamImage *self)
{
  g_return_val_if_fail (USAM_IS_IMAGE (self), NULL);
  return self->path;
}

GBytes *
usam_image_get_bytes (UsamImage *self)
{
  g_return_val_if_fail (USAM_IS_IMAGE (self), NULL);
  return self->bytes;
}

gsize
usam_image_get_plane_size (UsamImage *self)
{
  g_return_val_if_fail (USAM_IS_IMAGE (self), 0);
  return self->plane_size;
}

const void *
usam_image_get_plane (UsamImage *self, guint t, guint z)
{
  g_return_val_if_fail (USAM_IS_IMAGE (self), NULL);
  g_return_val_if_fail (t < self->frames && z < self->depth, NULL);
  return self->data + ((gsize) t * self->depth + z) * self->plane_size;
}

void *
usam_image_get_plane_mutable (UsamImage *self, guint t, guint z)
{
  g_return_val_if_fail (USAM_IS_IMAGE (self), NULL);
  g_return_val_if_fail (self->owns_data, NULL);
  g_return_val_if_fail (t < self->frames && z < self->depth, NULL);
  return self->data + ((gsize) t * self->depth + z) * self->plane_size;
}

double
usam_image_get_value (UsamImage *self, guint t, guint z, guint y, guint x, guint c)
{
  g_return_val_if_fail (USAM_IS_IMAGE (self), 0.0);
  g_return_val_if_fail (t < self->frames && z < self->depth, 0.0);
  g_return_val_if_fail (y < self->height && x < self->width && c < self->channels, 0.0);

  gsize index = ((((gsize) t * self->depth + z) * self->height + y) * self->width + x) * self->channels + c;
  const guint8 *p = self->data + index * usam_pixel_type_get_size (self->type);

  /* memcpy: buffers from usam_image_new_from_bytes() need not be aligned. */
  switch (self->type)
    {
    case USAM_PIXEL_TYPE_U8:
      return *p;
    case USAM_PIXEL_TYPE_U16:
      {
        guint16 v;
        memcpy (&v, p, sizeof v);
        return v;
      }
    case USAM_PIXEL_TYPE_I16:
      {
        gint16 v;
        memcpy (&v, p, sizeof v);
        return v;
      }
    case USAM_PIXEL_TYPE_U32:
      {
        guint32 v;
        memcpy (&v, p, sizeof v);
        return v;
      }
    case USAM_PIXEL_TYPE_I32:
      {
        gint32 v;
        memcpy (&v, p, sizeof v);
        return v;
      }
    case USAM_PIXEL_TYPE_F32:
      {
        float v;
        memcpy (&v, p, sizeof v);
        return v;
      }
    case USAM_PIXEL_TYPE_F64:
      {
        double v;
        memcpy (&v, p, sizeof v);
        return v;
      }
    default:
      g_return_val_if_reached (0.0);
    }
}

UsamImage *
usam_image_dup_region (UsamImage *self, guint t, guint z, guint x, guint y, guint width, guint height)
{
  g_return_val_if_fail (USAM_IS_IMAGE (self), NULL);
  g_return_val_if_fail (t < self->frames && z < self->depth, NULL);
  g_return_val_if_fail (width > 0 && height > 0 && x + width <= self->width && y + height <= self->height, NULL);
  g_autoptr (GError) error = NULL;
  UsamImage *region = usam_image_new (self->type, width, height, self->channels, 1, 1, &error);
  if (!region)
    {
      g_warning ("%s", error->message);
      return NULL;
    }
  gsize pixel = usam_pixel_type_get_size (self->type) * self->channels;
  const guint8 *src = usam_image_get_plane (self, t, z);
  for (guint row = 0; row < height; row++)
    memcpy ((guint8 *) region->data + (gsize) row * width * pixel,
            src + ((gsize) (y + row) * self->width + x) * pixel, (gsize) width * pixel);
  return region;
}

UsamImage *
usam_image_dup_plane (UsamImage *self, guint t, guint z)
{
  g_return_val_if_fail (USAM_IS_IMAGE (self), NULL);
  g_return_val_if_fail (t < self->frames && z < self->depth, NULL);

  g_autoptr (GError) error = NULL;
  UsamImage *plane = usam_image_new (self->type, self->width, self->height, self->channels, 1, 1, &error);
  if (!plane)
    {
      /* The plane is smaller than @self, which was allocated: only a
       * failing malloc lands here. */
      g_warning ("%s", error->message);
      return NULL;
    }
  memcpy (plane->data, usam_image_get_plane (self, t, z), self->plane_size);
  return plane;
}
