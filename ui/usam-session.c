#include "usam-session-private.h"
#include "usam-workers.h"

#include "usam-error.h"

G_DEFINE_FINAL_TYPE (UsamSession, usam_session, G_TYPE_OBJECT)

enum {
  SIGNAL_IMAGE_CHANGED,
  SIGNAL_OBJECTS_CHANGED,
  SIGNAL_CURRENT_CHANGED,
  SIGNAL_STATE_CHANGED,
  SIGNAL_PROGRESS,
  SIGNAL_MESSAGE,
  N_SIGNALS
};
static guint signals[N_SIGNALS];

void
usam_session_emit_message (UsamSession *self, const char *text, gboolean is_error)
{
  g_signal_emit (self, signals[SIGNAL_MESSAGE], 0, text, is_error);
}

static void
state_changed (UsamSession *self)
{
  g_signal_emit (self, signals[SIGNAL_STATE_CHANGED], 0);
}

/* ---- objects ---- */

void
usam_session_reload_objects (UsamSession *self)
{
  g_clear_pointer (&self->objects, g_ptr_array_unref);
  if (self->project && self->image)
    {
      g_autoptr (GError) error = NULL;
      self->objects = usam_project_list_objects (self->project, usam_session_get_image_id (self), (gint) self->t,
                                                 (gint) self->z, &error);
      if (!self->objects)
        usam_session_emit_message (self, error->message, TRUE);
    }
  g_signal_emit (self, signals[SIGNAL_OBJECTS_CHANGED], 0);
  state_changed (self);
}

GPtrArray *
usam_session_get_objects (UsamSession *self)
{
  GPtrArray *shown = g_ptr_array_new_with_free_func ((GDestroyNotify) usam_object_unref);
  for (guint i = 0; self->objects && i < self->objects->len; i++)
    {
      UsamObject *o = g_ptr_array_index (self->objects, i);
      if (o->id != self->picked_id)
        g_ptr_array_add (shown, usam_object_ref (o));
    }
  return shown;
}

void
usam_session_reset_current (UsamSession *self)
{
  g_array_set_size (self->marks, 0);
  g_clear_pointer (&self->current, g_free);
  self->current_source = USAM_OBJECT_SOURCE_PROMPT;
  self->picked_id = 0;
  self->picked_label = 0;
  self->generation++;
  usam_runner_drop_pending (self->runner);
}

void
usam_session_current_changed (UsamSession *self)
{
  g_signal_emit (self, signals[SIGNAL_CURRENT_CHANGED], 0);
  state_changed (self);
}

/* ---- images ---- */

typedef struct
{
  char *path;
  UsamImage *image;
  char *hash;
} LoadData;

static void
load_data_free (LoadData *d)
{
  g_free (d->path);
  g_clear_object (&d->image);
  g_free (d->hash);
  g_free (d);
}

static void
load_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  LoadData *d = task_data;
  GError *error = NULL;
  d->image = usam_image_load (d->path, &error);
  if (!d->image)
    {
      g_task_return_error (task, error);
      return;
    }
  /* Hashing reads every pixel: worth keeping off the main loop too. */
  d->hash = usam_image_dup_content_hash (d->image);
  g_task_return_boolean (task, TRUE);
}

static void
load_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  UsamSession *self = USAM_SESSION (source);
  g_autoptr (GError) error = NULL;
  LoadData *d = g_task_get_task_data (G_TASK (result));
  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        usam_session_emit_message (self, error->message, TRUE);
      return;
    }
  if (g_task_get_cancellable (G_TASK (result)) != self->load_cancellable)
    return; /* another image was asked for meanwhile */
  UsamProjectImage *im = g_ptr_array_index (self->images, self->index);
  if (im->hash && g_strcmp0 (im->hash, d->hash) != 0)
    usam_session_emit_message (self, "This image's pixels changed since it was annotated: objects may no longer fit it.",
                               TRUE);
  if (!usam_project_set_image_info (self->project, im->id, d->image, &error))
    usam_session_emit_message (self, error->message, TRUE);
  g_free (im->hash);
  im->hash = g_strdup (d->hash);
  self->image = g_steal_pointer (&d->image);
  self->t = MIN (self->t, usam_image_get_frames (self->image) - 1);
  self->z = MIN (self->z, usam_image_get_depth (self->image) - 1);
  usam_session_reset_current (self);
  g_signal_emit (self, signals[SIGNAL_IMAGE_CHANGED], 0);
  usam_session_reload_objects (self);
  usam_session_current_changed (self);
  usam_runner_set_plane (self->runner, self->image, im->id, im->hash, self->t, self->z);
}

