/* usam-volume-projector.c — projection of several seeds (see
 * usam-volume-projector.h). */
#include "usam-volume-projector.h"
#include "usam-workers.h"

#include <math.h>
#include <string.h>

#include "usam-main-context.h"

typedef struct
{
  GArray *z;       /* guint, ascending */
  GPtrArray *mask; /* the seed on each slice of z, width × height */
  guint8 *masks;   /* after a run: depth × width × height */
  UsamProjectionEnd down, up;
  UsamProjectionGap *gaps; /* after a run: z->len − 1 */
} Seed;

struct _UsamVolumeProjector
{
  GObject parent_instance;

  UsamModel *model;
  UsamImage *volume;
  guint t;
  UsamProjectionParams params;
  UsamEmbeddingCache *cache;
  GArray *seeds; /* Seed */
  gboolean running, cancelled;
};

G_DEFINE_FINAL_TYPE (UsamVolumeProjector, usam_volume_projector, G_TYPE_OBJECT)

static void
seed_clear (Seed *s)
{
  g_clear_pointer (&s->z, g_array_unref);
  g_clear_pointer (&s->mask, g_ptr_array_unref);
  g_clear_pointer (&s->masks, g_free);
  g_clear_pointer (&s->gaps, g_free);
}

UsamVolumeProjector *
usam_volume_projector_new (UsamModel *model, UsamImage *volume, guint t, const UsamProjectionParams *params)
{
  g_return_val_if_fail (model && volume, NULL);
  UsamVolumeProjector *self = g_object_new (USAM_TYPE_VOLUME_PROJECTOR, NULL);
  self->model = g_object_ref (model);
  self->volume = g_object_ref (volume);
  self->t = t;
  self->params = params ? *params : usam_projection_params_default ();
  return self;
}

void
usam_volume_projector_set_cache (UsamVolumeProjector *self, UsamEmbeddingCache *cache)
{
  g_return_if_fail (!self->running);
  g_set_object (&self->cache, cache);
}

guint
usam_volume_projector_add_seed (UsamVolumeProjector *self, guint z, const guint8 *mask)
{
  g_return_val_if_fail (!self->running, 0);
  Seed s = { .z = g_array_new (FALSE, FALSE, sizeof (guint)), .mask = g_ptr_array_new_with_free_func (g_free) };
  g_array_append_val (self->seeds, s);
  usam_volume_projector_add_seed_slice (self, self->seeds->len - 1, z, mask);
  return self->seeds->len - 1;
}

void
usam_volume_projector_add_seed_slice (UsamVolumeProjector *self, guint seed, guint z, const guint8 *mask)
{
  g_return_if_fail (!self->running && seed < self->seeds->len);
  gsize plane = (gsize) usam_image_get_width (self->volume) * usam_image_get_height (self->volume);
  Seed *s = &g_array_index (self->seeds, Seed, seed);
  guint i = 0;
  while (i < s->z->len && g_array_index (s->z, guint, i) < z)
    i++;
  if (i < s->z->len && g_array_index (s->z, guint, i) == z)
    {
      guint8 *have = g_ptr_array_index (s->mask, i);
      for (gsize j = 0; j < plane; j++)
        have[j] |= mask[j];
      return;
    }
  g_array_insert_val (s->z, i, z);
  g_ptr_array_insert (s->mask, (gint) i, g_memdup2 (mask, plane));
}

guint
usam_volume_projector_get_n_seeds (UsamVolumeProjector *self)
{
  return self->seeds->len;
}

guint
usam_volume_projector_get_seed_slice (UsamVolumeProjector *self, guint seed)
{
  g_return_val_if_fail (seed < self->seeds->len, 0);
  return g_array_index (g_array_index (self->seeds, Seed, seed).z, guint, 0);
}

const guint *
usam_volume_projector_get_seed_slices (UsamVolumeProjector *self, guint seed, guint *n_slices)
{
  g_return_val_if_fail (seed < self->seeds->len, NULL);
  Seed *s = &g_array_index (self->seeds, Seed, seed);
  *n_slices = s->z->len;
  return (const guint *) (gpointer) s->z->data;
}

