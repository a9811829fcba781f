/* test-project.c — the SQLite project store: round trips, a writer killed
 * mid-edit, label export and import, undo and redo.
 */
#include "usam-error.h"
#include "usam-image.h"
#include "usam-project.h"
#include "usam-test-util.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char *
tmp_file (const char *name)
{
  return g_build_filename (usam_test_tmpdir (), name, NULL);
}

static UsamProject *
open_ok (const char *path)
{
  g_autoptr (GError) error = NULL;
  UsamProject *project = usam_project_open (path, &error);
  ck_assert_msg (project != NULL, "%s", error ? error->message : "no error");
  return project;
}

/* A disc of radius @r at (@cx, @cy) in a @w × @h mask. */
static guint8 *
disc (guint w, guint h, int cx, int cy, int r)
{
  guint8 *mask = g_new0 (guint8, (gsize) w * h);
  for (guint y = 0; y < h; y++)
    for (guint x = 0; x < w; x++)
      mask[(gsize) y * w + x] = ((int) x - cx) * ((int) x - cx) + ((int) y - cy) * ((int) y - cy) <= r * r;
  return mask;
}

static UsamObject *
disc_object (guint w, guint h, int cx, int cy, int r)
{
  g_autofree guint8 *mask = disc (w, h, cx, cy, r);
  return usam_object_new_from_mask (mask, w, h, USAM_OBJECT_SOURCE_PROMPT);
}

static void
commit_ok (UsamProject *project, UsamProjectEdit *edit)
{
  g_autoptr (GError) error = NULL;
  ck_assert_msg (usam_project_commit_edit (project, edit, &error), "%s", error ? error->message : "");
}

static gint64
add_sample (UsamProject *project, const char *relative)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = usam_test_source_path (relative);
  gint64 id = usam_project_add_image (project, path, &error);
  ck_assert_msg (id > 0, "%s", error ? error->message : "");
  g_autoptr (UsamImage) image = usam_image_load (path, &error);
  ck_assert_msg (image != NULL, "%s", error ? error->message : "");
  ck_assert (usam_project_set_image_info (project, id, image, &error));
  return id;
}

static guint
count_objects (UsamProject *project, gint64 image_id)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) objects = usam_project_list_objects (project, image_id, -1, -1, &error);
  ck_assert_msg (objects != NULL, "%s", error ? error->message : "");
  return objects->len;
}

START_TEST (test_rle_round_trip)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (7);
  for (int trial = 0; trial < 50; trial++)
    {
      guint w = (guint) g_rand_int_range (rand, 1, 70), h = (guint) g_rand_int_range (rand, 1, 50);
      g_autofree guint8 *mask = g_new0 (guint8, (gsize) w * h);
      double p = g_rand_double (rand);
      for (gsize i = 0; i < (gsize) w * h; i++)
        mask[i] = g_rand_double (rand) < p;
      UsamRect box;
      guint64 area = 0;
      g_autoptr (GBytes) rle = usam_rle_encode (mask, w, h, w, &box, &area);
      guint64 expected = 0;
      for (gsize i = 0; i < (gsize) w * h; i++)
        expected += mask[i];
      ck_assert_uint_eq (area, expected);
      g_autofree guint8 *back = g_new0 (guint8, (gsize) w * h);
      if (rle)
        ck_assert (usam_rle_paint_mask (rle, &box, back, w, h, 1, NULL));
      ck_assert (memcmp (mask, back, (gsize) w * h) == 0);
    }
  /* A damaged mask is an error, not a crash. */
  UsamRect box = { 0, 0, 4, 4 };
  static const guint8 junk[] = { 3, 200 };
  g_autoptr (GBytes) bad = g_bytes_new_static (junk, sizeof junk);
  g_autofree guint8 *out = g_new0 (guint8, 16);
  g_autoptr (GError) error = NULL;
  ck_assert (!usam_rle_paint_mask (bad, &box, out, 4, 4, 1, &error));
  ck_assert (g_error_matches (error, USAM_ERROR, USAM_ERROR_INVALID_DATA));
}
END_TEST

