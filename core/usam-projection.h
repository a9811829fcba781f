/* usam-projection.h — prompt projection through Z ("segment object in
 * volume"): from an object's mask on one slice, each next slice is prompted
 * with what the previous slice gave, in both directions, until the object is
 * lost.
 *
 * For slice z ± 1 the prompts are, as μSAM's segment_mask_in_volume offers:
 * the previous mask's bounding box grown by box_margin of its size on each
 * side (USAM_PROJECTION_BOX), the previous mask as low-resolution logits
 * (USAM_PROJECTION_MASK: the previous prediction's own logits, or for the
 * seed slice the mask resized to the decoder's input and turned into logits
 * of ±6.9, i.e. probabilities clipped to [0.001, 0.999]), and the interior
 * point farthest from the mask's boundary as a positive point
 * (USAM_PROJECTION_POINTS). One mask per slice (no multimask).
 *
 * A direction stops, and says why, when it reaches the volume's end, when
 * the predicted mask is empty, when its IoU with the previous slice's mask
 * drops below iou_threshold (that slice is not kept: the user sees where and
 * why it stopped and can correct and continue from there), or when cancelled
 * (what was done is kept).
 *
 * An object may be seeded on several slices (usam_projection_run_multi()):
 * as μSAM's segment_mask_in_volume, it is projected downwards from the
 * lowest seed and upwards from the highest, and each gap between two
 * consecutive seeds is filled from both ends towards the middle — upwards
 * from the lower seed over the lower half, downwards from the upper seed
 * over the upper half. A gap with an odd number of slices has a middle
 * slice at the same distance from both seeds; as μSAM, it is prompted from
 * the union of its two neighbours' masks (or from the one neighbour a half
 * reached), given afresh as the mask input, and kept when its IoU with
 * either neighbour reaches the threshold. Unlike μSAM, which fills gaps
 * without a stopping criterion, each half of a gap stops at the IoU
 * threshold too: a slice between two seeds that no longer looks like its
 * neighbour is as suspect there as outside, and the user is told where.
 */
#pragma once

#include "usam-model.h"

G_BEGIN_DECLS

typedef enum {
  USAM_PROJECTION_BOX = 1 << 0,
  USAM_PROJECTION_MASK = 1 << 1,
  USAM_PROJECTION_POINTS = 1 << 2,
} UsamProjectionPrompts;

typedef enum {
  USAM_PROJECTION_STOP_END,       /* reached the first or last slice */
  USAM_PROJECTION_STOP_EMPTY,     /* the model found nothing */
  USAM_PROJECTION_STOP_IOU,       /* the object changed too much */
  USAM_PROJECTION_STOP_CANCELLED, /* the cancellable was triggered */
  USAM_PROJECTION_STOP_MET,       /* filled its half of a gap between two seeds */
  USAM_PROJECTION_STOP_TAKEN,     /* following: the mask lies mostly on another object */
} UsamProjectionStop;

const char *usam_projection_stop_to_string (UsamProjectionStop stop);

typedef struct
{
  UsamProjectionPrompts prompts; /* default BOX | MASK */
  double box_margin;             /* fraction of the box's width/height added on each side; default 0.1 */
  double iou_threshold;          /* default 0.8, as μSAM */
  UsamNormalize normalize;       /* for encoding slices; default minmax */
} UsamProjectionParams;

UsamProjectionParams usam_projection_params_default (void);

/* Where one direction ended. */
typedef struct
{
  UsamProjectionStop stop;
  guint last;      /* the last slice kept */
  guint stop_slice; /* the slice that was rejected (EMPTY, IOU), else last */
  double stop_iou; /* IoU at stop_slice (IOU, EMPTY), else NaN */
} UsamProjectionEnd;

/* A gap between two consecutive seed slices of usam_projection_run_multi().
 * @up went upwards from @lower, @down downwards from @upper; a half that
 * filled its part ends USAM_PROJECTION_STOP_MET, its last slice the middle
 * slice when that was kept (then both halves' last), else the end of its
 * half. A rejected middle slice is the stop_slice of the halves that reached
 * it. For adjacent seeds both end MET at their seed. */
typedef struct
{
  guint lower, upper;
  UsamProjectionEnd up, down;
} UsamProjectionGap;

/* Gives the embedding of slice @z (a cache, or the model); NULL with @error
 * on failure. */
typedef UsamEmbedding *(*UsamProjectionEmbedFunc) (guint z, gpointer user_data, GCancellable *cancellable,
                                                   GError **error);

/* Projects @seed_mask (width × height, non-zero inside) of slice @z_seed of
 * frame @t of @volume through its slices into @masks (depth × width ×
 * height bytes, zeroed first: 1 where the object is). @embed may be NULL to
 * encode each slice with @model. @progress, if any, is called after every
 * slice with the fraction of the volume visited. Fails (with @error) for an
 * empty seed, bad sizes, or a failing model; cancellation is not a failure
 * (see @down/@up). */
gboolean usam_projection_run (UsamModel *model, UsamImage *volume, guint t, guint z_seed, const guint8 *seed_mask,
                              const UsamProjectionParams *params, UsamProjectionEmbedFunc embed, gpointer embed_data,
                              UsamProgressFunc progress, gpointer progress_data, GCancellable *cancellable,
                              guint8 *masks, UsamProjectionEnd *down, UsamProjectionEnd *up, GError **error);

/* The same for one object seeded on @n_seeds slices @z_seeds (strictly
 * ascending) with @seed_masks: @down is where the projection below the lowest
 * seed ended, @up above the highest, and @gaps (n_seeds − 1 of them, may be
 * NULL when n_seeds is 1) how each gap was filled. The seeds' slices in
 * @masks are the seeds. usam_projection_run() is this with one seed. */
gboolean usam_projection_run_multi (UsamModel *model, UsamImage *volume, guint t, guint n_seeds, const guint *z_seeds,
                                    const guint8 *const *seed_masks, const UsamProjectionParams *params,
                                    UsamProjectionEmbedFunc embed, gpointer embed_data, UsamProgressFunc progress,
                                    gpointer progress_data, GCancellable *cancellable, guint8 *masks,
                                    UsamProjectionEnd *down, UsamProjectionEnd *up, UsamProjectionGap *gaps,
                                    GError **error);

/* Follows an object through the frames of a time series (the T twin of
 * usam_projection_run(), as μSAM's track_from_prompts): from @seed_mask in
 * frame @t_seed of plane @z, forwards to the last frame, then backwards to
 * the first. Each frame is prompted as a slice is, but from the previous
 * frame's mask moved by the object's last displacement (its centroid's
 * shift between the two frames before), and kept while its IoU with that
 * moved mask reaches the threshold: a cell that moves steadily is not lost
 * for having moved. A direction also stops (USAM_PROJECTION_STOP_TAKEN,
 * stop_iou the share) where at least half of the mask lies on @taken
 * (frames × width × height, non-zero on other objects; NULL: none): a
 * daughter followed back from the division meets her mother there. @embed
 * gets frame numbers; @masks is frames × width × height. @back and @forward
 * say where each direction ended. */
gboolean usam_projection_follow (UsamModel *model, UsamImage *series, guint z, guint t_seed, const guint8 *seed_mask,
                                 const guint8 *taken, const UsamProjectionParams *params, UsamProjectionEmbedFunc embed,
                                 gpointer embed_data, UsamProgressFunc progress, gpointer progress_data,
                                 GCancellable *cancellable, guint8 *masks, UsamProjectionEnd *back,
                                 UsamProjectionEnd *forward, GError **error);

G_END_DECLS
