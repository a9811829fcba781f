#include "usam-runner.h"
#include "usam-workers.h"

#include <errno.h>
#include <glib/gstdio.h>

#include "usam-embedding-cache.h"
#include "usam-main-context.h"
#include "usam-project.h"

/* Neighbouring slices computed ahead: those within AHEAD of the current one,
 * or the whole frame when it has at most AHEAD_FRAME slices. */
#define AHEAD 2
#define AHEAD_FRAME 8

typedef struct
{
  GArray *marks; /* UsamMark */
  gboolean batch;
  guint tag;
} Request;

typedef enum {
  CACHE_UNKNOWN, /* not looked for yet */
  CACHE_OPENING,
  CACHE_READY,
  CACHE_OFF, /* a model without a file, or a cache that failed: encode only */
} CacheState;

struct _UsamRunner
{
  GObject parent_instance;

  UsamModel *model;
  GHashTable *embeddings; /* "image_id/t/z" → UsamEmbedding */

  UsamImage *image; /* the plane wanted */
  gint64 image_id;
  char *image_hash; /* content hash, for the disk cache */
  guint t, z;

  /* The disk cache of the image and model, and the neighbouring slices
   * computed into it in the background. */
  CacheState cache_state;
  UsamEmbeddingCache *cache;
  guint generation;                /* bumped with the image or the model: late results are dropped */
  GCancellable *ahead_cancellable; /* while precomputing */
  guint ahead_center;              /* the slice the last precomputing went out from; G_MAXUINT: none */

  GCancellable *encode_cancellable;
  guint job;              /* the current plane's embedding task, for its progress */
  gboolean encoding;      /* reading or encoding the current plane */
  gboolean reported;      /* it encodes, and said so through "progress" */
  gboolean predicting;
  gboolean want_encode;
  Request *pending; /* the newest prediction waiting */
};

G_DEFINE_FINAL_TYPE (UsamRunner, usam_runner, G_TYPE_OBJECT)

enum {
  SIGNAL_PROGRESS,
  SIGNAL_PREDICTED,
  SIGNAL_FAILED,
  SIGNAL_STATE_CHANGED,
  N_SIGNALS
};
static guint signals[N_SIGNALS];

static void pump (UsamRunner *self);

static void
request_free (Request *r)
{
  if (!r)
    return;
  g_array_unref (r->marks);
  g_free (r);
}

static char *
plane_key (gint64 image_id, guint t, guint z)
{
  return g_strdup_printf ("%" G_GINT64_FORMAT "/%u/%u", image_id, t, z);
}

static UsamEmbedding *
plane_embedding (UsamRunner *self)
{
  if (!self->image || !self->model)
    return NULL;
  g_autofree char *key = plane_key (self->image_id, self->t, self->z);
  return g_hash_table_lookup (self->embeddings, key);
}

static guint
plane_slice (UsamRunner *self)
{
  return self->t * usam_image_get_depth (self->image) + self->z;
}

static void
state_changed (UsamRunner *self)
{
  g_signal_emit (self, signals[SIGNAL_STATE_CHANGED], 0);
}

/* ---- the disk cache: embeddings survive restarts ---- */

static void
cancel_ahead (UsamRunner *self)
{
  if (self->ahead_cancellable)
    g_cancellable_cancel (self->ahead_cancellable);
  /* Started again from the current slice once that one is done. */
  self->ahead_center = G_MAXUINT;
}

/* Another image or model: the cache and what works on it belong to the old. */
static void
forget_cache (UsamRunner *self)
{
  cancel_ahead (self);
  g_clear_object (&self->cache);
  self->cache_state = CACHE_UNKNOWN;
  self->generation++;
}

typedef struct
{
  UsamModel *model;
  UsamImage *image;
  char *image_hash; /* or NULL: computed */
  guint generation;
} OpenData;

static void
open_data_free (OpenData *d)
{
  g_object_unref (d->model);
  g_object_unref (d->image);
  g_free (d->image_hash);
  g_free (d);
}

/* $XDG_CACHE_HOME/usam/embeddings/KEY.h5, KEY naming the model file (path,
 * size, time), its precision and the image's pixels: one file per image and
 * model, a slice per plane. NULL for a model without a file. */
