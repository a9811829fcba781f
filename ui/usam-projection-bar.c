/* usam-projection-bar.c — prompt projection through Z from the annotator
 * (see usam-projection-bar.h). */
#include "usam-projection-bar.h"

#include <string.h>

#include "usam-error.h"
#include "usam-progress-proxy.h"
#include "usam-volume-projector.h"
#include "usam-workers.h"

/* Where an object was lost, for Continue. */
typedef struct
{
  guint label, t, z;
} Stop;

struct _UsamProjectionBar
{
  GtkBox parent_instance;

  UsamSession *session;
  GtkLabel *label;
  GtkProgressBar *progress;
  GtkWidget *cancel_button, *continue_button;

  UsamVolumeProjector *projector; /* while running */
  GTask *follow;                  /* while following through time */
  GCancellable *cancellable;
  gint64 image_id;  /* the image being projected, and its frame */
  guint t;
  GArray *labels;   /* guint: each seed's label */
  UsamObject *seed; /* the current object, when it is a seed */
  gint64 retire_id; /* the version it replaces, or 0 */
  GArray *stops;    /* Stop */
  int continued;    /* the stop being continued, or -1 */
  UsamProjectionParams params;
};

G_DEFINE_FINAL_TYPE (UsamProjectionBar, usam_projection_bar, GTK_TYPE_BOX)

static void
set_text (UsamProjectionBar *self, const char *text)
{
  gtk_label_set_text (self->label, text);
  gtk_widget_set_visible (GTK_WIDGET (self), TRUE);
}

static void
update_buttons (UsamProjectionBar *self)
{
  if (!self->session)
    return; /* disposed: the widgets are gone, a run may still end */
  gboolean running = self->projector || self->follow;
  gtk_widget_set_visible (GTK_WIDGET (self->progress), running);
  gtk_widget_set_visible (self->cancel_button, running);
  gtk_widget_set_visible (self->continue_button, !running && self->stops->len > 0);
}

/* @frames: an end of following through time, else of a projection through Z. */
static void
describe_end_in (GString *text, const UsamProjectionEnd *end, gboolean down, double threshold, gboolean frames)
{
  const char *way = frames ? (down ? "going back" : "going forward") : (down ? "going down" : "going up");
  const char *at = frames ? "t" : "z";
  switch (end->stop)
    {
    case USAM_PROJECTION_STOP_MET:
      g_string_append_printf (text, "filled to %s=%u %s", at, end->last, way);
      break;
    case USAM_PROJECTION_STOP_END:
      g_string_append (text, frames ? (down ? "reached the first frame" : "reached the last frame")
                                    : (down ? "reached the first slice" : "reached the last slice"));
      break;
    case USAM_PROJECTION_STOP_EMPTY:
      g_string_append_printf (text, "stopped at %s=%u %s, the model found nothing", at, end->stop_slice, way);
      break;
    case USAM_PROJECTION_STOP_IOU:
      g_string_append_printf (text, "stopped at %s=%u %s, IoU %.2f < %.2f", at, end->stop_slice, way, end->stop_iou,
                              threshold);
      break;
    case USAM_PROJECTION_STOP_TAKEN:
      g_string_append_printf (text, "stopped at %s=%u %s, another object is there", at, end->stop_slice, way);
      break;
    case USAM_PROJECTION_STOP_CANCELLED:
    default:
      g_string_append_printf (text, "%s at %s=%u %s", usam_projection_stop_to_string (end->stop), at, end->last, way);
      break;
    }
}

static void
describe_end (GString *text, const UsamProjectionEnd *end, gboolean down, double threshold)
{
  describe_end_in (text, end, down, threshold, FALSE);
}

static gboolean
label_on_plane (GPtrArray *existing, guint label, guint z)
{
  for (guint i = 0; i < existing->len; i++)
    {
      UsamObject *o = g_ptr_array_index (existing, i);
      if (o->label == label && o->z == z)
        return TRUE;
    }
  return FALSE;
}

static void
remember_stop (UsamProjectionBar *self, guint label, guint t, const UsamProjectionEnd *end)
{
  if (end->stop != USAM_PROJECTION_STOP_EMPTY && end->stop != USAM_PROJECTION_STOP_IOU)
    return;
  /* both halves of a gap may stop on its middle slice */
  for (guint i = 0; i < self->stops->len; i++)
    {
      Stop *s = &g_array_index (self->stops, Stop, i);
      if (s->label == label && s->t == t && s->z == end->stop_slice)
        return;
    }
  Stop stop = { label, t, end->stop_slice };
  g_array_append_val (self->stops, stop);
}

