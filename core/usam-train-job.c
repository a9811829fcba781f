#include "usam-train-job.h"
#include "usam-workers.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

#include "usam-error.h"
#include "usam-main-context.h"
#include "usam-project.h"

/* ---- presets ---- */

static const UsamTrainPreset presets[] = {
  { "tiny", "Tiny", "quick trials; learns little" },
  { "small", "Small", "the shape of the bundled starter model, with an AIS decoder" },
  { "vit_b", "SAM ViT-B", "the full SAM encoder; slow without a GPU" },
};

const UsamTrainPreset *
usam_train_presets (guint *n_presets)
{
  *n_presets = G_N_ELEMENTS (presets);
  return presets;
}

gboolean
usam_train_preset_architecture (const char *id, UsamArchitecture *out, GError **error)
{
  if (g_strcmp0 (id, "tiny") == 0)
    {
      if (!usam_architecture_from_preset ("tiny", out, error))
        return FALSE;
      /* 16² tokens: a step in seconds on a laptop. */
      out->img_size = 256;
      return TRUE;
    }
  if (g_strcmp0 (id, "small") == 0)
    {
      /* scripts/train-starter's recipe (model card, "Training"). */
      if (!usam_architecture_from_preset ("tiny", out, error))
        return FALSE;
      out->img_size = 384;
      out->patch_size = 8;
      out->width = 192;
      out->mlp_dim = 4 * 192;
      out->depth = 6;
      out->heads = 6;
      out->window = 12;
      out->n_global = 2;
      out->global[0] = 2;
      out->global[1] = 5;
      out->prompt_dim = 128;
      out->decoder_mlp_dim = 512;
      out->ais_variant = "interpolation";
      out->n_ais_features = 3;
      out->ais_features[0] = 96;
      out->ais_features[1] = 48;
      out->ais_features[2] = 24;
      return TRUE;
    }
  if (g_strcmp0 (id, "vit_b") == 0)
    return usam_architecture_from_preset ("vit_b", out, error);
  g_set_error (error, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT, "unknown size preset '%s' (expected tiny, small or vit_b)",
               id);
  return FALSE;
}

char *
usam_train_preset_describe (const char *id)
{
  UsamArchitecture a;
  if (!usam_train_preset_architecture (id, &a, NULL))
    return NULL;
  return g_strdup_printf ("input %u², patch %u, width %u, depth %u, %u heads%s", a.img_size, a.patch_size, a.width,
                          a.depth, a.heads, a.ais_variant ? ", AIS decoder" : "");
}

/* ---- the models folder ---- */

char *
usam_train_models_dir (void)
{
  return g_build_filename (g_get_user_data_dir (), "usam", "models", NULL);
}

static int
newest_first (gconstpointer a, gconstpointer b)
{
  GStatBuf sa, sb;
  const char *pa = *(const char *const *) a, *pb = *(const char *const *) b;
  gint64 ta = g_stat (pa, &sa) == 0 ? (gint64) sa.st_mtime : 0;
  gint64 tb = g_stat (pb, &sb) == 0 ? (gint64) sb.st_mtime : 0;
  return ta != tb ? (ta < tb ? 1 : -1) : -g_strcmp0 (pa, pb);
}

GStrv
usam_train_list_models (void)
{
  g_autofree char *dir_path = usam_train_models_dir ();
  g_autoptr (GPtrArray) paths = g_ptr_array_new_null_terminated (8, g_free, TRUE);
  g_autoptr (GDir) dir = g_dir_open (dir_path, 0, NULL);
  const char *name;
  while (dir && (name = g_dir_read_name (dir)))
    if (name[0] != '.' && g_str_has_suffix (name, ".pt"))
      g_ptr_array_add (paths, g_build_filename (dir_path, name, NULL));
  g_ptr_array_sort (paths, newest_first);
  return (GStrv) g_ptr_array_steal (paths, NULL);
}

/* ---- the job ---- */

struct _UsamTrainJob
{
  GObject parent_instance;

  char *project_path, *image_dir, *label_dir;
  char *checkpoint, *preset;
  double max_seconds;
  guint max_steps, val_every;
  char *models_dir;