static UsamEmbedding *
embed_from_cache (guint z, gpointer user_data, GCancellable *cancellable, GError **error)
{
  UsamVolumeProjector *self = user_data;
  /* The cache numbers planes over Z, then T. */
  guint slice = self->t * usam_image_get_depth (self->volume) + z;
  return usam_embedding_cache_dup_slice (self->cache, slice, cancellable, NULL, NULL, error);
}

typedef struct
{
  UsamProgressFunc func;
  gpointer data;
  guint index, n;
} SeedProgress;

static void
seed_progress (double fraction, gpointer user_data)
{
  SeedProgress *p = user_data;
  p->func ((p->index + fraction) / p->n, p->data);
}

gboolean
usam_volume_projector_run (UsamVolumeProjector *self, GCancellable *cancellable, UsamProgressFunc progress,
                           gpointer progress_data, GError **error)
{
  guint depth = usam_image_get_depth (self->volume);
  gsize plane = (gsize) usam_image_get_width (self->volume) * usam_image_get_height (self->volume);
  self->cancelled = FALSE;
  for (guint i = 0; i < self->seeds->len; i++)
    {
      Seed *s = &g_array_index (self->seeds, Seed, i);
      guint n = s->z->len;
      const guint *z = (const guint *) (gpointer) s->z->data;
      g_clear_pointer (&s->masks, g_free);
      g_clear_pointer (&s->gaps, g_free);
      s->masks = g_malloc0 (plane * depth);
      s->gaps = g_new0 (UsamProjectionGap, n - 1);
      if (self->cancelled)
        {
          /* Not projected: the seed alone. */
          for (guint k = 0; k < n; k++)
            if (z[k] < depth)
              memcpy (s->masks + z[k] * plane, g_ptr_array_index (s->mask, k), plane);
          s->down = (UsamProjectionEnd) { USAM_PROJECTION_STOP_CANCELLED, z[0], z[0], NAN };
          s->up = (UsamProjectionEnd) { USAM_PROJECTION_STOP_CANCELLED, z[n - 1], z[n - 1], NAN };
          for (guint k = 0; k + 1 < n; k++)
            s->gaps[k] = (UsamProjectionGap) { z[k], z[k + 1],
                                               { USAM_PROJECTION_STOP_CANCELLED, z[k], z[k], NAN },
                                               { USAM_PROJECTION_STOP_CANCELLED, z[k + 1], z[k + 1], NAN } };
          continue;
        }
      SeedProgress p = { progress, progress_data, i, self->seeds->len };
      g_autoptr (GError) local = NULL;
      if (!usam_projection_run_multi (self->model, self->volume, self->t, n, z,
                                      (const guint8 *const *) s->mask->pdata, &self->params,
                                      self->cache ? embed_from_cache : NULL, self, progress ? seed_progress : NULL,
                                      &p, cancellable, s->masks, &s->down, &s->up, s->gaps, &local))
        {
          g_propagate_prefixed_error (error, g_steal_pointer (&local), "object %u of %u: ", i + 1,
                                      self->seeds->len);
          return FALSE;
        }
      self->cancelled = s->down.stop == USAM_PROJECTION_STOP_CANCELLED || s->up.stop == USAM_PROJECTION_STOP_CANCELLED;
      for (guint k = 0; k + 1 < n; k++)
        self->cancelled = self->cancelled || s->gaps[k].up.stop == USAM_PROJECTION_STOP_CANCELLED ||
                          s->gaps[k].down.stop == USAM_PROJECTION_STOP_CANCELLED;
    }
  return TRUE;
}

/* ---- in a worker thread ---- */

typedef struct
{
  GMainContext *context;
  UsamProgressFunc progress;
  gpointer progress_data;
} RunData;

static void
run_data_free (RunData *d)
{
  g_main_context_unref (d->context);
  g_free (d);
}

typedef struct
{
  GTask *task;
  double fraction;
} ProgressEvent;

