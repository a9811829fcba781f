/* usam-embedding-cache.h — the embeddings of an image or a volume, on disk.
 *
 * One HDF5 file per image, one embedding per slice, or per tile of each
 * slice when tiled (usam-tiling.h: each tile with its halo encoded on its
 * own). Slices run over Z and then T: plane (t, z) is slice t × depth + z,
 * so a 2D image has one slice and a volume one per Z plane. The file holds
 *
 *   /features  float32 (S × T, C, h, w), one chunk per tile of a slice (T
 *              tiles, 1 untiled), Fletcher-32 checked
 *   /complete  uint8 (S × T), 1 once that tile is written — always after its
 *              features
 *
 * and, as attributes of the root group, a signature: the pixel hash, the
 * model's encoder hash and type, the precision, the normalisation, the tile
 * shape and halo (0: untiled), the input and original sizes and the format
 * version. A file whose signature differs, or that cannot be read, is never
 * used: the cache says why (usam_embedding_cache_dup_reset_reason()) and
 * starts over, replacing the file atomically when it first writes. A 2D
 * image's file is exactly what `usam embed` wrote before the cache, plus the
 * signature, so usam_embedding_load() and `usam predict --embedding` read it.
 *
 * Slices are encoded when first asked for, or ahead of time in a worker
 * thread. Every call is thread-safe; each slice is encoded at most once even
 * when several threads want it. One process writes a file at a time.
 */
#pragma once

#include <gio/gio.h>

#include "usam-image.h"
#include "usam-model.h"
#include "usam-tiling.h"

G_BEGIN_DECLS

#define USAM_EMBEDDING_CACHE_FORMAT_VERSION 1

/* All zero is the default: min–max normalisation, untiled. */
typedef struct {
  UsamNormalize normalize;
  guint tile_width, tile_height; /* 0: untiled */
  guint halo_width, halo_height; /* each under half the tile */
  const char *image_hash; /* usam_image_dup_content_hash() when the caller has it; NULL: computed */
} UsamEmbeddingCacheOptions;

#define USAM_TYPE_EMBEDDING_CACHE (usam_embedding_cache_get_type ())
G_DECLARE_FINAL_TYPE (UsamEmbeddingCache, usam_embedding_cache, USAM, EMBEDDING_CACHE, GObject)

/* Validates the file at @path against @model, @image and @options (NULL:
 * defaults). A missing file is created on the first write, a mismatched or
 * damaged one replaced then. Fails only for bad arguments. */
UsamEmbeddingCache *usam_embedding_cache_open (const char *path, UsamModel *model, UsamImage *image,
                                               const UsamEmbeddingCacheOptions *options, GError **error);

const char *usam_embedding_cache_get_path (UsamEmbeddingCache *self);
guint usam_embedding_cache_get_n_slices (UsamEmbeddingCache *self);

/* Whether the file found at open (or later written to) was unusable, and
 * why: a line naming the file and the difference, or NULL. */
gboolean usam_embedding_cache_was_reset (UsamEmbeddingCache *self);
char *usam_embedding_cache_dup_reset_reason (UsamEmbeddingCache *self);
/* Slices this object encoded, and slices it found damaged on reading and
 * encoded again. */
guint usam_embedding_cache_get_n_computed (UsamEmbeddingCache *self);
guint usam_embedding_cache_get_n_repaired (UsamEmbeddingCache *self);

guint usam_embedding_cache_get_n_tiles (UsamEmbeddingCache *self);
const UsamTiling *usam_embedding_cache_get_tiling (UsamEmbeddingCache *self);

/* Whether every tile of @slice is complete on disk. */
gboolean usam_embedding_cache_has_slice (UsamEmbeddingCache *self, guint slice);

/* The embedding of @slice: read when complete on disk, else encoded, written
 * and returned. @progress (the encoding's, in the calling thread) may be NULL.
 * Fails when the file cannot be written: a cache that loses its results
 * would encode forever. */
UsamEmbedding *usam_embedding_cache_dup_slice (UsamEmbeddingCache *self, guint slice, GCancellable *cancellable,
                                               UsamProgressFunc progress, gpointer progress_data, GError **error);
/* The same for tile @tile of @slice (usam_tiling_get_tile() says where it
 * is); its embedding's original size is the tile's outer box. An untiled
 * cache has tile 0 only, and dup_slice() fails on a tiled one. */
UsamEmbedding *usam_embedding_cache_dup_tile (UsamEmbeddingCache *self, guint slice, guint tile,
                                              GCancellable *cancellable, UsamProgressFunc progress,
                                              gpointer progress_data, GError **error);

/* Encodes the missing slices of [@first, @last], from @center outwards
 * (@center = @first: in order). @progress runs in the calling thread; slices
 * already on disk count as done. */
gboolean usam_embedding_cache_precompute (UsamEmbeddingCache *self, guint first, guint last, guint center,
                                          GCancellable *cancellable, UsamProgressFunc progress, gpointer progress_data,
                                          GError **error);
/* The same in a worker thread; @progress runs in the caller's thread-default
 * main context. */
void usam_embedding_cache_precompute_async (UsamEmbeddingCache *self, guint first, guint last, guint center,
                                            GCancellable *cancellable, UsamProgressFunc progress,
                                            gpointer progress_data, GDestroyNotify progress_destroy,
                                            GAsyncReadyCallback callback, gpointer user_data);
gboolean usam_embedding_cache_precompute_finish (UsamEmbeddingCache *self, GAsyncResult *result, GError **error);

G_END_DECLS
