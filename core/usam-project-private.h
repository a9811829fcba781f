/* usam-project-private.h — what the files of UsamProject share. */
#pragma once

#include <sqlite3.h>

#include "usam-project.h"

G_BEGIN_DECLS

struct _UsamProject
{
  GObject parent_instance;
  sqlite3 *db;
  char *path;
  char *folder; /* image paths inside it are stored relative to it */
};

typedef sqlite3_stmt UsamStmt;
G_DEFINE_AUTOPTR_CLEANUP_FUNC (UsamStmt, sqlite3_finalize)

/* Sets @error from the database's last error, saying what failed; FALSE. */
gboolean usam_project_sql_fail (UsamProject *self, GError **error, const char *doing);
gboolean usam_project_sql_exec (UsamProject *self, const char *sql, GError **error);
sqlite3_stmt *usam_project_sql_prepare (UsamProject *self, const char *sql, GError **error);
/* Runs a statement that returns no rows. */
gboolean usam_project_sql_step (UsamProject *self, sqlite3_stmt *stmt, GError **error);
/* BEGIN IMMEDIATE; COMMIT (rolling back when it fails); ROLLBACK (FALSE). */
gboolean usam_project_sql_begin (UsamProject *self, GError **error);
gboolean usam_project_sql_commit (UsamProject *self, GError **error);
gboolean usam_project_sql_rollback (UsamProject *self);

/* A pending change to a track row in an edit. */
typedef struct
{
  guint label;
  char *name;
  guint parent;
  gboolean remove;
} UsamTrackChange;

/* Writes @changes (UsamTrackChange) to step @step_id of image @image_id;
 * inside the edit's transaction (usam-project-tracks.c). */
gboolean usam_project_write_track_changes (UsamProject *self, gint64 step_id, gint64 image_id, GArray *changes,
                                           GError **error);

/* Adds the objects of @labels (an integer label image of the image's
 * shape) to @edit, made by @source: with their own value plus @offset as
 * label when @keep, else unnumbered (usam-project-labels.c). */
gboolean usam_project_edit_add_label_image (UsamProjectEdit *edit, UsamProject *self, gint64 image_id,
                                            UsamImage *labels, gboolean keep, guint offset, UsamObjectSource source,
                                            guint *n_added, GError **error);
/* The objects as a 32-bit label image of the image's full shape: their own
 * labels when @keep, else 1..n (usam_project_render_labels()). */
UsamImage *usam_project_render_labels_full (UsamProject *self, gint64 image_id, gboolean keep, GError **error);

G_END_DECLS
