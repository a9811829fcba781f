/* usam-tracking.h — automatic linking of per-frame instance labels into
 * tracks with divisions, the starting point a person then corrects.
 *
 * Input: a time series of label images (T frames, 2D or 3D), each frame
 * numbered independently (what per-frame AIS/AMG gives). Output: the same
 * objects relabelled by track, and a Cell Tracking Challenge track table.
 *
 * The linker works frame pair by frame pair (t → t + 1):
 *
 *  1. Every pair of objects whose centroids lie within max_distance, or that
 *     overlap, is a candidate link with cost
 *        (1 − IoU) + distance / max_distance,
 *     so overlapping objects win and distance decides between objects that
 *     moved apart. The distance is the smaller of the plain one and the one
 *     from where the object would be had it repeated its last displacement
 *     (motion compensation, for cells that move further than their size). Links are accepted greedily by increasing cost, one to one
 *     (the globally cheapest first; with the sparse, well separated
 *     candidates of cell images this equals the optimal assignment almost
 *     always, at a fraction of the Hungarian algorithm's cost).
 *  2. Divisions: an object at t whose candidate daughters — its linked
 *     successor and objects at t + 1 left unlinked — include two whose sizes
 *     are each at most division_max_daughter of its own and together between
 *     division_min_total and division_max_total of it, ends its track there;
 *     the two cheapest such daughters start new tracks with it as parent.
 *  3. Gap closing (max_gap ≥ 1): a track that ends without dividing and a
 *     track that starts without a parent up to max_gap frames later are
 *     joined when the end and start centroids lie within
 *     max_distance · (gap + 1), cheapest first. CTC tracks are contiguous in
 *     time, so the later track keeps its own label with the earlier one as
 *     its single parent (the challenge's convention for a gap).
 *  4. Track labels are 1, 2, … in order of the track's first appearance.
 *
 * Time: linear in the pixels plus the candidate pairs (objects within
 * max_distance), about a millisecond per 512² frame of a few hundred cells.
 */
#pragma once

#include "usam-image.h"

G_BEGIN_DECLS

typedef struct
{
  double max_distance;         /* pixels; centroids further apart never link (unless they overlap) */
  guint max_gap;               /* frames an object may be missed; 0 disables gap closing */
  gboolean divisions;          /* detect divisions */
  double division_max_daughter; /* each daughter at most this fraction of the mother's size */
  double division_min_total;   /* the two daughters together at least this fraction… */
  double division_max_total;   /* …and at most this fraction of the mother's size */
  guint min_size;              /* objects smaller than this (pixels or voxels) are ignored */
} UsamTrackingParams;

/* max_distance 30, max_gap 1, divisions on with daughters ≤ 0.9 and
 * together 0.5 to 1.6 of the mother, min_size 1. */
UsamTrackingParams usam_tracking_params_default (void);

/* Links the frames of @labels (integer labels, one channel, T ≥ 1 frames)
 * into @tracked (a new 32-bit image of the same shape, every object painted
 * with its track label) and @tracks (a new GArray of UsamCtcTrack). Fails
 * with USAM_ERROR_INVALID_ARGUMENT for bad parameters or a float image, and
 * G_IO_ERROR_CANCELLED (checked between frames). */
gboolean usam_tracking_link (UsamImage *labels, const UsamTrackingParams *params, UsamImage **tracked,
                             GArray **tracks, GCancellable *cancellable, GError **error);

G_END_DECLS
