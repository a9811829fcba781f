/* usam-workers.h — worker threads the process must outlive.
 *
 * At exit, libtorch's and HDF5's static state is torn down; a worker still
 * inside them (an encoding cancelled only between blocks, a tracking run
 * cancelled only between frames) then crashes the process after the
 * window has closed. Background work therefore starts through
 * usam_task_run_in_thread(), and a program with a main loop calls
 * usam_workers_wait() before it returns from main().
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* g_task_run_in_thread(), counted until @func returns. */
void usam_task_run_in_thread (GTask *task, GTaskThreadFunc func);

/* Waits until no counted worker runs, at most @timeout_usec; TRUE when none
 * is left. */
gboolean usam_workers_wait (gint64 timeout_usec);

G_END_DECLS
