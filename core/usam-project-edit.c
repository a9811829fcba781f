/* Objects, edits and their undo/redo history in a project's database. */
#include "usam-project.h"

#include <sqlite3.h>
#include <string.h>

#include "usam-error.h"
#include "usam-project-private.h"

struct _UsamProjectEdit
{
  UsamProject *project;
  gint64 image_id;
  char *description;
  GPtrArray *added;  /* UsamObject */
  GArray *removed;   /* gint64 object ids */
  GArray *tracks;    /* UsamTrackChange */
};

static const char *const mark_names[] = {
  [USAM_MARK_POSITIVE] = "positive",
  [USAM_MARK_NEGATIVE] = "negative",
  [USAM_MARK_BOX] = "box",
};

/* ---- objects ---- */

static gboolean
load_marks (UsamProject *self, UsamObject *object, GError **error)
{
  g_autoptr (UsamStmt) stmt
      = usam_project_sql_prepare (self, "SELECT kind, x0, y0, x1, y1 FROM prompts WHERE object_id = ? ORDER BY position", error);
  if (!stmt)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, object->id);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    {
      UsamMark m = { USAM_MARK_POSITIVE, 0, 0, 0, 0 };
      const char *kind = (const char *) sqlite3_column_text (stmt, 0);
      for (guint i = 0; i < G_N_ELEMENTS (mark_names); i++)
        if (g_strcmp0 (kind, mark_names[i]) == 0)
          m.kind = (UsamMarkKind) i;
      m.x0 = (float) sqlite3_column_double (stmt, 1);
      m.y0 = (float) sqlite3_column_double (stmt, 2);
      m.x1 = (float) sqlite3_column_double (stmt, 3);
      m.y1 = (float) sqlite3_column_double (stmt, 4);
      g_array_append_val (object->marks, m);
    }
  return TRUE;
}

GPtrArray *
usam_project_list_objects (UsamProject *self, gint64 image_id, gint t, gint z, GError **error)
{
  g_autoptr (UsamStmt) stmt
      = usam_project_sql_prepare (self,
                 "SELECT id, t, z, label, x, y, width, height, area, source, mask FROM objects "
                 "WHERE image_id = ?1 AND alive = 1 AND (?2 < 0 OR t = ?2) AND (?3 < 0 OR z = ?3) "
                 "ORDER BY label",
                 error);
  if (!stmt)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, image_id);
  sqlite3_bind_int (stmt, 2, t);
  sqlite3_bind_int (stmt, 3, z);
  g_autoptr (GPtrArray) objects = g_ptr_array_new_with_free_func ((GDestroyNotify) usam_object_unref);
  int rc;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      UsamRect box = {
        (guint) sqlite3_column_int (stmt, 4), (guint) sqlite3_column_int (stmt, 5),
        (guint) sqlite3_column_int (stmt, 6), (guint) sqlite3_column_int (stmt, 7),
      };
      UsamObjectSource source = USAM_OBJECT_SOURCE_PROMPT;
      usam_object_source_from_string ((const char *) sqlite3_column_text (stmt, 9), &source);
      g_autoptr (GBytes) rle = g_bytes_new (sqlite3_column_blob (stmt, 10), (gsize) sqlite3_column_bytes (stmt, 10));
      UsamObject *o = usam_object_new (rle, &box, (guint64) sqlite3_column_int64 (stmt, 8), source);
      o->id = sqlite3_column_int64 (stmt, 0);
      o->image_id = image_id;
      o->t = (guint) sqlite3_column_int (stmt, 1);
      o->z = (guint) sqlite3_column_int (stmt, 2);
      o->label = (guint) sqlite3_column_int (stmt, 3);
      g_ptr_array_add (objects, o);
    }
  if (rc != SQLITE_DONE)
    {
      usam_project_sql_fail (self, error, "cannot read the objects");
      return NULL;
    }
  for (guint i = 0; i < objects->len; i++)
    if (!load_marks (self, g_ptr_array_index (objects, i), error))
      return NULL;
  return g_steal_pointer (&objects);
}

guint
usam_project_count_objects (UsamProject *self, gint64 image_id)
{
  g_autoptr (UsamStmt) stmt = usam_project_sql_prepare (self, "SELECT count(*) FROM objects WHERE image_id = ? AND alive = 1", NULL);
  if (!stmt)
    return 0;
  sqlite3_bind_int64 (stmt, 1, image_id);
  return sqlite3_step (stmt) == SQLITE_ROW ? (guint) sqlite3_column_int (stmt, 0) : 0;
}

