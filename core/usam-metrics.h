/* usam-metrics.h — instance segmentation accuracy, as μSAM evaluates it.
 *
 * The DSB 2018 metric of elf.evaluation.mean_segmentation_accuracy and
 * elf.evaluation.matching, reproduced exactly:
 *
 *  - objects are the non-zero ids of each label image (ids need not be
 *    consecutive); 0 is background and never an object;
 *  - IoU(p, g) = |p ∩ g| / |p ∪ g| in double, object sizes counting all their
 *    pixels;
 *  - at threshold t a predicted and a true object may be matched when their
 *    IoU ≥ t (not >), one to one; TP is the largest number of such matches
 *    (the reference's optimal assignment maximises exactly that), FP the
 *    unmatched predictions, FN the unmatched true objects;
 *  - SA(t) = TP / (TP + FP + FN), and 0 when TP = 0 — so two empty images
 *    score 0, not 1;
 *  - the thresholds are numpy's arange(0.5, 1.0, 0.05): 0.5, 0.55,
 *    0.6000000000000001, … 0.9500000000000004, so an IoU of exactly 0.6
 *    does not pass "0.6";
 *  - mSA is their mean; precision = TP / (TP + FP), recall = TP / (TP + FN),
 *    F1 = 2 TP / (2 TP + FP + FN) at t = 0.5, each 0 when TP = 0.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define USAM_METRICS_N_THRESHOLDS 10

typedef struct
{
  guint n_true;      /* objects in the ground truth */
  guint n_predicted; /* objects in the prediction */
  double thresholds[USAM_METRICS_N_THRESHOLDS];
  guint true_positives[USAM_METRICS_N_THRESHOLDS];
  double accuracy[USAM_METRICS_N_THRESHOLDS]; /* SA at each threshold */
  double mean_accuracy;                       /* mSA */
  double precision, recall, f1;               /* at IoU 0.5 */
} UsamMetrics;

/* Compares two @width × @height label images (row-major). Linear in the
 * pixels; handles any number of objects. Fails with
 * USAM_ERROR_INVALID_ARGUMENT for bad sizes. */
gboolean usam_metrics_compute (const guint32 *ground_truth, const guint32 *prediction, guint width, guint height,
                               UsamMetrics *metrics, GError **error);

/* The same for two @width × @height × @depth label volumes (z slowest):
 * objects are ids, so a volume is scored as its voxels (3D SA and mSA, as
 * μSAM's volumetric evaluation). */
gboolean usam_metrics_compute_3d (const guint32 *ground_truth, const guint32 *prediction, guint width, guint height,
                                  guint depth, UsamMetrics *metrics, GError **error);

G_END_DECLS
