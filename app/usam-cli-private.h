/* usam-cli-private.h — what the subcommands of `usam` share. */
#pragma once

#include "usam-cli.h"
#include "usam-embedding-cache.h"
#include "usam-image.h"
#include "usam-model.h"

G_BEGIN_DECLS

enum {
  USAM_EXIT_OK = 0,
  USAM_EXIT_FAILURE = 1, /* unreadable input, failed work */
  USAM_EXIT_USAGE = 2,   /* bad arguments */
};

typedef int (*UsamCliCommand) (const char *name, int argc, char **argv);

int usam_cli_embed (const char *name, int argc, char **argv);
int usam_cli_predict (const char *name, int argc, char **argv);
int usam_cli_info (const char *name, int argc, char **argv);
int usam_cli_models (const char *name, int argc, char **argv);
int usam_cli_train (const char *name, int argc, char **argv);
int usam_cli_evaluate_prompts (const char *name, int argc, char **argv);
int usam_cli_evaluate_auto (const char *name, int argc, char **argv);
int usam_cli_segment (const char *name, int argc, char **argv);
int usam_cli_evaluate (const char *name, int argc, char **argv);
int usam_cli_evaluate_tracks (const char *name, int argc, char **argv);
int usam_cli_track (const char *name, int argc, char **argv);
#ifdef USAM_HAVE_GUI
int usam_cli_annotate (const char *name, int argc, char **argv);
#endif

/* Prints "usam NAME: message" on one line and returns USAM_EXIT_USAGE. */
int usam_cli_usage_error (const char *name, const char *format, ...) G_GNUC_PRINTF (2, 3);
/* Prints "usam NAME: error->message" and returns USAM_EXIT_FAILURE. */
int usam_cli_failure (const char *name, const GError *error);

/* Parses @argv with @entries; on failure prints one line. */
gboolean usam_cli_parse (const char *name, const char *summary, GOptionEntry *entries, int *argc, char ***argv);

/* "X,Y,…" with exactly @n finite numbers. */
gboolean usam_cli_parse_numbers (const char *text, double *out, guint n);

/* Options every model-using command takes. */
typedef struct {
  char *model;
  char *image;
  char *out;
  char *normalize;
  char *precision;
  int threads;
} UsamCliCommon;

/* The GOptionEntry lines of UsamCliCommon @c. */
#define COMMON_ENTRIES(c)                                                                                        \
  { "model", 'm', 0, G_OPTION_ARG_FILENAME, &(c).model, "SAM or μSAM checkpoint", "CKPT" },                     \
  { "image", 'i', 0, G_OPTION_ARG_FILENAME, &(c).image, "2D image (TIFF or PNG)", "FILE" },                     \
  { "normalize", 0, 0, G_OPTION_ARG_STRING, &(c).normalize, "minmax (default, as μSAM) or none", "MODE" },      \
  { "precision", 0, 0, G_OPTION_ARG_STRING, &(c).precision, "encoder precision: fp32 (default), bf16 or auto",  \
    "P" },                                                                                                       \
  { "threads", 0, 0, G_OPTION_ARG_INT, &(c).threads, "CPU threads (default: all cores)", "N" },                 \
  { "out", 'o', 0, G_OPTION_ARG_FILENAME, &(c).out, "output file (HDF5; segment: TIFF labels)", "FILE" }

void usam_cli_common_clear (UsamCliCommon *common);
/* Checks what @common asks for; returns USAM_EXIT_OK or an exit status. */
int usam_cli_common_check (const char *name, UsamCliCommon *common, gboolean need_image, UsamNormalize *normalize,
                           UsamPrecision *precision);
/* Loads a 2D image, refusing volumes and time series. */
UsamImage *usam_cli_load_2d_image (const char *path, GError **error);

/* --tile H,W and --halo H,W (either may be NULL) into @options. */
int usam_cli_tiling_check (const char *name, const char *tile, const char *halo, UsamEmbeddingCacheOptions *options);
#define TILING_ENTRIES(tile, halo)                                                                               \
  { "tile", 0, 0, G_OPTION_ARG_STRING, &(tile), "encode in tiles of H × W pixels (μSAM's tiling)", "H,W" },     \
  { "halo", 0, 0, G_OPTION_ARG_STRING, &(halo), "grow each tile by H, W pixels on each side when encoding", "H,W" }

/* The tiles' embeddings for --tile: in the file --embedding names (made by
 * `usam embed --tile`, written when missing, refused when made with other
 * settings), else in a temporary file that usam_cli_tiles_close() removes. */
typedef struct {
  UsamEmbeddingCache *cache;
  char *path, *tmp_dir;
} UsamCliTiles;
UsamEmbeddingCache *usam_cli_tiles_open (UsamCliTiles *tiles, const char *path, UsamModel *model, UsamImage *image,
                                         const UsamEmbeddingCacheOptions *options, GError **error);
void usam_cli_tiles_close (UsamCliTiles *tiles);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (UsamCliTiles, usam_cli_tiles_close)

/* Reads a 2D one-channel label image of whole numbers ≥ 0. */
guint32 *usam_cli_load_labels (const char *path, guint *width, guint *height, GError **error);

G_END_DECLS