void
usam_session_go_to_image (UsamSession *self, guint index)
{
  g_return_if_fail (self->images && index < self->images->len);
  g_cancellable_cancel (self->load_cancellable);
  g_clear_object (&self->load_cancellable);
  usam_runner_set_plane (self->runner, NULL, 0, NULL, 0, 0);
  g_clear_object (&self->image);
  g_clear_pointer (&self->objects, g_ptr_array_unref);
  usam_session_reset_current (self);
  self->index = index;
  self->t = self->z = 0;
  g_signal_emit (self, signals[SIGNAL_IMAGE_CHANGED], 0);
  usam_session_current_changed (self);

  self->load_cancellable = g_cancellable_new ();
  UsamProjectImage *im = g_ptr_array_index (self->images, index);
  LoadData *d = g_new0 (LoadData, 1);
  d->path = g_strdup (im->path);
  g_autoptr (GTask) task = g_task_new (self, self->load_cancellable, load_done, NULL);
  g_task_set_task_data (task, d, (GDestroyNotify) load_data_free);
  usam_task_run_in_thread (task, load_thread);
}

gboolean
usam_session_next_image (UsamSession *self, GError **error)
{
  if (!self->images || self->index + 1 >= self->images->len)
    {
      g_set_error_literal (error, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT, "This is the last image of the series.");
      return FALSE;
    }
  gint64 id = usam_session_get_image_id (self);
  if (id && usam_project_count_objects (self->project, id) > 0
      && !usam_project_set_image_status (self->project, id, USAM_IMAGE_STATUS_DONE, error))
    return FALSE;
  usam_session_go_to_image (self, self->index + 1);
  return TRUE;
}

void
usam_session_set_plane (UsamSession *self, guint t, guint z)
{
  if (!self->image || (t == self->t && z == self->z))
    return;
  self->t = MIN (t, usam_image_get_frames (self->image) - 1);
  self->z = MIN (z, usam_image_get_depth (self->image) - 1);
  usam_session_reset_current (self);
  g_signal_emit (self, signals[SIGNAL_IMAGE_CHANGED], 0);
  usam_session_reload_objects (self);
  usam_session_current_changed (self);
  usam_runner_set_plane (self->runner, self->image, usam_session_get_image_id (self),
                         ((UsamProjectImage *) g_ptr_array_index (self->images, self->index))->hash, self->t, self->z);
}

/* ---- opening ---- */

gboolean
usam_session_open (UsamSession *self, const char *path, GError **error)
{
  g_autoptr (UsamProject) project = usam_project_open_any (path, error);
  if (!project)
    return FALSE;
  g_autoptr (GPtrArray) images = usam_project_list_images (project, error);
  if (!images)
    return FALSE;
  if (images->len == 0)
    {
      g_set_error (error, USAM_ERROR, USAM_ERROR_NOT_FOUND, "%s: the project has no images",
                   usam_project_get_path (project));
      return FALSE;
    }
  g_set_object (&self->project, project);
  g_clear_pointer (&self->images, g_ptr_array_unref);
  self->images = g_steal_pointer (&images);
  /* Image ids belong to the project. */
  usam_runner_set_plane (self->runner, NULL, 0, NULL, 0, 0);
  usam_runner_clear_cache (self->runner);
  guint first = 0;
  while (first + 1 < self->images->len
         && ((UsamProjectImage *) g_ptr_array_index (self->images, first))->status == USAM_IMAGE_STATUS_DONE)
    first++;
  usam_session_go_to_image (self, first);
  return TRUE;
}

gboolean
usam_session_save_as (UsamSession *self, const char *path, GError **error)
{
  if (!self->project)
    {
      g_set_error_literal (error, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT, "There is no project to save.");
      return FALSE;
    }
  if (!usam_project_save_as (self->project, path, error))
    return FALSE;
  /* Go on working in the copy, as "save as" does everywhere else. */
  g_autoptr (UsamProject) copy = usam_project_open (path, error);
  if (!copy)
    return FALSE;
  g_set_object (&self->project, copy);
  state_changed (self);
  return TRUE;
}

UsamProject *
usam_session_get_project (UsamSession *self)
{
  return self->project;
}

guint
usam_session_get_n_images (UsamSession *self)
{
  return self->images ? self->images->len : 0;
}

