/* usam-test-util.h — what the Check suites share. */
#pragma once

#include "usam-ctc.h"
#include "usam-embedding-cache.h"
#include "usam-image.h"
#include "usam-model.h"

#include <check.h>
#include <glib.h>

G_BEGIN_DECLS

/* A path under the read-only shared inputs (../shared or $USAM_SHARED_DIR).
 * Fails the test when it does not exist: missing inputs are never a skip. */
char *usam_test_shared_path (const char *relative);
/* A path in the source or build tree. */
char *usam_test_source_path (const char *relative);
char *usam_test_build_path (const char *relative);
/* A fresh temporary directory, removed with its contents at exit. */
const char *usam_test_tmpdir (void);

/* Runs @suite and returns the process exit status. */
int usam_test_run (Suite *suite);
/* tcase_create(), with a teardown that waits for background work: a test
 * that returns while a worker is still inside libtorch (an automatic
 * segmentation cancelled only between batches) would otherwise crash the
 * forked child as exit() tears libtorch's static state down under it. */
TCase *usam_test_tcase_new (const char *name);

/* The synthetic time-lapse of the tracking suites: 6 frames of 64 × 64. A
 * cell (track 1) moves right for frames 0–2 and divides at frame 3 into
 * tracks 2 and 3; track 4 sits still in a corner for all six frames. */
enum { USAM_TEST_SERIES_WIDTH = 64, USAM_TEST_SERIES_HEIGHT = 64, USAM_TEST_SERIES_FRAMES = 6 };
/* That lineage: 1 → 2 + 3, and 4. */
extern const UsamCtcTrack usam_test_lineage[4];
/* What a tracker without division detection makes of it: 1, 2 from frame 3
 * without a parent, and 3 (the corner cell). */
extern const UsamCtcTrack usam_test_undivided[3];
/* The lineage as a U16 label stack. @divided FALSE gives what a tracker
 * without division detection makes of it: track 1 goes on as the left
 * daughter, 2 is the right one without a parent, 3 the corner cell. */
UsamImage *usam_test_series_labels (gboolean divided);
/* @labels as a CTC ground truth under the temporary directory:
 * NAME/TRA/man_trackTTT.tif and man_track.txt. */
char *usam_test_write_ctc_gt (UsamImage *labels, const UsamCtcTrack *tracks, guint n_tracks, const char *name);

/* The "tiny" preset at a 256² input (embeddings 256 × 16 × 16), random. */
UsamModel *usam_test_small_model (guint64 seed);
/* A 40 × 32 8-bit volume of @depth noisy slices, each different. */
UsamImage *usam_test_noise_volume (guint depth, guint32 seed);
/* Runs the build tree's usam with @args; returns its exit status, stderr in *@err. */
int usam_test_run_usam (const char *const *args, char **err);
/* The same with its stdout in *@out. */
int usam_test_run_usam_full (const char *const *args, char **out, char **err);
/* @name in the test's temporary directory. */
char *usam_test_tmp_path (const char *name);
/* The embedding cache at @path, failing the test when it cannot be opened. */
UsamEmbeddingCache *usam_test_open_cache (const char *path, UsamModel *model, UsamImage *image,
                                          const UsamEmbeddingCacheOptions *options);
/* Plane (0, @z) of @image encoded, min–max normalised. */
UsamEmbedding *usam_test_encode (UsamModel *model, UsamImage *image, guint z);
/* Same shape and bit-identical features. */
void usam_test_assert_same_embedding (UsamEmbedding *a, UsamEmbedding *b);

G_END_DECLS
