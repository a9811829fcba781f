/* usam-session-private.h — what usam-session.c shares with usam-session-edit.c,
 * which holds the edits to the project (commit, delete, import, add) and the
 * history (undo, redo).
 */
#pragma once

#include "usam-session.h"

G_BEGIN_DECLS

struct _UsamSession
{
  GObject parent_instance;

  UsamProject *project;
  GPtrArray *images; /* UsamProjectImage, by position */
  guint index;
  UsamImage *image;  /* NULL while loading */
  guint t, z;
  GCancellable *load_cancellable;

  UsamRunner *runner; /* the model, its embeddings and predictions */
  gboolean auto_segment;
  guint generation; /* bumped when the prompts or the plane change */

  GArray *marks; /* UsamMark */
  guint8 *current; /* width × height, or NULL */
  UsamObjectSource current_source;
  gint64 picked_id; /* the object being corrected, or 0 */
  guint picked_label;

  GPtrArray *objects; /* the plane's, by label */
};

/* Emits "message". */
void usam_session_emit_message (UsamSession *self, const char *text, gboolean is_error);
/* Forgets the prompts, the current mask and the picked object, and any prediction still to come for them. */
void usam_session_reset_current (UsamSession *self);
/* Reads the plane's objects from the project again; emits "objects-changed" and "state-changed". */
void usam_session_reload_objects (UsamSession *self);
/* Emits "current-changed" and "state-changed". */
void usam_session_current_changed (UsamSession *self);
/* The topmost object of the plane covering pixel (@x, @y), or NULL. */
UsamObject *usam_session_object_at (UsamSession *self, guint x, guint y);

G_END_DECLS
