/* usam-model-chooser.h — the header bar's Model button and its list.
 *
 * The button names the model in use (its tooltip says all of it); its
 * popover lists the known models (usam-known-model.h) grouped as bundled,
 * trained here, Segment Anything and μSAM, each with what it is — type,
 * size, AIS decoder or not — or where to put it when it is not installed,
 * and ends with "Other checkpoint file…". The list is read again, off the
 * main loop, each time the popover opens. Choosing a row activates
 * "annotator.load-model" with the file's path; the file button activates
 * "annotator.choose" with CHOOSE_MODEL's value (given at construction).
 */
#pragma once

#include <gtk/gtk.h>

#include "usam-model.h"

G_BEGIN_DECLS

#define USAM_TYPE_MODEL_CHOOSER (usam_model_chooser_get_type ())
G_DECLARE_FINAL_TYPE (UsamModelChooser, usam_model_chooser, USAM, MODEL_CHOOSER, GtkWidget)

GtkWidget *usam_model_chooser_new (int choose_file_target);
/* The model in use (NULL: none): the button's label and tooltip, and the
 * row marked as current. */
void usam_model_chooser_set_model (UsamModelChooser *self, UsamModel *model);

/* For tests: opens the popover and reads the list; the rows are there once
 * usam_model_chooser_is_listing() returns FALSE. */
void usam_model_chooser_popup (UsamModelChooser *self);
gboolean usam_model_chooser_is_listing (UsamModelChooser *self);
/* The row of the model file @name (a UsamKnownModel's name), or NULL. */
GtkListBoxRow *usam_model_chooser_get_row (UsamModelChooser *self, const char *name);
GtkWidget *usam_model_chooser_get_popover (UsamModelChooser *self);

G_END_DECLS
