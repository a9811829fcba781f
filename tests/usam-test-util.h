/* usam-test-util.h — what the Check suites share. */
#pragma once

#include <check.h>
#include <glib.h>

G_BEGIN_DECLS

/* A path under the read-only shared inputs (../shared or $USAM_SHARED_DIR).
 * Fails the test when it does not exist: missing inputs are never a skip. */
char *usam_test_shared_path (const char *relative);
/* A path in the source or build tree. */
char *usam_test_source_path (const char *relative);
char *usam_test_build_path (const char *relative);
/* A fresh temporary directory, removed with its contents at exit. */
const char *usam_test_tmpdir (void);

/* Runs @suite and returns the process exit status. */
int usam_test_run (Suite *suite);

G_END_DECLS