guint
usam_project_next_label (UsamProject *self, gint64 image_id)
{
  /* The same rule as an edit's unnumbered objects, so the two never clash. */
  g_autoptr (UsamStmt) stmt
      = usam_project_sql_prepare (self, "SELECT COALESCE (MAX (label), 0) FROM objects WHERE image_id = ?", NULL);
  if (!stmt)
    return 0;
  sqlite3_bind_int64 (stmt, 1, image_id);
  return sqlite3_step (stmt) == SQLITE_ROW ? (guint) sqlite3_column_int (stmt, 0) + 1 : 1;
}

/* ---- edits ---- */

static void
clear_track_change (gpointer data)
{
  g_free (((UsamTrackChange *) data)->name);
}

UsamProjectEdit *
usam_project_edit_new (UsamProject *self, gint64 image_id, const char *description)
{
  UsamProjectEdit *edit = g_new0 (UsamProjectEdit, 1);
  edit->project = g_object_ref (self);
  edit->image_id = image_id;
  edit->description = g_strdup (description);
  edit->added = g_ptr_array_new_with_free_func ((GDestroyNotify) usam_object_unref);
  edit->removed = g_array_new (FALSE, FALSE, sizeof (gint64));
  edit->tracks = g_array_new (FALSE, TRUE, sizeof (UsamTrackChange));
  g_array_set_clear_func (edit->tracks, clear_track_change);
  return edit;
}

void
usam_project_edit_free (UsamProjectEdit *edit)
{
  if (!edit)
    return;
  g_object_unref (edit->project);
  g_free (edit->description);
  g_ptr_array_unref (edit->added);
  g_array_unref (edit->removed);
  g_array_unref (edit->tracks);
  g_free (edit);
}

void
usam_project_edit_add (UsamProjectEdit *edit, UsamObject *object)
{
  g_ptr_array_add (edit->added, usam_object_ref (object));
}

void
usam_project_edit_remove (UsamProjectEdit *edit, gint64 object_id)
{
  g_array_append_val (edit->removed, object_id);
}

void
usam_project_edit_set_track (UsamProjectEdit *edit, guint label, const char *name, guint parent)
{
  g_return_if_fail (label > 0);
  UsamTrackChange change = { label, g_strdup (name), parent, FALSE };
  g_array_append_val (edit->tracks, change);
}

void
usam_project_edit_remove_track (UsamProjectEdit *edit, guint label)
{
  UsamTrackChange change = { label, NULL, 0, TRUE };
  g_array_append_val (edit->tracks, change);
}

gboolean
usam_project_edit_is_empty (UsamProjectEdit *edit)
{
  return edit->added->len == 0 && edit->removed->len == 0 && edit->tracks->len == 0;
}

/* What an undone step had added can never come back once a new step is
 * made: drop it with its history. */
static gboolean
drop_redo (UsamProject *self, gint64 image_id, GError **error)
{
  g_autoptr (UsamStmt) objects
      = usam_project_sql_prepare (self,
                 "DELETE FROM objects WHERE id IN (SELECT c.object_id FROM history_changes c JOIN history h "
                 "ON h.id = c.history_id WHERE h.image_id = ?1 AND h.undone = 1 AND c.added = 1)",
                 error);
  g_autoptr (UsamStmt) tracks
      = usam_project_sql_prepare (self,
                 "DELETE FROM tracks WHERE id IN (SELECT c.track_id FROM history_track_changes c JOIN history h "
                 "ON h.id = c.history_id WHERE h.image_id = ?1 AND h.undone = 1 AND c.added = 1)",
                 error);
  g_autoptr (UsamStmt) steps = usam_project_sql_prepare (self, "DELETE FROM history WHERE image_id = ?1 AND undone = 1", error);
  if (!objects || !tracks || !steps)
    return FALSE;
  sqlite3_bind_int64 (objects, 1, image_id);
  sqlite3_bind_int64 (tracks, 1, image_id);
  sqlite3_bind_int64 (steps, 1, image_id);
  return usam_project_sql_step (self, objects, error) && usam_project_sql_step (self, tracks, error)
         && usam_project_sql_step (self, steps, error);
}

static gboolean
add_change (UsamProject *self, gint64 step, gint64 object_id, gboolean added, GError **error)
{
  g_autoptr (UsamStmt) stmt
      = usam_project_sql_prepare (self, "INSERT INTO history_changes (history_id, object_id, added) VALUES (?, ?, ?)", error);
  if (!stmt)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, step);
  sqlite3_bind_int64 (stmt, 2, object_id);
  sqlite3_bind_int (stmt, 3, added);
  return usam_project_sql_step (self, stmt, error);
}

