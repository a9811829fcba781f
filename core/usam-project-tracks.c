/* Tracks and lineages of a time-lapse in a project, and the Cell Tracking
 * Challenge format in and out of it. */
#include "usam-project.h"

#include <sqlite3.h>

#include "usam-ctc.h"
#include "usam-error.h"
#include "usam-project-private.h"

void
usam_project_track_free (UsamProjectTrack *track)
{
  if (!track)
    return;
  g_free (track->name);
  g_free (track);
}

/* ---- writing (inside an edit's transaction) ---- */

static gboolean
track_change (UsamProject *self, gint64 step_id, gint64 track_id, gboolean added, GError **error)
{
  g_autoptr (UsamStmt) stmt = usam_project_sql_prepare (
      self, "INSERT INTO history_track_changes (history_id, track_id, added) VALUES (?, ?, ?)", error);
  if (!stmt)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, step_id);
  sqlite3_bind_int64 (stmt, 2, track_id);
  sqlite3_bind_int (stmt, 3, added);
  return usam_project_sql_step (self, stmt, error);
}

gboolean
usam_project_write_track_changes (UsamProject *self, gint64 step_id, gint64 image_id, GArray *changes,
                                  GError **error)
{
  for (guint i = 0; i < changes->len; i++)
    {
      const UsamTrackChange *c = &g_array_index (changes, UsamTrackChange, i);
      g_autoptr (UsamStmt) current = usam_project_sql_prepare (
          self, "SELECT id FROM tracks WHERE image_id = ? AND label = ? AND alive = 1", error);
      if (!current)
        return FALSE;
      sqlite3_bind_int64 (current, 1, image_id);
      sqlite3_bind_int (current, 2, (int) c->label);
      /* At most one row is alive per label; retire it before its successor. */
      while (sqlite3_step (current) == SQLITE_ROW)
        {
          gint64 id = sqlite3_column_int64 (current, 0);
          g_autoptr (UsamStmt) retire = usam_project_sql_prepare (self, "UPDATE tracks SET alive = 0 WHERE id = ?", error);
          if (!retire)
            return FALSE;
          sqlite3_bind_int64 (retire, 1, id);
          if (!usam_project_sql_step (self, retire, error) || !track_change (self, step_id, id, FALSE, error))
            return FALSE;
        }
      if (c->remove)
        continue;
      g_autoptr (UsamStmt) insert
          = usam_project_sql_prepare (self, "INSERT INTO tracks (image_id, label, name, parent) VALUES (?, ?, ?, ?)", error);
      if (!insert)
        return FALSE;
      sqlite3_bind_int64 (insert, 1, image_id);
      sqlite3_bind_int (insert, 2, (int) c->label);
      if (c->name)
        sqlite3_bind_text (insert, 3, c->name, -1, SQLITE_STATIC);
      else
        sqlite3_bind_null (insert, 3);
      sqlite3_bind_int (insert, 4, (int) c->parent);
      if (!usam_project_sql_step (self, insert, error)
          || !track_change (self, step_id, sqlite3_last_insert_rowid (self->db), TRUE, error))
        return FALSE;
    }
  return TRUE;
}

/* ---- reading ---- */

static GPtrArray *
query_tracks (UsamProject *self, gint64 image_id, gint label, GError **error)
{
  g_autoptr (UsamStmt) stmt = usam_project_sql_prepare (
      self,
      "SELECT o.label, MIN (o.t), MAX (o.t), COUNT (DISTINCT o.t), tr.name, COALESCE (tr.parent, 0) "
      "FROM objects o LEFT JOIN tracks tr ON tr.image_id = o.image_id AND tr.label = o.label AND tr.alive = 1 "
      "WHERE o.image_id = ?1 AND o.alive = 1 AND (?2 < 0 OR o.label = ?2) GROUP BY o.label ORDER BY o.label",
      error);
  if (!stmt)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, image_id);
  sqlite3_bind_int (stmt, 2, label);
  g_autoptr (GPtrArray) tracks = g_ptr_array_new_with_free_func ((GDestroyNotify) usam_project_track_free);
  int rc;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      UsamProjectTrack *t = g_new0 (UsamProjectTrack, 1);
      t->label = (guint) sqlite3_column_int (stmt, 0);
      t->begin = (guint) sqlite3_column_int (stmt, 1);
      t->end = (guint) sqlite3_column_int (stmt, 2);
      t->n_frames = (guint) sqlite3_column_int (stmt, 3);
      t->name = g_strdup ((const char *) sqlite3_column_text (stmt, 4));
      t->parent = (guint) sqlite3_column_int (stmt, 5);
      g_ptr_array_add (tracks, t);
    }
  if (rc != SQLITE_DONE)
    {
      usam_project_sql_fail (self, error, "cannot read the tracks");
      return NULL;
    }
  return g_steal_pointer (&tracks);
}

