#include "usam-workers.h"

static GMutex lock;
static GCond idle;
static guint running;

static void
counted_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  GTaskThreadFunc func = (GTaskThreadFunc) g_object_get_data (G_OBJECT (task), "usam-thread-func");
  func (task, source, task_data, cancellable);
  g_mutex_lock (&lock);
  if (--running == 0)
    g_cond_broadcast (&idle);
  g_mutex_unlock (&lock);
}

void
usam_task_run_in_thread (GTask *task, GTaskThreadFunc func)
{
  /* Counted from here, not from the thread's start: a queued task may start
   * while the process exits. */
  g_mutex_lock (&lock);
  running++;
  g_mutex_unlock (&lock);
  g_object_set_data (G_OBJECT (task), "usam-thread-func", (gpointer) func);
  g_task_run_in_thread (task, counted_thread);
}

gboolean
usam_workers_wait (gint64 timeout_usec)
{
  gint64 end = g_get_monotonic_time () + timeout_usec;
  g_mutex_lock (&lock);
  while (running > 0 && g_cond_wait_until (&idle, &lock, end))
    ;
  gboolean done = running == 0;
  g_mutex_unlock (&lock);
  return done;
}
