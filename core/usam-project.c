#include "usam-project.h"

#include <sqlite3.h>
#include <string.h>

#include "usam-error.h"
#include "usam-project-private.h"

/* 'uSAM': lets us tell our files from other SQLite databases. */
#define APPLICATION_ID 0x7553414d


G_DEFINE_FINAL_TYPE (UsamProject, usam_project, G_TYPE_OBJECT)

/* Schema migrations: entry i takes a project from version i to i + 1.
 * Later issues append here (3D objects, …)
 * and bump USAM_PROJECT_SCHEMA_VERSION; never edit a released step. */
static const char *const migrations[] = {
  /* 0 → 1 */
  "CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
  "CREATE TABLE images ("
  "  id INTEGER PRIMARY KEY,"
  "  position INTEGER NOT NULL,"
  "  path TEXT NOT NULL UNIQUE,"
  "  hash TEXT,"
  "  pixel_type TEXT,"
  "  width INTEGER NOT NULL DEFAULT 0, height INTEGER NOT NULL DEFAULT 0,"
  "  channels INTEGER NOT NULL DEFAULT 0, depth INTEGER NOT NULL DEFAULT 0,"
  "  frames INTEGER NOT NULL DEFAULT 0,"
  "  status TEXT NOT NULL DEFAULT 'todo');"
  /* Rows are versions: an edit never changes a mask, it retires the row
   * (alive = 0) and adds another with the same label. */
  "CREATE TABLE objects ("
  "  id INTEGER PRIMARY KEY,"
  "  image_id INTEGER NOT NULL REFERENCES images (id) ON DELETE CASCADE,"
  "  t INTEGER NOT NULL, z INTEGER NOT NULL,"
  "  label INTEGER NOT NULL,"
  "  x INTEGER NOT NULL, y INTEGER NOT NULL, width INTEGER NOT NULL, height INTEGER NOT NULL,"
  "  area INTEGER NOT NULL,"
  "  source TEXT NOT NULL,"
  "  mask BLOB NOT NULL," /* usam-rle.h */
  "  alive INTEGER NOT NULL DEFAULT 1,"
  "  created REAL NOT NULL DEFAULT (julianday ('now')));"
  "CREATE INDEX objects_by_plane ON objects (image_id, alive, t, z);"
  "CREATE TABLE prompts ("
  "  object_id INTEGER NOT NULL REFERENCES objects (id) ON DELETE CASCADE,"
  "  position INTEGER NOT NULL,"
  "  kind TEXT NOT NULL," /* positive, negative or box */
  "  x0 REAL NOT NULL, y0 REAL NOT NULL, x1 REAL NOT NULL, y1 REAL NOT NULL);"
  "CREATE INDEX prompts_by_object ON prompts (object_id);"
  "CREATE TABLE history ("
  "  id INTEGER PRIMARY KEY,"
  "  image_id INTEGER NOT NULL REFERENCES images (id) ON DELETE CASCADE,"
  "  description TEXT NOT NULL,"
  "  undone INTEGER NOT NULL DEFAULT 0,"
  "  created REAL NOT NULL DEFAULT (julianday ('now')));"
  "CREATE INDEX history_by_image ON history (image_id, undone);"
  "CREATE TABLE history_changes ("
  "  history_id INTEGER NOT NULL REFERENCES history (id) ON DELETE CASCADE,"
  "  object_id INTEGER NOT NULL REFERENCES objects (id) ON DELETE CASCADE,"
  "  added INTEGER NOT NULL);"
  "CREATE INDEX history_changes_by_history ON history_changes (history_id);"
  "CREATE INDEX history_changes_by_object ON history_changes (object_id);",
  /* 1 → 2: tracks of a time-lapse (usam-project-tracks.c). An object's
   * label is its track; a row here only adds a name and a parent. Rows are
   * versions like objects, so edits to them undo the same way. */
  "CREATE TABLE tracks ("
  "  id INTEGER PRIMARY KEY,"
  "  image_id INTEGER NOT NULL REFERENCES images (id) ON DELETE CASCADE,"
  "  label INTEGER NOT NULL,"
  "  name TEXT,"
  "  parent INTEGER NOT NULL DEFAULT 0,"
  "  alive INTEGER NOT NULL DEFAULT 1);"
  "CREATE INDEX tracks_by_image ON tracks (image_id, alive, label);"
  "CREATE TABLE history_track_changes ("
  "  history_id INTEGER NOT NULL REFERENCES history (id) ON DELETE CASCADE,"
  "  track_id INTEGER NOT NULL REFERENCES tracks (id) ON DELETE CASCADE,"
  "  added INTEGER NOT NULL);"
  "CREATE INDEX history_track_changes_by_history ON history_track_changes (history_id);",
};