static gboolean
label_has_objects (UsamProject *self, gint64 image_id, guint label)
{
  g_autoptr (UsamStmt) stmt = usam_project_sql_prepare (
      self, "SELECT 1 FROM objects WHERE image_id = ? AND label = ? AND alive = 1 LIMIT 1", NULL);
  if (!stmt)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, image_id);
  sqlite3_bind_int (stmt, 2, (int) label);
  return sqlite3_step (stmt) == SQLITE_ROW;
}

GPtrArray *
usam_project_list_tracks (UsamProject *self, gint64 image_id, GError **error)
{
  g_autoptr (GPtrArray) tracks = query_tracks (self, image_id, -1, error);
  if (!tracks)
    return NULL;
  /* A parent whose objects were all removed some other way (the eraser,
   * delete) is no lineage any more. */
  g_autoptr (GHashTable) labels = g_hash_table_new (NULL, NULL);
  for (guint i = 0; i < tracks->len; i++)
    g_hash_table_add (labels, GUINT_TO_POINTER (((UsamProjectTrack *) tracks->pdata[i])->label));
  for (guint i = 0; i < tracks->len; i++)
    {
      UsamProjectTrack *t = tracks->pdata[i];
      if (t->parent && !g_hash_table_contains (labels, GUINT_TO_POINTER (t->parent)))
        t->parent = 0;
    }
  return g_steal_pointer (&tracks);
}

UsamProjectTrack *
usam_project_get_track (UsamProject *self, gint64 image_id, guint label, GError **error)
{
  g_autoptr (GPtrArray) tracks = query_tracks (self, image_id, (gint) label, error);
  if (!tracks || tracks->len == 0)
    return NULL;
  UsamProjectTrack *t = g_ptr_array_steal_index (tracks, 0);
  if (t->parent && !label_has_objects (self, image_id, t->parent))
    t->parent = 0;
  return t;
}

static UsamProjectTrack *
need_track (UsamProject *self, gint64 image_id, guint label, GError **error)
{
  g_autoptr (GError) local = NULL;
  UsamProjectTrack *t = usam_project_get_track (self, image_id, label, &local);
  if (!t && local)
    g_propagate_error (error, g_steal_pointer (&local));
  else if (!t)
    g_set_error (error, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT, "track %u has no objects", label);
  return t;
}

/* ---- edits ---- */

gboolean
usam_project_set_track_name (UsamProject *self, gint64 image_id, guint label, const char *name, GError **error)
{
  g_autoptr (UsamProjectTrack) t = need_track (self, image_id, label, error);
  if (!t)
    return FALSE;
  g_autoptr (UsamProjectEdit) edit = usam_project_edit_new (self, image_id, "rename track");
  usam_project_edit_set_track (edit, label, name && *name ? name : NULL, t->parent);
  return usam_project_commit_edit (self, g_steal_pointer (&edit), error);
}

gboolean
usam_project_set_track_parent (UsamProject *self, gint64 image_id, guint label, guint parent, GError **error)
{
  g_autoptr (UsamProjectTrack) t = need_track (self, image_id, label, error);
  if (!t)
    return FALSE;
  /* Walk up from the new parent: meeting @label would close a loop. */
  for (guint up = parent, steps = 0; up != 0; steps++)
    {
      g_autoptr (UsamProjectTrack) p = need_track (self, image_id, up, error);
      if (!p)
        return FALSE;
      if (up == label || steps > 1000000)
        {
          g_set_error (error, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT,
                       "track %u cannot descend from track %u: it is its ancestor", label, parent);
          return FALSE;
        }
      up = p->parent;
    }
  g_autoptr (UsamProjectEdit) edit = usam_project_edit_new (self, image_id, "set track parent");
  usam_project_edit_set_track (edit, label, t->name, parent);
  return usam_project_commit_edit (self, g_steal_pointer (&edit), error);
}