  GMutex lock; /* guards summary */
  char *summary;
};

G_DEFINE_FINAL_TYPE (UsamTrainJob, usam_train_job, G_TYPE_OBJECT)

/* g_set_str() is GLib 2.76. */
static void
replace_str (char **slot, const char *value)
{
  char *copy = g_strdup (value);
  g_free (*slot);
  *slot = copy;
}

static void
usam_train_job_finalize (GObject *object)
{
  UsamTrainJob *self = USAM_TRAIN_JOB (object);
  g_free (self->project_path);
  g_free (self->image_dir);
  g_free (self->label_dir);
  g_free (self->checkpoint);
  g_free (self->preset);
  g_free (self->models_dir);
  g_free (self->summary);
  g_mutex_clear (&self->lock);
  G_OBJECT_CLASS (usam_train_job_parent_class)->finalize (object);
}

static void
usam_train_job_class_init (UsamTrainJobClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = usam_train_job_finalize;
}

static void
usam_train_job_init (UsamTrainJob *self)
{
  g_mutex_init (&self->lock);
  self->val_every = 25;
}

UsamTrainJob *
usam_train_job_new (void)
{
  return g_object_new (USAM_TYPE_TRAIN_JOB, NULL);
}

void
usam_train_job_set_project (UsamTrainJob *self, const char *project_path)
{
  replace_str (&self->project_path, project_path);
  g_clear_pointer (&self->image_dir, g_free);
  g_clear_pointer (&self->label_dir, g_free);
}

void
usam_train_job_set_folders (UsamTrainJob *self, const char *image_dir, const char *label_dir)
{
  g_clear_pointer (&self->project_path, g_free);
  replace_str (&self->image_dir, image_dir);
  replace_str (&self->label_dir, label_dir);
}

void
usam_train_job_set_checkpoint (UsamTrainJob *self, const char *path)
{
  replace_str (&self->checkpoint, path);
  g_clear_pointer (&self->preset, g_free);
}

void
usam_train_job_set_preset (UsamTrainJob *self, const char *preset)
{
  replace_str (&self->preset, preset);
  g_clear_pointer (&self->checkpoint, g_free);
}

void
usam_train_job_set_budget (UsamTrainJob *self, double seconds, guint steps)
{
  self->max_seconds = MAX (seconds, 0);
  self->max_steps = steps;
}

void
usam_train_job_set_val_every (UsamTrainJob *self, guint steps)
{
  self->val_every = MAX (steps, 1u);
}

void
usam_train_job_set_models_dir (UsamTrainJob *self, const char *dir)
{
  replace_str (&self->models_dir, dir);
}

char *
usam_train_job_dup_summary (UsamTrainJob *self)
{
  g_mutex_lock (&self->lock);
  char *s = g_strdup (self->summary);
  g_mutex_unlock (&self->lock);
  return s;
}

static void
set_summary (UsamTrainJob *self, char *summary)
{
  g_mutex_lock (&self->lock);
  g_free (self->summary);
  self->summary = summary;
  g_mutex_unlock (&self->lock);
}

/* Every 5th item is held out, at least one when there are two or more;
 * with a single item there is nothing to hold out, so it validates on the
 * item it trains on (which says only that training works). */
static gboolean
held_out (guint index, guint n)
{
  if (n < 2)
    return FALSE;
  if (n < 5)
    return index == n - 1;
  return index % 5 == 4;
}

static char *
describe_split (guint n_train, guint n_val, const char *what)
{
  if (n_val == 0)
    return g_strdup_printf ("1 %s, also used for validation (too few to hold one out)", what);
  return g_strdup_printf ("%u %s%s for training, %u held out for validation", n_train, what, n_train == 1 ? "" : "s",
                          n_val);
}

typedef struct
{
  UsamImage *image, *labels;
} Plane;

static void
plane_clear (Plane *p)
{
  g_clear_object (&p->image);
  g_clear_object (&p->labels);
}