guint
usam_session_get_image_index (UsamSession *self)
{
  return self->index;
}

UsamImage *
usam_session_get_image (UsamSession *self)
{
  return self->image;
}

gint64
usam_session_get_image_id (UsamSession *self)
{
  if (!self->images || self->index >= self->images->len)
    return 0;
  return ((UsamProjectImage *) g_ptr_array_index (self->images, self->index))->id;
}

guint
usam_session_get_t (UsamSession *self)
{
  return self->t;
}

guint
usam_session_get_z (UsamSession *self)
{
  return self->z;
}

/* ---- the model ---- */

/* Commits every mask of a batched prediction as its own object, in one
 * edit: one undo takes the whole batch back. */
static gboolean
commit_batch (UsamSession *self, GArray *marks, UsamPrediction *prediction, GError **error)
{
  guint h = 0, w = 0;
  usam_prediction_get_size (prediction, &h, &w);
  g_autoptr (GPtrArray) objects = g_ptr_array_new_with_free_func ((GDestroyNotify) usam_object_unref);
  guint mark = 0;
  for (guint i = 0; i < usam_prediction_get_n_prompts (prediction); i++, mark++)
    {
      /* Prompt i is the i-th mark that is not a negative point. */
      while (mark < marks->len && g_array_index (marks, UsamMark, mark).kind == USAM_MARK_NEGATIVE)
        mark++;
      if (mark >= marks->len)
        break;
      UsamObject *o
          = usam_object_new_from_mask (usam_prediction_get_masks (prediction, i), w, h, USAM_OBJECT_SOURCE_PROMPT);
      if (!o)
        continue;
      usam_object_set_marks (o, &g_array_index (marks, UsamMark, mark), 1);
      g_ptr_array_add (objects, o);
    }
  if (objects->len == 0)
    {
      /* Nothing to undo later: no step at all. */
      usam_session_emit_message (self, "Every mask of the batch was empty: nothing was committed.", FALSE);
      return TRUE;
    }
  if (!usam_session_add_objects (self, objects, "batch", error))
    return FALSE;
  g_autofree char *text = g_strdup_printf ("Committed %u objects of %u prompts (empty masks are skipped).",
                                           objects->len, usam_prediction_get_n_prompts (prediction));
  usam_session_emit_message (self, text, FALSE);
  usam_session_reset_current (self);
  usam_session_current_changed (self);
  return TRUE;
}

static void
on_predicted (UsamRunner *runner, UsamPrediction *prediction, GArray *marks, gboolean batch, guint tag,
              UsamSession *self)
{
  /* A result for prompts or a plane that changed meanwhile is dropped. */
  if (tag != self->generation || !self->image)
    return;
  guint h = 0, w = 0;
  usam_prediction_get_size (prediction, &h, &w);
  if (w != usam_image_get_width (self->image) || h != usam_image_get_height (self->image))
    return;
  g_autoptr (GError) error = NULL;
  if (batch)
    {
      if (!commit_batch (self, marks, prediction, &error))
        usam_session_emit_message (self, error->message, TRUE);
      return;
    }
  g_free (self->current);
  self->current = g_memdup2 (usam_prediction_get_masks (prediction, 0), (gsize) w * h);
  self->current_source = USAM_OBJECT_SOURCE_PROMPT;
  usam_session_current_changed (self);
}

static void
on_failed (UsamRunner *runner, const char *text, UsamSession *self)
{
  usam_session_emit_message (self, text, TRUE);
}

static void
on_progress (UsamRunner *runner, double fraction, UsamSession *self)
{
  g_signal_emit (self, signals[SIGNAL_PROGRESS], 0, fraction);
}

void
usam_session_set_model (UsamSession *self, UsamModel *model)
{
  usam_runner_set_model (self->runner, model);
}

static void
model_loaded (GObject *source, GAsyncResult *result, gpointer user_data)
{
  UsamSession *self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (UsamModel) model = usam_model_new_from_file_finish (result, &error);
  if (model)
    {
      usam_session_set_model (self, model);
      g_autofree char *what = usam_model_dup_description (model);
      usam_session_emit_message (self, what, FALSE);
      if (self->project)
        usam_project_set_setting (self->project, "model", usam_model_get_path (model), NULL);
    }
  else
    usam_session_emit_message (self, error->message, TRUE);
  g_object_unref (self);
}

void
usam_session_load_model (UsamSession *self, const char *path)
{
  usam_model_new_from_file_async (path, USAM_PRECISION_AUTO, NULL, model_loaded, g_object_ref (self));
}