static char *
cache_path (UsamModel *model, const char *image_hash)
{
  const char *model_path = usam_model_get_path (model);
  GStatBuf st;
  if (!model_path || g_stat (model_path, &st) != 0)
    return NULL;
  g_autofree char *what = g_strdup_printf ("%s|%" G_GINT64_FORMAT "|%" G_GINT64_FORMAT "|%s|%s", model_path,
                                           (gint64) st.st_size, (gint64) st.st_mtime,
                                           usam_precision_to_string (usam_model_get_precision (model)), image_hash);
  g_autofree char *key = g_compute_checksum_for_string (G_CHECKSUM_SHA256, what, -1);
  g_autofree char *name = g_strconcat (key, ".h5", NULL);
  return g_build_filename (g_get_user_cache_dir (), "usam", "embeddings", name, NULL);
}

/* In a thread: the model file's stat, the pixel hash and the cache's first
 * read all touch the disk. Returns NULL without an error for a model without
 * a file. */
static void
open_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  OpenData *d = task_data;
  if (!usam_model_get_path (d->model))
    {
      g_task_return_pointer (task, NULL, NULL);
      return;
    }
  if (!d->image_hash)
    d->image_hash = usam_image_dup_content_hash (d->image);
  g_autofree char *path = cache_path (d->model, d->image_hash);
  if (!path)
    {
      g_task_return_pointer (task, NULL, NULL);
      return;
    }
  g_autofree char *dir = g_path_get_dirname (path);
  if (g_mkdir_with_parents (dir, 0755) != 0)
    {
      int errsv = errno;
      g_task_return_new_error (task, G_IO_ERROR, g_io_error_from_errno (errsv), "%s: cannot create the folder (%s)",
                               dir, g_strerror (errsv));
      return;
    }
  UsamEmbeddingCacheOptions options = { .image_hash = d->image_hash };
  GError *error = NULL;
  UsamEmbeddingCache *cache = usam_embedding_cache_open (path, d->model, d->image, &options, &error);
  if (cache)
    g_task_return_pointer (task, cache, g_object_unref);
  else
    g_task_return_error (task, error);
}

static void
open_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  UsamRunner *self = USAM_RUNNER (source);
  OpenData *d = g_task_get_task_data (G_TASK (result));
  g_autoptr (GError) error = NULL;
  g_autoptr (UsamEmbeddingCache) cache = g_task_propagate_pointer (G_TASK (result), &error);
  if (d->generation != self->generation)
    return;
  /* A cache that cannot be had only costs time: encode without it. */
  if (error)
    g_message ("%s; embeddings are not kept on disk", error->message);
  g_autofree char *reason = cache ? usam_embedding_cache_dup_reset_reason (cache) : NULL;
  if (reason)
    g_message ("%s", reason);
  self->cache = g_steal_pointer (&cache);
  self->cache_state = self->cache ? CACHE_READY : CACHE_OFF;
  state_changed (self);
  pump (self);
}

static void
start_open (UsamRunner *self)
{
  OpenData *d = g_new0 (OpenData, 1);
  d->model = g_object_ref (self->model);
  d->image = g_object_ref (self->image);
  d->image_hash = g_strdup (self->image_hash);
  d->generation = self->generation;
  self->cache_state = CACHE_OPENING;
  g_autoptr (GTask) task = g_task_new (self, NULL, open_done, NULL);
  g_task_set_source_tag (task, start_open);
  g_task_set_task_data (task, d, (GDestroyNotify) open_data_free);
  usam_task_run_in_thread (task, open_thread);
}

typedef struct
{
  GWeakRef runner; /* the runner does not wait for its neighbours */
  GCancellable *cancellable;
} AheadData;

static void
ahead_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  AheadData *d = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (UsamRunner) self = g_weak_ref_get (&d->runner);
  if (!usam_embedding_cache_precompute_finish (USAM_EMBEDDING_CACHE (source), result, &error)
      && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_message ("%s", error->message);
  if (self && self->ahead_cancellable == d->cancellable)
    {
      g_clear_object (&self->ahead_cancellable);
      pump (self);
    }
  g_weak_ref_clear (&d->runner);
  g_object_unref (d->cancellable);
  g_free (d);
}

