/* usam-toolbar.h — the annotator's tools and actions above the image.
 *
 * Tool buttons (one active at a time), point polarity, brush size, the
 * segment / commit / clear / undo / redo / next buttons (bound to the
 * window's "annotator.*" actions), zoom, and the layers popover. It drives
 * the canvas and the session directly for what is purely a setting.
 */
#pragma once

#include <gtk/gtk.h>

#include "usam-canvas.h"
#include "usam-session.h"

G_BEGIN_DECLS

#define USAM_TYPE_TOOLBAR (usam_toolbar_get_type ())
G_DECLARE_FINAL_TYPE (UsamToolbar, usam_toolbar, USAM, TOOLBAR, GtkBox)

GtkWidget *usam_toolbar_new (UsamCanvas *canvas, UsamSession *session);
void usam_toolbar_set_tool (UsamToolbar *self, UsamTool tool);
/* T: switches to the point tool and flips positive / negative. */
void usam_toolbar_toggle_polarity (UsamToolbar *self);

G_END_DECLS