G_STATIC_ASSERT (G_N_ELEMENTS (migrations) == USAM_PROJECT_SCHEMA_VERSION);

static const char *const status_names[] = {
  [USAM_IMAGE_STATUS_TODO] = "todo",
  [USAM_IMAGE_STATUS_IN_PROGRESS] = "in-progress",
  [USAM_IMAGE_STATUS_DONE] = "done",
};

const char *
usam_image_status_to_string (UsamImageStatus status)
{
  return (guint) status < G_N_ELEMENTS (status_names) ? status_names[status] : "todo";
}

static UsamImageStatus
status_from_string (const char *text)
{
  for (guint i = 0; i < G_N_ELEMENTS (status_names); i++)
    if (g_strcmp0 (text, status_names[i]) == 0)
      return (UsamImageStatus) i;
  return USAM_IMAGE_STATUS_TODO;
}

/* ---- SQLite helpers ---- */

gboolean
usam_project_sql_fail (UsamProject *self, GError **error, const char *doing)
{
  int code = sqlite3_errcode (self->db);
  g_set_error (error, USAM_ERROR, code == SQLITE_CORRUPT || code == SQLITE_NOTADB ? USAM_ERROR_INVALID_DATA
                                                                                   : USAM_ERROR_IO,
               "%s: %s: %s", self->path, doing, sqlite3_errmsg (self->db));
  return FALSE;
}

gboolean
usam_project_sql_exec (UsamProject *self, const char *sql, GError **error)
{
  if (sqlite3_exec (self->db, sql, NULL, NULL, NULL) != SQLITE_OK)
    return usam_project_sql_fail (self, error, "cannot update the project");
  return TRUE;
}


sqlite3_stmt *
usam_project_sql_prepare (UsamProject *self, const char *sql, GError **error)
{
  sqlite3_stmt *stmt = NULL;
  if (sqlite3_prepare_v2 (self->db, sql, -1, &stmt, NULL) != SQLITE_OK)
    {
      usam_project_sql_fail (self, error, "cannot read the project");
      return NULL;
    }
  return stmt;
}

/* Runs a statement that returns no rows. */
gboolean
usam_project_sql_step (UsamProject *self, sqlite3_stmt *stmt, GError **error)
{
  if (sqlite3_step (stmt) != SQLITE_DONE)
    return usam_project_sql_fail (self, error, "cannot update the project");
  return TRUE;
}

static gint64
query_int (UsamProject *self, const char *sql, gint64 fallback)
{
  g_autoptr (UsamStmt) stmt = usam_project_sql_prepare (self, sql, NULL);
  if (stmt && sqlite3_step (stmt) == SQLITE_ROW)
    return sqlite3_column_int64 (stmt, 0);
  return fallback;
}

/* A transaction that rolls back unless committed. */
gboolean
usam_project_sql_begin (UsamProject *self, GError **error)
{
  /* IMMEDIATE takes the write lock now, so a second usam on the same file
   * waits (busy timeout) instead of failing half-way through an edit. */
  return usam_project_sql_exec (self, "BEGIN IMMEDIATE", error);
}

gboolean
usam_project_sql_commit (UsamProject *self, GError **error)
{
  if (!usam_project_sql_exec (self, "COMMIT", error))
    {
      sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
      return FALSE;
    }
  return TRUE;
}

gboolean
usam_project_sql_rollback (UsamProject *self)
{
  sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
  return FALSE;
}

/* ---- opening ---- */

static void
usam_project_finalize (GObject *object)
{
  UsamProject *self = USAM_PROJECT (object);
  if (self->db)
    sqlite3_close_v2 (self->db);
  g_free (self->path);
  g_free (self->folder);
  G_OBJECT_CLASS (usam_project_parent_class)->finalize (object);
}

static void
usam_project_class_init (UsamProjectClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = usam_project_finalize;
}