/* Turns the projector's masks into one edit and says how each ended. */
static gboolean
commit (UsamProjectionBar *self, UsamVolumeProjector *projector, GString *text, GError **error)
{
  UsamImage *image = usam_session_get_image (self->session);
  UsamProject *project = usam_session_get_project (self->session);
  /* The user may have moved to another frame meanwhile. */
  guint t = self->t;
  guint w = usam_image_get_width (image), h = usam_image_get_height (image), depth = usam_image_get_depth (image);
  gsize plane = (gsize) w * h;
  g_autoptr (GPtrArray) existing = usam_project_list_objects (project, self->image_id, (gint) t, -1, error);
  if (!existing)
    return FALSE;
  g_autoptr (GPtrArray) added = g_ptr_array_new_with_free_func ((GDestroyNotify) usam_object_unref);
  if (self->seed)
    g_ptr_array_add (added, usam_object_ref (self->seed));
  double threshold = self->params.iou_threshold;
  if (self->continued >= 0)
    g_array_remove_index (self->stops, (guint) self->continued);
  for (guint i = 0; i < usam_volume_projector_get_n_seeds (projector); i++)
    {
      guint label = g_array_index (self->labels, guint, i);
      guint n_slices, n_gaps;
      const guint *seed_z = usam_volume_projector_get_seed_slices (projector, i, &n_slices);
      const UsamProjectionGap *gaps = usam_volume_projector_get_gaps (projector, i, &n_gaps);
      const guint8 *masks = usam_volume_projector_get_masks (projector, i);
      UsamProjectionEnd down, up;
      usam_volume_projector_get_ends (projector, i, &down, &up);
      for (guint z = 0; z < depth; z++)
        {
          gboolean seeded = FALSE;
          for (guint k = 0; k < n_slices; k++)
            seeded = seeded || seed_z[k] == z;
          if (seeded || label_on_plane (existing, label, z))
            continue;
          g_autoptr (UsamObject) o = usam_object_new_from_mask (masks + z * plane, w, h, USAM_OBJECT_SOURCE_PROMPT);
          if (!o)
            continue;
          o->t = t;
          o->z = z;
          o->label = label;
          g_ptr_array_add (added, g_steal_pointer (&o));
        }
      g_string_append_printf (text, "%sobject %u: z %u–%u; ", i ? "\n" : "", label, down.last, up.last);
      describe_end (text, &down, TRUE, threshold);
      g_string_append (text, "; ");
      describe_end (text, &up, FALSE, threshold);
      remember_stop (self, label, t, &down);
      remember_stop (self, label, t, &up);
      for (guint k = 0; k < n_gaps; k++)
        {
          if (gaps[k].upper - gaps[k].lower < 2)
            continue;
          g_string_append_printf (text, "; between z=%u and z=%u: ", gaps[k].lower, gaps[k].upper);
          describe_end (text, &gaps[k].up, FALSE, threshold);
          g_string_append (text, ", ");
          describe_end (text, &gaps[k].down, TRUE, threshold);
          remember_stop (self, label, t, &gaps[k].up);
          remember_stop (self, label, t, &gaps[k].down);
        }
    }
  /* A slice where the object now is needs no continuing. */
  for (guint i = self->stops->len; i-- > 0;)
    {
      Stop *s = &g_array_index (self->stops, Stop, i);
      if (s->t == t && (label_on_plane (existing, s->label, s->z) || label_on_plane (added, s->label, s->z)))
        g_array_remove_index (self->stops, i);
    }
  if (self->stops->len)
    g_string_append (text, "\nContinue goes to where an object was lost.");
  return usam_session_add_volume_objects (self->session, added, self->retire_id, self->seed != NULL,
                                          "segment in volume", error);
}

static void
on_progress (double fraction, gpointer user_data)
{
  UsamProjectionBar *self = user_data;
  if (self->session)
    gtk_progress_bar_set_fraction (self->progress, fraction);
}

