/* usam-auto-panel.h — the annotator's automatic segmentation panel.
 *
 * A side panel with the mode (AIS, AMG, APG; AIS and APG need a model with
 * an AIS decoder and are greyed out without one), the mode's parameters
 * starting from the model's presets (CKPT.presets for AIS, else
 * micro-sam's defaults), and "Reset to presets". While the panel is shown
 * the current plane is segmented in the background (usam-auto-segmenter.h)
 * as soon as its embedding is there, and again 150 ms after a parameter
 * stops changing: post-processing parameters re-run without the model.
 * The result is drawn on the canvas's automatic layer with a progress bar
 * and a cancel button while it computes. "Commit all" adds every object
 * to the project in one edit (one undo step); usam_auto_panel_commit_at()
 * adds the one under a click. Objects committed from here have the source
 * "automatic" and leave the preview.
 */
#pragma once

#include <gtk/gtk.h>

#include "usam-auto-segmenter.h"
#include "usam-canvas.h"
#include "usam-session.h"

G_BEGIN_DECLS

#define USAM_TYPE_AUTO_PANEL (usam_auto_panel_get_type ())
G_DECLARE_FINAL_TYPE (UsamAutoPanel, usam_auto_panel, USAM, AUTO_PANEL, GtkBox)

GtkWidget *usam_auto_panel_new (UsamCanvas *canvas, UsamSession *session);

UsamAutoMode usam_auto_panel_get_mode (UsamAutoPanel *self);
/* FALSE (and no change) for a mode the model cannot run. */
gboolean usam_auto_panel_set_mode (UsamAutoPanel *self, UsamAutoMode mode);
/* The spin button of parameter @key of the current mode's page ("min_size",
 * "points_per_side", "foreground_threshold", …), or NULL. */
GtkSpinButton *usam_auto_panel_get_spin (UsamAutoPanel *self, UsamAutoMode mode, const char *key);
/* Back to the model's presets (re-runs). */
void usam_auto_panel_reset (UsamAutoPanel *self);

/* Starts a run now (a parameter change starts one by itself, debounced). */
void usam_auto_panel_run (UsamAutoPanel *self);
gboolean usam_auto_panel_is_running (UsamAutoPanel *self);
void usam_auto_panel_cancel (UsamAutoPanel *self);
/* The segmentation shown, less what was committed from it; NULL when none. */
const UsamAutoResult *usam_auto_panel_get_result (UsamAutoPanel *self);
UsamAutoSegmenter *usam_auto_panel_get_segmenter (UsamAutoPanel *self);

/* Automatic 3D of the current frame of a volume: AIS with the panel's
 * settings on every slice, objects joined across slices, added to the
 * project as one edit (source "automatic"); progress and cancel as a run. */
gboolean usam_auto_panel_run_volume (UsamAutoPanel *self, GError **error);

/* Adds every object of the result to the project in one edit. */
gboolean usam_auto_panel_commit_all (UsamAutoPanel *self, GError **error);
/* While the panel and the automatic layer are shown: adds the automatic
 * object at pixel (@x, @y) and returns TRUE in @handled; FALSE in @handled
 * when there is none there (the click is then the caller's). */
gboolean usam_auto_panel_commit_at (UsamAutoPanel *self, guint x, guint y, gboolean *handled, GError **error);

G_END_DECLS
