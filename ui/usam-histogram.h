/* usam-histogram.h — a small histogram of the plane shown, with the
 * contrast limits marked, beside the contrast controls. Counts are drawn
 * on a log scale so that a dark background does not flatten the rest. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define USAM_TYPE_HISTOGRAM (usam_histogram_get_type ())
G_DECLARE_FINAL_TYPE (UsamHistogram, usam_histogram, USAM, HISTOGRAM, GtkWidget)

GtkWidget *usam_histogram_new (void);
/* @n_bins counts of equal bins from @min to @max (copied); NULL clears. */
void usam_histogram_set_data (UsamHistogram *self, const guint64 *bins, guint n_bins, double min, double max);
void usam_histogram_set_limits (UsamHistogram *self, double low, double high);

G_END_DECLS
