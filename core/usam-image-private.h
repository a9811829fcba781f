/* usam-image-private.h — what usam-image.c shares with its file readers
 * and writers. Not installed, not for ui/.
 */
#pragma once

#include "usam-error.h"
#include "usam-image.h"

G_BEGIN_DECLS

/* Larger images are refused before anything is allocated: a damaged header
 * must give an error, not an attempt at a terabyte malloc. */
#define USAM_IMAGE_MAX_BYTES ((guint64) 1 << 40)

/* Sets @error to "<path>: <message>" on one line (newlines in the message
 * become spaces). @path may be NULL, then the message stands alone. */
void usam_image_set_error (GError **error, int code, const char *path, const char *format, ...) G_GNUC_PRINTF (4, 5);

/* Checks a shape and computes its size in bytes; fails with INVALID_DATA
 * naming @path (or INVALID_ARGUMENT without one) when a dimension is 0 or
 * the size passes USAM_IMAGE_MAX_BYTES. */
gboolean usam_image_compute_size (const char *path, UsamPixelType type, guint64 width, guint64 height, guint64 channels,
                                  guint64 depth, guint64 frames, gsize *size, GError **error);

/* A zero-filled image for a reader to fill, or NULL with "<path>: not
 * enough memory" when the allocation fails. */
UsamImage *usam_image_new_for_reading (const char *path, UsamPixelType type, guint width, guint height, guint channels,
                                       guint depth, guint frames, GError **error);
void usam_image_set_path (UsamImage *self, const char *path);

/* Readers: @path has already been seen to start with the format's magic.
 * They check @cancellable between planes. */
UsamImage *usam_image_load_tiff (const char *path, GCancellable *cancellable, GError **error);
UsamImage *usam_image_load_png (const char *path, GCancellable *cancellable, GError **error);
/* @dataset NULL: the file's one image dataset (usam-image-h5.c). */
UsamImage *usam_image_load_h5 (const char *path, const char *dataset, GCancellable *cancellable, GError **error);
/* "FILE.h5:/group/dataset" (when no file has that whole name) into its parts. */
gboolean usam_image_split_h5_path (const char *path, char **file, char **dataset);

/* Which (channel, slice, frame) each page of a multi-page TIFF holds. */
typedef struct
{
  guint sizes[3]; /* page channels, slices, frames */
  char order[4];  /* axes from fastest to slowest, e.g. "CZT" */
} UsamPageLayout;

/* From the first page's ImageDescription @desc (OME-XML, ImageJ, or
 * anything else: a volume of @n_pages slices). @spp is the samples per
 * pixel of a page. Fails when the description needs more pages than there
 * are. */
gboolean usam_image_find_page_layout (const char *path, const char *desc, guint spp, guint n_pages,
                                      UsamPageLayout *layout, GError **error);
/* Sets @index to the (channel, slice, frame) of page @page. */
void usam_page_layout_locate (const UsamPageLayout *layout, guint page, guint index[3]);

/* Atomic saving: a temporary file beside @path, opened for writing (the
 * returned descriptor), then either committed (renamed over @path) or
 * discarded (removed). */
int usam_image_open_temporary (const char *path, char **tmp_path, GError **error);
gboolean usam_image_commit_temporary (const char *tmp_path, const char *path, GError **error);
void usam_image_discard_temporary (const char *tmp_path);

G_END_DECLS
