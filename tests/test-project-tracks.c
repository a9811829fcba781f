/* test-project-tracks.c — tracks and lineages in a project: the schema
 * migration, every track edit with undo and redo, CTC export and import,
 * and all of it after reopening.
 *
 * The series: 6 frames of 64 × 64. A cell (track 1) moves right for
 * frames 0–2 and divides at frame 3 into tracks 2 and 3; track 4 sits
 * still in a corner for all six frames.
 */
#include "usam-ctc.h"
#include "usam-error.h"
#include "usam-image.h"
#include "usam-project.h"
#include "usam-test-util.h"

#include <glib/gstdio.h>
#include <sqlite3.h>
#include <string.h>

enum { W = USAM_TEST_SERIES_WIDTH, H = USAM_TEST_SERIES_HEIGHT, T = USAM_TEST_SERIES_FRAMES };

static UsamProject *
open_ok (const char *path)
{
  g_autoptr (GError) error = NULL;
  UsamProject *project = usam_project_open (path, &error);
  ck_assert_msg (project != NULL, "%s", error ? error->message : "no error");
  return project;
}

/* A project at @name with one time-lapse image of the series' shape. */
static UsamProject *
new_project (const char *name, gint64 *image_id)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = g_build_filename (usam_test_tmpdir (), name, NULL);
  g_autofree char *image_name = g_strconcat (name, ".tif", NULL);
  g_autofree char *image_path = g_build_filename (usam_test_tmpdir (), image_name, NULL);
  g_autoptr (UsamImage) image = usam_test_series_labels (TRUE);
  ck_assert (usam_image_save_tiff (image, image_path, &error));
  UsamProject *project = open_ok (path);
  *image_id = usam_project_add_image (project, image_path, &error);
  ck_assert_msg (*image_id > 0, "%s", error ? error->message : "");
  ck_assert (usam_project_set_image_info (project, *image_id, image, &error));
  return project;
}

static GPtrArray *
tracks_ok (UsamProject *project, gint64 image_id)
{
  g_autoptr (GError) error = NULL;
  GPtrArray *tracks = usam_project_list_tracks (project, image_id, &error);
  ck_assert_msg (tracks != NULL, "%s", error ? error->message : "");
  return tracks;
}

/* The project's tracks equal @expected (label, frames, parent). */
static void
assert_lineage (UsamProject *project, gint64 image_id, const UsamCtcTrack *expected, guint n)
{
  g_autoptr (GPtrArray) tracks = tracks_ok (project, image_id);
  ck_assert_uint_eq (tracks->len, n);
  for (guint i = 0; i < n; i++)
    {
      const UsamProjectTrack *t = tracks->pdata[i];
      ck_assert_uint_eq (t->label, expected[i].label);
      ck_assert_uint_eq (t->begin, expected[i].begin);
      ck_assert_uint_eq (t->end, expected[i].end);
      ck_assert_uint_eq (t->parent, expected[i].parent);
      ck_assert_uint_eq (t->n_frames, t->end - t->begin + 1);
    }
}

static char *
track_name (UsamProject *project, gint64 image_id, guint label)
{
  g_autoptr (UsamProjectTrack) t = usam_project_get_track (project, image_id, label, NULL);
  ck_assert (t != NULL);
  return g_strdup (t->name);
}

static guint
count_label (UsamProject *project, gint64 image_id, guint label)
{
  g_autoptr (GPtrArray) objects = usam_project_list_objects (project, image_id, -1, -1, NULL);
  guint n = 0;
  for (guint i = 0; i < objects->len; i++)
    n += ((UsamObject *) objects->pdata[i])->label == label;
  return n;
}

static void
import_gt (UsamProject *project, gint64 image_id, gboolean divided)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (UsamImage) labels = usam_test_series_labels (divided);
  g_autofree char *gt
      = divided ? usam_test_write_ctc_gt (labels, usam_test_lineage, G_N_ELEMENTS (usam_test_lineage), "gt-divided")
                : usam_test_write_ctc_gt (labels, usam_test_undivided, G_N_ELEMENTS (usam_test_undivided),
                                          "gt-undivided");
  guint n = 0;
  ck_assert_msg (usam_project_import_ctc (project, image_id, gt, &n, &error), "%s", error ? error->message : "");
  ck_assert_uint_eq (n, divided ? G_N_ELEMENTS (usam_test_lineage) : G_N_ELEMENTS (usam_test_undivided));
}