static void
usam_project_init (UsamProject *self)
{
}

static gboolean
migrate (UsamProject *self, GError **error)
{
  gint64 app = query_int (self, "PRAGMA application_id", -1);
  gint64 version = query_int (self, "PRAGMA user_version", -1);
  gint64 n_tables = query_int (self, "SELECT count(*) FROM sqlite_master", -1);
  if (app < 0 || version < 0 || n_tables < 0)
    return usam_project_sql_fail (self, error, "is not a usam project");
  if (app != APPLICATION_ID && !(app == 0 && n_tables == 0))
    {
      g_set_error (error, USAM_ERROR, USAM_ERROR_INVALID_DATA, "%s: is a database, but not a usam project",
                   self->path);
      return FALSE;
    }
  if (version > USAM_PROJECT_SCHEMA_VERSION)
    {
      g_set_error (error, USAM_ERROR, USAM_ERROR_UNSUPPORTED,
                   "%s: was written by a newer usam (project version %" G_GINT64_FORMAT ", this one reads up to %d)",
                   self->path, version, USAM_PROJECT_SCHEMA_VERSION);
      return FALSE;
    }
  if (version == USAM_PROJECT_SCHEMA_VERSION)
    return TRUE;
  if (!usam_project_sql_begin (self, error))
    return FALSE;
  for (gint64 v = version; v < USAM_PROJECT_SCHEMA_VERSION; v++)
    if (!usam_project_sql_exec (self, migrations[v], error))
      return usam_project_sql_rollback (self);
  g_autofree char *pragmas = g_strdup_printf ("PRAGMA application_id = %d; PRAGMA user_version = %d",
                                              APPLICATION_ID, USAM_PROJECT_SCHEMA_VERSION);
  if (!usam_project_sql_exec (self, pragmas, error))
    return usam_project_sql_rollback (self);
  return usam_project_sql_commit (self, error);
}

UsamProject *
usam_project_open (const char *path, GError **error)
{
  g_return_val_if_fail (path != NULL, NULL);
  g_autoptr (UsamProject) self = g_object_new (USAM_TYPE_PROJECT, NULL);
  self->path = g_canonicalize_filename (path, NULL);
  self->folder = g_path_get_dirname (self->path);
  if (g_file_test (self->path, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT, "%s: is a folder, not a project", self->path);
      return NULL;
    }
  int rc = sqlite3_open_v2 (self->path, &self->db,
                            SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, NULL);
  if (rc != SQLITE_OK)
    {
      g_set_error (error, USAM_ERROR, USAM_ERROR_IO, "%s: cannot open the project: %s", self->path,
                   self->db ? sqlite3_errmsg (self->db) : sqlite3_errstr (rc));
      return NULL;
    }
  sqlite3_busy_timeout (self->db, 5000);
  sqlite3_extended_result_codes (self->db, 0);
  /* WAL: a commit is one append, readers never block the writer, and a
   * killed process leaves at most an incomplete transaction that SQLite
   * drops on the next open. NORMAL syncs at checkpoints only: it survives
   * any crash of usam and loses at most the last edits on power loss. */
  g_autoptr (UsamStmt) wal = NULL;
  if (sqlite3_prepare_v2 (self->db, "PRAGMA journal_mode = WAL", -1, &wal, NULL) != SQLITE_OK
      || sqlite3_step (wal) != SQLITE_ROW)
    {
      gboolean other = sqlite3_errcode (self->db) == SQLITE_NOTADB;
      g_set_error (error, USAM_ERROR, other ? USAM_ERROR_INVALID_DATA : USAM_ERROR_IO, "%s: %s: %s", self->path,
                   other ? "is not a usam project" : "cannot open the project", sqlite3_errmsg (self->db));
      return NULL;
    }
  g_clear_pointer (&wal, sqlite3_finalize);
  if (!usam_project_sql_exec (self, "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON", error))
    return NULL;
  if (!migrate (self, error))
    return NULL;
  return g_steal_pointer (&self);
}

const char *
usam_project_get_path (UsamProject *self)
{
  return self->path;
}

guint
usam_project_get_schema_version (UsamProject *self)
{
  return (guint) query_int (self, "PRAGMA user_version", 0);
}