UsamModel *
usam_session_get_model (UsamSession *self)
{
  return usam_runner_get_model (self->runner);
}

gboolean
usam_session_is_encoding (UsamSession *self)
{
  return usam_runner_is_encoding (self->runner);
}

gboolean
usam_session_has_embedding (UsamSession *self)
{
  return usam_runner_has_embedding (self->runner);
}

UsamEmbedding *
usam_session_dup_embedding (UsamSession *self)
{
  return usam_runner_dup_embedding (self->runner);
}

void
usam_session_cancel_encoding (UsamSession *self)
{
  usam_runner_cancel (self->runner);
}

/* ---- the current object ---- */

void
usam_session_set_auto_segment (UsamSession *self, gboolean auto_segment)
{
  self->auto_segment = auto_segment;
}

gboolean
usam_session_is_segmenting (UsamSession *self)
{
  return usam_runner_is_predicting (self->runner);
}

void
usam_session_add_mark (UsamSession *self, const UsamMark *mark)
{
  if (!self->image)
    return;
  g_array_append_val (self->marks, *mark);
  self->generation++;
  usam_session_current_changed (self);
  if (self->auto_segment)
    usam_session_segment (self, NULL);
}

const UsamMark *
usam_session_get_marks (UsamSession *self, guint *n_marks)
{
  *n_marks = self->marks->len;
  return (const UsamMark *) self->marks->data;
}

static gboolean
segment (UsamSession *self, gboolean batch, GError **error)
{
  if (!usam_runner_get_model (self->runner))
    {
      g_set_error_literal (error, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT,
                           "No model is loaded: choose one with the Model button.");
      return FALSE;
    }
  if (!self->marks->len)
    {
      g_set_error_literal (error, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT,
                           "Add a point or a box first, then segment.");
      return FALSE;
    }
  /* Starts the embedding too if it was cancelled. */
  usam_runner_predict (self->runner, self->marks, batch, self->generation);
  return TRUE;
}

gboolean
usam_session_segment (UsamSession *self, GError **error)
{
  return segment (self, FALSE, error);
}

gboolean
usam_session_segment_batch (UsamSession *self, GError **error)
{
  gboolean any = FALSE;
  for (guint i = 0; i < self->marks->len; i++)
    any |= g_array_index (self->marks, UsamMark, i).kind != USAM_MARK_NEGATIVE;
  if (self->marks->len && !any)
    {
      g_set_error_literal (error, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT,
                           "Batched segmentation needs positive points or boxes.");
      return FALSE;
    }
  return segment (self, TRUE, error);
}

const guint8 *
usam_session_get_current (UsamSession *self)
{
  return self->current;
}

void
usam_session_brush (UsamSession *self, double x0, double y0, double x1, double y1, double radius, gboolean erase)
{
  if (!self->image)
    return;
  guint w = usam_image_get_width (self->image), h = usam_image_get_height (self->image);
  if (!self->current)
    {
      if (erase)
        return;
      self->current = g_malloc0 ((gsize) w * h);
    }
  usam_mask_paint_segment (self->current, w, h, x0, y0, x1, y1, radius, !erase);
  self->current_source = USAM_OBJECT_SOURCE_BRUSH;
  /* A painted mask must not be overwritten by a late prediction. */
  self->generation++;
  usam_session_current_changed (self);
}

void
usam_session_clear (UsamSession *self)
{
  usam_session_reset_current (self);
  g_signal_emit (self, signals[SIGNAL_OBJECTS_CHANGED], 0);
  usam_session_current_changed (self);
}

/* The topmost object of the plane covering pixel (@x, @y). */
UsamObject *
usam_session_object_at (UsamSession *self, guint x, guint y)
{
  for (guint i = self->objects ? self->objects->len : 0; i-- > 0;)
    {
      UsamObject *o = g_ptr_array_index (self->objects, i);
      if (usam_object_contains (o, x, y))
        return o;
    }
  return NULL;
}

gboolean
usam_session_pick (UsamSession *self, guint x, guint y)
{
  UsamObject *o = self->image ? usam_session_object_at (self, x, y) : NULL;
  if (!o)
    return FALSE;
  g_autoptr (UsamObject) picked = usam_object_ref (o);
  usam_session_reset_current (self);
  guint w = usam_image_get_width (self->image), h = usam_image_get_height (self->image);
  self->current = g_malloc0 ((gsize) w * h);
  usam_object_paint_mask (picked, self->current, w, h, 1, NULL);
  self->picked_id = picked->id;
  self->picked_label = picked->label;
  self->current_source = picked->source;
  if (picked->marks->len)
    g_array_append_vals (self->marks, picked->marks->data, picked->marks->len);
  g_signal_emit (self, signals[SIGNAL_OBJECTS_CHANGED], 0);
  usam_session_current_changed (self);
  return TRUE;
}

