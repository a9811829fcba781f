#include "usam-progress-proxy.h"
#include "usam-main-context.h"

struct _UsamProgressProxy
{
  gatomicrefcount ref;
  GMainContext *context;
  UsamProgressFunc func;
  gpointer data;
  GDestroyNotify destroy;
};

typedef struct
{
  UsamProgressProxy *proxy;
  double fraction;
} Event;

UsamProgressProxy *
usam_progress_proxy_new (UsamProgressFunc func, gpointer data, GDestroyNotify destroy)
{
  if (!func)
    {
      if (destroy)
        destroy (data);
      return NULL;
    }
  UsamProgressProxy *self = g_new0 (UsamProgressProxy, 1);
  g_atomic_ref_count_init (&self->ref);
  self->context = g_main_context_ref_thread_default ();
  self->func = func;
  self->data = data;
  self->destroy = destroy;
  return self;
}

void
usam_progress_proxy_unref (UsamProgressProxy *self)
{
  if (!self || !g_atomic_ref_count_dec (&self->ref))
    return;
  if (self->destroy)
    self->destroy (self->data);
  g_main_context_unref (self->context);
  g_free (self);
}

static gboolean
event_dispatch (gpointer user_data)
{
  Event *e = user_data;
  e->proxy->func (e->fraction, e->proxy->data);
  return G_SOURCE_REMOVE;
}

static void
event_free (gpointer user_data)
{
  Event *e = user_data;
  usam_progress_proxy_unref (e->proxy);
  g_free (e);
}

void
usam_progress_proxy_post (double fraction, gpointer proxy)
{
  UsamProgressProxy *self = proxy;
  Event *e = g_new0 (Event, 1);
  g_atomic_ref_count_inc (&self->ref);
  e->proxy = self;
  e->fraction = fraction;
  usam_main_context_post (self->context, event_dispatch, e, event_free);
}