static void
finish (UsamProjectionBar *self)
{
  g_clear_object (&self->projector);
  g_clear_object (&self->follow);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->seed, usam_object_unref);
  g_array_set_size (self->labels, 0);
  self->retire_id = 0;
  self->continued = -1;
  update_buttons (self);
}

static void
run_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (UsamProjectionBar) self = user_data;
  UsamVolumeProjector *projector = USAM_VOLUME_PROJECTOR (source);
  g_autoptr (GError) error = NULL;
  g_autoptr (GString) text = g_string_new (NULL);
  if (!usam_volume_projector_run_finish (projector, result, &error))
    g_string_printf (text, "Segmenting in volume failed: %s", error->message);
  else if (usam_volume_projector_was_cancelled (projector))
    g_string_assign (text, "Segmenting in volume cancelled: nothing was added.");
  else if (!self->session || usam_session_get_image_id (self->session) != self->image_id
           || !usam_session_get_image (self->session))
    g_string_assign (text, "Segmenting in volume: the image changed meanwhile, nothing was added.");
  else if (!commit (self, projector, text, &error))
    g_string_printf (text, "Segmenting in volume failed: %s", error->message);
  if (self->session)
    set_text (self, text->str);
  finish (self);
}

/* The stop on plane (@t, @z), or -1. */
static int
find_stop (UsamProjectionBar *self, guint t, guint z)
{
  for (guint i = 0; i < self->stops->len; i++)
    {
      Stop *s = &g_array_index (self->stops, Stop, i);
      if (s->t == t && s->z == z)
        return (int) i;
    }
  return -1;
}

gboolean
usam_projection_bar_start (UsamProjectionBar *self, GError **error)
{
  UsamImage *image = usam_session_get_image (self->session);
  UsamModel *model = usam_session_get_model (self->session);
  if (self->projector || self->follow)
    {
      g_set_error_literal (error, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT, "Already segmenting in the volume.");
      return FALSE;
    }
  if (!image || usam_image_get_depth (image) < 2)
    {
      g_set_error_literal (error, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT, "Segmenting in volume needs a volume.");
      return FALSE;
    }
  if (!model)
    {
      g_set_error_literal (error, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT,
                           "No model: choose one with the Model button to segment in the volume.");
      return FALSE;
    }
  guint t = usam_session_get_t (self->session), z = usam_session_get_z (self->session);
  guint w = usam_image_get_width (image), h = usam_image_get_height (image);
  g_autoptr (UsamVolumeProjector) projector = usam_volume_projector_new (model, image, t, &self->params);
  g_autoptr (UsamEmbeddingCache) cache = usam_session_dup_embedding_cache (self->session);
  usam_volume_projector_set_cache (projector, cache);
  g_autofree guint8 *mask = g_malloc0 ((gsize) w * h);
  int continued = -1;
  self->seed = usam_session_dup_current_object (self->session, &self->retire_id);
  if (self->seed)
    {
      /* A new object where a projection was lost continues that object. */
      int stop = find_stop (self, t, z);
      if (stop >= 0 && !self->retire_id)
        {
          self->seed->label = g_array_index (self->stops, Stop, stop).label;
          continued = stop;
        }
      usam_object_paint_mask (self->seed, mask, w, h, 1, NULL);
      usam_volume_projector_add_seed (projector, z, mask);
      g_array_append_val (self->labels, self->seed->label);
    }
  else
    {
      g_autoptr (GPtrArray) objects = usam_session_get_objects (self->session);
      for (guint i = 0; i < objects->len; i++)
        {
          UsamObject *o = g_ptr_array_index (objects, i);
          /* pieces of one label on this slice are one seed */
          guint seed = 0;
          while (seed < self->labels->len && g_array_index (self->labels, guint, seed) != o->label)
            seed++;
          memset (mask, 0, (gsize) w * h);
          usam_object_paint_mask (o, mask, w, h, 1, NULL);
          if (seed < self->labels->len)
            usam_volume_projector_add_seed_slice (projector, seed, z, mask);
          else
            {
              usam_volume_projector_add_seed (projector, z, mask);
              g_array_append_val (self->labels, o->label);
            }
        }
    }
  /* An object already segmented on other slices is seeded there too, so
   * the gaps between its slices are filled from both ends (μSAM's
   * segment_mask_in_volume with several segmented slices). */
  if (self->labels->len)
    {
      g_autoptr (GPtrArray) all
        = usam_project_list_objects (usam_session_get_project (self->session),
                                     usam_session_get_image_id (self->session), (gint) t, -1, error);
      if (!all)
        {
          finish (self);
          return FALSE;
        }
      for (guint i = 0; i < all->len; i++)
        {
          UsamObject *o = g_ptr_array_index (all, i);
          guint seed = 0;
          while (seed < self->labels->len && g_array_index (self->labels, guint, seed) != o->label)
            seed++;
          if (o->z == z || o->label == 0 || seed == self->labels->len)
            continue;
          memset (mask, 0, (gsize) w * h);
          usam_object_paint_mask (o, mask, w, h, 1, NULL);
          usam_volume_projector_add_seed_slice (projector, seed, o->z, mask);
        }
    }
  guint n = usam_volume_projector_get_n_seeds (projector);
  if (n == 0)
    {
      finish (self);
      g_set_error_literal (error, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT,
                           "Nothing to segment in the volume: segment an object (S) or commit some on this slice.");
      return FALSE;
    }
  /* Continuing one object leaves the other objects' stops to continue;
   * its own goes once the continuation is in. */
  if (continued < 0)
    g_array_set_size (self->stops, 0);
  self->continued = continued;
  self->image_id = usam_session_get_image_id (self->session);
  self->t = t;
  self->projector = g_object_ref (projector);
  self->cancellable = g_cancellable_new ();
  gtk_progress_bar_set_fraction (self->progress, 0);
  g_autofree char *text = g_strdup_printf ("Segmenting %u object%s through %u slices…", n, n == 1 ? "" : "s",
                                           usam_image_get_depth (image));
  set_text (self, text);
  update_buttons (self);
  usam_volume_projector_run_async (projector, self->cancellable, on_progress, self, run_done, g_object_ref (self));
  return TRUE;
}