START_TEST (test_import_export_round_trip)
{
  g_autoptr (GError) error = NULL;
  gint64 id = 0;
  g_autoptr (UsamProject) project = new_project ("round-trip.usam", &id);
  import_gt (project, id, TRUE);
  assert_lineage (project, id, usam_test_lineage, G_N_ELEMENTS (usam_test_lineage));
  /* One frame per object and plane: 3 + 3 + 3 + 6. */
  ck_assert_uint_eq (usam_project_count_objects (project, id), 15);

  g_autofree char *res = g_build_filename (usam_test_tmpdir (), "res", NULL);
  ck_assert_msg (usam_project_export_ctc (project, id, res, &error), "%s", error ? error->message : "");
  g_autofree char *table = g_build_filename (res, "res_track.txt", NULL);
  g_autoptr (GArray) exported = usam_ctc_tracks_load (table, &error);
  ck_assert_msg (exported != NULL, "%s", error ? error->message : "");
  ck_assert_uint_eq (exported->len, G_N_ELEMENTS (usam_test_lineage));
  ck_assert_mem_eq (exported->data, usam_test_lineage, sizeof usam_test_lineage);
  g_autoptr (UsamImage) masks = usam_ctc_frames_load (res, "mask", T, &error);
  ck_assert_msg (masks != NULL, "%s", error ? error->message : "");
  g_autoptr (UsamImage) expected = usam_test_series_labels (TRUE);
  for (guint t = 0; t < T; t++)
    for (guint p = 0; p < W * H; p++)
      ck_assert_uint_eq (((const guint32 *) usam_image_get_plane (masks, t, 0))[p],
                         ((const guint16 *) usam_image_get_plane (expected, t, 0))[p]);

  /* Labels are the tracks', not renumbered, once one is gone. */
  ck_assert (usam_project_delete_track (project, id, 2, &error));
  g_autofree char *res_gone = g_build_filename (usam_test_tmpdir (), "res-gone", NULL);
  ck_assert_msg (usam_project_export_ctc (project, id, res_gone, &error), "%s", error ? error->message : "");
  g_autoptr (UsamImage) gone = usam_ctc_frames_load (res_gone, "mask", T, &error);
  ck_assert_msg (gone != NULL, "%s", error ? error->message : "");
  ck_assert_uint_eq (((const guint32 *) usam_image_get_plane (gone, 3, 0))[30 * W + 38], 3);
  ck_assert_uint_eq (((const guint32 *) usam_image_get_plane (gone, 3, 0))[30 * W + 26], 0);
  ck_assert_uint_eq (((const guint32 *) usam_image_get_plane (gone, 0, 0))[54 * W + 54], 4);
  ck_assert (usam_project_undo (project, id, NULL, &error));

  /* The result reads back into a fresh project as the same lineage. */
  gint64 id2 = 0;
  g_autoptr (UsamProject) again = new_project ("round-trip-2.usam", &id2);
  guint n = 0;
  ck_assert_msg (usam_project_import_ctc (again, id2, res, &n, &error), "%s", error ? error->message : "");
  assert_lineage (again, id2, usam_test_lineage, G_N_ELEMENTS (usam_test_lineage));

  /* Importing on top of existing tracks shifts the new labels past them. */
  ck_assert (usam_project_import_ctc (again, id2, res, &n, &error));
  g_autoptr (GPtrArray) tracks = tracks_ok (again, id2);
  ck_assert_uint_eq (tracks->len, 8);
  ck_assert_uint_eq (((UsamProjectTrack *) tracks->pdata[5])->label, 6);
  ck_assert_uint_eq (((UsamProjectTrack *) tracks->pdata[5])->parent, 5);
  /* One import is one step. */
  ck_assert (usam_project_undo (again, id2, NULL, &error));
  assert_lineage (again, id2, usam_test_lineage, G_N_ELEMENTS (usam_test_lineage));

  /* Not a CTC folder. */
  ck_assert (!usam_project_import_ctc (again, id2, usam_test_tmpdir (), NULL, &error));
  ck_assert (g_error_matches (error, USAM_ERROR, USAM_ERROR_NOT_FOUND));
}
END_TEST

