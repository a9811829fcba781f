#include "usam-trainer.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>

#include "usam-error.h"
#include "usam-model-private.h"
#include "usam-train.h"

UsamTrainOptions
usam_train_options_default (guint image_size)
{
  UsamTrainOptions o = { 0 };
  o.max_steps = 0;
  o.max_seconds = 0;
  o.val_every = 100;
  o.val_batches = 4;
  o.warmup_steps = 0;
  o.plateau_patience = 3;
  o.plateau_factor = 0.9;
  o.early_stop_patience = 10;
  o.learning_rate = 1e-5;
  o.weight_decay = 0.01;
  o.clip_grad_norm = 0;
  o.n_sub_iterations = 8;
  o.mask_prompt_probability = 0.5;
  o.freeze_encoder = FALSE;
  o.ais_loss_weight = 1.0;
  o.precision = USAM_PRECISION_AUTO;
  o.seed = 1;
  o.batch = usam_batch_spec_default (image_size);
  return o;
}

static usam_sam_train_batch
as_sam_batch (const UsamTrainBatch *b)
{
  usam_sam_train_batch s = {
    (int) b->n_images, (int) b->image_size, b->images, (int) b->image_size, b->labels,
    (int) b->n_objects, b->object_ids, b->ais_targets,
  };
  return s;
}

static gboolean
sam_failed (GError **error, usam_sam_status status)
{
  usam_set_error_from_sam (error, status);
  return FALSE;
}

/* A resumed run must not let its first validation overwrite best.pt with a
 * worse model: the best loss so far is read back from the run's log. */
static double
best_logged_val_loss (const char *log_path)
{
  double best = INFINITY;
  g_autofree char *text = NULL;
  if (!g_file_get_contents (log_path, &text, NULL, NULL))
    return best;
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  for (guint i = 1; lines[i]; i++)
    {
      g_auto (GStrv) f = g_strsplit (lines[i], ",", -1);
      if (g_strv_length (f) < 10)
        continue;
      double v = g_ascii_strtod (f[8], NULL);
      if (isfinite (v) && v < best)
        best = v;
    }
  return best;
}

static gboolean
save_checkpoints (UsamModel *model, usam_sam_trainer *trainer, const char *dir, gboolean best, GError **error)
{
  usam_sam_trainer_sync (trainer);
  g_autofree char *last = g_build_filename (dir, "last.pt", NULL);
  g_autofree char *state = g_build_filename (dir, "state.pt", NULL);
  if (!usam_model_save (model, last, TRUE, error))
    return FALSE;
  usam_sam_status status = usam_sam_trainer_save_state (trainer, state);
  if (status != USAM_SAM_STATUS_OK)
    return sam_failed (error, status);
  if (best)
    {
      g_autofree char *path = g_build_filename (dir, "best.pt", NULL);
      if (!usam_model_save (model, path, TRUE, error))
        return FALSE;
    }
  return TRUE;
}

/* Validation: the same losses on fixed batches, half of them box starts. */
static gboolean
validate (usam_sam_trainer *trainer, GPtrArray *batches, double *loss, double *iou, GError **error)
{
  double l = 0, q = 0;
  for (guint i = 0; i < batches->len; i++)
    {
      usam_sam_train_batch sb = as_sam_batch (batches->pdata[i]);
      usam_sam_train_losses r;
      usam_sam_status status = usam_sam_trainer_evaluate (trainer, &sb, 1000 + i, i % 2 == 1, &r);
      if (status != USAM_SAM_STATUS_OK)
        return sam_failed (error, status);
      l += r.mask_loss + r.iou_loss + r.ais_loss;
      q += r.mean_iou;
    }
  *loss = l / MAX (batches->len, 1u);
  *iou = q / MAX (batches->len, 1u);
  return TRUE;
}