/* ---- following through time ---- */

typedef struct
{
  UsamModel *model;
  UsamImage *image;
  UsamEmbeddingCache *cache;
  UsamProjectionParams params;
  guint t, z, n;
  guint8 **seeds, **masks; /* n each: a plane, frames × plane */
  guint8 **taken;          /* n each: the other tracks' pixels, frames × plane */
  UsamProjectionEnd *back, *forward;
  UsamProgressProxy *proxy;
} Follow;

static void
follow_free (Follow *f)
{
  g_clear_object (&f->model);
  g_clear_object (&f->image);
  g_clear_object (&f->cache);
  for (guint i = 0; i < f->n; i++)
    {
      g_free (f->seeds[i]);
      g_free (f->masks[i]);
      g_free (f->taken[i]);
    }
  g_free (f->seeds);
  g_free (f->masks);
  g_free (f->taken);
  g_free (f->back);
  g_free (f->forward);
  usam_progress_proxy_unref (f->proxy);
  g_free (f);
}

static UsamEmbedding *
follow_embed (guint t, gpointer user_data, GCancellable *cancellable, GError **error)
{
  Follow *f = user_data;
  return usam_embedding_cache_dup_slice (f->cache, t * usam_image_get_depth (f->image) + f->z, cancellable, NULL, NULL,
                                         error);
}

typedef struct
{
  Follow *f;
  guint index;
} FollowProgress;

static void
follow_progress (double fraction, gpointer user_data)
{
  FollowProgress *p = user_data;
  usam_progress_proxy_post ((p->index + fraction) / p->f->n, p->f->proxy);
}

static void
follow_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  Follow *f = task_data;
  gsize plane = (gsize) usam_image_get_width (f->image) * usam_image_get_height (f->image);
  for (guint i = 0; i < f->n; i++)
    {
      GError *error = NULL;
      FollowProgress p = { f, i };
      f->masks[i] = g_new (guint8, plane * usam_image_get_frames (f->image));
      if (!usam_projection_follow (f->model, f->image, f->z, f->t, f->seeds[i], f->taken[i], &f->params,
                                   f->cache ? follow_embed : NULL, f,
                                   follow_progress, &p, cancellable, f->masks[i], &f->back[i], &f->forward[i], &error))
        {
          g_task_return_error (task, error);
          return;
        }
    }
  g_task_return_boolean (task, TRUE);
}

