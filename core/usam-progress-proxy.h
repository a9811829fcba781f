/* usam-progress-proxy.h — progress from a worker thread, reported on the
 * main context of the thread that started the work.
 *
 * Made on the caller's thread (it takes that thread's default main
 * context), handed to the worker as the user_data of
 * usam_progress_proxy_post(); every report is queued to the caller's
 * context, and the caller's data is destroyed there once the last report
 * and the last reference are gone.
 */
#pragma once

#include "usam-model.h"

G_BEGIN_DECLS

typedef struct _UsamProgressProxy UsamProgressProxy;

/* NULL when @func is NULL (after destroying @data): pass the proxy and
 * `proxy ? usam_progress_proxy_post : NULL` to the worker. */
UsamProgressProxy *usam_progress_proxy_new (UsamProgressFunc func, gpointer data, GDestroyNotify destroy);
void usam_progress_proxy_unref (UsamProgressProxy *self);
/* A UsamProgressFunc for the worker; @proxy is the UsamProgressProxy. */
void usam_progress_proxy_post (double fraction, gpointer proxy);

G_END_DECLS
