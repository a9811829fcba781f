/* usam-train-plot.h — the live curve of a training run: the training loss
 * per step (left scale, fitted to the data) and the validation IoU when it
 * is measured (right scale, 0 to 1). */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define USAM_TYPE_TRAIN_PLOT (usam_train_plot_get_type ())
G_DECLARE_FINAL_TYPE (UsamTrainPlot, usam_train_plot, USAM, TRAIN_PLOT, GtkWidget)

GtkWidget *usam_train_plot_new (void);
void usam_train_plot_clear (UsamTrainPlot *self);
/* Non-finite values are skipped. */
void usam_train_plot_add_loss (UsamTrainPlot *self, double step, double loss);
void usam_train_plot_add_val_iou (UsamTrainPlot *self, double step, double iou);
guint usam_train_plot_get_n_losses (UsamTrainPlot *self);
guint usam_train_plot_get_n_val (UsamTrainPlot *self);

G_END_DECLS
