/* usam-image.h — an N-dimensional microscopy image in memory.
 *
 * Pixels are stored as T × Z × Y × X × C, channels interleaved, one
 * contiguous buffer. A 2D image has depth 1 and 1 frame; a volume has
 * depth > 1; a time-lapse has frames > 1. Label images are UsamImages of an
 * integer type with one channel.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef enum {
  USAM_PIXEL_TYPE_U8,
  USAM_PIXEL_TYPE_U16,
  USAM_PIXEL_TYPE_I16,
  USAM_PIXEL_TYPE_U32,
  USAM_PIXEL_TYPE_I32,
  USAM_PIXEL_TYPE_F32,
  USAM_PIXEL_TYPE_F64,
} UsamPixelType;

gsize usam_pixel_type_get_size (UsamPixelType type);
const char *usam_pixel_type_to_string (UsamPixelType type);

#define USAM_TYPE_IMAGE (usam_image_get_type ())
G_DECLARE_FINAL_TYPE (UsamImage, usam_image, USAM, IMAGE, GObject)

/* A zero-filled image. Returns NULL (with @error) when a dimension is 0 or
 * the size overflows. */
UsamImage *usam_image_new (UsamPixelType type, guint width, guint height, guint channels, guint depth,
                           guint frames, GError **error);
/* Takes a reference on @bytes, which must hold exactly the image's size. */
UsamImage *usam_image_new_from_bytes (GBytes *bytes, UsamPixelType type, guint width, guint height, guint channels,
                                      guint depth, guint frames, GError **error);

/* Reads TIFF (8/16/32-bit integer, 32/64-bit float; grey, RGB, RGBA or more
 * channels; multi-page; ImageJ hyperstacks; OME-TIFF with its Z/T/C
 * order) and PNG (8/16-bit grey, grey+alpha, RGB, RGBA, palette).
 * Errors name the file and what is wrong with it. */
/* TIFF, OME-TIFF, PNG, or an HDF5 dataset ("FILE.h5", or
 * "FILE.h5:/group/dataset" to name one). */
UsamImage *usam_image_load (const char *path, GError **error);
/* Whether @path names a file usam_image_load() may read: an existing
 * regular file, or an HDF5 dataset of one. */
gboolean usam_image_path_exists (const char *path);
void usam_image_load_async (const char *path, GCancellable *cancellable, GAsyncReadyCallback callback,
                            gpointer user_data);
UsamImage *usam_image_load_finish (GAsyncResult *result, GError **error);

/* Writes a TIFF (deflate-compressed; pages for Z and T, described as an
 * ImageJ hyperstack) atomically: a temporary file renamed into place. */
gboolean usam_image_save_tiff (UsamImage *self, const char *path, GError **error);
/* Writes an 8- or 16-bit PNG with 1, 2, 3 or 4 channels; 2D only. */
gboolean usam_image_save_png (UsamImage *self, const char *path, GError **error);

UsamPixelType usam_image_get_pixel_type (UsamImage *self);
guint usam_image_get_width (UsamImage *self);
guint usam_image_get_height (UsamImage *self);
guint usam_image_get_channels (UsamImage *self);
guint usam_image_get_depth (UsamImage *self);
guint usam_image_get_frames (UsamImage *self);
/* The file it was loaded from or saved to, or NULL. */
const char *usam_image_get_path (UsamImage *self);
GBytes *usam_image_get_bytes (UsamImage *self);

/* Bytes of one Y × X × C plane, and a pointer to plane (@t, @z). The
 * pointer is valid while @self lives; it is writable only for images made
 * with usam_image_new(), which own their buffer. */
gsize usam_image_get_plane_size (UsamImage *self);
const void *usam_image_get_plane (UsamImage *self, guint t, guint z);
void *usam_image_get_plane_mutable (UsamImage *self, guint t, guint z);

/* One sample as a double, for display and statistics. */
double usam_image_get_value (UsamImage *self, guint t, guint z, guint y, guint x, guint c);

/* A new 2D image holding plane (@t, @z). */
UsamImage *usam_image_dup_plane (UsamImage *self, guint t, guint z);
/* A copy of the box (@x, @y, @width, @height) of plane (@t, @z), as a 2D image. */
UsamImage *usam_image_dup_region (UsamImage *self, guint t, guint z, guint x, guint y, guint width, guint height);

G_END_DECLS
