/* usam-main-context.h — handing work from a worker thread to a main context. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Runs @func(@data) in @context at default priority, then @destroy(@data).
 * Always queued, never run on the calling thread: g_main_context_invoke()
 * called from a worker whose thread-default is the global context runs the
 * function right there whenever the main thread is between iterations, and
 * progress would then reach callers on the wrong thread. */
void usam_main_context_post (GMainContext *context, GSourceFunc func, gpointer data, GDestroyNotify destroy);

G_END_DECLS
