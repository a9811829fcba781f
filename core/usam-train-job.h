/* usam-train-job.h — one training run of the annotator, in the background.
 *
 * Wraps usam_train_run() for a program with a main loop: the data come
 * from a project's committed objects (every plane with at least one
 * object, its labels rendered from them) or from an image folder and a
 * label folder paired by file name; the run starts from a checkpoint
 * (fine-tuning) or from random weights shaped by a size preset; it runs in
 * a worker thread with progress on the caller's main context, and its
 * result lands in the models folder under a new name, written whole or
 * not at all, so a cancelled or failed run leaves nothing behind there.
 */
#pragma once

#include <gio/gio.h>

#include "usam-model.h"
#include "usam-trainer.h"

G_BEGIN_DECLS

/* A from-scratch shape the annotator offers. */
typedef struct
{
  const char *id;    /* "tiny", "small", "vit_b" */
  const char *label; /* for people */
  const char *note;  /* what it is for */
} UsamTrainPreset;

const UsamTrainPreset *usam_train_presets (guint *n_presets);
gboolean usam_train_preset_architecture (const char *id, UsamArchitecture *out, GError **error);
/* "input 256², patch 16, width 64, depth 4, 2 heads" */
char *usam_train_preset_describe (const char *id);

/* $XDG_DATA_HOME/usam/models: where trained models go, and the list of
 * them the annotator offers (newest first, full paths). */
char *usam_train_models_dir (void);
GStrv usam_train_list_models (void);

#define USAM_TYPE_TRAIN_JOB (usam_train_job_get_type ())
G_DECLARE_FINAL_TYPE (UsamTrainJob, usam_train_job, USAM, TRAIN_JOB, GObject)

/* Set everything before usam_train_job_run_async(); the worker reads the
 * settings without a lock, so they must not change while it runs. */
UsamTrainJob *usam_train_job_new (void);

/* The data: a project (by path; the job opens its own connection, as a
 * UsamProject belongs to one thread) or two folders. */
void usam_train_job_set_project (UsamTrainJob *self, const char *project_path);
void usam_train_job_set_folders (UsamTrainJob *self, const char *image_dir, const char *label_dir);
/* The start: a checkpoint to fine-tune, or a preset to train from scratch. */
void usam_train_job_set_checkpoint (UsamTrainJob *self, const char *path);
void usam_train_job_set_preset (UsamTrainJob *self, const char *preset);
/* Budget: whichever comes first; 0 is no limit, but one must be set. */
void usam_train_job_set_budget (UsamTrainJob *self, double seconds, guint steps);
/* Steps between validations (default 25). */
void usam_train_job_set_val_every (UsamTrainJob *self, guint steps);
/* Where the result goes (default usam_train_models_dir()). */
void usam_train_job_set_models_dir (UsamTrainJob *self, const char *dir);

/* How the data were split, once known ("3 images for training, 1 held out
 * for validation"); NULL before. Thread-safe. */
char *usam_train_job_dup_summary (UsamTrainJob *self);

/* @progress is called on the caller's thread-default main context after
 * every step, with a copy that lives for the call. Fails with
 * G_IO_ERROR_CANCELLED when cancelled, leaving no model file. The result
 * is the path of the new checkpoint: the best validated one, else the last. */
void usam_train_job_run_async (UsamTrainJob *self, GCancellable *cancellable, UsamTrainProgressFunc progress,
                               gpointer progress_data, GDestroyNotify progress_destroy, GAsyncReadyCallback callback,
                               gpointer user_data);
char *usam_train_job_run_finish (UsamTrainJob *self, GAsyncResult *result, GError **error);

G_END_DECLS
