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

G_END_DECLS