/* Encodes the planes around the current one into the cache, nearest first,
 * so that moving through a volume or a series finds them ready. */
static void
start_ahead (UsamRunner *self)
{
  guint depth = usam_image_get_depth (self->image);
  guint n = depth * usam_image_get_frames (self->image);
  guint slice = plane_slice (self), first, last;
  self->ahead_center = slice;
  if (depth > 1)
    {
      /* A volume: this frame's Z planes. */
      guint frame = self->t * depth;
      first = depth <= AHEAD_FRAME || self->z < AHEAD ? frame : slice - AHEAD;
      last = depth <= AHEAD_FRAME ? frame + depth - 1 : MIN (frame + depth - 1, slice + AHEAD);
    }
  else
    {
      /* A series: the neighbouring frames. */
      first = slice < AHEAD ? 0 : slice - AHEAD;
      last = MIN (n - 1, slice + AHEAD);
    }
  if (first == last)
    return;
  AheadData *d = g_new0 (AheadData, 1);
  g_weak_ref_init (&d->runner, self);
  self->ahead_cancellable = g_cancellable_new ();
  d->cancellable = g_object_ref (self->ahead_cancellable);
  usam_embedding_cache_precompute_async (self->cache, first, last, slice, self->ahead_cancellable, NULL, NULL, NULL,
                                         ahead_done, d);
}

/* ---- the current plane's embedding ---- */

static void
on_progress (double fraction, gpointer user_data)
{
  UsamRunner *self = user_data;
  if (self->encoding)
    g_signal_emit (self, signals[SIGNAL_PROGRESS], 0, fraction);
}

typedef struct
{
  UsamRunner *runner; /* a reference */
  UsamModel *model;
  UsamEmbeddingCache *cache; /* or NULL */
  char *key;
  guint slice, job;
  GMainContext *context; /* the runner's */
} EmbedData;

static void
embed_data_free (EmbedData *d)
{
  g_object_unref (d->runner);
  g_object_unref (d->model);
  g_clear_object (&d->cache);
  g_free (d->key);
  if (d->context)
    g_main_context_unref (d->context);
  g_free (d);
}

typedef struct
{
  UsamRunner *runner; /* a reference */
  guint job;
  double fraction;
} ProgressEvent;

static void
progress_event_free (ProgressEvent *e)
{
  g_object_unref (e->runner);
  g_free (e);
}

static gboolean
progress_dispatch (gpointer user_data)
{
  ProgressEvent *e = user_data;
  UsamRunner *self = e->runner;
  if (!self->encoding || self->job != e->job)
    return G_SOURCE_REMOVE;
  /* The plane being looked at must be encoded: it goes first, the
   * neighbours start again after it. */
  cancel_ahead (self);
  self->reported = TRUE;
  g_signal_emit (self, signals[SIGNAL_PROGRESS], 0, e->fraction);
  return G_SOURCE_REMOVE;
}

/* From the cache's thread to the runner's main context. */
static void
post_progress (double fraction, gpointer user_data)
{
  EmbedData *d = user_data;
  ProgressEvent *e = g_new0 (ProgressEvent, 1);
  e->runner = g_object_ref (d->runner);
  e->job = d->job;
  e->fraction = fraction;
  usam_main_context_post (d->context, progress_dispatch, e, (GDestroyNotify) progress_event_free);
}

static void
cached_embed_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  EmbedData *d = task_data;
  /* Read back without a word; an encoding shows its progress. */
  if (!usam_embedding_cache_has_slice (d->cache, d->slice))
    post_progress (0.0, d);
  GError *error = NULL;
  UsamEmbedding *embedding = usam_embedding_cache_dup_slice (d->cache, d->slice, cancellable, post_progress, d, &error);
  if (embedding)
    g_task_return_pointer (task, embedding, (GDestroyNotify) usam_embedding_unref);
  else
    g_task_return_error (task, error);
}

/* Both ways of embedding end here: from the cache (a GTask) or from the model
 * (usam_model_encode_async()). */
