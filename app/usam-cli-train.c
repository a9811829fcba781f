/* usam train — fine-tune a model, or train one from scratch, on labelled images. */
#include "usam-cli-private.h"

#include <math.h>
#include <stdio.h>

#include "usam-error.h"
#include "usam-trainer.h"

typedef struct
{
  char *model, *scratch, *out, *precision, *global, *ais_variant, *ais_features;
  char **data, **images, **labels, **val_data, **val_images, **val_labels;
  int img_size, patch_size, width, depth, heads, window, prompt_dim, decoder_mlp;
  int steps, batch, objects, sub_iterations, val_every, val_batches, warmup, patience, early_stop, seed, threads;
  double hours, lr, weight_decay, clip, min_scale, max_scale;
  gboolean resume, freeze_encoder, quiet;
} Args;

static void
args_clear (Args *a)
{
  g_free (a->model);
  g_free (a->scratch);
  g_free (a->out);
  g_free (a->precision);
  g_free (a->global);
  g_free (a->ais_variant);
  g_free (a->ais_features);
  g_strfreev (a->data);
  g_strfreev (a->images);
  g_strfreev (a->labels);
  g_strfreev (a->val_data);
  g_strfreev (a->val_images);
  g_strfreev (a->val_labels);
}

static gboolean
parse_ints (const char *text, int *out, int max, int *n)
{
  g_auto (GStrv) parts = g_strsplit (text, ",", -1);
  *n = 0;
  for (int i = 0; parts[i]; i++)
    {
      char *end = NULL;
      long v = strtol (parts[i], &end, 10);
      if (!*parts[i] || *end || v < 0 || *n >= max)
        return FALSE;
      out[(*n)++] = (int) v;
    }
  return *n > 0;
}

static UsamTrainData *
load_data (char **lists, char **images, char **labels, GError **error)
{
  g_autoptr (UsamTrainData) data = usam_train_data_new ();
  for (int i = 0; lists && lists[i]; i++)
    if (!usam_train_data_add_list (data, lists[i], error))
      return NULL;
  for (int i = 0; images && images[i]; i++)
    if (!usam_train_data_add_folders (data, images[i], labels[i], error))
      return NULL;
  return g_steal_pointer (&data);
}

static UsamModel *
make_model (const char *name, Args *a, UsamPrecision precision, GError **error)
{
  g_autofree char *last = g_build_filename (a->out, "last.pt", NULL);
  if (a->resume && g_file_test (last, G_FILE_TEST_EXISTS))
    return usam_model_new_from_file (last, precision, error);
  if (a->model)
    return usam_model_new_from_file (a->model, precision, error);

  UsamArchitecture arch;
  if (!usam_architecture_from_preset (a->scratch, &arch, error))
    return NULL;
  if (a->img_size)
    arch.img_size = (guint) a->img_size;
  if (a->patch_size)
    arch.patch_size = (guint) a->patch_size;
  if (a->width)
    {
      arch.width = (guint) a->width;
      arch.mlp_dim = 4 * (guint) a->width;
    }
  if (a->depth)
    arch.depth = (guint) a->depth;
  if (a->heads)
    arch.heads = (guint) a->heads;
  if (a->window)
    arch.window = (guint) a->window;
  if (a->prompt_dim)
    arch.prompt_dim = (guint) a->prompt_dim;
  if (a->decoder_mlp)
    arch.decoder_mlp_dim = (guint) a->decoder_mlp;
  int values[16], n = 0;
  if (a->global && g_strcmp0 (a->global, "none") == 0)
    arch.n_global = 0;
  else if (a->global)
    {
      if (!parse_ints (a->global, values, 16, &n))
        {
          g_set_error (error, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT, "--global needs block indexes like 2,5");
          return NULL;
        }
      arch.n_global = (guint) n;
      for (int i = 0; i < n; i++)
        arch.global[i] = (guint) values[i];
    }
  arch.ais_variant = a->ais_variant;
  if (a->ais_features)
    {
      if (!parse_ints (a->ais_features, values, 8, &n))
        {
          g_set_error (error, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT, "--ais-features needs widths like 128,64,32,16");
          return NULL;
        }
      arch.n_ais_features = (guint) n;
      for (int i = 0; i < n; i++)
        arch.ais_features[i] = (guint) values[i];
    }
  g_autoptr (UsamModel) fresh = usam_model_new_from_architecture (&arch, (guint64) a->seed, precision, error);
  if (!fresh)
    return NULL;
  /* Saved and reloaded: the run starts from a checkpoint on disk, like any other. */
  g_autofree char *initial = g_build_filename (a->out, "initial.pt", NULL);
  g_mkdir_with_parents (a->out, 0755);
  if (!usam_model_save (fresh, initial, TRUE, error))
    return NULL;
  return usam_model_new_from_file (initial, precision, error);
}

