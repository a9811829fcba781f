#include "usam-test-util.h"

#include <glib/gstdio.h>
#include <stdlib.h>
#include <unistd.h>

static char *
under (const char *env, const char *fallback, const char *relative)
{
  const char *root = g_getenv (env);
  return g_build_filename (root ? root : fallback, relative, NULL);
}

char *
usam_test_shared_path (const char *relative)
{
  char *path = under ("USAM_SHARED_DIR", "../shared", relative);
  ck_assert_msg (g_file_test (path, G_FILE_TEST_EXISTS), "test input %s is missing", path);
  return path;
}

char *
usam_test_source_path (const char *relative)
{
  return under ("USAM_SOURCE_DIR", ".", relative);
}

char *
usam_test_build_path (const char *relative)
{
  return under ("USAM_BUILD_DIR", ".", relative);
}

static char *tmpdir;

static void
remove_tree (const char *path)
{
  GDir *dir = g_dir_open (path, 0, NULL);
  if (dir)
    {
      const char *name;
      while ((name = g_dir_read_name (dir)))
        {
          g_autofree char *child = g_build_filename (path, name, NULL);
          if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
            remove_tree (child);
          else
            g_unlink (child);
        }
      g_dir_close (dir);
    }
  g_rmdir (path);
}

static pid_t owner_pid;

static void
remove_tmpdir (void)
{
  /* Check forks a child per test and children run atexit handlers too. */
  if (tmpdir && getpid () == owner_pid)
    remove_tree (tmpdir);
}

const char *
usam_test_tmpdir (void)
{
  if (!tmpdir)
    {
      g_autoptr (GError) error = NULL;
      /* Called before Check runs too, where ck_assert cannot report. */
      tmpdir = g_dir_make_tmp ("usam-test-XXXXXX", &error);
      if (!tmpdir)
        g_error ("cannot make a temporary directory: %s", error->message);
    }
  return tmpdir;
}

int
usam_test_run (Suite *suite)
{
  /* Made in the parent, so every forked test shares it. */
  owner_pid = getpid ();
  usam_test_tmpdir ();
  atexit (remove_tmpdir);
  SRunner *runner = srunner_create (suite);
  srunner_run_all (runner, CK_ENV);
  int failed = srunner_ntests_failed (runner);
  srunner_free (runner);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
