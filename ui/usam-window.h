/* usam-window.h — the annotator's main window.
 *
 * Wires a UsamSession (what is being annotated) to a UsamCanvas (what is
 * shown) and to the controls around it: tools, the μSAM keys (S segment,
 * C commit, Shift+C clear, Ctrl+Z / Ctrl+Shift+Z undo and redo, N next
 * image, T point polarity, Shift+S in a volume: segment in volume), Z and T
 * sliders for volumes and time-lapses, contrast, layers, the embedding's
 * progress with a cancel button, and in-window messages for errors. Every
 * action is a widget action named "annotator.NAME", so buttons, keys and
 * tests drive the same code.
 */
#pragma once

#include <gtk/gtk.h>

#include "usam-auto-panel.h"
#include "usam-canvas.h"
#include "usam-lineage-view.h"
#include "usam-projection-bar.h"
#include "usam-session.h"

G_BEGIN_DECLS

#define USAM_TYPE_WINDOW (usam_window_get_type ())
G_DECLARE_FINAL_TYPE (UsamWindow, usam_window, USAM, WINDOW, GtkApplicationWindow)

/* @application may be NULL (tests). */
UsamWindow *usam_window_new (GtkApplication *application);

/* Opens an image, a folder or a project; errors are also shown in the
 * window. */
gboolean usam_window_open (UsamWindow *self, const char *path, GError **error);
/* Uses @model (for instance a tiny random one in tests). */
void usam_window_set_model (UsamWindow *self, UsamModel *model);
/* Loads a checkpoint in the background. */
void usam_window_load_model (UsamWindow *self, const char *path);

/* Shows @text above the image until closed (errors) or for a few seconds. */
void usam_window_show_message (UsamWindow *self, const char *text, gboolean is_error);
/* The message shown, or NULL. */
const char *usam_window_get_message (UsamWindow *self);

UsamSession *usam_window_get_session (UsamWindow *self);
UsamCanvas *usam_window_get_canvas (UsamWindow *self);
/* The automatic segmentation side panel (the "Automatic" toggle shows it). */
UsamAutoPanel *usam_window_get_auto_panel (UsamWindow *self);
/* The tracks and lineages side panel (the "Lineage" toggle shows it). */
UsamLineageView *usam_window_get_lineage_view (UsamWindow *self);
/* Segmenting an object through a volume (Shift+S in a volume). */
UsamProjectionBar *usam_window_get_projection_bar (UsamWindow *self);

G_END_DECLS