UsamEmbeddingCache *
usam_session_dup_embedding_cache (UsamSession *self)
{
  return usam_runner_dup_cache (self->runner);
}

UsamObject *
usam_session_dup_current_object (UsamSession *self, gint64 *retire_id)
{
  if (retire_id)
    *retire_id = 0;
  if (!self->image || !self->project || !self->current)
    return NULL;
  guint w = usam_image_get_width (self->image), h = usam_image_get_height (self->image);
  UsamObject *object = usam_object_new_from_mask (self->current, w, h, self->current_source);
  if (!object)
    return NULL;
  object->t = self->t;
  object->z = self->z;
  object->label = self->picked_label ? self->picked_label
                                     : usam_project_next_label (self->project, usam_session_get_image_id (self));
  usam_object_set_marks (object, (const UsamMark *) self->marks->data, self->marks->len);
  if (retire_id)
    *retire_id = self->picked_id;
  return object;
}

/* ---- life cycle ---- */

static void
usam_session_dispose (GObject *object)
{
  UsamSession *self = USAM_SESSION (object);
  g_cancellable_cancel (self->load_cancellable);
  g_clear_object (&self->load_cancellable);
  if (self->runner)
    {
      /* Nothing of ours may run from it any more. */
      g_signal_handlers_disconnect_by_data (self->runner, self);
      usam_runner_set_plane (self->runner, NULL, 0, NULL, 0, 0);
    }
  g_clear_object (&self->runner);
  g_clear_object (&self->image);
  g_clear_object (&self->project);
  g_clear_pointer (&self->images, g_ptr_array_unref);
  g_clear_pointer (&self->objects, g_ptr_array_unref);
  G_OBJECT_CLASS (usam_session_parent_class)->dispose (object);
}

static void
usam_session_finalize (GObject *object)
{
  UsamSession *self = USAM_SESSION (object);
  g_array_unref (self->marks);
  g_free (self->current);
  G_OBJECT_CLASS (usam_session_parent_class)->finalize (object);
}

static void
usam_session_class_init (UsamSessionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  object_class->dispose = usam_session_dispose;
  object_class->finalize = usam_session_finalize;
  /* The image or plane shown changed (or is loading: get_image() is NULL). */
  signals[SIGNAL_IMAGE_CHANGED] = g_signal_new ("image-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                                NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[SIGNAL_OBJECTS_CHANGED] = g_signal_new ("objects-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  /* The current mask or the prompts changed. */
  signals[SIGNAL_CURRENT_CHANGED] = g_signal_new ("current-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  /* What can be done changed: undo, redo, segment, encoding. */
  signals[SIGNAL_STATE_CHANGED] = g_signal_new ("state-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                                NULL, NULL, NULL, G_TYPE_NONE, 0);
  /* Encoding progress in [0, 1]; -1 when it ends. */
  signals[SIGNAL_PROGRESS] = g_signal_new ("progress", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                                           NULL, G_TYPE_NONE, 1, G_TYPE_DOUBLE);
  /* Something for the user: text, and whether it is an error. */
  signals[SIGNAL_MESSAGE] = g_signal_new ("message", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                                          NULL, G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_BOOLEAN);
}

static void
usam_session_init (UsamSession *self)
{
  self->runner = usam_runner_new ();
  /* The runner may outlive the session while a task finishes. */
  g_signal_connect_object (self->runner, "predicted", G_CALLBACK (on_predicted), self, 0);
  g_signal_connect_object (self->runner, "failed", G_CALLBACK (on_failed), self, 0);
  g_signal_connect_object (self->runner, "progress", G_CALLBACK (on_progress), self, 0);
  g_signal_connect_object (self->runner, "state-changed", G_CALLBACK (state_changed), self, G_CONNECT_SWAPPED);
  self->marks = g_array_new (FALSE, FALSE, sizeof (UsamMark));
  self->current_source = USAM_OBJECT_SOURCE_PROMPT;
}

UsamSession *
usam_session_new (void)
{
  return g_object_new (USAM_TYPE_SESSION, NULL);
}
