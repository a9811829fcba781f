/* usam-projection-bar.h — "segment object in volume" (Shift+S in a volume).
 *
 * Projects objects of the current slice through Z (usam-volume-projector.h)
 * in the background: the current object when there is one, else every
 * committed object of the slice at once; an object whose label is on other
 * slices of the frame too is seeded on all of them, so the gaps between
 * them are filled from both ends (usam_projection_run_multi()). The bar shows the progress with a
 * cancel button; when the projection ends, every slice it reached becomes
 * an object of the project with the seed's label — one object drawn on
 * several planes — in one edit, so one undo takes the whole projection
 * back. Planes where that label already has an object keep it. A cancelled
 * projection adds nothing.
 *
 * The bar then says, per object, which slices it covers and where and why
 * each direction stopped. Continue goes to the first slice where an object
 * was lost; the user segments it there, and Continue (or Shift+S) projects
 * it from there under the same label.
 */
#pragma once

#include <gtk/gtk.h>

#include "usam-projection.h"
#include "usam-session.h"

G_BEGIN_DECLS

#define USAM_TYPE_PROJECTION_BAR (usam_projection_bar_get_type ())
G_DECLARE_FINAL_TYPE (UsamProjectionBar, usam_projection_bar, USAM, PROJECTION_BAR, GtkBox)

GtkWidget *usam_projection_bar_new (UsamSession *session);

/* Starts projecting; fails (with a message for the user) without a volume,
 * a model or anything to project, or while a projection runs. */
gboolean usam_projection_bar_start (UsamProjectionBar *self, GError **error);
/* Follows objects of the current frame through the time series
 * (usam_projection_follow(): motion-compensated, forwards and backwards):
 * the current object, else every committed object of the frame. Every frame
 * reached becomes an object with the seed's label — its track — in one
 * edit; frames where the track has an object keep it. The bar says per
 * track which frames it covers and where and why each direction stopped. */
gboolean usam_projection_bar_start_follow (UsamProjectionBar *self, GError **error);
void usam_projection_bar_cancel (UsamProjectionBar *self);
/* See above; fails when there is nothing to continue. */
gboolean usam_projection_bar_continue (UsamProjectionBar *self, GError **error);
/* The prompts and the IoU threshold of the next projection (NULL:
 * usam_projection_params_default()). */
void usam_projection_bar_set_params (UsamProjectionBar *self, const UsamProjectionParams *params);
gboolean usam_projection_bar_is_running (UsamProjectionBar *self);
/* What the bar says. */
const char *usam_projection_bar_get_text (UsamProjectionBar *self);

G_END_DECLS
