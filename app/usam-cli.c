#include "usam-cli-private.h"

#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <glib/gstdio.h>

#include "usam-config.h"
#include "usam-error.h"

static const struct
{
  const char *name;
  UsamCliCommand run;
  const char *summary;
} commands[] = {
  { "embed", usam_cli_embed, "compute the image embedding and write it to HDF5" },
  { "predict", usam_cli_predict, "segment an object from point, box or mask prompts" },
  { "info", usam_cli_info, "describe a checkpoint" },
  { "models", usam_cli_models, "list the models usam knows, installed or not, and where they are" },
  { "train", usam_cli_train, "fine-tune a model, or train one from scratch" },
  { "evaluate-prompts", usam_cli_evaluate_prompts, "score interactive segmentation against ground truth" },
  { "evaluate-auto", usam_cli_evaluate_auto, "score automatic segmentation (AIS) against ground truth and a baseline" },
  { "segment", usam_cli_segment, "automatic instance segmentation (AMG, AIS, APG) into a label image" },
  { "evaluate", usam_cli_evaluate, "score label images against ground truth (SA, mSA, P/R/F1)" },
  { "evaluate-tracks", usam_cli_evaluate_tracks, "Cell Tracking Challenge SEG, DET and TRA of a tracking result" },
  { "track", usam_cli_track, "automatic tracking with divisions into the Cell Tracking Challenge format" },
#ifdef USAM_HAVE_GUI
  { "annotate", usam_cli_annotate, "the annotator: segment, correct and commit objects in a window" },
#endif
};

static void
print_usage (FILE *out)
{
  fprintf (out, "Usage: usam COMMAND [OPTIONS…]\n\nCommands:\n");
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    fprintf (out, "  %-10s %s\n", commands[i].name, commands[i].summary);
  fprintf (out, "\nRun 'usam COMMAND --help' for the options of a command.\n");
}

int
usam_cli_usage_error (const char *name, const char *format, ...)
{
  va_list args;
  va_start (args, format);
  g_autofree char *message = g_strdup_vprintf (format, args);
  va_end (args);
  fprintf (stderr, "usam %s: %s\n", name, message);
  return USAM_EXIT_USAGE;
}

int
usam_cli_failure (const char *name, const GError *error)
{
  g_autofree char *line = g_strdup (error ? error->message : "failed");
  /* One line, whatever the message holds. */
  for (char *p = line; *p; p++)
    if (*p == '\n')
      *p = ' ';
  fprintf (stderr, "usam %s: %s\n", name, line);
  return USAM_EXIT_FAILURE;
}

gboolean
usam_cli_parse (const char *name, const char *summary, GOptionEntry *entries, int *argc, char ***argv)
{
  g_autofree char *parameter = g_strdup_printf ("%s — %s", name, summary);
  g_autoptr (GOptionContext) context = g_option_context_new (NULL);
  g_option_context_set_summary (context, parameter);
  g_option_context_add_main_entries (context, entries, NULL);
  g_autoptr (GError) error = NULL;
  if (!g_option_context_parse (context, argc, argv, &error))
    {
      usam_cli_usage_error (name, "%s", error->message);
      return FALSE;
    }
  if (*argc > 1)
    {
      usam_cli_usage_error (name, "unexpected argument '%s'", (*argv)[1]);
      return FALSE;
    }
  return TRUE;
}

gboolean
usam_cli_parse_numbers (const char *text, double *out, guint n)
{
  g_auto (GStrv) parts = g_strsplit (text, ",", -1);
  if (g_strv_length (parts) != n)
    return FALSE;
  for (guint i = 0; i < n; i++)
    {
      char *end = NULL;
      g_strstrip (parts[i]);
      out[i] = g_ascii_strtod (parts[i], &end);
      if (!*parts[i] || !end || *end || !isfinite (out[i]))
        return FALSE;
    }
  return TRUE;
}

static gboolean
parse_pair (const char *text, guint *height, guint *width, gboolean zero_ok)
{
  double v[2];
  if (!usam_cli_parse_numbers (text, v, 2))
    return FALSE;
  for (int i = 0; i < 2; i++)
    if (v[i] != floor (v[i]) || v[i] < (zero_ok ? 0 : 1) || v[i] > 65536)
      return FALSE;
  *height = (guint) v[0];
  *width = (guint) v[1];
  return TRUE;
}

int
usam_cli_tiling_check (const char *name, const char *tile, const char *halo, UsamEmbeddingCacheOptions *options)
{
  if (halo && !tile)
    return usam_cli_usage_error (name, "--halo needs --tile");
  if (tile && !parse_pair (tile, &options->tile_height, &options->tile_width, FALSE))
    return usam_cli_usage_error (name, "--tile takes H,W, two whole numbers above 0, not '%s'", tile);
  if (halo && !parse_pair (halo, &options->halo_height, &options->halo_width, TRUE))
    return usam_cli_usage_error (name, "--halo takes H,W, two whole numbers, not '%s'", halo);
  if (2 * options->halo_height >= MAX (options->tile_height, 1u) || 2 * options->halo_width >= MAX (options->tile_width, 1u))
    return usam_cli_usage_error (name, "--halo %s must be under half of --tile %s on each side", halo, tile);
  return USAM_EXIT_OK;
}