static gboolean
insert_object (UsamProject *self, gint64 image_id, UsamObject *o, guint label, GError **error)
{
  g_autoptr (UsamStmt) stmt = usam_project_sql_prepare (
      self,
      "INSERT INTO objects (image_id, t, z, label, x, y, width, height, area, source, mask) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      error);
  if (!stmt)
    return FALSE;
  gsize size = 0;
  const void *mask = g_bytes_get_data (o->rle, &size);
  sqlite3_bind_int64 (stmt, 1, image_id);
  sqlite3_bind_int (stmt, 2, (int) o->t);
  sqlite3_bind_int (stmt, 3, (int) o->z);
  sqlite3_bind_int (stmt, 4, (int) label);
  sqlite3_bind_int (stmt, 5, (int) o->box.x);
  sqlite3_bind_int (stmt, 6, (int) o->box.y);
  sqlite3_bind_int (stmt, 7, (int) o->box.width);
  sqlite3_bind_int (stmt, 8, (int) o->box.height);
  sqlite3_bind_int64 (stmt, 9, (gint64) o->area);
  sqlite3_bind_text (stmt, 10, usam_object_source_to_string (o->source), -1, SQLITE_STATIC);
  sqlite3_bind_blob (stmt, 11, size ? mask : "", (int) size, SQLITE_STATIC);
  if (!usam_project_sql_step (self, stmt, error))
    return FALSE;
  gint64 id = sqlite3_last_insert_rowid (self->db);
  g_autoptr (UsamStmt) prompt = usam_project_sql_prepare (
      self, "INSERT INTO prompts (object_id, position, kind, x0, y0, x1, y1) VALUES (?, ?, ?, ?, ?, ?, ?)", error);
  if (!prompt)
    return FALSE;
  for (guint i = 0; i < o->marks->len; i++)
    {
      const UsamMark *m = &g_array_index (o->marks, UsamMark, i);
      sqlite3_reset (prompt);
      sqlite3_bind_int64 (prompt, 1, id);
      sqlite3_bind_int (prompt, 2, (int) i);
      sqlite3_bind_text (prompt, 3, mark_names[m->kind], -1, SQLITE_STATIC);
      sqlite3_bind_double (prompt, 4, m->x0);
      sqlite3_bind_double (prompt, 5, m->y0);
      sqlite3_bind_double (prompt, 6, m->x1);
      sqlite3_bind_double (prompt, 7, m->y1);
      if (!usam_project_sql_step (self, prompt, error))
        return FALSE;
    }
  o->id = id;
  return TRUE;
}

static gboolean
write_edit (UsamProject *self, UsamProjectEdit *edit, GError **error)
{
  if (!drop_redo (self, edit->image_id, error))
    return FALSE;
  g_autoptr (UsamStmt) step = usam_project_sql_prepare (self, "INSERT INTO history (image_id, description) VALUES (?, ?)", error);
  if (!step)
    return FALSE;
  sqlite3_bind_int64 (step, 1, edit->image_id);
  sqlite3_bind_text (step, 2, edit->description ? edit->description : "edit", -1, SQLITE_TRANSIENT);
  if (!usam_project_sql_step (self, step, error))
    return FALSE;
  gint64 step_id = sqlite3_last_insert_rowid (self->db);

  g_autoptr (UsamStmt) retire
      = usam_project_sql_prepare (self, "UPDATE objects SET alive = 0 WHERE id = ? AND image_id = ? AND alive = 1", error);
  if (!retire)
    return FALSE;
  for (guint i = 0; i < edit->removed->len; i++)
    {
      gint64 id = g_array_index (edit->removed, gint64, i);
      sqlite3_reset (retire);
      sqlite3_bind_int64 (retire, 1, id);
      sqlite3_bind_int64 (retire, 2, edit->image_id);
      if (!usam_project_sql_step (self, retire, error))
        return FALSE;
      if (sqlite3_changes (self->db) != 1)
        {
          g_set_error (error, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT,
                       "object %" G_GINT64_FORMAT " is not a current object of this image", id);
          return FALSE;
        }
      if (!add_change (self, step_id, id, FALSE, error))
        return FALSE;
    }

  g_autoptr (UsamStmt) max_label
      = usam_project_sql_prepare (self, "SELECT COALESCE (MAX (label), 0) FROM objects WHERE image_id = ?", error);
  if (!max_label)
    return FALSE;
  sqlite3_bind_int64 (max_label, 1, edit->image_id);
  guint next_label = sqlite3_step (max_label) == SQLITE_ROW ? (guint) sqlite3_column_int (max_label, 0) + 1 : 1;
  g_autofree guint *labels = g_new0 (guint, edit->added->len + 1);
  for (guint i = 0; i < edit->added->len; i++)
    {
      UsamObject *o = g_ptr_array_index (edit->added, i);
      if (!o->rle || o->area == 0)
        {
          g_set_error_literal (error, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT, "an object must have pixels");
          return FALSE;
        }
      labels[i] = o->label ? o->label : next_label++;
      if (!insert_object (self, edit->image_id, o, labels[i], error)
          || !add_change (self, step_id, o->id, TRUE, error))
        return FALSE;
    }
  if (!usam_project_write_track_changes (self, step_id, edit->image_id, edit->tracks, error))
    return FALSE;
  /* Only now that the transaction is sure to go in. */
  for (guint i = 0; i < edit->added->len; i++)
    {
      UsamObject *o = g_ptr_array_index (edit->added, i);
      o->image_id = edit->image_id;
      o->label = labels[i];
    }
  return TRUE;
}

gboolean
usam_project_commit_edit (UsamProject *self, UsamProjectEdit *edit, GError **error)
{
  g_autoptr (UsamProjectEdit) owned = edit;
  g_return_val_if_fail (edit->project == self, FALSE);
  /* An empty step would be an undo that does nothing. */
  if (usam_project_edit_is_empty (edit))
    return TRUE;
  if (!usam_project_sql_begin (self, error))
    return FALSE;
  if (!write_edit (self, edit, error))
    {
      for (guint i = 0; i < edit->added->len; i++)
        ((UsamObject *) g_ptr_array_index (edit->added, i))->id = 0;
      return usam_project_sql_rollback (self);
    }
  return usam_project_sql_commit (self, error);
}

/* ---- history ---- */

static gint64
find_step (UsamProject *self, gint64 image_id, gboolean undone, char **description)
{
  g_autoptr (UsamStmt) stmt
      = usam_project_sql_prepare (self,
                 undone ? "SELECT id, description FROM history WHERE image_id = ? AND undone = 1 ORDER BY id LIMIT 1"
                        : "SELECT id, description FROM history WHERE image_id = ? AND undone = 0 "
                          "ORDER BY id DESC LIMIT 1",
                 NULL);
  if (!stmt)
    return 0;
  sqlite3_bind_int64 (stmt, 1, image_id);
  if (sqlite3_step (stmt) != SQLITE_ROW)
    return 0;
  if (description)
    *description = g_strdup ((const char *) sqlite3_column_text (stmt, 1));
  return sqlite3_column_int64 (stmt, 0);
}

gboolean
usam_project_can_undo (UsamProject *self, gint64 image_id)
{
  return find_step (self, image_id, FALSE, NULL) != 0;
}

gboolean
usam_project_can_redo (UsamProject *self, gint64 image_id)
{
  return find_step (self, image_id, TRUE, NULL) != 0;
}

static gboolean
replay (UsamProject *self, gint64 image_id, gboolean redo, char **description, GError **error)
{
  if (description)
    *description = NULL;
  if (!usam_project_sql_begin (self, error))
    return FALSE;
  g_autofree char *what = NULL;
  gint64 step = find_step (self, image_id, redo, &what);
  if (step == 0)
    {
      usam_project_sql_rollback (self);
      return FALSE;
    }
  /* Undo retires what the step added and revives what it retired; redo
   * does the opposite. */
  g_autoptr (UsamStmt) flip = usam_project_sql_prepare (
      self,
      "UPDATE objects SET alive = CASE WHEN c.added = ?2 THEN 1 ELSE 0 END "
      "FROM history_changes c WHERE c.history_id = ?1 AND c.object_id = objects.id",
      error);
  g_autoptr (UsamStmt) flip_tracks = usam_project_sql_prepare (
      self,
      "UPDATE tracks SET alive = CASE WHEN c.added = ?2 THEN 1 ELSE 0 END "
      "FROM history_track_changes c WHERE c.history_id = ?1 AND c.track_id = tracks.id",
      error);
  g_autoptr (UsamStmt) mark = usam_project_sql_prepare (self, "UPDATE history SET undone = ?2 WHERE id = ?1", error);
  if (!flip || !flip_tracks || !mark)
    return usam_project_sql_rollback (self);
  sqlite3_bind_int64 (flip, 1, step);
  sqlite3_bind_int (flip, 2, redo ? 1 : 0);
  sqlite3_bind_int64 (flip_tracks, 1, step);
  sqlite3_bind_int (flip_tracks, 2, redo ? 1 : 0);
  sqlite3_bind_int64 (mark, 1, step);
  sqlite3_bind_int (mark, 2, redo ? 0 : 1);
  if (!usam_project_sql_step (self, flip, error) || !usam_project_sql_step (self, flip_tracks, error)
      || !usam_project_sql_step (self, mark, error))
    return usam_project_sql_rollback (self);
  if (!usam_project_sql_commit (self, error))
    return FALSE;
  if (description)
    *description = g_steal_pointer (&what);
  return TRUE;
}

gboolean
usam_project_undo (UsamProject *self, gint64 image_id, char **description, GError **error)
{
  return replay (self, image_id, FALSE, description, error);
}

gboolean
usam_project_redo (UsamProject *self, gint64 image_id, char **description, GError **error)
{
  return replay (self, image_id, TRUE, description, error);
}