START_TEST (test_edits_undo_redo_reopen)
{
  g_autoptr (GError) error = NULL;
  gint64 id = 0;
  g_autoptr (UsamProject) project = new_project ("edits.usam", &id);
  import_gt (project, id, TRUE);

  /* rename */
  ck_assert (usam_project_set_track_name (project, id, 2, "left", &error));
  g_autofree char *name = track_name (project, id, 2);
  ck_assert_str_eq (name, "left");
  ck_assert (usam_project_undo (project, id, NULL, &error));
  g_free (name);
  name = track_name (project, id, 2);
  ck_assert_ptr_null (name);
  ck_assert (usam_project_redo (project, id, NULL, &error));
  g_free (name);
  name = track_name (project, id, 2);
  ck_assert_str_eq (name, "left");
  assert_lineage (project, id, usam_test_lineage, G_N_ELEMENTS (usam_test_lineage));

  /* parent: a loop is refused, a plain link undoes */
  ck_assert (!usam_project_set_track_parent (project, id, 1, 3, &error));
  ck_assert (g_error_matches (error, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT));
  g_clear_error (&error);
  ck_assert (!usam_project_set_track_parent (project, id, 1, 99, &error));
  g_clear_error (&error);
  ck_assert (usam_project_set_track_parent (project, id, 4, 1, &error));
  g_autoptr (UsamProjectTrack) four = usam_project_get_track (project, id, 4, NULL);
  ck_assert_uint_eq (four->parent, 1);
  ck_assert (usam_project_undo (project, id, NULL, &error));
  assert_lineage (project, id, usam_test_lineage, G_N_ELEMENTS (usam_test_lineage));
  /* The parent keeps the name it had. */
  ck_assert (usam_project_set_track_parent (project, id, 2, 0, &error));
  g_free (name);
  name = track_name (project, id, 2);
  ck_assert_str_eq (name, "left");
  ck_assert (usam_project_undo (project, id, NULL, &error));

  /* delete: the objects go, the daughters lose their parent */
  ck_assert (usam_project_delete_track (project, id, 1, &error));
  ck_assert_uint_eq (count_label (project, id, 1), 0);
  static const UsamCtcTrack orphans[] = { { 2, 3, 5, 0 }, { 3, 3, 5, 0 }, { 4, 0, 5, 0 } };
  assert_lineage (project, id, orphans, G_N_ELEMENTS (orphans));
  ck_assert (usam_project_undo (project, id, NULL, &error));
  ck_assert_uint_eq (count_label (project, id, 1), 3);
  assert_lineage (project, id, usam_test_lineage, G_N_ELEMENTS (usam_test_lineage));
  ck_assert (usam_project_redo (project, id, NULL, &error));
  assert_lineage (project, id, orphans, G_N_ELEMENTS (orphans));
  ck_assert (!usam_project_delete_track (project, id, 1, &error));
  g_clear_error (&error);
  ck_assert (usam_project_undo (project, id, NULL, &error));

  /* A new step after an undo drops the redo, track rows included. */
  ck_assert (usam_project_set_track_name (project, id, 3, "right", &error));
  ck_assert (!usam_project_can_redo (project, id));

  /* Everything, names and history, survives reopening. */
  g_autofree char *path = g_strdup (usam_project_get_path (project));
  g_clear_object (&project);
  project = open_ok (path);
  assert_lineage (project, id, usam_test_lineage, G_N_ELEMENTS (usam_test_lineage));
  g_free (name);
  name = track_name (project, id, 3);
  ck_assert_str_eq (name, "right");
  g_free (name);
  name = track_name (project, id, 2);
  ck_assert_str_eq (name, "left");
  ck_assert (usam_project_undo (project, id, NULL, &error));
  g_free (name);
  name = track_name (project, id, 3);
  ck_assert_ptr_null (name);
}
END_TEST

/* What automatic tracking without division detection gives, corrected by
 * marking the division: the result is the true lineage. */
