/* usam-ctc.h — the Cell Tracking Challenge (CTC) format and its measures.
 *
 * A CTC sequence is a label image per time point (maskTTT.tif in a result,
 * man_trackTTT.tif / man_segTTT.tif in a ground truth; 16-bit, 2D or 3D) and
 * a track table (res_track.txt / man_track.txt): one line "L B E P" per
 * track, label L present from frame B to frame E inclusive, parent track P
 * (0: none). A parent with two or more daughters is a division.
 *
 * In memory a sequence is one UsamImage of 32-bit labels with T frames (each
 * frame 2D or a volume) and an array of UsamCtcTrack.
 *
 * The measures follow the challenge's reference implementation
 * (CellTrackingChallenge/java-ctcmetrics, after Matula et al. 2015):
 *
 *  - in each frame a result object r matches a reference object g when
 *    |r ∩ g| / |g| > 0.5 (strictly), so every g matches at most one r while
 *    one r may match several g (a merge the result must split);
 *  - SEG: the mean over reference objects of the Jaccard index |r ∩ g| / |r ∪ g|
 *    with its matching r (0 when unmatched), over the frames that have a
 *    man_seg file (man_segTTT.tif, or man_seg_TTT_ZZZ.tif for one slice of a
 *    3D frame);
 *  - AOGM: the weighted cost of turning the result's graph into the
 *    reference's: NS 5 per extra reference object inside one result object,
 *    FN 10 per unmatched reference object, FP 1 per unmatched result object,
 *    ED 1 per result edge (within a track, or parent end → daughter start)
 *    between uniquely matched objects that the reference does not have, EC 1
 *    per such edge whose kind (track continuation vs division) differs, EA 1.5
 *    per reference edge the result lacks;
 *  - TRA = 1 − min(AOGM, AOGM₀) / AOGM₀ with AOGM₀ = 10 · (reference nodes) +
 *    1.5 · (reference edges), both counted from man_track.txt;
 *  - DET = 1 − min(AOGM_D, AOGM_D₀) / AOGM_D₀ with AOGM_D the NS + FN + FP part
 *    and AOGM_D₀ = 10 · (reference objects found in the images).
 */
#pragma once

#include "usam-image.h"

G_BEGIN_DECLS

typedef struct
{
  guint32 label;  /* > 0, the value in the label images */
  guint begin;    /* first frame */
  guint end;      /* last frame, ≥ begin */
  guint32 parent; /* the parent track's label, 0 for none */
} UsamCtcTrack;

/* The challenge's weights. */
#define USAM_CTC_WEIGHT_NS 5.0
#define USAM_CTC_WEIGHT_FN 10.0
#define USAM_CTC_WEIGHT_FP 1.0
#define USAM_CTC_WEIGHT_ED 1.0
#define USAM_CTC_WEIGHT_EA 1.5
#define USAM_CTC_WEIGHT_EC 1.0

typedef struct
{
  double seg;       /* NaN when there is no SEG reference */
  guint seg_objects; /* reference objects SEG averages over */
  double det, tra;
  double aogm, aogm_empty;         /* TRA's AOGM (uncapped) and AOGM₀ */
  double aogm_det, aogm_det_empty; /* DET's */
  guint n_split;     /* NS operations */
  guint n_fn, n_fp;  /* unmatched reference / result objects */
  guint n_ed, n_ea, n_ec;
  guint n_frames;
} UsamCtcScores;

/* ---- the track table ---- */

/* Reads a *_track.txt into an array of UsamCtcTrack. Fails with
 * USAM_ERROR_INVALID_DATA naming the file and line for a malformed line, a
 * label of 0, a repeated label or begin > end. */
GArray *usam_ctc_tracks_load (const char *path, GError **error);
gboolean usam_ctc_tracks_save (const char *path, const UsamCtcTrack *tracks, guint n_tracks, GError **error);

/* The tracks that @labels implies when every label is one track without a
 * parent: each label's first and last frame. Fails when a label skips a frame
 * (a CTC track is a contiguous interval). */
GArray *usam_ctc_tracks_from_labels (UsamImage *labels, GError **error);

/* ---- label sequences ---- */

/* Copies frame @t (all its slices) of an integer label image into @out
 * (width × height × depth values). Fails for float or multi-channel images. */
gboolean usam_ctc_get_frame_labels (UsamImage *labels, guint t, guint32 *out, GError **error);

/* Loads DIR/PREFIXTTT.tif for T = 0, 1, … until the first missing file
 * (3 digits, or 4 when that is how frame 0 is named) into one 32-bit image
 * with a frame per file. @n_frames > 0 demands exactly that many. */
UsamImage *usam_ctc_frames_load (const char *dir, const char *prefix, guint n_frames, GError **error);

/* Writes a CTC result: DIR/maskTTT.tif (16-bit; 4 digits beyond 1000
 * frames) per frame of @labels and DIR/res_track.txt. Creates DIR. Fails
 * when a label exceeds 65535. */
gboolean usam_ctc_result_save (const char *dir, UsamImage *labels, const UsamCtcTrack *tracks, guint n_tracks,
                               GError **error);

/* ---- measures ---- */

/* DET, TRA and the AOGM counts of a result against reference markers; both
 * images must have the same shape. @scores->seg is left NaN. Fails with
 * USAM_ERROR_INVALID_DATA when a track table names frames outside the
 * sequence or a parent that is not in it. */
gboolean usam_ctc_measure_tracking (UsamImage *gt_markers, const UsamCtcTrack *gt_tracks, guint n_gt_tracks,
                                    UsamImage *result, const UsamCtcTrack *res_tracks, guint n_res_tracks,
                                    UsamCtcScores *scores, GError **error);

/* SEG of @result against @gt_seg (same shape), frame by frame; frames
 * without reference objects count as not annotated. */
gboolean usam_ctc_measure_seg (UsamImage *gt_seg, UsamImage *result, double *seg, guint *n_objects,
                               GError **error);

/* All three from a ground-truth folder (TRA/ and, if present, SEG/) and a
 * result folder, as the challenge's evaluation does. */
gboolean usam_ctc_evaluate (const char *gt_dir, const char *res_dir, UsamCtcScores *scores, GError **error);

G_END_DECLS
