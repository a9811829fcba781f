/* usam-image-display.h — turning an image plane into something to look at.
 *
 * Display needs a plane's range of values, contrast limits at percentiles
 * (so a few hot pixels do not leave the image black), and 8-bit RGB
 * through those limits. Each is one pass over the plane.
 */
#pragma once

#include "usam-image.h"

G_BEGIN_DECLS

/* The finite minimum and maximum of channel @channel of plane (@t, @z);
 * 0 and 1 when there are none. */
void usam_image_plane_range (UsamImage *image, guint t, guint z, guint channel, double *min, double *max);

/* The @low_percent and @high_percent percentiles of channel @channel of
 * plane (@t, @z), to 1/4096 of its range. */
void usam_image_plane_percentiles (UsamImage *image, guint t, guint z, guint channel, double low_percent,
                                   double high_percent, double *low, double *high);

/* Counts of channel @channel of plane (@t, @z) in @n_bins equal bins from
 * @min to @max (the plane's range); values outside are left out. */
void usam_image_plane_histogram (UsamImage *image, guint t, guint z, guint channel, double min, double max,
                                 guint64 *bins, guint n_bins);

/* Plane (@t, @z) as packed 8-bit RGB, width × height × 3: values from
 * @low to @high map to 0–255. Three channels are shown as RGB; otherwise
 * channel 0 in grey. */
GBytes *usam_image_render_rgb8 (UsamImage *image, guint t, guint z, double low, double high);

G_END_DECLS