START_TEST (test_mark_division)
{
  g_autoptr (GError) error = NULL;
  gint64 id = 0;
  g_autoptr (UsamProject) project = new_project ("division.usam", &id);
  import_gt (project, id, FALSE);

  /* Bad divisions are refused and change nothing. */
  ck_assert (!usam_project_mark_division (project, id, 1, 0, 2, 3, &error));
  g_clear_error (&error);
  ck_assert (!usam_project_mark_division (project, id, 1, 3, 2, 2, &error));
  g_clear_error (&error);
  ck_assert (!usam_project_mark_division (project, id, 1, 2, 1, 2, &error)); /* 2 starts at 3 */
  g_clear_error (&error);

  /* Track 1 goes on as the left daughter: that part becomes a new track. */
  ck_assert_msg (usam_project_mark_division (project, id, 1, 3, 1, 2, &error), "%s", error ? error->message : "");
  static const UsamCtcTrack divided[] = { { 1, 0, 2, 0 }, { 2, 3, 5, 1 }, { 3, 0, 5, 0 }, { 4, 3, 5, 1 } };
  assert_lineage (project, id, divided, G_N_ELEMENTS (divided));
  ck_assert_uint_eq (usam_project_count_objects (project, id), 15);

  /* Exported, it is the true lineage up to the numbering of the tracks. */
  g_autofree char *res = g_build_filename (usam_test_tmpdir (), "res-division", NULL);
  ck_assert_msg (usam_project_export_ctc (project, id, res, &error), "%s", error ? error->message : "");
  g_autoptr (UsamImage) gt_labels = usam_test_series_labels (TRUE);
  g_autofree char *gt
      = usam_test_write_ctc_gt (gt_labels, usam_test_lineage, G_N_ELEMENTS (usam_test_lineage), "gt-division");
  UsamCtcScores scores;
  ck_assert_msg (usam_ctc_evaluate (gt, res, &scores, &error), "%s", error ? error->message : "");
  ck_assert_double_eq (scores.tra, 1.0);
  ck_assert_double_eq (scores.det, 1.0);

  /* One undo takes the whole division back. */
  ck_assert (usam_project_undo (project, id, NULL, &error));
  assert_lineage (project, id, usam_test_undivided, G_N_ELEMENTS (usam_test_undivided));
  ck_assert (usam_project_redo (project, id, NULL, &error));
  assert_lineage (project, id, divided, G_N_ELEMENTS (divided));
}
END_TEST

/* Split a track where a tracker ran two cells together, join two that
 * were one cell; daughters follow the end of their mother's track. */
START_TEST (test_split_join)
{
  g_autoptr (GError) error = NULL;
  gint64 id = 0;
  g_autoptr (UsamProject) project = new_project ("split.usam", &id);
  import_gt (project, id, FALSE);
  guint n_objects = usam_project_count_objects (project, id);

  guint fresh = 0;
  ck_assert (!usam_project_split_track (project, id, 1, 0, &fresh, &error)); /* its first frame */
  g_clear_error (&error);
  ck_assert (!usam_project_split_track (project, id, 1, 6, &fresh, &error)); /* past its last */
  g_clear_error (&error);
  ck_assert_msg (usam_project_split_track (project, id, 1, 3, &fresh, &error), "%s", error ? error->message : "");
  ck_assert_uint_eq (fresh, 4);
  static const UsamCtcTrack split[] = { { 1, 0, 2, 0 }, { 2, 3, 5, 0 }, { 3, 0, 5, 0 }, { 4, 3, 5, 0 } };
  assert_lineage (project, id, split, G_N_ELEMENTS (split));
  ck_assert_uint_eq (usam_project_count_objects (project, id), n_objects);

  /* Overlapping tracks are two cells. */
  ck_assert (!usam_project_join_tracks (project, id, 1, 3, &error));
  ck_assert_msg (strstr (error->message, "overlap"), "%s", error->message);
  g_clear_error (&error);
  ck_assert_msg (usam_project_join_tracks (project, id, 1, 4, &error), "%s", error ? error->message : "");
  assert_lineage (project, id, usam_test_undivided, G_N_ELEMENTS (usam_test_undivided));
  ck_assert_uint_eq (count_label (project, id, 1), T);
  ck_assert (usam_project_undo (project, id, NULL, &error));
  assert_lineage (project, id, split, G_N_ELEMENTS (split));
  ck_assert (usam_project_undo (project, id, NULL, &error));
  assert_lineage (project, id, usam_test_undivided, G_N_ELEMENTS (usam_test_undivided));
  ck_assert (usam_project_redo (project, id, NULL, &error));
  assert_lineage (project, id, split, G_N_ELEMENTS (split));
  ck_assert (usam_project_undo (project, id, NULL, &error));

  /* A mother that divides: her daughters go with the part split off, and
   * she cannot be joined to anything after her end. */
  ck_assert_msg (usam_project_mark_division (project, id, 1, 3, 1, 2, &error), "%s", error ? error->message : "");
  ck_assert (!usam_project_join_tracks (project, id, 1, 3, &error));
  g_clear_error (&error);
  /* Labels are never reused, not even undone ones: find the daughter that
   * went on under the mother's label. */
  guint sister = 0;
  {
    g_autoptr (GPtrArray) tracks = tracks_ok (project, id);
    for (guint i = 0; i < tracks->len; i++)
      if (((UsamProjectTrack *) tracks->pdata[i])->parent == 1 && ((UsamProjectTrack *) tracks->pdata[i])->label != 2)
        sister = ((UsamProjectTrack *) tracks->pdata[i])->label;
  }
  ck_assert_uint_gt (sister, 3);
  ck_assert_msg (usam_project_split_track (project, id, 1, 1, &fresh, &error), "%s", error ? error->message : "");
  ck_assert_uint_gt (fresh, sister);
  const UsamCtcTrack divided[] = { { 1, 0, 0, 0 }, { 2, 3, 5, fresh }, { 3, 0, 5, 0 }, { sister, 3, 5, fresh },
                                   { fresh, 1, 2, 0 } };
  assert_lineage (project, id, divided, G_N_ELEMENTS (divided));
  ck_assert (!usam_project_join_tracks (project, id, fresh, 2, &error)); /* it divides into 2 and 4 */
  g_clear_error (&error);
  ck_assert_msg (usam_project_join_tracks (project, id, 1, fresh, &error), "%s", error ? error->message : "");
  const UsamCtcTrack rejoined[] = { { 1, 0, 2, 0 }, { 2, 3, 5, 1 }, { 3, 0, 5, 0 }, { sister, 3, 5, 1 } };
  assert_lineage (project, id, rejoined, G_N_ELEMENTS (rejoined));
}
END_TEST