/* How @path is stored: relative to the project's folder when inside it. */
static char *
stored_path (const char *folder, const char *path)
{
  g_autofree char *absolute = g_canonicalize_filename (path, NULL);
  gsize n = strlen (folder);
  if (g_str_has_prefix (absolute, folder) && absolute[n] == G_DIR_SEPARATOR && absolute[n + 1])
    return g_strdup (absolute + n + 1);
  return g_steal_pointer (&absolute);
}

static char *
resolved_path (UsamProject *self, const char *stored)
{
  return g_canonicalize_filename (stored, self->folder);
}

gboolean
usam_project_save_as (UsamProject *self, const char *path, GError **error)
{
  g_autofree char *target = g_canonicalize_filename (path, NULL);
  if (g_file_test (target, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT, "%s: already exists", target);
      return FALSE;
    }
  g_autoptr (UsamStmt) vacuum = usam_project_sql_prepare (self, "VACUUM INTO ?", error);
  if (!vacuum)
    return FALSE;
  sqlite3_bind_text (vacuum, 1, target, -1, SQLITE_TRANSIENT);
  if (!usam_project_sql_step (self, vacuum, error))
    return FALSE;
  /* Relative paths were relative to this project's folder. */
  g_autoptr (UsamProject) copy = usam_project_open (target, error);
  if (!copy)
    return FALSE;
  g_autoptr (GPtrArray) images = usam_project_list_images (self, error);
  if (!images || !usam_project_sql_begin (copy, error))
    return FALSE;
  for (guint i = 0; i < images->len; i++)
    {
      UsamProjectImage *im = g_ptr_array_index (images, i);
      g_autofree char *stored = stored_path (copy->folder, im->path);
      g_autoptr (UsamStmt) stmt = usam_project_sql_prepare (copy, "UPDATE images SET path = ? WHERE id = ?", error);
      if (!stmt)
        return usam_project_sql_rollback (copy);
      sqlite3_bind_text (stmt, 1, stored, -1, SQLITE_TRANSIENT);
      sqlite3_bind_int64 (stmt, 2, im->id);
      if (!usam_project_sql_step (copy, stmt, error))
        return usam_project_sql_rollback (copy);
    }
  return usam_project_sql_commit (copy, error);
}

/* ---- images ---- */

void
usam_project_image_free (UsamProjectImage *image)
{
  if (!image)
    return;
  g_free (image->path);
  g_free (image->hash);
  g_free (image);
}

#define IMAGE_COLUMNS "id, position, path, hash, width, height, channels, depth, frames, status"

static UsamProjectImage *
image_from_row (UsamProject *self, sqlite3_stmt *stmt)
{
  UsamProjectImage *im = g_new0 (UsamProjectImage, 1);
  im->id = sqlite3_column_int64 (stmt, 0);
  im->position = (guint) sqlite3_column_int (stmt, 1);
  im->path = resolved_path (self, (const char *) sqlite3_column_text (stmt, 2));
  im->hash = g_strdup ((const char *) sqlite3_column_text (stmt, 3));
  im->width = (guint) sqlite3_column_int (stmt, 4);
  im->height = (guint) sqlite3_column_int (stmt, 5);
  im->channels = (guint) sqlite3_column_int (stmt, 6);
  im->depth = (guint) sqlite3_column_int (stmt, 7);
  im->frames = (guint) sqlite3_column_int (stmt, 8);
  im->status = status_from_string ((const char *) sqlite3_column_text (stmt, 9));
  return im;
}

gint64
usam_project_add_image (UsamProject *self, const char *path, GError **error)
{
  g_autofree char *stored = stored_path (self->folder, path);
  g_autoptr (UsamStmt) find = usam_project_sql_prepare (self, "SELECT id FROM images WHERE path = ?", error);
  if (!find)
    return 0;
  sqlite3_bind_text (find, 1, stored, -1, SQLITE_TRANSIENT);
  if (sqlite3_step (find) == SQLITE_ROW)
    return sqlite3_column_int64 (find, 0);
  g_autoptr (UsamStmt) insert = usam_project_sql_prepare (
      self, "INSERT INTO images (position, path) VALUES ((SELECT COALESCE (MAX (position) + 1, 0) FROM images), ?)",
      error);
  if (!insert)
    return 0;
  sqlite3_bind_text (insert, 1, stored, -1, SQLITE_TRANSIENT);
  if (!usam_project_sql_step (self, insert, error))
    return 0;
  return sqlite3_last_insert_rowid (self->db);
}