START_TEST (test_store_round_trip)
{
  g_autofree char *path = tmp_file ("round.usam");
  g_autofree guint8 *mask = disc (256, 256, 100, 60, 12);
  gint64 image_id;
  {
    g_autoptr (UsamProject) project = open_ok (path);
    ck_assert_uint_eq (usam_project_get_schema_version (project), USAM_PROJECT_SCHEMA_VERSION);
    image_id = add_sample (project, "data/samples/nuclei.tif");
    /* The same path again is the same image. */
    g_autofree char *again = usam_test_source_path ("data/samples/nuclei.tif");
    ck_assert_int_eq (usam_project_add_image (project, again, NULL), image_id);
    ck_assert (usam_project_set_image_status (project, image_id, USAM_IMAGE_STATUS_IN_PROGRESS, NULL));
    ck_assert (usam_project_set_setting (project, "model", "/models/x.pt", NULL));

    g_autoptr (UsamObject) a = usam_object_new_from_mask (mask, 256, 256, USAM_OBJECT_SOURCE_PROMPT);
    UsamMark marks[] = { { USAM_MARK_POSITIVE, 100, 60, 0, 0 }, { USAM_MARK_BOX, 85, 45, 115, 75 } };
    usam_object_set_marks (a, marks, G_N_ELEMENTS (marks));
    g_autoptr (UsamObject) b = disc_object (256, 256, 30, 200, 5);
    b->source = USAM_OBJECT_SOURCE_BRUSH;
    UsamProjectEdit *edit = usam_project_edit_new (project, image_id, "commit");
    usam_project_edit_add (edit, a);
    usam_project_edit_add (edit, b);
    commit_ok (project, edit);
    ck_assert_uint_eq (a->label, 1);
    ck_assert_uint_eq (b->label, 2);
    ck_assert_int_gt (a->id, 0);
  }
  /* WAL mode, as the store promises. */
  {
    sqlite3 *db = NULL;
    ck_assert_int_eq (sqlite3_open (path, &db), SQLITE_OK);
    sqlite3_stmt *stmt = NULL;
    sqlite3_prepare_v2 (db, "PRAGMA journal_mode", -1, &stmt, NULL);
    ck_assert_int_eq (sqlite3_step (stmt), SQLITE_ROW);
    ck_assert_str_eq ((const char *) sqlite3_column_text (stmt, 0), "wal");
    sqlite3_finalize (stmt);
    sqlite3_close (db);
  }
  g_autoptr (UsamProject) project = open_ok (path);
  g_autoptr (GPtrArray) images = usam_project_list_images (project, NULL);
  ck_assert_uint_eq (images->len, 1);
  UsamProjectImage *im = g_ptr_array_index (images, 0);
  ck_assert_int_eq (im->id, image_id);
  ck_assert_uint_eq (im->status, USAM_IMAGE_STATUS_IN_PROGRESS);
  ck_assert_uint_gt (im->width, 0);
  ck_assert_uint_eq (strlen (im->hash), 64);
  ck_assert (g_path_is_absolute (im->path) && g_file_test (im->path, G_FILE_TEST_EXISTS));
  g_autofree char *model = usam_project_dup_setting (project, "model");
  ck_assert_str_eq (model, "/models/x.pt");

  g_autoptr (GPtrArray) objects = usam_project_list_objects (project, image_id, 0, 0, NULL);
  ck_assert_uint_eq (objects->len, 2);
  UsamObject *a = g_ptr_array_index (objects, 0);
  ck_assert_uint_eq (a->label, 1);
  ck_assert_uint_eq (a->source, USAM_OBJECT_SOURCE_PROMPT);
  ck_assert_uint_eq (a->box.x, 88);
  ck_assert_uint_eq (a->box.y, 48);
  ck_assert_uint_eq (a->box.width, 25);
  ck_assert_uint_eq (a->marks->len, 2);
  ck_assert_uint_eq (g_array_index (a->marks, UsamMark, 1).kind, USAM_MARK_BOX);
  ck_assert_float_eq (g_array_index (a->marks, UsamMark, 1).x1, 115);
  g_autofree guint8 *back = g_new0 (guint8, 256 * 256);
  ck_assert (usam_object_paint_mask (a, back, 256, 256, 1, NULL));
  ck_assert (memcmp (back, mask, 256 * 256) == 0);
  ck_assert_uint_eq (((UsamObject *) g_ptr_array_index (objects, 1))->source, USAM_OBJECT_SOURCE_BRUSH);
  /* Other planes are empty. */
  g_autoptr (GPtrArray) other = usam_project_list_objects (project, image_id, 0, 1, NULL);
  ck_assert_uint_eq (other->len, 0);

  /* Save as: a consistent copy elsewhere. */
  g_autofree char *copy_path = tmp_file ("copy/round-copy.usam");
  g_autofree char *copy_dir = g_path_get_dirname (copy_path);
  g_mkdir_with_parents (copy_dir, 0755);
  ck_assert (usam_project_save_as (project, copy_path, NULL));
  g_autoptr (UsamProject) copy = open_ok (copy_path);
  ck_assert_uint_eq (count_objects (copy, image_id), 2);
  g_autoptr (UsamProjectImage) copied = usam_project_get_image (copy, image_id, NULL);
  ck_assert_str_eq (copied->path, im->path);
}
END_TEST