/* A track that skips a frame has no CTC form: refused, not mangled. */
START_TEST (test_export_refuses_gaps)
{
  g_autoptr (GError) error = NULL;
  gint64 id = 0;
  g_autoptr (UsamProject) project = new_project ("gap.usam", &id);
  import_gt (project, id, TRUE);
  g_autoptr (GPtrArray) frame1 = usam_project_list_objects (project, id, 1, 0, &error);
  g_autoptr (UsamProjectEdit) edit = usam_project_edit_new (project, id, "delete");
  for (guint i = 0; i < frame1->len; i++)
    if (((UsamObject *) frame1->pdata[i])->label == 4)
      usam_project_edit_remove (edit, ((UsamObject *) frame1->pdata[i])->id);
  ck_assert (usam_project_commit_edit (project, g_steal_pointer (&edit), &error));
  g_autofree char *res = g_build_filename (usam_test_tmpdir (), "res-gap", NULL);
  ck_assert (!usam_project_export_ctc (project, id, res, &error));
  ck_assert (g_error_matches (error, USAM_ERROR, USAM_ERROR_UNSUPPORTED));
}
END_TEST

/* A project written before tracks existed (schema 1) opens, is migrated,
 * and takes tracks. */
START_TEST (test_migration)
{
  g_autoptr (GError) error = NULL;
  gint64 id = 0;
  g_autoptr (UsamProject) project = new_project ("old.usam", &id);
  g_autofree char *path = g_strdup (usam_project_get_path (project));
  g_clear_object (&project);
  sqlite3 *db = NULL;
  ck_assert_int_eq (sqlite3_open (path, &db), SQLITE_OK);
  ck_assert_int_eq (sqlite3_exec (db,
                                  "DROP TABLE history_track_changes; DROP TABLE tracks; PRAGMA user_version = 1",
                                  NULL, NULL, NULL),
                    SQLITE_OK);
  sqlite3_close (db);
  project = open_ok (path);
  ck_assert_uint_eq (usam_project_get_schema_version (project), 2);
  import_gt (project, id, TRUE);
  assert_lineage (project, id, usam_test_lineage, G_N_ELEMENTS (usam_test_lineage));
  ck_assert (usam_project_set_track_name (project, id, 1, "mother", &error));
  g_clear_object (&project);
  project = open_ok (path);
  g_autofree char *name = track_name (project, id, 1);
  ck_assert_str_eq (name, "mother");
}
END_TEST

static Suite *
tracks_suite (void)
{
  Suite *suite = suite_create ("project-tracks");
  TCase *tc = usam_test_tcase_new ("tracks");
  tcase_add_test (tc, test_import_export_round_trip);
  tcase_add_test (tc, test_edits_undo_redo_reopen);
  tcase_add_test (tc, test_mark_division);
  tcase_add_test (tc, test_split_join);
  tcase_add_test (tc, test_export_refuses_gaps);
  tcase_add_test (tc, test_migration);
  suite_add_tcase (suite, tc);
  return suite;
}

int
main (void)
{
  return usam_test_run (tracks_suite ());
}