UsamEmbeddingCache *
usam_cli_tiles_open (UsamCliTiles *tiles, const char *path, UsamModel *model, UsamImage *image,
                     const UsamEmbeddingCacheOptions *options, GError **error)
{
  memset (tiles, 0, sizeof *tiles);
  if (path)
    tiles->path = g_strdup (path);
  else
    {
      tiles->tmp_dir = g_dir_make_tmp ("usam-tiles-XXXXXX", error);
      if (!tiles->tmp_dir)
        return NULL;
      tiles->path = g_build_filename (tiles->tmp_dir, "tiles.h5", NULL);
    }
  tiles->cache = usam_embedding_cache_open (tiles->path, model, image, options, error);
  g_autofree char *reason = tiles->cache ? usam_embedding_cache_dup_reset_reason (tiles->cache) : NULL;
  /* A file given as input that does not fit is an error, not a cache miss. */
  if (reason)
    {
      g_set_error (error, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT, "%s", reason);
      g_clear_object (&tiles->cache);
    }
  return tiles->cache;
}

void
usam_cli_tiles_close (UsamCliTiles *tiles)
{
  g_clear_object (&tiles->cache);
  if (tiles->tmp_dir)
    {
      g_unlink (tiles->path);
      g_rmdir (tiles->tmp_dir);
    }
  g_clear_pointer (&tiles->tmp_dir, g_free);
  g_clear_pointer (&tiles->path, g_free);
}

void
usam_cli_common_clear (UsamCliCommon *common)
{
  g_clear_pointer (&common->model, g_free);
  g_clear_pointer (&common->image, g_free);
  g_clear_pointer (&common->out, g_free);
  g_clear_pointer (&common->normalize, g_free);
  g_clear_pointer (&common->precision, g_free);
}

int
usam_cli_common_check (const char *name, UsamCliCommon *common, gboolean need_image, UsamNormalize *normalize,
                       UsamPrecision *precision)
{
  if (!common->model)
    return usam_cli_usage_error (name, "--model CKPT is required");
  if (need_image && !common->image)
    return usam_cli_usage_error (name, "--image FILE is required");
  if (!common->out)
    return usam_cli_usage_error (name, "--out FILE is required");
  if (normalize && !usam_normalize_from_string (common->normalize ? common->normalize : "minmax", normalize))
    return usam_cli_usage_error (name, "--normalize must be 'minmax' or 'none', not '%s'", common->normalize);
  if (precision && !usam_precision_from_string (common->precision ? common->precision : "fp32", precision))
    return usam_cli_usage_error (name, "--precision must be 'auto', 'fp32' or 'bf16', not '%s'", common->precision);
  if (common->threads < 0)
    return usam_cli_usage_error (name, "--threads must be positive");
  if (common->threads > 0)
    {
      /* Read by the engine when it starts, before any model is loaded. */
      char value[16];
      g_snprintf (value, sizeof value, "%d", common->threads);
      g_setenv ("USAM_NUM_THREADS", value, TRUE);
    }
  return USAM_EXIT_OK;
}

UsamImage *
usam_cli_load_2d_image (const char *path, GError **error)
{
  g_autoptr (UsamImage) image = usam_image_load (path, error);
  if (!image)
    return NULL;
  if (usam_image_get_depth (image) > 1 || usam_image_get_frames (image) > 1)
    {
      g_set_error (error, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT,
                   "%s: is a %s (%u slices, %u frames), not a 2D image; use --volume or tiling commands", path,
                   usam_image_get_depth (image) > 1 ? "volume" : "time series", usam_image_get_depth (image),
                   usam_image_get_frames (image));
      return NULL;
    }
  return g_steal_pointer (&image);
}

int
usam_cli_main (int argc, char **argv)
{
  setlocale (LC_ALL, "");
  if (argc < 2)
    {
      print_usage (stderr);
      return USAM_EXIT_USAGE;
    }
  const char *name = argv[1];
  if (g_str_equal (name, "--help") || g_str_equal (name, "-h") || g_str_equal (name, "help"))
    {
      print_usage (stdout);
      return USAM_EXIT_OK;
    }
  if (g_str_equal (name, "--version"))
    {
      printf ("usam %s\n", PACKAGE_VERSION);
      return USAM_EXIT_OK;
    }
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    if (g_str_equal (name, commands[i].name))
      return commands[i].run (name, argc - 1, argv + 1);
  fprintf (stderr, "usam: unknown command '%s' (try 'usam --help')\n", name);
  return USAM_EXIT_USAGE;
}
