/* usam-rle.h — compact binary masks: run lengths inside a bounding box.
 *
 * A project stores thousands of objects; a full-size mask for each would be
 * megabytes. An object is kept as its bounding box and the run lengths of
 * the box's pixels in row-major order, alternating background and
 * foreground and starting with background (which may be a run of 0), each
 * run an unsigned LEB128 varint. A typical nucleus takes a few hundred
 * bytes.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* A rectangle of pixels: x ≤ column < x + width, y ≤ row < y + height. */
typedef struct
{
  guint x, y, width, height;
} UsamRect;

/* Encodes the non-zero pixels of @mask (@width × @height, rows @stride
 * bytes apart). Returns NULL, with @box and @area zeroed, for an empty mask. */
GBytes *usam_rle_encode (const guint8 *mask, guint width, guint height, gsize stride, UsamRect *box, guint64 *area);

/* The same for the pixels of @labels equal to @value, looking only inside
 * @within when it is not NULL (a label image with many objects would
 * otherwise be scanned once per object). */
GBytes *usam_rle_encode_label (const guint32 *labels, guint width, guint height, guint32 value,
                               const UsamRect *within, UsamRect *box, guint64 *area);

/* Calls @func for each foreground run: row @y, columns x0 ≤ x < x1, in
 * image coordinates. Fails with USAM_ERROR_INVALID_DATA when @rle does not
 * describe exactly @box's pixels. */
typedef void (*UsamRleRunFunc) (guint y, guint x0, guint x1, gpointer user_data);
gboolean usam_rle_foreach_run (GBytes *rle, const UsamRect *box, UsamRleRunFunc func, gpointer user_data,
                               GError **error);

/* Sets the pixels of the mask to @value in @mask (@width × @height bytes) or
 * @labels; parts outside the image are ignored. */
gboolean usam_rle_paint_mask (GBytes *rle, const UsamRect *box, guint8 *mask, guint width, guint height, guint8 value,
                              GError **error);
gboolean usam_rle_paint_labels (GBytes *rle, const UsamRect *box, guint32 *labels, guint width, guint height,
                                guint32 value, GError **error);

/* Sets to @value the pixels of @mask (@width × @height bytes) whose
 * centres lie within @radius of the segment (@x0, @y0)–(@x1, @y1): one
 * stroke of a round brush. */
void usam_mask_paint_segment (guint8 *mask, guint width, guint height, double x0, double y0, double x1, double y1,
                              double radius, guint8 value);

G_END_DECLS