/* Retires the objects of @label on frames ≥ @from into @edit; how many. */
static gboolean
remove_objects (UsamProject *self, UsamProjectEdit *edit, gint64 image_id, guint label, guint from, guint *n,
                GError **error)
{
  g_autoptr (UsamStmt) stmt = usam_project_sql_prepare (
      self, "SELECT id FROM objects WHERE image_id = ? AND label = ? AND alive = 1 AND t >= ?", error);
  if (!stmt)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, image_id);
  sqlite3_bind_int (stmt, 2, (int) label);
  sqlite3_bind_int (stmt, 3, (int) from);
  *n = 0;
  while (sqlite3_step (stmt) == SQLITE_ROW)
    {
      usam_project_edit_remove (edit, sqlite3_column_int64 (stmt, 0));
      (*n)++;
    }
  return TRUE;
}

/* Adds copies of @label's objects on frames ≥ @from to @edit under
 * @fresh (the originals are retired by remove_objects()). */
static gboolean
relabel_objects (UsamProject *self, UsamProjectEdit *edit, gint64 image_id, guint label, guint from, guint fresh,
                 GError **error)
{
  g_autoptr (GPtrArray) objects = usam_project_list_objects (self, image_id, -1, -1, error);
  if (!objects)
    return FALSE;
  for (guint i = 0; i < objects->len; i++)
    {
      UsamObject *o = objects->pdata[i];
      if (o->label != label || o->t < from)
        continue;
      g_autoptr (UsamObject) copy = usam_object_new (o->rle, &o->box, o->area, o->source);
      copy->t = o->t;
      copy->z = o->z;
      copy->label = fresh;
      g_array_append_vals (copy->marks, o->marks->data, o->marks->len);
      usam_project_edit_add (edit, copy);
    }
  return TRUE;
}

gboolean
usam_project_delete_track (UsamProject *self, gint64 image_id, guint label, GError **error)
{
  g_autoptr (GPtrArray) tracks = usam_project_list_tracks (self, image_id, error);
  if (!tracks)
    return FALSE;
  g_autoptr (UsamProjectEdit) edit = usam_project_edit_new (self, image_id, "delete track");
  guint n = 0;
  if (!remove_objects (self, edit, image_id, label, 0, &n, error))
    return FALSE;
  if (n == 0)
    {
      g_set_error (error, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT, "track %u has no objects", label);
      return FALSE;
    }
  usam_project_edit_remove_track (edit, label);
  for (guint i = 0; i < tracks->len; i++)
    {
      UsamProjectTrack *t = tracks->pdata[i];
      if (t->parent == label)
        usam_project_edit_set_track (edit, t->label, t->name, 0);
    }
  return usam_project_commit_edit (self, g_steal_pointer (&edit), error);
}

gboolean
usam_project_mark_division (UsamProject *self, gint64 image_id, guint label, guint t, guint daughter_a,
                            guint daughter_b, GError **error)
{
  guint daughters[2] = { daughter_a, daughter_b };
  g_autoptr (UsamProjectTrack) mother = need_track (self, image_id, label, error);
  if (!mother)
    return FALSE;
  if (daughter_a == daughter_b || daughter_a == 0 || daughter_b == 0)
    {
      g_set_error (error, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT, "a division needs two different daughters");
      return FALSE;
    }
  if (t == 0 || mother->begin >= t)
    {
      g_set_error (error, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT,
                   "track %u starts at frame %u: it cannot divide at frame %u", label, mother->begin, t);
      return FALSE;
    }
  g_autoptr (UsamProjectEdit) edit = usam_project_edit_new (self, image_id, "mark division");
  guint n = 0;
  if (!remove_objects (self, edit, image_id, label, t, &n, error))
    return FALSE;
  for (guint i = 0; i < 2; i++)
    {
      if (daughters[i] == label)
        {
          /* The mother's own objects from @t on are this daughter: they
           * move to a new track. */
          guint fresh = usam_project_next_label (self, image_id);
          if (n == 0 || !relabel_objects (self, edit, image_id, label, t, fresh, error))
            {
              if (n == 0)
                g_set_error (error, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT, "track %u has no object at frame %u",
                             label, t);
              return FALSE;
            }
          usam_project_edit_set_track (edit, fresh, NULL, label);
          continue;
        }
      g_autoptr (UsamProjectTrack) d = need_track (self, image_id, daughters[i], error);
      if (!d)
        return FALSE;
      /* A daughter from an earlier frame on would be the mother's past. */
      if (d->begin > t || d->end < t)
        {
          g_set_error (error, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT, "track %u has no object at frame %u",
                       daughters[i], t);
          return FALSE;
        }
      usam_project_edit_set_track (edit, daughters[i], d->name, label);
    }
  return usam_project_commit_edit (self, g_steal_pointer (&edit), error);
}