GPtrArray *
usam_project_list_images (UsamProject *self, GError **error)
{
  g_autoptr (UsamStmt) stmt = usam_project_sql_prepare (self, "SELECT " IMAGE_COLUMNS " FROM images ORDER BY position", error);
  if (!stmt)
    return NULL;
  g_autoptr (GPtrArray) images = g_ptr_array_new_with_free_func ((GDestroyNotify) usam_project_image_free);
  int rc;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_ptr_array_add (images, image_from_row (self, stmt));
  if (rc != SQLITE_DONE)
    {
      usam_project_sql_fail (self, error, "cannot read the images");
      return NULL;
    }
  return g_steal_pointer (&images);
}

UsamProjectImage *
usam_project_get_image (UsamProject *self, gint64 image_id, GError **error)
{
  g_autoptr (UsamStmt) stmt = usam_project_sql_prepare (self, "SELECT " IMAGE_COLUMNS " FROM images WHERE id = ?", error);
  if (!stmt)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, image_id);
  if (sqlite3_step (stmt) != SQLITE_ROW)
    {
      g_set_error (error, USAM_ERROR, USAM_ERROR_NOT_FOUND, "%s: has no image %" G_GINT64_FORMAT, self->path,
                   image_id);
      return NULL;
    }
  return image_from_row (self, stmt);
}

char *
usam_image_dup_content_hash (UsamImage *image)
{
  g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  guint32 header[6] = {
    usam_image_get_pixel_type (image), usam_image_get_width (image), usam_image_get_height (image),
    usam_image_get_channels (image),   usam_image_get_depth (image), usam_image_get_frames (image),
  };
  g_checksum_update (sum, (const guchar *) header, sizeof header);
  GBytes *bytes = usam_image_get_bytes (image);
  gsize size = 0;
  const guchar *data = g_bytes_get_data (bytes, &size);
  g_checksum_update (sum, data, (gssize) size);
  return g_strdup (g_checksum_get_string (sum));
}

gboolean
usam_project_set_image_info (UsamProject *self, gint64 image_id, UsamImage *image, GError **error)
{
  g_autofree char *hash = usam_image_dup_content_hash (image);
  g_autoptr (UsamStmt) stmt
      = usam_project_sql_prepare (self,
                 "UPDATE images SET hash = ?, pixel_type = ?, width = ?, height = ?, channels = ?, depth = ?, "
                 "frames = ? WHERE id = ?",
                 error);
  if (!stmt)
    return FALSE;
  sqlite3_bind_text (stmt, 1, hash, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, usam_pixel_type_to_string (usam_image_get_pixel_type (image)), -1, SQLITE_STATIC);
  sqlite3_bind_int (stmt, 3, (int) usam_image_get_width (image));
  sqlite3_bind_int (stmt, 4, (int) usam_image_get_height (image));
  sqlite3_bind_int (stmt, 5, (int) usam_image_get_channels (image));
  sqlite3_bind_int (stmt, 6, (int) usam_image_get_depth (image));
  sqlite3_bind_int (stmt, 7, (int) usam_image_get_frames (image));
  sqlite3_bind_int64 (stmt, 8, image_id);
  return usam_project_sql_step (self, stmt, error);
}

gboolean
usam_project_set_image_status (UsamProject *self, gint64 image_id, UsamImageStatus status, GError **error)
{
  g_autoptr (UsamStmt) stmt = usam_project_sql_prepare (self, "UPDATE images SET status = ? WHERE id = ?", error);
  if (!stmt)
    return FALSE;
  sqlite3_bind_text (stmt, 1, usam_image_status_to_string (status), -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 2, image_id);
  return usam_project_sql_step (self, stmt, error);
}

/* ---- opening images and folders ---- */

static const char *const image_suffixes[] = { ".tif", ".tiff", ".png", ".h5", ".hdf5", NULL };

static gboolean
is_image_name (const char *name)
{
  g_autofree char *lower = g_ascii_strdown (name, -1);
  for (guint i = 0; image_suffixes[i]; i++)
    if (g_str_has_suffix (lower, image_suffixes[i]))
      return TRUE;
  return FALSE;
}

