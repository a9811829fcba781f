/* usam-plot.h — small line charts as PNG files (cairo), for evaluation
 * curves and training logs written by the command line. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _UsamPlot UsamPlot;

UsamPlot *usam_plot_new (const char *title, const char *x_label, const char *y_label);
void usam_plot_free (UsamPlot *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (UsamPlot, usam_plot_free)

/* Adds a series; @dashed draws it as a reference line. NAN values are gaps. */
void usam_plot_add_series (UsamPlot *self, const char *name, const double *x, const double *y, guint n, gboolean dashed);
/* Fixes the y range (otherwise it fits the data). */
void usam_plot_set_y_range (UsamPlot *self, double lo, double hi);
gboolean usam_plot_save_png (UsamPlot *self, const char *path, guint width, guint height, GError **error);

G_END_DECLS
