/* usam-volume-projector.h — prompt projection through Z for several objects
 * at once, off the caller's thread.
 *
 * Each seed is one object: its masks on one or more slices of frame @t of a
 * volume; the projector runs usam_projection_run_multi() for every seed in
 * turn in a worker thread and keeps, per seed, the masks of every slice and
 * where and why each direction, and each half of a gap between its slices,
 * stopped. Slices are embedded through an embedding cache
 * when one is given (the annotator's, so slices it already encoded are read
 * back, and slices several seeds share are encoded once), else by the
 * model for every seed.
 */
#pragma once

#include "usam-embedding-cache.h"
#include "usam-projection.h"

G_BEGIN_DECLS

#define USAM_TYPE_VOLUME_PROJECTOR (usam_volume_projector_get_type ())
G_DECLARE_FINAL_TYPE (UsamVolumeProjector, usam_volume_projector, USAM, VOLUME_PROJECTOR, GObject)

/* @params NULL: usam_projection_params_default(). */
UsamVolumeProjector *usam_volume_projector_new (UsamModel *model, UsamImage *volume, guint t,
                                                const UsamProjectionParams *params);
/* Embeds through @cache (of @volume and the model; NULL: the model). */
void usam_volume_projector_set_cache (UsamVolumeProjector *self, UsamEmbeddingCache *cache);

/* Adds a seed: @mask (width × height, non-zero inside, copied) on slice
 * @z. Returns its index. Not while running. */
guint usam_volume_projector_add_seed (UsamVolumeProjector *self, guint z, const guint8 *mask);
/* Adds @mask on slice @z to seed @seed (the same object seen on another
 * slice; on a slice it has already, the union). Not while running. */
void usam_volume_projector_add_seed_slice (UsamVolumeProjector *self, guint seed, guint z, const guint8 *mask);
guint usam_volume_projector_get_n_seeds (UsamVolumeProjector *self);
/* The lowest of seed @seed's slices. */
guint usam_volume_projector_get_seed_slice (UsamVolumeProjector *self, guint seed);
/* Seed @seed's slices, ascending; @n_slices gets how many. */
const guint *usam_volume_projector_get_seed_slices (UsamVolumeProjector *self, guint seed, guint *n_slices);

/* Projects every seed. @progress gets the slices visited over all seeds
 * as a fraction, in the calling thread. A cancelled run is not a failure:
 * the seeds done keep their masks, the seed being projected ends
 * USAM_PROJECTION_STOP_CANCELLED, and the ones after it too, with only
 * their seed slice. Fails when a seed is empty or the model fails. */
gboolean usam_volume_projector_run (UsamVolumeProjector *self, GCancellable *cancellable, UsamProgressFunc progress,
                                    gpointer progress_data, GError **error);
/* The same in a worker thread; @progress runs in the caller's thread-default
 * main context, never after @callback. */
void usam_volume_projector_run_async (UsamVolumeProjector *self, GCancellable *cancellable, UsamProgressFunc progress,
                                      gpointer progress_data, GAsyncReadyCallback callback, gpointer user_data);
gboolean usam_volume_projector_run_finish (UsamVolumeProjector *self, GAsyncResult *result, GError **error);
gboolean usam_volume_projector_is_running (UsamVolumeProjector *self);
/* Whether a run ended by cancellation. */
gboolean usam_volume_projector_was_cancelled (UsamVolumeProjector *self);

/* After a run: seed @seed's masks, depth × width × height bytes (1 inside),
 * where its two directions ended (below its lowest slice, above its
 * highest), and how each gap between its slices was filled (@n_gaps gets
 * how many: its slices less one). */
const guint8 *usam_volume_projector_get_masks (UsamVolumeProjector *self, guint seed);
void usam_volume_projector_get_ends (UsamVolumeProjector *self, guint seed, UsamProjectionEnd *down,
                                     UsamProjectionEnd *up);
const UsamProjectionGap *usam_volume_projector_get_gaps (UsamVolumeProjector *self, guint seed, guint *n_gaps);

G_END_DECLS