gboolean
usam_project_split_track (UsamProject *self, gint64 image_id, guint label, guint t, guint *new_label, GError **error)
{
  g_autoptr (UsamProjectTrack) track = need_track (self, image_id, label, error);
  if (!track)
    return FALSE;
  if (t <= track->begin || t > track->end)
    {
      g_set_error (error, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT,
                   "track %u spans frames %u–%u: it can be split at frames %u–%u, not %u", label, track->begin,
                   track->end, track->begin + 1, track->end, t);
      return FALSE;
    }
  g_autoptr (GPtrArray) tracks = usam_project_list_tracks (self, image_id, error);
  if (!tracks)
    return FALSE;
  g_autoptr (UsamProjectEdit) edit = usam_project_edit_new (self, image_id, "split track");
  guint fresh = usam_project_next_label (self, image_id), n = 0;
  if (!remove_objects (self, edit, image_id, label, t, &n, error)
      || !relabel_objects (self, edit, image_id, label, t, fresh, error))
    return FALSE;
  usam_project_edit_set_track (edit, fresh, NULL, 0);
  /* Whatever divided from the track's end now divides from the new one. */
  for (guint i = 0; i < tracks->len; i++)
    {
      UsamProjectTrack *d = tracks->pdata[i];
      if (d->parent == label)
        usam_project_edit_set_track (edit, d->label, d->name, fresh);
    }
  if (!usam_project_commit_edit (self, g_steal_pointer (&edit), error))
    return FALSE;
  if (new_label)
    *new_label = fresh;
  return TRUE;
}

gboolean
usam_project_join_tracks (UsamProject *self, gint64 image_id, guint earlier, guint later, GError **error)
{
  g_autoptr (UsamProjectTrack) a = need_track (self, image_id, earlier, error);
  g_autoptr (UsamProjectTrack) b = a ? need_track (self, image_id, later, error) : NULL;
  if (!b)
    return FALSE;
  if (a->end >= b->begin)
    {
      g_set_error (error, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT,
                   "track %u (frames %u–%u) and track %u (frames %u–%u) overlap in time: one cell cannot be both",
                   earlier, a->begin, a->end, later, b->begin, b->end);
      return FALSE;
    }
  g_autoptr (GPtrArray) tracks = usam_project_list_tracks (self, image_id, error);
  if (!tracks)
    return FALSE;
  for (guint i = 0; i < tracks->len; i++)
    if (((UsamProjectTrack *) tracks->pdata[i])->parent == earlier)
      {
        g_set_error (error, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT,
                     "track %u divides at its end (into track %u): it cannot go on as track %u", earlier,
                     ((UsamProjectTrack *) tracks->pdata[i])->label, later);
        return FALSE;
      }
  g_autoptr (UsamProjectEdit) edit = usam_project_edit_new (self, image_id, "join tracks");
  guint n = 0;
  if (!remove_objects (self, edit, image_id, later, 0, &n, error)
      || !relabel_objects (self, edit, image_id, later, 0, earlier, error))
    return FALSE;
  usam_project_edit_remove_track (edit, later);
  for (guint i = 0; i < tracks->len; i++)
    {
      UsamProjectTrack *d = tracks->pdata[i];
      if (d->parent == later)
        usam_project_edit_set_track (edit, d->label, d->name, earlier);
    }
  return usam_project_commit_edit (self, g_steal_pointer (&edit), error);
}

/* ---- the CTC format ---- */

