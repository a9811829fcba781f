/* test-workers.c — background work is counted until it returns, so a
 * program can wait for it before exiting. */
#include "usam-test-util.h"
#include "usam-workers.h"

static gint finished;

static void
slow_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  g_usleep (300 * 1000);
  g_atomic_int_inc (&finished);
  g_task_return_boolean (task, TRUE);
}

START_TEST (test_wait_for_workers)
{
  ck_assert (usam_workers_wait (0));
  for (int i = 0; i < 3; i++)
    {
      g_autoptr (GTask) task = g_task_new (NULL, NULL, NULL, NULL);
      usam_task_run_in_thread (task, slow_thread);
    }
  /* Still running: a short wait gives up. */
  ck_assert (!usam_workers_wait (50 * 1000));
  ck_assert (usam_workers_wait (10 * G_USEC_PER_SEC));
  /* It returned because all of them ended. */
  ck_assert_int_eq (g_atomic_int_get (&finished), 3);
  ck_assert (usam_workers_wait (0));
}
END_TEST

static Suite *
workers_suite (void)
{
  Suite *suite = suite_create ("workers");
  TCase *tc = usam_test_tcase_new ("wait");
  tcase_add_test (tc, test_wait_for_workers);
  suite_add_tcase (suite, tc);
  return suite;
}

int
main (void)
{
  return usam_test_run (workers_suite ());
}
