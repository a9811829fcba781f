/* usam-lineage-view.h — the tracks of a time-lapse as a lineage tree, in a
 * side panel.
 *
 * Each row is a track (objects sharing a label over the frames): its name
 * or label and its first and last frame, indented under its parent. Picking
 * a row goes to the track's first frame and fades the other objects on the
 * canvas (usam_canvas_set_highlight()). Below the tree: rename, delete,
 * and "Divide here", the division gesture — pick a daughter (which goes to
 * her first frame, where the cell has divided), Ctrl+click the mother and
 * the other daughter (or only the mother, when the mother's track goes on
 * as the other daughter) and press it: the mother ends on the previous
 * frame, the daughters get her as parent. *Split here* ends the selected
 * track before the current frame and makes the rest a new track; *Join*
 * makes the later of two selected tracks go on as the earlier. *Track
 * automatically* segments every frame with the model's AIS decoder and
 * links them (usam-auto-tracker.h) in the background; the result comes in
 * as one step. Every change is an edit of the project: Ctrl+Z undoes it.
 */
#pragma once

#include <gtk/gtk.h>

#include "usam-canvas.h"
#include "usam-session.h"

G_BEGIN_DECLS

#define USAM_TYPE_LINEAGE_VIEW (usam_lineage_view_get_type ())
G_DECLARE_FINAL_TYPE (UsamLineageView, usam_lineage_view, USAM, LINEAGE_VIEW, GtkBox)

GtkWidget *usam_lineage_view_new (UsamSession *session, UsamCanvas *canvas);
/* A header-bar toggle that shows and hides @self. */
GtkWidget *usam_lineage_view_new_toggle (UsamLineageView *self);

/* What the rows show, top to bottom: the track label, its depth in the
 * tree (0: a root) and its text. FALSE past the last row. */
guint usam_lineage_view_get_n_rows (UsamLineageView *self);
gboolean usam_lineage_view_get_row (UsamLineageView *self, guint index, guint *label, guint *depth, char **text);

/* Selects the rows of @labels (n_labels of them) as Ctrl+click does. */
void usam_lineage_view_select (UsamLineageView *self, const guint *labels, guint n_labels);

/* What the panel's buttons do, on the selected tracks. */
gboolean usam_lineage_view_rename (UsamLineageView *self, const char *name, GError **error);
gboolean usam_lineage_view_delete (UsamLineageView *self, GError **error);
gboolean usam_lineage_view_divide (UsamLineageView *self, GError **error);
/* The selected track split at the current frame; two selected tracks joined. */
gboolean usam_lineage_view_split (UsamLineageView *self, GError **error);
gboolean usam_lineage_view_join (UsamLineageView *self, GError **error);
/* A CTC result or ground truth folder in (usam_project_import_ctc()), the
 * tracks out as a CTC result (usam_project_export_ctc()). */
gboolean usam_lineage_view_import_ctc (UsamLineageView *self, const char *dir, GError **error);
gboolean usam_lineage_view_export_ctc (UsamLineageView *self, const char *dir, GError **error);
/* Starts automatic tracking of the whole image; FALSE with @error when
 * it cannot (no model with an AIS decoder, not a time-lapse, running). */
gboolean usam_lineage_view_track (UsamLineageView *self, GError **error);
gboolean usam_lineage_view_is_tracking (UsamLineageView *self);
void usam_lineage_view_cancel (UsamLineageView *self);

G_END_DECLS