gboolean
usam_train_run (UsamModel *model, UsamTrainData *train, UsamTrainData *val, const UsamTrainOptions *options,
                const char *out_dir, gboolean resume, GCancellable *cancellable, UsamTrainProgressFunc progress,
                gpointer progress_data, GError **error)
{
  const UsamTrainOptions *o = options;
  if (g_mkdir_with_parents (out_dir, 0755) != 0)
    {
      int saved = errno;
      g_set_error (error, USAM_ERROR, USAM_ERROR_IO, "%s: cannot create the folder: %s", out_dir, g_strerror (saved));
      return FALSE;
    }
  if (o->batch.image_size != usam_model_get_input_size (model))
    {
      g_set_error (error, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT, "batches of %u² do not fit a model of input %u²",
                   o->batch.image_size, usam_model_get_input_size (model));
      return FALSE;
    }

  usam_sam_train_params p = usam_sam_train_default_params ();
  p.learning_rate = (float) o->learning_rate;
  p.weight_decay = (float) o->weight_decay;
  p.clip_grad_norm = (float) o->clip_grad_norm;
  p.n_sub_iterations = (int) o->n_sub_iterations;
  p.mask_prompt_probability = (float) o->mask_prompt_probability;
  p.train_encoder = !o->freeze_encoder;
  p.ais_loss_weight = usam_model_has_decoder (model) ? (float) o->ais_loss_weight : 0.0f;
  p.precision = o->precision == USAM_PRECISION_FP32   ? USAM_SAM_PRECISION_FP32
                : o->precision == USAM_PRECISION_BF16 ? USAM_SAM_PRECISION_BF16
                                                      : USAM_SAM_PRECISION_AUTO;
  p.seed = o->seed;

  usam_sam_trainer *trainer = NULL;
  usam_sam_status status = usam_sam_trainer_new (usam_model_get_sam (model), &p, &trainer);
  if (status != USAM_SAM_STATUS_OK)
    return sam_failed (error, status);

  gboolean ok = FALSE;
  g_autoptr (GRand) rand = g_rand_new_with_seed ((guint32) o->seed);
  g_autoptr (GPtrArray) val_batches = g_ptr_array_new_with_free_func ((GDestroyNotify) usam_train_batch_free);
  g_autofree char *log_path = g_build_filename (out_dir, "log.csv", NULL);
  g_autofree char *state_path = g_build_filename (out_dir, "state.pt", NULL);
  FILE *log = NULL;
  double base_lr = o->learning_rate, best = INFINITY, scale = 1.0;
  guint since_best = 0, since_drop = 0;

  UsamBatchSpec spec = o->batch;
  spec.ais_targets = p.ais_loss_weight > 0;
  if (resume && g_file_test (state_path, G_FILE_TEST_EXISTS))
    {
      status = usam_sam_trainer_load_state (trainer, state_path);
      if (status != USAM_SAM_STATUS_OK)
        {
          sam_failed (error, status);
          goto out;
        }
      /* the saved rate already carries the plateau drops */
      best = best_logged_val_loss (log_path);
      scale = usam_sam_trainer_get_learning_rate (trainer) / base_lr;
      g_rand_set_seed (rand, (guint32) (o->seed + (guint64) usam_sam_trainer_get_step (trainer)));
    }

  if (val && usam_train_data_get_n_items (val) > 0)
    {
      UsamBatchSpec vs = spec;
      vs.augment = FALSE;
      g_autoptr (GRand) vrand = g_rand_new_with_seed (4242);
      for (guint i = 0; i < o->val_batches; i++)
        {
          UsamTrainBatch *b = usam_train_data_sample (val, &vs, vrand, error);
          if (!b)
            goto out;
          g_ptr_array_add (val_batches, b);
        }
    }

  log = fopen (log_path, resume ? "a" : "w");
  if (!log)
    {
      g_set_error (error, USAM_ERROR, USAM_ERROR_IO, "%s: cannot write the training log", log_path);
      goto out;
    }
  if (!resume || ftell (log) == 0)
    fprintf (log, "step,seconds,learning_rate,loss,mask_loss,iou_loss,ais_loss,mean_iou,val_loss,val_iou\n");

  gint64 start = g_get_monotonic_time ();
  double ema = 0;
  for (;;)
    {
      gint64 step = usam_sam_trainer_get_step (trainer);
      double elapsed = (g_get_monotonic_time () - start) / 1e6;
      if ((o->max_steps && (guint64) step >= o->max_steps) || (o->max_seconds > 0 && elapsed >= o->max_seconds))
        break;
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        {
          save_checkpoints (model, trainer, out_dir, FALSE, NULL);
          goto out;
        }

      double warm = o->warmup_steps ? MIN (1.0, (step + 1.0) / o->warmup_steps) : 1.0;
      usam_sam_trainer_set_learning_rate (trainer, (float) (base_lr * scale * warm));
      g_autoptr (UsamTrainBatch) batch = usam_train_data_sample (train, &spec, rand, error);
      if (!batch)
        goto out;
      usam_sam_train_batch sb = as_sam_batch (batch);
      usam_sam_train_losses r;
      status = usam_sam_trainer_step (trainer, &sb, &r);
      if (status != USAM_SAM_STATUS_OK)
        {
          sam_failed (error, status);
          goto out;
        }
      step = usam_sam_trainer_get_step (trainer);
      ema = ema == 0 ? r.seconds : 0.9 * ema + 0.1 * r.seconds;
      elapsed = (g_get_monotonic_time () - start) / 1e6;

      UsamTrainProgress pr = { 0 };
      pr.step = step;
      pr.loss = r.loss;
      pr.mask_loss = r.mask_loss;
      pr.iou_loss = r.iou_loss;
      pr.ais_loss = r.ais_loss;
      pr.mean_iou = r.mean_iou;
      pr.learning_rate = usam_sam_trainer_get_learning_rate (trainer);
      pr.seconds_per_step = ema;
      pr.elapsed = elapsed;
      pr.eta = -1;
      if (o->max_steps)
        pr.eta = ema * (double) (o->max_steps - MIN ((guint64) step, o->max_steps));
      if (o->max_seconds > 0)
        pr.eta = pr.eta < 0 ? MAX (0, o->max_seconds - elapsed) : MIN (pr.eta, MAX (0, o->max_seconds - elapsed));
      pr.best_val_loss = best;
      pr.val_loss = pr.val_iou = NAN;

      gboolean stop = FALSE;
      if (o->val_every && step % o->val_every == 0)
        {
          gboolean improved = FALSE;
          if (val_batches->len > 0)
            {
              if (!validate (trainer, val_batches, &pr.val_loss, &pr.val_iou, error))
                goto out;
              pr.validated = TRUE;
              improved = pr.val_loss < best;
              if (improved)
                {
                  best = pr.val_loss;
                  since_best = since_drop = 0;
                }
              else
                {
                  since_best++;
                  if (++since_drop >= o->plateau_patience)
                    {
                      scale *= o->plateau_factor;
                      since_drop = 0;
                    }
                  stop = o->early_stop_patience && since_best >= o->early_stop_patience;
                }
              pr.best_val_loss = best;
            }
          if (!save_checkpoints (model, trainer, out_dir, improved || val_batches->len == 0, error))
            goto out;
        }
      fprintf (log, "%" G_GINT64_FORMAT ",%.1f,%.3g,%.5f,%.5f,%.5f,%.5f,%.4f,%.5f,%.4f\n", step, elapsed,
               pr.learning_rate, r.loss, r.mask_loss, r.iou_loss, r.ais_loss, r.mean_iou, pr.val_loss, pr.val_iou);
      fflush (log);
      if (progress)
        progress (&pr, progress_data);
      if (stop)
        break;
    }
  ok = save_checkpoints (model, trainer, out_dir, val_batches->len == 0, error);

out:
  if (log)
    fclose (log);
  usam_sam_trainer_free (trainer);
  /* The weights changed in place: embeddings cached under the old hash no longer fit. */
  usam_model_forget_encoder_hash (model);
  return ok;
}