static gboolean
plane_has_labels (UsamImage *labels)
{
  guint w = usam_image_get_width (labels), h = usam_image_get_height (labels);
  for (guint y = 0; y < h; y++)
    for (guint x = 0; x < w; x++)
      if (usam_image_get_value (labels, 0, 0, y, x, 0) != 0)
        return TRUE;
  return FALSE;
}

/* Every plane of the project that has at least one committed object, with
 * the labels rendered from its objects. */
static GArray *
project_planes (const char *project_path, GCancellable *cancellable, GError **error)
{
  if (!g_file_test (project_path, G_FILE_TEST_IS_REGULAR))
    {
      g_set_error (error, USAM_ERROR, USAM_ERROR_NOT_FOUND, "%s: no such project", project_path);
      return NULL;
    }
  g_autoptr (UsamProject) project = usam_project_open (project_path, error);
  if (!project)
    return NULL;
  g_autoptr (GPtrArray) images = usam_project_list_images (project, error);
  if (!images)
    return NULL;
  g_autoptr (GArray) planes = g_array_new (FALSE, TRUE, sizeof (Plane));
  g_array_set_clear_func (planes, (GDestroyNotify) plane_clear);
  for (guint i = 0; i < images->len; i++)
    {
      UsamProjectImage *pi = images->pdata[i];
      if (usam_project_count_objects (project, pi->id) == 0)
        continue;
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return NULL;
      g_autoptr (UsamImage) image = usam_image_load (pi->path, error);
      if (!image)
        return NULL;
      g_autoptr (UsamImage) labels = usam_project_render_labels (project, pi->id, error);
      if (!labels)
        return NULL;
      for (guint t = 0; t < usam_image_get_frames (image); t++)
        for (guint z = 0; z < usam_image_get_depth (image); z++)
          {
            Plane p = { usam_image_dup_plane (image, t, z), usam_image_dup_plane (labels, t, z) };
            if (plane_has_labels (p.labels))
              g_array_append_val (planes, p);
            else
              plane_clear (&p);
          }
    }
  if (planes->len == 0)
    {
      g_set_error (error, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT,
                   "the project has no committed objects to train on: segment and commit some first");
      return NULL;
    }
  return g_steal_pointer (&planes);
}

static gboolean
load_project (UsamTrainJob *self, UsamTrainData *train, UsamTrainData *val, GCancellable *cancellable,
              GError **error)
{
  g_autoptr (GArray) planes = project_planes (self->project_path, cancellable, error);
  if (!planes)
    return FALSE;
  for (guint i = 0; i < planes->len; i++)
    {
      Plane *p = &g_array_index (planes, Plane, i);
      gboolean hold = held_out (i, planes->len);
      if (!usam_train_data_add (hold ? val : train, p->image, p->labels, error))
        return FALSE;
    }
  if (planes->len == 1)
    {
      Plane *p = &g_array_index (planes, Plane, 0);
      if (!usam_train_data_add (val, p->image, p->labels, error))
        return FALSE;
      set_summary (self, describe_split (1, 0, "annotated image"));
    }
  else
    set_summary (self, describe_split (usam_train_data_get_n_items (train), usam_train_data_get_n_items (val),
                                       "annotated image"));
  return TRUE;
}

/* The folders' pairs, split between training and validation. */
static gboolean
load_folders (UsamTrainJob *self, UsamTrainData *train, UsamTrainData *val, GCancellable *cancellable,
              GError **error)
{
  g_autoptr (GPtrArray) pairs = usam_train_data_pair_folders (self->image_dir, self->label_dir, error);
  if (!pairs)
    return FALSE;
  guint n = pairs->len / 2;
  for (guint i = 0; i < n; i++)
    {
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;
      const char *path = pairs->pdata[2 * i], *label = pairs->pdata[2 * i + 1];
      if (!usam_train_data_add_files (held_out (i, n) ? val : train, path, label, error))
        return FALSE;
      if (n == 1 && !usam_train_data_add_files (val, path, label, error))
        return FALSE;
    }
  set_summary (self, describe_split (usam_train_data_get_n_items (train), n == 1 ? 0 : usam_train_data_get_n_items (val),
                                     "image"));
  return TRUE;
}

/* ---- running ---- */

