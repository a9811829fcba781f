#include "usam-runner.h"

#include <glib/gstdio.h>

typedef struct
{
  GArray *marks; /* UsamMark */
  gboolean batch;
  guint tag;
} Request;

struct _UsamRunner
{
  GObject parent_instance;

  UsamModel *model;
  GHashTable *embeddings; /* "image_id/t/z" → UsamEmbedding */

  UsamImage *image; /* the plane wanted */
  gint64 image_id;
  char *image_hash; /* content hash, for the disk cache */
  guint t, z;

  GCancellable *encode_cancellable;
  gboolean encoding, predicting;
  gboolean disk_busy;    /* reading or writing the disk cache */
  GHashTable *disk_miss; /* keys not on disk: encode them */
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

static void
state_changed (UsamRunner *self)
{
  g_signal_emit (self, signals[SIGNAL_STATE_CHANGED], 0);
}

/* ---- the disk cache: embeddings survive restarts ---- */

/* $XDG_CACHE_HOME/usam/embeddings/KEY.h5, KEY naming the model file (path,
 * size, time), its precision, the image's pixels and the plane; NULL for a
 * model without a file. */
static char *
disk_path (UsamRunner *self)
{
  const char *model_path = self->model ? usam_model_get_path (self->model) : NULL;
  GStatBuf st;
  if (!model_path || !self->image_hash || g_stat (model_path, &st) != 0)
    return NULL;
  g_autofree char *what = g_strdup_printf ("%s|%" G_GINT64_FORMAT "|%" G_GINT64_FORMAT "|%s|%s|%u|%u", model_path,
                                           (gint64) st.st_size, (gint64) st.st_mtime,
                                           usam_precision_to_string (usam_model_get_precision (self->model)),
                                           self->image_hash, self->t, self->z);
  g_autofree char *key = g_compute_checksum_for_string (G_CHECKSUM_SHA256, what, -1);
  g_autofree char *name = g_strconcat (key, ".h5", NULL);
  return g_build_filename (g_get_user_cache_dir (), "usam", "embeddings", name, NULL);
}

typedef struct
{
  UsamModel *model;
  UsamEmbedding *embedding; /* to save, or loaded */
  char *path, *key;
} DiskData;

static void
disk_data_free (DiskData *d)
{
  g_object_unref (d->model);
  g_clear_pointer (&d->embedding, usam_embedding_unref);
  g_free (d->path);
  g_free (d->key);
  g_free (d);
}

static void
disk_load_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  DiskData *d = task_data;
  d->embedding = g_file_test (d->path, G_FILE_TEST_IS_REGULAR) ? usam_embedding_load (d->model, d->path, NULL)
                                                                : NULL;
  g_task_return_boolean (task, TRUE);
}

static void
disk_save_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  DiskData *d = task_data;
  g_autofree char *dir = g_path_get_dirname (d->path);
  g_autofree char *partial = g_strconcat (d->path, ".partial", NULL);
  /* Written aside and renamed: a killed usam never leaves half a file. A
   * cache that cannot be written only costs time later. */
  if (g_mkdir_with_parents (dir, 0755) == 0 && usam_embedding_save (d->embedding, d->model, partial, NULL))
    g_rename (partial, d->path);
  else
    g_unlink (partial);
  g_task_return_boolean (task, TRUE);
}

static void
disk_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  UsamRunner *self = USAM_RUNNER (source);
  DiskData *d = g_task_get_task_data (G_TASK (result));
  gboolean loading = g_task_get_source_tag (G_TASK (result)) == disk_load_thread;
  self->disk_busy = FALSE;
  if (loading && d->embedding && d->model == self->model)
    g_hash_table_insert (self->embeddings, g_strdup (d->key), usam_embedding_ref (d->embedding));
  else if (loading)
    g_hash_table_add (self->disk_miss, g_strdup (d->key));
  state_changed (self);
  pump (self);
}

static void
start_disk (UsamRunner *self, GTaskThreadFunc func, char *path, char *key, UsamEmbedding *embedding)
{
  DiskData *d = g_new0 (DiskData, 1);
  d->model = g_object_ref (self->model);
  d->embedding = embedding ? usam_embedding_ref (embedding) : NULL;
  d->path = path;
  d->key = key;
  self->disk_busy = TRUE;
  g_autoptr (GTask) task = g_task_new (self, NULL, disk_done, NULL);
  g_task_set_source_tag (task, func);
  g_task_set_task_data (task, d, (GDestroyNotify) disk_data_free);
  g_task_run_in_thread (task, func);
}