static void
progress_event_free (ProgressEvent *e)
{
  g_object_unref (e->task);
  g_free (e);
}

static gboolean
progress_dispatch (gpointer user_data)
{
  ProgressEvent *e = user_data;
  /* Late news of a run already handed back would confuse its caller. */
  if (!g_task_get_completed (e->task))
    {
      RunData *d = g_task_get_task_data (e->task);
      d->progress (e->fraction, d->progress_data);
    }
  return G_SOURCE_REMOVE;
}

static void
post_progress (double fraction, gpointer user_data)
{
  GTask *task = user_data;
  RunData *d = g_task_get_task_data (task);
  ProgressEvent *e = g_new0 (ProgressEvent, 1);
  e->task = g_object_ref (task);
  e->fraction = fraction;
  usam_main_context_post (d->context, progress_dispatch, e, (GDestroyNotify) progress_event_free);
}

static void
run_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  UsamVolumeProjector *self = source;
  RunData *d = task_data;
  GError *error = NULL;
  if (usam_volume_projector_run (self, cancellable, d->progress ? post_progress : NULL, task, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

void
usam_volume_projector_run_async (UsamVolumeProjector *self, GCancellable *cancellable, UsamProgressFunc progress,
                                 gpointer progress_data, GAsyncReadyCallback callback, gpointer user_data)
{
  g_return_if_fail (!self->running);
  g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, usam_volume_projector_run_async);
  /* Cancellation ends the run with what it has, not with an error. */
  g_task_set_return_on_cancel (task, FALSE);
  RunData *d = g_new0 (RunData, 1);
  d->context = g_main_context_ref_thread_default ();
  d->progress = progress;
  d->progress_data = progress_data;
  g_task_set_task_data (task, d, (GDestroyNotify) run_data_free);
  self->running = TRUE;
  usam_task_run_in_thread (task, run_thread);
}

gboolean
usam_volume_projector_run_finish (UsamVolumeProjector *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  self->running = FALSE;
  return g_task_propagate_boolean (G_TASK (result), error);
}

gboolean
usam_volume_projector_is_running (UsamVolumeProjector *self)
{
  return self->running;
}

gboolean
usam_volume_projector_was_cancelled (UsamVolumeProjector *self)
{
  return self->cancelled;
}

const guint8 *
usam_volume_projector_get_masks (UsamVolumeProjector *self, guint seed)
{
  g_return_val_if_fail (seed < self->seeds->len && !self->running, NULL);
  return g_array_index (self->seeds, Seed, seed).masks;
}

void
usam_volume_projector_get_ends (UsamVolumeProjector *self, guint seed, UsamProjectionEnd *down, UsamProjectionEnd *up)
{
  g_return_if_fail (seed < self->seeds->len && !self->running);
  Seed *s = &g_array_index (self->seeds, Seed, seed);
  if (down)
    *down = s->down;
  if (up)
    *up = s->up;
}

const UsamProjectionGap *
usam_volume_projector_get_gaps (UsamVolumeProjector *self, guint seed, guint *n_gaps)
{
  g_return_val_if_fail (seed < self->seeds->len && !self->running, NULL);
  Seed *s = &g_array_index (self->seeds, Seed, seed);
  *n_gaps = s->gaps ? s->z->len - 1 : 0;
  return s->gaps;
}

static void
usam_volume_projector_finalize (GObject *object)
{
  UsamVolumeProjector *self = USAM_VOLUME_PROJECTOR (object);
  g_clear_object (&self->model);
  g_clear_object (&self->volume);
  g_clear_object (&self->cache);
  g_array_unref (self->seeds);
  G_OBJECT_CLASS (usam_volume_projector_parent_class)->finalize (object);
}

static void
usam_volume_projector_class_init (UsamVolumeProjectorClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = usam_volume_projector_finalize;
}

static void
usam_volume_projector_init (UsamVolumeProjector *self)
{
  self->seeds = g_array_new (FALSE, TRUE, sizeof (Seed));
  g_array_set_clear_func (self->seeds, (GDestroyNotify) seed_clear);
}