typedef struct
{
  GMainContext *context;
  UsamTrainProgressFunc func;
  gpointer data;
  GDestroyNotify destroy;
  gatomicrefcount ref;
} Proxy;

static Proxy *
proxy_ref (Proxy *p)
{
  g_atomic_ref_count_inc (&p->ref);
  return p;
}

static void
proxy_unref (Proxy *p)
{
  if (!g_atomic_ref_count_dec (&p->ref))
    return;
  if (p->destroy)
    p->destroy (p->data);
  g_main_context_unref (p->context);
  g_free (p);
}

typedef struct
{
  Proxy *proxy;
  UsamTrainProgress progress;
} Event;

static gboolean
event_dispatch (gpointer user_data)
{
  Event *e = user_data;
  e->proxy->func (&e->progress, e->proxy->data);
  return G_SOURCE_REMOVE;
}

static void
event_free (gpointer user_data)
{
  Event *e = user_data;
  proxy_unref (e->proxy);
  g_free (e);
}

static void
forward_progress (const UsamTrainProgress *progress, gpointer user_data)
{
  Proxy *p = user_data;
  Event *e = g_new0 (Event, 1);
  e->proxy = proxy_ref (p);
  e->progress = *progress;
  usam_main_context_post (p->context, event_dispatch, e, event_free);
}

static void
remove_tree (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;
  while (dir && (name = g_dir_read_name (dir)))
    {
      g_autofree char *child = g_build_filename (path, name, NULL);
      g_remove (child);
    }
  g_rmdir (path);
}

static UsamModel *
starting_model (UsamTrainJob *self, const char *run_dir, GError **error)
{
  if (self->checkpoint)
    return usam_model_new_from_file (self->checkpoint, USAM_PRECISION_AUTO, error);
  UsamArchitecture arch;
  if (!usam_train_preset_architecture (self->preset, &arch, error))
    return NULL;
  g_autoptr (UsamModel) fresh = usam_model_new_from_architecture (&arch, 1, USAM_PRECISION_AUTO, error);
  if (!fresh)
    return NULL;
  /* Saved and reloaded, as `usam train --from-scratch` does: the run then
   * starts from a checkpoint on disk like any other. */
  g_autofree char *initial = g_build_filename (run_dir, "initial.pt", NULL);
  if (!usam_model_save (fresh, initial, TRUE, error))
    return NULL;
  return usam_model_new_from_file (initial, USAM_PRECISION_AUTO, error);
}

typedef struct
{
  Proxy *proxy;
} RunData;

static void
run_data_free (RunData *d)
{
  if (d->proxy)
    proxy_unref (d->proxy);
  g_free (d);
}

