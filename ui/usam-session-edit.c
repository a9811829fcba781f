#include "usam-session-private.h"

#include "usam-error.h"

/* ---- edits to the project ---- */

gboolean
usam_session_commit (UsamSession *self, GError **error)
{
  if (!self->image || !self->project)
    {
      g_set_error_literal (error, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT, "There is no image to annotate.");
      return FALSE;
    }
  guint w = usam_image_get_width (self->image), h = usam_image_get_height (self->image);
  g_autoptr (UsamObject) object
      = self->current ? usam_object_new_from_mask (self->current, w, h, self->current_source) : NULL;
  if (!object && !self->picked_id)
    {
      g_set_error_literal (error, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT,
                           "Nothing to commit: segment an object (S) or paint one first.");
      return FALSE;
    }
  g_autoptr (UsamProjectEdit) edit = usam_project_edit_new (
      self->project, usam_session_get_image_id (self),
      self->picked_id ? (object ? "correct object" : "erase object") : "commit");
  if (self->picked_id)
    usam_project_edit_remove (edit, self->picked_id);
  if (object)
    {
      object->t = self->t;
      object->z = self->z;
      object->label = self->picked_label;
      usam_object_set_marks (object, (const UsamMark *) self->marks->data, self->marks->len);
      usam_project_edit_add (edit, object);
    }
  if (!usam_project_commit_edit (self->project, g_steal_pointer (&edit), error))
    return FALSE;
  usam_project_set_image_status (self->project, usam_session_get_image_id (self), USAM_IMAGE_STATUS_IN_PROGRESS,
                                 NULL);
  usam_session_reset_current (self);
  usam_session_reload_objects (self);
  usam_session_current_changed (self);
  return TRUE;
}

gboolean
usam_session_delete_at (UsamSession *self, guint x, guint y, GError **error)
{
  UsamObject *o = self->image ? usam_session_object_at (self, x, y) : NULL;
  if (!o)
    return TRUE;
  UsamProjectEdit *edit = usam_project_edit_new (self->project, usam_session_get_image_id (self), "delete object");
  usam_project_edit_remove (edit, o->id);
  if (o->id == self->picked_id)
    usam_session_reset_current (self);
  if (!usam_project_commit_edit (self->project, edit, error))
    return FALSE;
  usam_session_reload_objects (self);
  usam_session_current_changed (self);
  return TRUE;
}

gboolean
usam_session_import_labels (UsamSession *self, const char *path, guint *n_added, GError **error)
{
  if (!self->image || !self->project)
    {
      g_set_error_literal (error, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT, "Open an image first.");
      return FALSE;
    }
  g_autoptr (UsamImage) labels = usam_image_load (path, error);
  if (!labels || !usam_project_import_labels (self->project, usam_session_get_image_id (self), labels, n_added, error))
    return FALSE;
  usam_session_reset_current (self);
  usam_session_reload_objects (self);
  usam_session_current_changed (self);
  return TRUE;
}

gboolean
usam_session_add_objects (UsamSession *self, GPtrArray *objects, const char *what, GError **error)
{
  if (!self->image || !self->project)
    {
      g_set_error_literal (error, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT, "Open an image first.");
      return FALSE;
    }
  if (!objects->len)
    return TRUE; /* no empty step in the history */
  UsamProjectEdit *edit = usam_project_edit_new (self->project, usam_session_get_image_id (self), what);
  for (guint i = 0; i < objects->len; i++)
    {
      UsamObject *o = g_ptr_array_index (objects, i);
      o->t = self->t;
      o->z = self->z;
      usam_project_edit_add (edit, o);
    }
  if (!usam_project_commit_edit (self->project, edit, error))
    return FALSE;
  usam_project_set_image_status (self->project, usam_session_get_image_id (self), USAM_IMAGE_STATUS_IN_PROGRESS,
                                 NULL);
  usam_session_reload_objects (self);
  return TRUE;
}

gboolean
usam_session_add_volume_objects (UsamSession *self, GPtrArray *objects, gint64 retire_id, gboolean clear_current,
                                 const char *what, GError **error)
{
  if (!self->image || !self->project)
    {
      g_set_error_literal (error, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT, "Open an image first.");
      return FALSE;
    }
  g_autoptr (UsamProjectEdit) edit = usam_project_edit_new (self->project, usam_session_get_image_id (self), what);
  if (retire_id)
    usam_project_edit_remove (edit, retire_id);
  for (guint i = 0; i < objects->len; i++)
    usam_project_edit_add (edit, g_ptr_array_index (objects, i));
  if (usam_project_edit_is_empty (edit))
    return TRUE; /* no empty step in the history */
  if (!usam_project_commit_edit (self->project, g_steal_pointer (&edit), error))
    return FALSE;
  usam_project_set_image_status (self->project, usam_session_get_image_id (self), USAM_IMAGE_STATUS_IN_PROGRESS,
                                 NULL);
  if (clear_current || (retire_id && retire_id == self->picked_id))
    usam_session_reset_current (self);
  usam_session_reload_objects (self);
  usam_session_current_changed (self);
  return TRUE;
}

/* ---- history ---- */

gboolean
usam_session_can_undo (UsamSession *self)
{
  return self->project && usam_project_can_undo (self->project, usam_session_get_image_id (self));
}

gboolean
usam_session_can_redo (UsamSession *self)
{
  return self->project && usam_project_can_redo (self->project, usam_session_get_image_id (self));
}

static gboolean
replay (UsamSession *self, gboolean redo, GError **error)
{
  if (!self->project)
    return FALSE;
  g_autofree char *what = NULL;
  gint64 id = usam_session_get_image_id (self);
  gboolean done = redo ? usam_project_redo (self->project, id, &what, error)
                       : usam_project_undo (self->project, id, &what, error);
  if (!done)
    return FALSE;
  /* A picked object may just have been retired or revived. */
  if (self->picked_id)
    usam_session_reset_current (self);
  g_autofree char *text = g_strdup_printf ("%s %s", redo ? "Redid" : "Undid", what);
  usam_session_emit_message (self, text, FALSE);
  usam_session_reload_objects (self);
  usam_session_current_changed (self);
  return TRUE;
}

void
usam_session_reload (UsamSession *self)
{
  /* A picked object may have been retired with its track. */
  if (self->picked_id)
    usam_session_reset_current (self);
  usam_session_reload_objects (self);
  usam_session_current_changed (self);
}

gboolean
usam_session_undo (UsamSession *self, GError **error)
{
  return replay (self, FALSE, error);
}

gboolean
usam_session_redo (UsamSession *self, GError **error)
{
  return replay (self, TRUE, error);
}