START_TEST (test_not_a_project)
{
  g_autofree char *path = tmp_file ("not.usam");
  ck_assert (g_file_set_contents (path, "hello, this is not SQLite at all, just some text.........", -1, NULL));
  g_autoptr (GError) error = NULL;
  g_autoptr (UsamProject) project = usam_project_open (path, &error);
  ck_assert_ptr_null (project);
  ck_assert (g_error_matches (error, USAM_ERROR, USAM_ERROR_INVALID_DATA));
  ck_assert (strstr (error->message, "not.usam") != NULL);

  /* A newer schema is refused, not misread. */
  g_autofree char *newer = tmp_file ("newer.usam");
  {
    g_autoptr (UsamProject) p = open_ok (newer);
  }
  sqlite3 *db = NULL;
  sqlite3_open (newer, &db);
  ck_assert_int_eq (sqlite3_exec (db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
  sqlite3_close (db);
  g_clear_error (&error);
  g_autoptr (UsamProject) p2 = usam_project_open (newer, &error);
  ck_assert_ptr_null (p2);
  ck_assert (g_error_matches (error, USAM_ERROR, USAM_ERROR_UNSUPPORTED));
}
END_TEST

/* A child commits one-object edits as fast as it can and reports each
 * count through a pipe; the parent kills it with SIGKILL at an arbitrary
 * moment, most likely inside a transaction. */
START_TEST (test_killed_writer)
{
  g_autofree char *path = tmp_file ("killed.usam");
  gint64 image_id;
  {
    g_autoptr (UsamProject) project = open_ok (path);
    image_id = add_sample (project, "data/samples/nuclei.tif");
  }
  int fds[2];
  ck_assert_int_eq (pipe (fds), 0);
  pid_t child = fork ();
  ck_assert_int_ge (child, 0);
  if (child == 0)
    {
      close (fds[0]);
      g_autoptr (UsamProject) project = usam_project_open (path, NULL);
      for (guint32 n = 1; project; n++)
        {
          g_autoptr (UsamObject) o = disc_object (256, 256, (int) (n * 7 % 240) + 8, (int) (n * 13 % 240) + 8, 6);
          UsamProjectEdit *edit = usam_project_edit_new (project, image_id, "commit");
          usam_project_edit_add (edit, o);
          if (!usam_project_commit_edit (project, edit, NULL))
            _exit (3);
          if (write (fds[1], &n, sizeof n) != sizeof n)
            _exit (4);
        }
      _exit (5);
    }
  close (fds[1]);
  /* Let it commit a random number of edits, then kill it mid-flight. */
  guint32 reported = 0, n;
  guint32 stop = (guint32) g_random_int_range (20, 60);
  while (reported < stop && read (fds[0], &n, sizeof n) == sizeof n)
    reported = n;
  g_usleep ((gulong) g_random_int_range (0, 3000));
  kill (child, SIGKILL);
  int status = 0;
  waitpid (child, &status, 0);
  ck_assert (WIFSIGNALED (status));
  /* Anything it reported after `reported` also completed. */
  while (read (fds[0], &n, sizeof n) == sizeof n)
    reported = n;
  close (fds[0]);

  g_autoptr (UsamProject) project = open_ok (path);
  guint found = count_objects (project, image_id);
  /* Every reported edit is there; at most the one in flight beyond it. */
  ck_assert_uint_ge (found, reported);
  ck_assert_uint_le (found, reported + 1);
  /* The file is consistent, and undo still works on what survived. */
  sqlite3 *db = NULL;
  sqlite3_open (path, &db);
  sqlite3_stmt *stmt = NULL;
  sqlite3_prepare_v2 (db, "PRAGMA integrity_check", -1, &stmt, NULL);
  ck_assert_int_eq (sqlite3_step (stmt), SQLITE_ROW);
  ck_assert_str_eq ((const char *) sqlite3_column_text (stmt, 0), "ok");
  sqlite3_finalize (stmt);
  sqlite3_close (db);
  ck_assert (usam_project_undo (project, image_id, NULL, NULL));
  ck_assert_uint_eq (count_objects (project, image_id), found - 1);
}
END_TEST

START_TEST (test_undo_redo)
{
  g_autofree char *path = tmp_file ("undo.usam");
  g_autoptr (GError) error = NULL;
  gint64 image_id;
  {
    g_autoptr (UsamProject) project = open_ok (path);
    image_id = add_sample (project, "data/samples/nuclei.tif");
    ck_assert (!usam_project_can_undo (project, image_id));
    ck_assert (!usam_project_undo (project, image_id, NULL, &error));
    ck_assert_ptr_null (error);

    g_autoptr (UsamObject) a = disc_object (256, 256, 50, 50, 10);
    g_autoptr (UsamObject) b = disc_object (256, 256, 150, 150, 10);
    UsamProjectEdit *edit = usam_project_edit_new (project, image_id, "commit A");
    usam_project_edit_add (edit, a);
    commit_ok (project, edit);
    edit = usam_project_edit_new (project, image_id, "commit B");
    usam_project_edit_add (edit, b);
    commit_ok (project, edit);
    ck_assert_uint_eq (count_objects (project, image_id), 2);

    /* Replace A by a bigger version of itself: same label, new row. */
    g_autoptr (UsamObject) a2 = disc_object (256, 256, 50, 50, 20);
    a2->label = a->label;
    a2->source = USAM_OBJECT_SOURCE_BRUSH;
    edit = usam_project_edit_new (project, image_id, "brush");
    usam_project_edit_remove (edit, a->id);
    usam_project_edit_add (edit, a2);
    commit_ok (project, edit);
    g_autoptr (GPtrArray) now = usam_project_list_objects (project, image_id, -1, -1, NULL);
    ck_assert_uint_eq (now->len, 2);
    ck_assert_uint_eq (((UsamObject *) g_ptr_array_index (now, 0))->area, a2->area);

    g_autofree char *what = NULL;
    ck_assert (usam_project_undo (project, image_id, &what, &error));
    ck_assert_str_eq (what, "brush");
    g_autoptr (GPtrArray) before = usam_project_list_objects (project, image_id, -1, -1, NULL);
    ck_assert_uint_eq (before->len, 2);
    ck_assert_uint_eq (((UsamObject *) g_ptr_array_index (before, 0))->area, a->area);
    ck_assert (usam_project_undo (project, image_id, NULL, &error));
    ck_assert_uint_eq (count_objects (project, image_id), 1);
    ck_assert (usam_project_can_redo (project, image_id));
    /* Removing an object that is not current is refused, and the refused
     * edit changes nothing. */
    edit = usam_project_edit_new (project, image_id, "delete");
    usam_project_edit_remove (edit, b->id);
    ck_assert (!usam_project_commit_edit (project, edit, &error));
    ck_assert (g_error_matches (error, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT));
    g_clear_error (&error);
    ck_assert (usam_project_can_redo (project, image_id));
  }
  /* History survives a restart. */
  {
    g_autoptr (UsamProject) project = open_ok (path);
    ck_assert_uint_eq (count_objects (project, image_id), 1);
    ck_assert (usam_project_can_undo (project, image_id));
    g_autofree char *what = NULL;
    ck_assert (usam_project_redo (project, image_id, &what, &error));
    ck_assert_str_eq (what, "commit B");
    ck_assert_uint_eq (count_objects (project, image_id), 2);
    ck_assert (usam_project_can_redo (project, image_id));
    ck_assert (usam_project_undo (project, image_id, NULL, &error));
    ck_assert (usam_project_undo (project, image_id, NULL, &error));
    ck_assert_uint_eq (count_objects (project, image_id), 0);
    ck_assert (!usam_project_can_undo (project, image_id));
    /* A new edit after undo drops what could have been redone. */
    ck_assert (usam_project_redo (project, image_id, NULL, &error));
    g_autoptr (UsamObject) c = disc_object (256, 256, 200, 40, 8);
    UsamProjectEdit *edit = usam_project_edit_new (project, image_id, "commit C");
    usam_project_edit_add (edit, c);
    commit_ok (project, edit);
    ck_assert (!usam_project_can_redo (project, image_id));
    ck_assert_uint_eq (count_objects (project, image_id), 2);
    /* B's dropped label is free again: C follows the labels that remain. */
    ck_assert_uint_eq (c->label, 2);
    ck_assert (usam_project_undo (project, image_id, NULL, &error));
    ck_assert (usam_project_undo (project, image_id, NULL, &error));
    ck_assert (!usam_project_undo (project, image_id, NULL, &error));
    ck_assert_ptr_null (error);
    ck_assert_uint_eq (count_objects (project, image_id), 0);
  }
}
END_TEST

START_TEST (test_labels_round_trip)
{
  g_autofree char *path = tmp_file ("labels.usam");
  g_autofree char *labels_path = usam_test_source_path ("data/samples/nuclei-labels.tif");
  g_autoptr (GError) error = NULL;
  g_autoptr (UsamImage) labels = usam_image_load (labels_path, &error);
  ck_assert_msg (labels != NULL, "%s", error ? error->message : "");
  guint w = usam_image_get_width (labels), h = usam_image_get_height (labels);

  g_autoptr (UsamProject) project = open_ok (path);
  gint64 image_id = add_sample (project, "data/samples/nuclei.tif");
  guint n = 0;
  ck_assert_msg (usam_project_import_labels (project, image_id, labels, &n, &error), "%s",
                 error ? error->message : "");
  ck_assert_uint_gt (n, 5);
  ck_assert_uint_eq (count_objects (project, image_id), n);

  g_autofree char *out = tmp_file ("exported.tif");
  ck_assert_msg (usam_project_export_labels (project, image_id, out, &error), "%s", error ? error->message : "");
  g_autoptr (UsamImage) back = usam_image_load (out, &error);
  ck_assert_msg (back != NULL, "%s", error ? error->message : "");
  ck_assert_uint_eq (usam_image_get_pixel_type (back), USAM_PIXEL_TYPE_U16);
  ck_assert_uint_eq (usam_image_get_width (back), w);
  ck_assert_uint_eq (usam_image_get_height (back), h);
  /* The same partition of the pixels: ids map one to one. */
  g_autoptr (GHashTable) map = g_hash_table_new (NULL, NULL);
  g_autoptr (GHashTable) inverse = g_hash_table_new (NULL, NULL);
  guint exported_max = 0;
  for (guint y = 0; y < h; y++)
    for (guint x = 0; x < w; x++)
      {
        guint a = (guint) usam_image_get_value (labels, 0, 0, y, x, 0);
        guint b = (guint) usam_image_get_value (back, 0, 0, y, x, 0);
        ck_assert_uint_eq (a == 0, b == 0);
        if (!a)
          continue;
        exported_max = MAX (exported_max, b);
        gpointer seen = g_hash_table_lookup (map, GUINT_TO_POINTER (a));
        if (seen)
          ck_assert_uint_eq (GPOINTER_TO_UINT (seen), b);
        else
          {
            ck_assert_ptr_null (g_hash_table_lookup (inverse, GUINT_TO_POINTER (b)));
            g_hash_table_insert (map, GUINT_TO_POINTER (a), GUINT_TO_POINTER (b));
            g_hash_table_insert (inverse, GUINT_TO_POINTER (b), GUINT_TO_POINTER (a));
          }
      }
  ck_assert_uint_eq (g_hash_table_size (map), n);
  ck_assert_uint_eq (exported_max, n); /* consecutive */

  /* Importing is one edit: one undo removes it all. */
  ck_assert (usam_project_undo (project, image_id, NULL, &error));
  ck_assert_uint_eq (count_objects (project, image_id), 0);

  /* A label image of the wrong shape names the problem. */
  g_autoptr (UsamImage) small = usam_image_new (USAM_PIXEL_TYPE_U16, 10, 10, 1, 1, 1, NULL);
  ck_assert (!usam_project_import_labels (project, image_id, small, NULL, &error));
  ck_assert (g_error_matches (error, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT));
}
END_TEST

static Suite *
project_suite (void)
{
  Suite *suite = suite_create ("project");
  TCase *tc = usam_test_tcase_new ("store");
  tcase_add_test (tc, test_rle_round_trip);
  tcase_add_test (tc, test_store_round_trip);
  tcase_add_test (tc, test_not_a_project);
  tcase_add_test (tc, test_killed_writer);
  tcase_add_test (tc, test_undo_redo);
  tcase_add_test (tc, test_labels_round_trip);
  suite_add_tcase (suite, tc);
  return suite;
}

int
main (void)
{
  return usam_test_run (project_suite ());
}
