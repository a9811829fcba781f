/* usam-ais-maps.h — the three maps of μSAM's AIS decoder for one image.
 *
 * Foreground probability, distance to the object center and distance to the
 * object boundary, each height × width float32 at the original image size
 * (what usam_sam_ais_predict gives). They feed AIS post-processing
 * (usam-ais-post.h) and APG's prompts (usam-apg.h), and can be saved so the
 * post-processing runs again without the model.
 */
#pragma once

#include "usam-embedding-cache.h"
#include "usam-model.h"

G_BEGIN_DECLS

typedef struct
{
  guint width, height;
  float *foreground;         /* each width × height, row-major */
  float *center_distances;
  float *boundary_distances;
} UsamAisMaps;

void usam_ais_maps_free (UsamAisMaps *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (UsamAisMaps, usam_ais_maps_free)

/* Runs the decoder of @model on @embedding. Fails with
 * USAM_ERROR_UNSUPPORTED for a checkpoint without an AIS decoder. */
UsamAisMaps *usam_ais_maps_predict (UsamModel *model, UsamEmbedding *embedding, GError **error);
/* μSAM's tiled AIS: the decoder on every tile of @slice of @cache (encoded
 * when missing), each tile's inner box pasted into maps of the whole plane.
 * The post-processing then runs on the plane as one, so no object is cut at
 * a tile border. */
UsamAisMaps *usam_ais_maps_predict_tiled (UsamModel *model, UsamEmbeddingCache *cache, guint slice,
                                          GCancellable *cancellable, UsamProgressFunc progress,
                                          gpointer progress_data, GError **error);

/* HDF5: /foreground, /center_distances, /boundary_distances, (H, W)
 * float32. Written atomically. */
gboolean usam_ais_maps_save (const UsamAisMaps *self, const char *path, GError **error);
/* Checks that the three maps are there, of one 2D shape, and finite. */
UsamAisMaps *usam_ais_maps_load (const char *path, GError **error);

G_END_DECLS