static gboolean
follow_commit (UsamProjectionBar *self, Follow *f, GString *text, GError **error)
{
  UsamImage *image = f->image;
  guint w = usam_image_get_width (image), h = usam_image_get_height (image), frames = usam_image_get_frames (image);
  gsize plane = (gsize) w * h;
  g_autoptr (GPtrArray) added = g_ptr_array_new_with_free_func ((GDestroyNotify) usam_object_unref);
  if (self->seed)
    g_ptr_array_add (added, usam_object_ref (self->seed));
  for (guint i = 0; i < f->n; i++)
    {
      guint label = g_array_index (self->labels, guint, i);
      if (f->back[i].stop == USAM_PROJECTION_STOP_CANCELLED || f->forward[i].stop == USAM_PROJECTION_STOP_CANCELLED)
        {
          g_string_assign (text, "Following cancelled: nothing was added.");
          return TRUE;
        }
      for (guint t = 0; t < frames; t++)
        {
          if (t == f->t)
            continue;
          /* A frame where the track has an object keeps it. */
          g_autoptr (GPtrArray) existing
              = usam_project_list_objects (usam_session_get_project (self->session), self->image_id, (gint) t,
                                           (gint) f->z, error);
          if (!existing)
            return FALSE;
          if (label_on_plane (existing, label, f->z))
            continue;
          g_autoptr (UsamObject) o = usam_object_new_from_mask (f->masks[i] + t * plane, w, h, USAM_OBJECT_SOURCE_PROMPT);
          if (!o)
            continue;
          o->t = t;
          o->z = f->z;
          o->label = label;
          g_ptr_array_add (added, g_steal_pointer (&o));
        }
      g_string_append_printf (text, "%strack %u: frames %u–%u; ", i ? "\n" : "", label, f->back[i].last,
                              f->forward[i].last);
      describe_end_in (text, &f->back[i], TRUE, f->params.iou_threshold, TRUE);
      g_string_append (text, "; ");
      describe_end_in (text, &f->forward[i], FALSE, f->params.iou_threshold, TRUE);
    }
  return usam_session_add_volume_objects (self->session, added, self->retire_id, self->seed != NULL,
                                          "follow through time", error);
}

static void
follow_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (UsamProjectionBar) self = user_data;
  Follow *f = g_task_get_task_data (G_TASK (result));
  g_autoptr (GError) error = NULL;
  g_autoptr (GString) text = g_string_new (NULL);
  if (!g_task_propagate_boolean (G_TASK (result), &error))
    g_string_printf (text, "Following failed: %s", error->message);
  else if (!self->session || usam_session_get_image_id (self->session) != self->image_id
           || usam_session_get_image (self->session) != f->image)
    g_string_assign (text, "Following: the image changed meanwhile, nothing was added.");
  else if (!follow_commit (self, f, text, &error))
    g_string_printf (text, "Following failed: %s", error->message);
  if (self->session)
    set_text (self, text->str);
  finish (self);
}