static void
embed_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  EmbedData *d = user_data ? user_data : g_task_get_task_data (G_TASK (result));
  UsamRunner *self = d->runner;
  g_autoptr (GError) error = NULL;
  g_autoptr (UsamEmbedding) embedding = d->cache ? g_task_propagate_pointer (G_TASK (result), &error)
                                                 : usam_model_encode_finish (USAM_MODEL (source), result, &error);
  gboolean mine = self->job == d->job;
  if (mine)
    {
      self->encoding = FALSE;
      g_clear_object (&self->encode_cancellable);
      if (self->reported)
        g_signal_emit (self, signals[SIGNAL_PROGRESS], 0, -1.0);
      self->reported = FALSE;
    }
  /* Kept even when another plane is wanted by now: going back is free. */
  if (embedding && d->model == self->model)
    g_hash_table_insert (self->embeddings, g_strdup (d->key), g_steal_pointer (&embedding));
  else if (error && d->cache && d->cache == self->cache && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      /* Most likely the file could not be written: go on without it. */
      g_message ("%s; embeddings are not kept on disk", error->message);
      cancel_ahead (self);
      g_clear_object (&self->cache);
      self->cache_state = CACHE_OFF;
      self->want_encode = mine;
    }
  else if (error && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_signal_emit (self, signals[SIGNAL_FAILED], 0, error->message);
  g_object_ref (self);
  if (user_data)
    embed_data_free (d);
  state_changed (self);
  pump (self);
  g_object_unref (self);
}

static void
start_embed (UsamRunner *self)
{
  self->want_encode = FALSE;
  self->encoding = TRUE;
  self->reported = FALSE;
  self->encode_cancellable = g_cancellable_new ();
  EmbedData *d = g_new0 (EmbedData, 1);
  d->runner = g_object_ref (self);
  d->model = g_object_ref (self->model);
  d->key = plane_key (self->image_id, self->t, self->z);
  d->slice = plane_slice (self);
  d->job = ++self->job;
  if (self->cache)
    {
      d->cache = g_object_ref (self->cache);
      d->context = g_main_context_ref_thread_default ();
      g_autoptr (GTask) task = g_task_new (self, self->encode_cancellable, embed_done, NULL);
      g_task_set_source_tag (task, start_embed);
      g_task_set_task_data (task, d, (GDestroyNotify) embed_data_free);
      usam_task_run_in_thread (task, cached_embed_thread);
    }
  else
    {
      self->reported = TRUE;
      g_signal_emit (self, signals[SIGNAL_PROGRESS], 0, 0.0);
      usam_model_encode_async (self->model, self->image, self->t, self->z, USAM_NORMALIZE_MINMAX,
                               self->encode_cancellable, on_progress, g_object_ref (self), g_object_unref, embed_done,
                               d);
    }
  state_changed (self);
}

/* ---- predictions ---- */

typedef struct
{
  UsamModel *model;
  UsamEmbedding *embedding;
  Request *request;
} PredictData;

static void
predict_data_free (PredictData *d)
{
  g_object_unref (d->model);
  usam_embedding_unref (d->embedding);
  request_free (d->request);
  g_free (d);
}

