/* usam-window-private.h — what usam-window.c shares with usam-window-actions.c,
 * which holds the "annotator.*" actions, their keys and the file choosers.
 */
#pragma once

#include "usam-window.h"

#include "usam-histogram.h"
#include "usam-model-chooser.h"
#include "usam-toolbar.h"

G_BEGIN_DECLS

struct _UsamWindow
{
  GtkApplicationWindow parent_instance;

  UsamSession *session;
  UsamCanvas *canvas;
  UsamAutoPanel *auto_panel; /* beside the canvas, hidden until toggled */
  UsamLineageView *lineage_view; /* likewise */
  UsamProjectionBar *projection_bar; /* segmenting in a volume, Shift+S */

  GtkLabel *title, *subtitle;
  UsamToolbar *toolbar;
  UsamModelChooser *model_chooser; /* says which model is in use, offers the others */

  GtkRevealer *message_revealer;
  GtkLabel *message_label;
  GtkWidget *message_box;
  guint message_timeout;

  GtkWidget *z_row, *t_row;
  GtkScale *z_scale, *t_scale;

  GtkSpinButton *low, *high;
  UsamHistogram *histogram;
  gulong low_handler, high_handler;

  GtkWidget *progress_box;
  GtkProgressBar *progress;
  GtkLabel *status;   /* what is going on */
  GtkLabel *position; /* the pixel under the pointer */
};

/* What the "annotator.choose" action asks for; buttons and keys pass it as an "i". */
typedef enum {
  CHOOSE_OPEN,
  CHOOSE_MODEL,
  CHOOSE_SAVE_AS,
  CHOOSE_EXPORT,
  CHOOSE_IMPORT,
  CHOOSE_FOLDER,
} Choice;

/* Shows @error, if set, as an error message. */
void usam_window_show_error (UsamWindow *self, GError *error);
/* Enables the actions, and fills the model button and the status line, for the session's state. */
void usam_window_update_state (UsamWindow *self);
void usam_window_update_titles (UsamWindow *self);
/* The contrast spin buttons and histogram limits follow the canvas. */
void usam_window_update_contrast_controls (UsamWindow *self);

/* Installs the "annotator.*" actions and their keys. */
void usam_window_class_init_actions (GtkWidgetClass *widget_class);

G_END_DECLS