/* ---- embeddings ---- */

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
  char *key;
  char *disk_path; /* where to keep it, or NULL */
} EncodeData;

static void
encode_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  EncodeData *d = user_data;
  UsamRunner *self = d->runner;
  g_autoptr (GError) error = NULL;
  g_autoptr (UsamEmbedding) embedding = usam_model_encode_finish (USAM_MODEL (source), result, &error);
  self->encoding = FALSE;
  g_clear_object (&self->encode_cancellable);
  g_signal_emit (self, signals[SIGNAL_PROGRESS], 0, -1.0);
  /* Kept even when another plane is wanted by now: going back is free. */
  if (embedding && USAM_MODEL (source) == self->model)
    {
      if (d->disk_path)
        start_disk (self, disk_save_thread, g_steal_pointer (&d->disk_path), g_strdup (d->key), embedding);
      g_hash_table_insert (self->embeddings, g_steal_pointer (&d->key), g_steal_pointer (&embedding));
    }
  else if (error && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_signal_emit (self, signals[SIGNAL_FAILED], 0, error->message);
  g_free (d->key);
  g_free (d->disk_path);
  g_free (d);
  state_changed (self);
  pump (self);
  g_object_unref (self);
}

static void
start_encode (UsamRunner *self)
{
  self->want_encode = FALSE;
  self->encoding = TRUE;
  self->encode_cancellable = g_cancellable_new ();
  EncodeData *d = g_new0 (EncodeData, 1);
  d->runner = g_object_ref (self);
  d->key = plane_key (self->image_id, self->t, self->z);
  d->disk_path = disk_path (self);
  g_signal_emit (self, signals[SIGNAL_PROGRESS], 0, 0.0);
  usam_model_encode_async (self->model, self->image, self->t, self->z, USAM_NORMALIZE_MINMAX,
                           self->encode_cancellable, on_progress, g_object_ref (self), g_object_unref, encode_done,
                           d);
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
  g_task_run_in_thread (task, predict_thread);
  state_changed (self);
}

/* Starts what is wanted, when the model is free. */
static void
pump (UsamRunner *self)
{
  if (self->encoding || self->predicting || self->disk_busy || !self->model || !self->image)
    return;
  UsamEmbedding *embedding = plane_embedding (self);
  g_autofree char *key = plane_key (self->image_id, self->t, self->z);
  g_autofree char *path = !embedding && !g_hash_table_contains (self->disk_miss, key) ? disk_path (self) : NULL;
  if (!embedding && (self->want_encode || self->pending) && path)
    start_disk (self, disk_load_thread, g_steal_pointer (&path), g_steal_pointer (&key), NULL);
  else if (!embedding && (self->want_encode || self->pending))
    start_encode (self);
  else if (embedding && self->pending)
    start_predict (self, embedding);
}

/* ---- public ---- */

void
usam_runner_set_model (UsamRunner *self, UsamModel *model)
{
  usam_runner_cancel (self);
  g_set_object (&self->model, model);
  g_hash_table_remove_all (self->embeddings);
  g_hash_table_remove_all (self->disk_miss);
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
  g_free (self->image_hash);
  self->image_hash = g_strdup (image_hash);
  usam_runner_cancel (self);
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
  return self->encoding || self->disk_busy;
}

gboolean
usam_runner_has_embedding (UsamRunner *self)
{
  return plane_embedding (self) != NULL;
}

void
usam_runner_cancel (UsamRunner *self)
{
  self->want_encode = FALSE;
  if (self->encode_cancellable)
    g_cancellable_cancel (self->encode_cancellable);
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
  g_hash_table_unref (self->disk_miss);
  g_free (self->image_hash);
  G_OBJECT_CLASS (usam_runner_parent_class)->finalize (object);
}

static void
usam_runner_class_init (UsamRunnerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  object_class->dispose = usam_runner_dispose;
  object_class->finalize = usam_runner_finalize;
  /* Embedding progress in [0, 1]; -1 when it ends. */
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
  self->disk_miss = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
}

UsamRunner *
usam_runner_new (void)
{
  return g_object_new (USAM_TYPE_RUNNER, NULL);
}