static void
predict_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  PredictData *d = task_data;
  GArray *marks = d->request->marks;
  /* Room for every mark's coordinates; prompts point into it. */
  g_autofree float *points = g_new0 (float, (gsize) marks->len * 2 + 1);
  g_autofree gint32 *labels = g_new0 (gint32, marks->len + 1);
  g_autofree float *boxes = g_new0 (float, (gsize) marks->len * 4 + 1);
  g_autofree UsamPrompt *prompts = g_new0 (UsamPrompt, marks->len + 1);
  guint n_prompts = d->request->batch ? 0 : 1;
  for (guint i = 0; i < marks->len; i++)
    {
      const UsamMark *m = &g_array_index (marks, UsamMark, i);
      UsamPrompt *p = &prompts[d->request->batch ? n_prompts : 0];
      if (d->request->batch && m->kind == USAM_MARK_NEGATIVE)
        continue;
      if (m->kind == USAM_MARK_BOX)
        {
          /* SAM takes one box per prompt: the latest. */
          float *b = boxes + (gsize) i * 4;
          b[0] = m->x0;
          b[1] = m->y0;
          b[2] = m->x1;
          b[3] = m->y1;
          p->box = b;
        }
      else
        {
          /* One prompt's points are consecutive; a batched prompt has one. */
          guint k = d->request->batch ? i : p->n_points;
          if (!p->points)
            {
              p->points = points + (gsize) k * 2;
              p->labels = labels + k;
            }
          points[(gsize) k * 2] = m->x0;
          points[(gsize) k * 2 + 1] = m->y0;
          labels[k] = m->kind == USAM_MARK_POSITIVE;
          p->n_points++;
        }
      if (d->request->batch)
        n_prompts++;
    }
  GError *error = NULL;
  UsamPrediction *prediction = n_prompts ? usam_model_predict (d->model, d->embedding, prompts, n_prompts, 0,
                                                               cancellable, &error)
                                         : NULL;
  if (!n_prompts)
    g_set_error_literal (&error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "There are no prompts to segment from.");
  if (!prediction)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, prediction, (GDestroyNotify) usam_prediction_unref);
}

static void
predict_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  UsamRunner *self = USAM_RUNNER (source);
  PredictData *d = g_task_get_task_data (G_TASK (result));
  g_autoptr (GError) error = NULL;
  g_autoptr (UsamPrediction) prediction = g_task_propagate_pointer (G_TASK (result), &error);
  self->predicting = FALSE;
  if (prediction)
    g_signal_emit (self, signals[SIGNAL_PREDICTED], 0, prediction, d->request->marks, d->request->batch,
                   d->request->tag);
  else
    g_signal_emit (self, signals[SIGNAL_FAILED], 0, error->message);
  state_changed (self);
  pump (self);
}

static void
start_predict (UsamRunner *self, UsamEmbedding *embedding)
{
  PredictData *d = g_new0 (PredictData, 1);
  d->model = g_object_ref (self->model);
  d->embedding = usam_embedding_ref (embedding);
  d->request = g_steal_pointer (&self->pending);
  self->predicting = TRUE;
  g_autoptr (GTask) task = g_task_new (self, NULL, predict_done, NULL);
  g_task_set_task_data (task, d, (GDestroyNotify) predict_data_free);
  usam_task_run_in_thread (task, predict_thread);
  state_changed (self);
}

/* Starts what is wanted, when the model is free: the current plane's
 * embedding first, then predictions on it, then its neighbours. */
static void
pump (UsamRunner *self)
{
  if (!self->model || !self->image)
    return;
  if (self->cache_state == CACHE_UNKNOWN)
    start_open (self);
  /* Encoding before the cache is open could encode what it holds. */
  if (self->cache_state == CACHE_OPENING || self->encoding || self->predicting)
    return;
  UsamEmbedding *embedding = plane_embedding (self);
  if (!embedding && (self->want_encode || self->pending))
    start_embed (self);
  else if (embedding && self->pending)
    start_predict (self, embedding);
  if (embedding && self->cache && !self->ahead_cancellable && self->ahead_center != plane_slice (self))
    start_ahead (self);
}

/* ---- public ---- */

void
usam_runner_set_model (UsamRunner *self, UsamModel *model)
{
  usam_runner_cancel (self);
  forget_cache (self);
  g_set_object (&self->model, model);
  g_hash_table_remove_all (self->embeddings);
  self->want_encode = TRUE;
  state_changed (self);
  pump (self);
}

UsamModel *
usam_runner_get_model (UsamRunner *self)
{
  return self->model;
}

void
usam_runner_set_plane (UsamRunner *self, UsamImage *image, gint64 image_id, const char *image_hash, guint t,
                       guint z)
{
  if (image == self->image && image_id == self->image_id && t == self->t && z == self->z)
    return;
  if (image != self->image || image_id != self->image_id)
    forget_cache (self);
  g_free (self->image_hash);
  self->image_hash = g_strdup (image_hash);
  /* Only this plane's encoding: the neighbours computed in the background
   * may be the very planes asked for next. */
  self->want_encode = FALSE;
  if (self->encode_cancellable)
    g_cancellable_cancel (self->encode_cancellable);
  usam_runner_drop_pending (self);
  g_set_object (&self->image, image);
  self->image_id = image_id;
  self->t = t;
  self->z = z;
  self->want_encode = image != NULL;
  state_changed (self);
  pump (self);
}