static char *
run (UsamTrainJob *self, Proxy *proxy, GCancellable *cancellable, GError **error)
{
  g_autofree char *models_dir = self->models_dir ? g_strdup (self->models_dir) : usam_train_models_dir ();
  if (g_mkdir_with_parents (models_dir, 0755) != 0)
    {
      int saved = errno;
      g_set_error (error, USAM_ERROR, USAM_ERROR_IO, "%s: cannot create the folder: %s", models_dir,
                   g_strerror (saved));
      return NULL;
    }

  g_autoptr (UsamTrainData) train = usam_train_data_new ();
  g_autoptr (UsamTrainData) val = usam_train_data_new ();
  if (self->project_path ? !load_project (self, train, val, cancellable, error)
                         : !load_folders (self, train, val, cancellable, error))
    return NULL;

  /* The run's folder sits beside its destination, so the result moves into
   * place with one rename; its dot name keeps it out of the list of models. */
  g_autofree char *template = g_build_filename (models_dir, ".run-XXXXXX", NULL);
  g_autofree char *run_dir = g_mkdtemp (g_strdup (template));
  if (!run_dir)
    {
      int saved = errno;
      g_set_error (error, USAM_ERROR, USAM_ERROR_IO, "%s: cannot create a folder: %s", models_dir, g_strerror (saved));
      return NULL;
    }

  char *result = NULL;
  g_autoptr (UsamModel) model = starting_model (self, run_dir, error);
  if (model)
    {
      UsamTrainOptions o = usam_train_options_default (usam_model_get_input_size (model));
      o.max_steps = self->max_steps;
      o.max_seconds = self->max_seconds;
      o.val_every = self->val_every;
      o.val_batches = 2;
      /* Small batches keep a step to seconds on a CPU (the starter recipe). */
      o.batch.n_images = 2;
      o.batch.n_objects = 8;
      o.n_sub_iterations = 3;
      o.clip_grad_norm = 1;
      /* People annotate a few objects per image at first; μSAM's two per
       * crop would reject such images outright. */
      o.batch.min_objects = 1;
      if (!self->checkpoint)
        {
          o.learning_rate = 3e-4;
          o.warmup_steps = 20;
        }
      if (usam_train_run (model, train, val, &o, run_dir, FALSE, cancellable, proxy ? forward_progress : NULL, proxy,
                          error))
        {
          g_autofree char *best = g_build_filename (run_dir, "best.pt", NULL);
          g_autofree char *last = g_build_filename (run_dir, "last.pt", NULL);
          const char *source = g_file_test (best, G_FILE_TEST_EXISTS) ? best : last;
          g_autofree char *base = self->checkpoint ? g_path_get_basename (self->checkpoint)
                                                   : g_strdup_printf ("usam-%s", self->preset);
          if (g_str_has_suffix (base, ".pt"))
            base[strlen (base) - 3] = '\0';
          g_autoptr (GDateTime) now = g_date_time_new_now_local ();
          g_autofree char *date = g_date_time_format (now, "%Y%m%d-%H%M%S");
          g_autofree char *name = g_strdup_printf ("%s-%s.pt", base, date);
          g_autofree char *target = g_build_filename (models_dir, name, NULL);
          for (guint i = 2; g_file_test (target, G_FILE_TEST_EXISTS); i++)
            {
              g_free (target);
              g_autofree char *other = g_strdup_printf ("%s-%s-%u.pt", base, date, i);
              target = g_build_filename (models_dir, other, NULL);
            }
          if (g_rename (source, target) == 0)
            result = g_steal_pointer (&target);
          else
            {
              int saved = errno;
              g_set_error (error, USAM_ERROR, USAM_ERROR_IO, "%s: cannot write the model: %s", target,
                           g_strerror (saved));
            }
        }
    }
  remove_tree (run_dir);
  return result;
}

static void
run_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  RunData *d = task_data;
  GError *error = NULL;
  char *path = run (USAM_TRAIN_JOB (source), d->proxy, cancellable, &error);
  if (path)
    g_task_return_pointer (task, path, g_free);
  else
    g_task_return_error (task, error);
}

void
usam_train_job_run_async (UsamTrainJob *self, GCancellable *cancellable, UsamTrainProgressFunc progress,
                          gpointer progress_data, GDestroyNotify progress_destroy, GAsyncReadyCallback callback,
                          gpointer user_data)
{
  g_return_if_fail (USAM_IS_TRAIN_JOB (self));
  g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, usam_train_job_run_async);
  RunData *d = g_new0 (RunData, 1);
  if (progress)
    {
      d->proxy = g_new0 (Proxy, 1);
      g_atomic_ref_count_init (&d->proxy->ref);
      d->proxy->context = g_main_context_ref_thread_default ();
      d->proxy->func = progress;
      d->proxy->data = progress_data;
      d->proxy->destroy = progress_destroy;
    }
  else if (progress_destroy)
    progress_destroy (progress_data);
  g_task_set_task_data (task, d, (GDestroyNotify) run_data_free);
  if (!self->project_path && !(self->image_dir && self->label_dir))
    {
      g_task_return_new_error (task, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT, "no training data chosen");
      return;
    }
  if (!self->checkpoint && !self->preset)
    {
      g_task_return_new_error (task, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT, "no starting model chosen");
      return;
    }
  if (self->max_seconds <= 0 && self->max_steps == 0)
    {
      g_task_return_new_error (task, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT, "training needs a time or step budget");
      return;
    }
  usam_task_run_in_thread (task, run_thread);
}

char *
usam_train_job_run_finish (UsamTrainJob *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}