gboolean
usam_projection_bar_start_follow (UsamProjectionBar *self, GError **error)
{
  UsamImage *image = usam_session_get_image (self->session);
  UsamModel *model = usam_session_get_model (self->session);
  if (self->projector || self->follow)
    {
      g_set_error_literal (error, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT, "Already following or segmenting.");
      return FALSE;
    }
  if (!image || usam_image_get_frames (image) < 2)
    {
      g_set_error_literal (error, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT, "Following needs a time series.");
      return FALSE;
    }
  if (!model)
    {
      g_set_error_literal (error, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT,
                           "No model: choose one with the Model button to follow objects.");
      return FALSE;
    }
  guint w = usam_image_get_width (image), h = usam_image_get_height (image);
  Follow *f = g_new0 (Follow, 1);
  f->model = g_object_ref (model);
  f->image = g_object_ref (image);
  f->cache = usam_session_dup_embedding_cache (self->session);
  f->params = self->params;
  f->t = usam_session_get_t (self->session);
  f->z = usam_session_get_z (self->session);
  g_autoptr (GPtrArray) seeds = g_ptr_array_new ();
  self->seed = usam_session_dup_current_object (self->session, &self->retire_id);
  if (self->seed)
    {
      guint8 *mask = g_malloc0 ((gsize) w * h);
      usam_object_paint_mask (self->seed, mask, w, h, 1, NULL);
      g_ptr_array_add (seeds, mask);
      g_array_append_val (self->labels, self->seed->label);
    }
  else
    {
      /* Every committed object of this frame, one track each. */
      g_autoptr (GPtrArray) objects = usam_session_get_objects (self->session);
      for (guint i = 0; i < objects->len; i++)
        {
          UsamObject *o = g_ptr_array_index (objects, i);
          guint k = 0;
          while (k < self->labels->len && g_array_index (self->labels, guint, k) != o->label)
            k++;
          if (k == self->labels->len)
            {
              g_ptr_array_add (seeds, g_malloc0 ((gsize) w * h));
              g_array_append_val (self->labels, o->label);
            }
          usam_object_paint_mask (o, g_ptr_array_index (seeds, k), w, h, 1, NULL);
        }
    }
  f->n = seeds->len;
  f->seeds = (guint8 **) g_ptr_array_free (g_steal_pointer (&seeds), FALSE);
  f->masks = g_new0 (guint8 *, MAX (f->n, 1));
  /* Where the other tracks are: a direction stops on them. */
  f->taken = g_new0 (guint8 *, MAX (f->n, 1));
  g_autoptr (GPtrArray) plane_objects
      = usam_project_list_objects (usam_session_get_project (self->session), usam_session_get_image_id (self->session),
                                   -1, (gint) f->z, NULL);
  gsize plane = (gsize) w * h;
  for (guint i = 0; i < f->n && plane_objects; i++)
    {
      guint label = g_array_index (self->labels, guint, i);
      f->taken[i] = g_malloc0 (plane * usam_image_get_frames (image));
      for (guint k = 0; k < plane_objects->len; k++)
        {
          UsamObject *o = plane_objects->pdata[k];
          if (o->label != label && o->t < usam_image_get_frames (image))
            usam_object_paint_mask (o, f->taken[i] + o->t * plane, w, h, 1, NULL);
        }
    }
  f->back = g_new0 (UsamProjectionEnd, MAX (f->n, 1));
  f->forward = g_new0 (UsamProjectionEnd, MAX (f->n, 1));
  if (f->n == 0)
    {
      follow_free (f);
      finish (self);
      g_set_error_literal (error, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT,
                           "Nothing to follow: segment an object (S) or commit some in this frame.");
      return FALSE;
    }
  self->image_id = usam_session_get_image_id (self->session);
  self->t = f->t;
  self->cancellable = g_cancellable_new ();
  f->proxy = usam_progress_proxy_new ((UsamProgressFunc) on_progress, g_object_ref (self), g_object_unref);
  g_autofree char *text = g_strdup_printf ("Following %u object%s through %u frames…", f->n, f->n == 1 ? "" : "s",
                                           usam_image_get_frames (image));
  GTask *task = g_task_new (NULL, self->cancellable, follow_done, g_object_ref (self));
  g_task_set_task_data (task, f, (GDestroyNotify) follow_free);
  self->follow = task;
  gtk_progress_bar_set_fraction (self->progress, 0);
  set_text (self, text);
  update_buttons (self);
  usam_task_run_in_thread (task, follow_thread);
  return TRUE;
}

void
usam_projection_bar_cancel (UsamProjectionBar *self)
{
  g_cancellable_cancel (self->cancellable);
}

gboolean
usam_projection_bar_continue (UsamProjectionBar *self, GError **error)
{
  if (self->projector || self->follow || !self->stops->len)
    {
      g_set_error_literal (error, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT, "There is no projection to continue.");
      return FALSE;
    }
  guint t = usam_session_get_t (self->session), z = usam_session_get_z (self->session);
  if (find_stop (self, t, z) >= 0 && usam_session_get_current (self->session))
    return usam_projection_bar_start (self, error);
  Stop *s = &g_array_index (self->stops, Stop, 0);
  usam_session_set_plane (self->session, s->t, s->z);
  g_autofree char *text = g_strdup_printf ("Object %u was lost on slice z=%u: segment it here (S), then Continue.",
                                           s->label, s->z);
  set_text (self, text);
  return TRUE;
}

void
usam_projection_bar_set_params (UsamProjectionBar *self, const UsamProjectionParams *params)
{
  self->params = params ? *params : usam_projection_params_default ();
}