gboolean
usam_project_export_ctc (UsamProject *self, gint64 image_id, const char *dir, GError **error)
{
  g_autoptr (GPtrArray) tracks = usam_project_list_tracks (self, image_id, error);
  if (!tracks)
    return FALSE;
  g_autoptr (GArray) ctc = g_array_sized_new (FALSE, FALSE, sizeof (UsamCtcTrack), tracks->len);
  for (guint i = 0; i < tracks->len; i++)
    {
      const UsamProjectTrack *t = tracks->pdata[i];
      /* The format has no gaps inside a track; splitting one here would
       * change labels behind the user's back. */
      if (t->n_frames != t->end - t->begin + 1)
        {
          g_set_error (error, USAM_ERROR, USAM_ERROR_UNSUPPORTED,
                       "track %u skips frames between %u and %u; CTC tracks are contiguous (split it first)",
                       t->label, t->begin, t->end);
          return FALSE;
        }
      UsamCtcTrack c = { t->label, t->begin, t->end, t->parent };
      g_array_append_val (ctc, c);
    }
  g_autoptr (UsamImage) labels = usam_project_render_labels_full (self, image_id, TRUE, error);
  return labels && usam_ctc_result_save (dir, labels, (const UsamCtcTrack *) ctc->data, ctc->len, error);
}

gboolean
usam_project_add_tracks (UsamProject *self, gint64 image_id, UsamImage *labels, GArray *tracks, const char *what,
                         GError **error)
{
  /* Existing tracks keep their labels; the new ones come after. */
  guint offset = usam_project_count_objects (self, image_id) ? usam_project_next_label (self, image_id) - 1 : 0;
  g_autoptr (UsamProjectEdit) edit = usam_project_edit_new (self, image_id, what);
  if (!usam_project_edit_add_label_image (edit, self, image_id, labels, TRUE, offset, USAM_OBJECT_SOURCE_IMPORTED,
                                          NULL, error))
    return FALSE;
  for (guint i = 0; i < tracks->len; i++)
    {
      const UsamCtcTrack *c = &g_array_index (tracks, UsamCtcTrack, i);
      usam_project_edit_set_track (edit, c->label + offset, NULL, c->parent ? c->parent + offset : 0);
    }
  return usam_project_commit_edit (self, g_steal_pointer (&edit), error);
}

gboolean
usam_project_import_ctc (UsamProject *self, gint64 image_id, const char *dir, guint *n_tracks, GError **error)
{
  if (n_tracks)
    *n_tracks = 0;
  static const struct
  {
    const char *sub, *table, *prefix;
  } layouts[] = {
    { NULL, "res_track.txt", "mask" },
    { NULL, "man_track.txt", "man_track" },
    { "TRA", "man_track.txt", "man_track" },
  };
  g_autofree char *folder = NULL, *table = NULL;
  const char *prefix = NULL;
  for (guint i = 0; i < G_N_ELEMENTS (layouts) && !prefix; i++)
    {
      g_autofree char *f = layouts[i].sub ? g_build_filename (dir, layouts[i].sub, NULL) : g_strdup (dir);
      g_autofree char *p = g_build_filename (f, layouts[i].table, NULL);
      if (!g_file_test (p, G_FILE_TEST_IS_REGULAR))
        continue;
      folder = g_steal_pointer (&f);
      table = g_steal_pointer (&p);
      prefix = layouts[i].prefix;
    }
  if (!prefix)
    {
      g_set_error (error, USAM_ERROR, USAM_ERROR_NOT_FOUND,
                   "%s: not a CTC result or ground truth (no res_track.txt, man_track.txt or TRA/man_track.txt)", dir);
      return FALSE;
    }
  g_autoptr (UsamProjectImage) im = usam_project_get_image (self, image_id, error);
  if (!im)
    return FALSE;
  g_autoptr (GArray) tracks = usam_ctc_tracks_load (table, error);
  if (!tracks)
    return FALSE;
  g_autoptr (UsamImage) labels = usam_ctc_frames_load (folder, prefix, MAX (im->frames, 1), error);
  if (!labels)
    return FALSE;
  if (!usam_project_add_tracks (self, image_id, labels, tracks, "import tracks", error))
    return FALSE;
  if (n_tracks)
    *n_tracks = tracks->len;
  return TRUE;
}