static void
print_progress (const UsamTrainProgress *p, gpointer user_data)
{
  Args *a = user_data;
  if (p->validated)
    printf ("step %6" G_GINT64_FORMAT "  validation loss %.4f (best %.4f)  IoU %.3f\n", p->step, p->val_loss,
            p->best_val_loss, p->val_iou);
  else if (!a->quiet || p->step % 10 == 0)
    {
      char eta[48] = "";
      if (p->eta >= 0)
        g_snprintf (eta, sizeof eta, ", %.0f min left", p->eta / 60);
      printf ("step %6" G_GINT64_FORMAT "  loss %.4f  mask %.4f  iou %.4f  ais %.4f  IoU %.3f  lr %.2g  %.2f s/step  "
              "%.0f min%s\n",
              p->step, p->loss, p->mask_loss, p->iou_loss, p->ais_loss, p->mean_iou, p->learning_rate,
              p->seconds_per_step, p->elapsed / 60, eta);
    }
  fflush (stdout);
}

int
usam_cli_train (const char *name, int argc, char **argv)
{
  Args a = { 0 };
  a.steps = 0;
  a.seed = 1;
  GOptionEntry entries[] = {
    { "model", 'm', 0, G_OPTION_ARG_FILENAME, &a.model, "start from this checkpoint (fine-tuning)", "CKPT" },
    { "from-scratch", 0, 0, G_OPTION_ARG_STRING, &a.scratch, "start from random weights shaped like PRESET", "PRESET" },
    { "img-size", 0, 0, G_OPTION_ARG_INT, &a.img_size, "from scratch: encoder input side", "N" },
    { "patch-size", 0, 0, G_OPTION_ARG_INT, &a.patch_size, "from scratch: patch side", "N" },
    { "width", 0, 0, G_OPTION_ARG_INT, &a.width, "from scratch: encoder width", "N" },
    { "depth", 0, 0, G_OPTION_ARG_INT, &a.depth, "from scratch: encoder blocks", "N" },
    { "heads", 0, 0, G_OPTION_ARG_INT, &a.heads, "from scratch: attention heads", "N" },
    { "window", 0, 0, G_OPTION_ARG_INT, &a.window, "from scratch: attention window", "N" },
    { "global", 0, 0, G_OPTION_ARG_STRING, &a.global, "from scratch: blocks with global attention, or none", "I,J" },
    { "prompt-dim", 0, 0, G_OPTION_ARG_INT, &a.prompt_dim, "from scratch: embedding and decoder width", "N" },
    { "decoder-mlp", 0, 0, G_OPTION_ARG_INT, &a.decoder_mlp, "from scratch: decoder MLP width", "N" },
    { "ais-decoder", 0, 0, G_OPTION_ARG_STRING, &a.ais_variant, "from scratch: add an AIS decoder (interpolation|deconvolution)", "V" },
    { "ais-features", 0, 0, G_OPTION_ARG_STRING, &a.ais_features, "from scratch: AIS decoder widths", "A,B,C" },
    { "data", 'd', 0, G_OPTION_ARG_FILENAME_ARRAY, &a.data, "training list of 'IMAGE LABELS' lines (repeatable)", "LIST" },
    { "images", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &a.images, "training image folder, with --labels (repeatable)", "DIR" },
    { "labels", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &a.labels, "label folder matching --images by file name", "DIR" },
    { "val-data", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &a.val_data, "validation list (repeatable)", "LIST" },
    { "val-images", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &a.val_images, "validation image folder", "DIR" },
    { "val-labels", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &a.val_labels, "validation label folder", "DIR" },
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &a.out, "folder for best.pt, last.pt, state.pt and log.csv", "DIR" },
    { "resume", 0, 0, G_OPTION_ARG_NONE, &a.resume, "continue the run in --out", NULL },
    { "steps", 0, 0, G_OPTION_ARG_INT, &a.steps, "stop after N optimiser steps", "N" },
    { "hours", 0, 0, G_OPTION_ARG_DOUBLE, &a.hours, "stop after this much time", "H" },
    { "batch", 0, 0, G_OPTION_ARG_INT, &a.batch, "images per step (default 4)", "N" },
    { "objects", 0, 0, G_OPTION_ARG_INT, &a.objects, "objects per image (default 12)", "N" },
    { "sub-iterations", 0, 0, G_OPTION_ARG_INT, &a.sub_iterations, "prompt corrections per object (default 8)", "N" },
    { "lr", 0, 0, G_OPTION_ARG_DOUBLE, &a.lr, "learning rate (default 1e-5)", "LR" },
    { "weight-decay", 0, 0, G_OPTION_ARG_DOUBLE, &a.weight_decay, "AdamW weight decay (default 0.01)", "W" },
    { "warmup", 0, 0, G_OPTION_ARG_INT, &a.warmup, "warm-up steps", "N" },
    { "clip", 0, 0, G_OPTION_ARG_DOUBLE, &a.clip, "clip the gradient norm", "C" },
    { "val-every", 0, 0, G_OPTION_ARG_INT, &a.val_every, "steps between validations (default 100)", "N" },
    { "val-batches", 0, 0, G_OPTION_ARG_INT, &a.val_batches, "validation batches (default 4)", "N" },
    { "patience", 0, 0, G_OPTION_ARG_INT, &a.patience, "validations before the learning rate drops (default 3)", "N" },
    { "early-stop", 0, 0, G_OPTION_ARG_INT, &a.early_stop, "validations without improvement before stopping (default 10)", "N" },
    { "min-scale", 0, 0, G_OPTION_ARG_DOUBLE, &a.min_scale, "smallest crop, relative to the input (default 0.5)", "S" },
    { "max-scale", 0, 0, G_OPTION_ARG_DOUBLE, &a.max_scale, "largest crop (default 1.5)", "S" },
    { "freeze-encoder", 0, 0, G_OPTION_ARG_NONE, &a.freeze_encoder, "train only the prompt encoder and decoders", NULL },
    { "precision", 0, 0, G_OPTION_ARG_STRING, &a.precision, "auto (default), fp32 or bf16", "P" },
    { "seed", 0, 0, G_OPTION_ARG_INT, &a.seed, "random seed (default 1)", "N" },
    { "threads", 0, 0, G_OPTION_ARG_INT, &a.threads, "CPU threads", "N" },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &a.quiet, "print every 10th step", NULL },
    { NULL },
  };
  int status = USAM_EXIT_OK;
  UsamPrecision precision = USAM_PRECISION_AUTO;
  g_autoptr (GError) error = NULL;

  if (!usam_cli_parse (name, "train a model on labelled images", entries, &argc, &argv))
    status = USAM_EXIT_USAGE;
  else if (!a.out)
    status = usam_cli_usage_error (name, "--out DIR is required");
  else if (!!a.model + !!a.scratch != 1 && !a.resume)
    status = usam_cli_usage_error (name, "give either --model CKPT or --from-scratch PRESET");
  else if (!a.data && !a.images)
    status = usam_cli_usage_error (name, "give training data with --data LIST or --images DIR --labels DIR");
  else if ((a.images ? g_strv_length (a.images) : 0) != (a.labels ? g_strv_length (a.labels) : 0)
           || (a.val_images ? g_strv_length (a.val_images) : 0) != (a.val_labels ? g_strv_length (a.val_labels) : 0))
    status = usam_cli_usage_error (name, "each --images folder needs a --labels folder");
  else if (a.precision && !usam_precision_from_string (a.precision, &precision))
    status = usam_cli_usage_error (name, "--precision must be auto, fp32 or bf16");
  else if (a.steps < 0 || a.hours < 0 || a.batch < 0 || a.objects < 0 || a.sub_iterations < 0)
    status = usam_cli_usage_error (name, "counts and times must not be negative");
  if (status != USAM_EXIT_OK)
    goto out;
  if (a.threads > 0)
    {
      char v[16];
      g_snprintf (v, sizeof v, "%d", a.threads);
      g_setenv ("USAM_NUM_THREADS", v, TRUE);
    }

  {
    g_autoptr (UsamTrainData) train = load_data (a.data, a.images, a.labels, &error);
    g_autoptr (UsamTrainData) val = train ? load_data (a.val_data, a.val_images, a.val_labels, &error) : NULL;
    g_autoptr (UsamModel) model = val ? make_model (name, &a, precision, &error) : NULL;
    if (!model)
      {
        status = usam_cli_failure (name, error);
        goto out;
      }
    UsamTrainOptions o = usam_train_options_default (usam_model_get_input_size (model));
    o.max_steps = (guint) a.steps;
    o.max_seconds = a.hours * 3600;
    if (!o.max_steps && o.max_seconds <= 0)
      o.max_steps = 1000;
    if (a.batch)
      o.batch.n_images = (guint) a.batch;
    if (a.objects)
      o.batch.n_objects = (guint) a.objects;
    if (a.sub_iterations)
      o.n_sub_iterations = (guint) a.sub_iterations;
    if (a.lr > 0)
      o.learning_rate = a.lr;
    if (a.weight_decay > 0)
      o.weight_decay = a.weight_decay;
    if (a.clip > 0)
      o.clip_grad_norm = a.clip;
    if (a.val_every > 0)
      o.val_every = (guint) a.val_every;
    if (a.val_batches > 0)
      o.val_batches = (guint) a.val_batches;
    if (a.patience > 0)
      o.plateau_patience = (guint) a.patience;
    if (a.early_stop >= 0)
      o.early_stop_patience = a.early_stop ? (guint) a.early_stop : o.early_stop_patience;
    if (a.min_scale > 0)
      o.batch.min_scale = a.min_scale;
    if (a.max_scale > 0)
      o.batch.max_scale = a.max_scale;
    o.warmup_steps = (guint) MAX (a.warmup, 0);
    o.freeze_encoder = a.freeze_encoder;
    o.precision = precision;
    o.seed = (guint64) a.seed;

    g_autofree char *description = usam_model_dup_description (model);
    printf ("training %s on %u images (%u for validation), %u×%u input\n", description,
            usam_train_data_get_n_items (train), usam_train_data_get_n_items (val), o.batch.image_size,
            o.batch.image_size);
    if (!usam_train_run (model, train, val, &o, a.out, a.resume, NULL, print_progress, &a, &error))
      status = usam_cli_failure (name, error);
  }

out:
  args_clear (&a);
  return status;
}