char *
usam_project_default_path (const char *path)
{
  g_autofree char *absolute = g_canonicalize_filename (path, NULL);
  g_autofree char *base = g_path_get_basename (absolute);
  g_autofree char *digest = g_compute_checksum_for_string (G_CHECKSUM_SHA256, absolute, -1);
  digest[12] = '\0';
  g_autofree char *name = g_strdup_printf ("%s-%s.usam", base, digest);
  return g_build_filename (g_get_user_data_dir (), "usam", "projects", name, NULL);
}

static int
compare_names (gconstpointer a, gconstpointer b)
{
  /* As a file manager sorts: image2 before image10. */
  g_autofree char *ka = g_utf8_collate_key_for_filename (*(const char *const *) a, -1);
  g_autofree char *kb = g_utf8_collate_key_for_filename (*(const char *const *) b, -1);
  return strcmp (ka, kb);
}

UsamProject *
usam_project_open_any (const char *path, GError **error)
{
  g_autoptr (UsamProject) project = NULL;
  if (g_str_has_suffix (path, ".usam"))
    {
      if (!g_file_test (path, G_FILE_TEST_EXISTS))
        {
          g_set_error (error, USAM_ERROR, USAM_ERROR_NOT_FOUND, "%s: no such project", path);
          return NULL;
        }
      project = usam_project_open (path, error);
      if (!project)
        return NULL;
    }
  else
    {
      gboolean folder = g_file_test (path, G_FILE_TEST_IS_DIR);
      if (!folder && !usam_image_path_exists (path))
        {
          g_set_error (error, USAM_ERROR, USAM_ERROR_NOT_FOUND, "%s: no such file or folder", path);
          return NULL;
        }
      g_autoptr (GPtrArray) files = g_ptr_array_new_with_free_func (g_free);
      if (folder)
        {
          g_autoptr (GDir) dir = g_dir_open (path, 0, error);
          if (!dir)
            return NULL;
          for (const char *name; (name = g_dir_read_name (dir));)
            if (is_image_name (name))
              g_ptr_array_add (files, g_build_filename (path, name, NULL));
          g_ptr_array_sort (files, compare_names);
          if (files->len == 0)
            {
              g_set_error (error, USAM_ERROR, USAM_ERROR_NOT_FOUND, "%s: has no TIFF, PNG or HDF5 images", path);
              return NULL;
            }
        }
      else
        g_ptr_array_add (files, g_strdup (path));
      g_autofree char *project_path = usam_project_default_path (path);
      g_autofree char *project_dir = g_path_get_dirname (project_path);
      if (g_mkdir_with_parents (project_dir, 0755) != 0)
        {
          g_set_error (error, USAM_ERROR, USAM_ERROR_IO, "%s: cannot create the folder", project_dir);
          return NULL;
        }
      project = usam_project_open (project_path, error);
      if (!project)
        return NULL;
      for (guint i = 0; i < files->len; i++)
        if (!usam_project_add_image (project, g_ptr_array_index (files, i), error))
          return NULL;
    }
  return g_steal_pointer (&project);
}

/* ---- settings ---- */

char *
usam_project_dup_setting (UsamProject *self, const char *key)
{
  g_autoptr (UsamStmt) stmt = usam_project_sql_prepare (self, "SELECT value FROM settings WHERE key = ?", NULL);
  if (!stmt)
    return NULL;
  sqlite3_bind_text (stmt, 1, key, -1, SQLITE_TRANSIENT);
  if (sqlite3_step (stmt) != SQLITE_ROW)
    return NULL;
  return g_strdup ((const char *) sqlite3_column_text (stmt, 0));
}

gboolean
usam_project_set_setting (UsamProject *self, const char *key, const char *value, GError **error)
{
  g_autoptr (UsamStmt) stmt
      = usam_project_sql_prepare (self,
                 value ? "INSERT INTO settings (key, value) VALUES (?1, ?2) "
                         "ON CONFLICT (key) DO UPDATE SET value = excluded.value"
                       : "DELETE FROM settings WHERE key = ?1",
                 error);
  if (!stmt)
    return FALSE;
  sqlite3_bind_text (stmt, 1, key, -1, SQLITE_TRANSIENT);
  if (value)
    sqlite3_bind_text (stmt, 2, value, -1, SQLITE_TRANSIENT);
  return usam_project_sql_step (self, stmt, error);
}