void
usam_runner_clear_cache (UsamRunner *self)
{
  g_hash_table_remove_all (self->embeddings);
}

gboolean
usam_runner_is_encoding (UsamRunner *self)
{
  return self->encoding || self->cache_state == CACHE_OPENING;
}

gboolean
usam_runner_has_embedding (UsamRunner *self)
{
  return plane_embedding (self) != NULL;
}

UsamEmbedding *
usam_runner_dup_embedding (UsamRunner *self)
{
  UsamEmbedding *embedding = plane_embedding (self);
  return embedding ? usam_embedding_ref (embedding) : NULL;
}

UsamEmbeddingCache *
usam_runner_dup_cache (UsamRunner *self)
{
  return self->cache ? g_object_ref (self->cache) : NULL;
}

void
usam_runner_cancel (UsamRunner *self)
{
  self->want_encode = FALSE;
  if (self->encode_cancellable)
    g_cancellable_cancel (self->encode_cancellable);
  cancel_ahead (self);
}

void
usam_runner_encode (UsamRunner *self)
{
  self->want_encode = TRUE;
  pump (self);
}

void
usam_runner_predict (UsamRunner *self, GArray *marks, gboolean batch, guint tag)
{
  request_free (self->pending);
  self->pending = g_new0 (Request, 1);
  self->pending->marks = g_array_copy (marks);
  self->pending->batch = batch;
  self->pending->tag = tag;
  state_changed (self);
  pump (self);
}

gboolean
usam_runner_is_predicting (UsamRunner *self)
{
  return self->predicting || self->pending;
}

void
usam_runner_drop_pending (UsamRunner *self)
{
  g_clear_pointer (&self->pending, request_free);
}

/* ---- life cycle ---- */

static void
usam_runner_dispose (GObject *object)
{
  UsamRunner *self = USAM_RUNNER (object);
  usam_runner_cancel (self);
  usam_runner_drop_pending (self);
  forget_cache (self);
  g_clear_object (&self->ahead_cancellable);
  g_clear_object (&self->model);
  g_clear_object (&self->image);
  g_hash_table_remove_all (self->embeddings);
  G_OBJECT_CLASS (usam_runner_parent_class)->dispose (object);
}

static void
usam_runner_finalize (GObject *object)
{
  UsamRunner *self = USAM_RUNNER (object);
  g_hash_table_unref (self->embeddings);
  g_free (self->image_hash);
  G_OBJECT_CLASS (usam_runner_parent_class)->finalize (object);
}

static void
usam_runner_class_init (UsamRunnerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  object_class->dispose = usam_runner_dispose;
  object_class->finalize = usam_runner_finalize;
  /* Embedding progress in [0, 1]; -1 when it ends. Only while the model
   * encodes the current plane: one read from the disk cache says nothing. */
  signals[SIGNAL_PROGRESS] = g_signal_new ("progress", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                                           NULL, G_TYPE_NONE, 1, G_TYPE_DOUBLE);
  /* (prediction, the request's marks, batch, tag) */
  signals[SIGNAL_PREDICTED] = g_signal_new ("predicted", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                                            NULL, NULL, G_TYPE_NONE, 4, USAM_TYPE_PREDICTION, G_TYPE_ARRAY,
                                            G_TYPE_BOOLEAN, G_TYPE_UINT);
  signals[SIGNAL_FAILED] = g_signal_new ("failed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                                         NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
  signals[SIGNAL_STATE_CHANGED] = g_signal_new ("state-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                                NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
usam_runner_init (UsamRunner *self)
{
  self->embeddings = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) usam_embedding_unref);
  self->ahead_center = G_MAXUINT;
}

UsamRunner *
usam_runner_new (void)
{
  return g_object_new (USAM_TYPE_RUNNER, NULL);
}
