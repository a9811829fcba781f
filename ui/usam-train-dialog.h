/* usam-train-dialog.h — fine-tuning from the annotator.
 *
 * Trains on the session's project (its committed objects) or on an image
 * folder with a label folder, starting from the session's model, a model
 * trained before, or random weights of a size preset, for a time budget.
 * The run (UsamTrainJob) works in the background while the dialog plots
 * the training loss and the validation IoU; Cancel stops it and leaves no
 * model behind. The result lands in the models folder, where the dialog
 * finds it again as a starting point, and "Use this model" hands it to
 * the session at once. Actions: "train.start", "train.cancel",
 * "train.use".
 */
#pragma once

#include <gtk/gtk.h>

#include "usam-session.h"
#include "usam-train-plot.h"

G_BEGIN_DECLS

#define USAM_TYPE_TRAIN_DIALOG (usam_train_dialog_get_type ())
G_DECLARE_FINAL_TYPE (UsamTrainDialog, usam_train_dialog, USAM, TRAIN_DIALOG, GtkWindow)

GtkWidget *usam_train_dialog_new (GtkWindow *parent, UsamSession *session);

/* Trains on these folders instead of the project (what the folder
 * choosers set). */
void usam_train_dialog_set_folders (UsamTrainDialog *self, const char *image_dir, const char *label_dir);
/* Chooses the starting point: a checkpoint path, or a size preset id
 * (usam_train_presets()) to start from scratch. FALSE if not offered. */
gboolean usam_train_dialog_select_start (UsamTrainDialog *self, const char *checkpoint_or_preset);
void usam_train_dialog_set_minutes (UsamTrainDialog *self, double minutes);
/* Also stops after @steps steps; 0 (the default) is the time budget alone. */
void usam_train_dialog_set_step_limit (UsamTrainDialog *self, guint steps);
/* Steps between validations (default 25). */
void usam_train_dialog_set_val_every (UsamTrainDialog *self, guint steps);

gboolean usam_train_dialog_is_running (UsamTrainDialog *self);
/* The model the last run made, or NULL. */
const char *usam_train_dialog_get_result (UsamTrainDialog *self);
/* The status line, and the error shown (NULL when none). */
const char *usam_train_dialog_get_status (UsamTrainDialog *self);
const char *usam_train_dialog_get_error (UsamTrainDialog *self);
UsamTrainPlot *usam_train_dialog_get_plot (UsamTrainDialog *self);

G_END_DECLS