gboolean
usam_projection_bar_is_running (UsamProjectionBar *self)
{
  return self->projector || self->follow;
}

const char *
usam_projection_bar_get_text (UsamProjectionBar *self)
{
  return gtk_label_get_text (self->label);
}

static void
on_cancel_clicked (GtkButton *button, UsamProjectionBar *self)
{
  usam_projection_bar_cancel (self);
}

static void
on_continue_clicked (GtkButton *button, UsamProjectionBar *self)
{
  g_autoptr (GError) error = NULL;
  if (!usam_projection_bar_continue (self, &error))
    set_text (self, error->message);
}

static void
on_close_clicked (GtkButton *button, UsamProjectionBar *self)
{
  gtk_widget_set_visible (GTK_WIDGET (self), FALSE);
}

GtkWidget *
usam_projection_bar_new (UsamSession *session)
{
  UsamProjectionBar *self = g_object_new (USAM_TYPE_PROJECTION_BAR, "orientation", GTK_ORIENTATION_HORIZONTAL,
                                          "spacing", 8, NULL);
  self->session = g_object_ref (session);
  return GTK_WIDGET (self);
}

static void
usam_projection_bar_dispose (GObject *object)
{
  UsamProjectionBar *self = USAM_PROJECTION_BAR (object);
  /* The run holds a reference on the bar; this only stops it early. */
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->session);
  G_OBJECT_CLASS (usam_projection_bar_parent_class)->dispose (object);
}

static void
usam_projection_bar_finalize (GObject *object)
{
  UsamProjectionBar *self = USAM_PROJECTION_BAR (object);
  g_clear_object (&self->projector);
  g_clear_object (&self->follow);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->seed, usam_object_unref);
  g_array_unref (self->labels);
  g_array_unref (self->stops);
  G_OBJECT_CLASS (usam_projection_bar_parent_class)->finalize (object);
}

static void
usam_projection_bar_class_init (UsamProjectionBarClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = usam_projection_bar_dispose;
  G_OBJECT_CLASS (klass)->finalize = usam_projection_bar_finalize;
}

static void
usam_projection_bar_init (UsamProjectionBar *self)
{
  self->labels = g_array_new (FALSE, FALSE, sizeof (guint));
  self->stops = g_array_new (FALSE, FALSE, sizeof (Stop));
  self->params = usam_projection_params_default ();
  self->continued = -1;
  gtk_widget_add_css_class (GTK_WIDGET (self), "toolbar");
  self->label = GTK_LABEL (gtk_label_new (""));
  gtk_label_set_wrap (self->label, TRUE);
  gtk_label_set_xalign (self->label, 0);
  gtk_label_set_selectable (self->label, TRUE);
  gtk_widget_set_hexpand (GTK_WIDGET (self->label), TRUE);
  gtk_box_append (GTK_BOX (self), GTK_WIDGET (self->label));
  self->progress = GTK_PROGRESS_BAR (gtk_progress_bar_new ());
  gtk_widget_set_valign (GTK_WIDGET (self->progress), GTK_ALIGN_CENTER);
  gtk_widget_set_size_request (GTK_WIDGET (self->progress), 160, -1);
  gtk_box_append (GTK_BOX (self), GTK_WIDGET (self->progress));
  self->cancel_button = gtk_button_new_with_label ("Cancel");
  gtk_widget_set_tooltip_text (self->cancel_button, "Stop segmenting in the volume; nothing is added");
  g_signal_connect (self->cancel_button, "clicked", G_CALLBACK (on_cancel_clicked), self);
  gtk_box_append (GTK_BOX (self), self->cancel_button);
  self->continue_button = gtk_button_new_with_label ("Continue");
  gtk_widget_set_tooltip_text (self->continue_button, "Go to where an object was lost, and project it from there");
  g_signal_connect (self->continue_button, "clicked", G_CALLBACK (on_continue_clicked), self);
  gtk_box_append (GTK_BOX (self), self->continue_button);
  GtkWidget *close = gtk_button_new_from_icon_name ("window-close-symbolic");
  gtk_widget_set_tooltip_text (close, "Close");
  g_signal_connect (close, "clicked", G_CALLBACK (on_close_clicked), self);
  gtk_box_append (GTK_BOX (self), close);
  update_buttons (self);
  gtk_widget_set_visible (GTK_WIDGET (self), FALSE);
}
