/* usam-train-data.h — images with instance labels, sampled into training batches.
 *
 * Images are held as μSAM sees them at inference (per-channel min–max to
 * 8-bit RGB over the whole image). A batch draws square crops of random size
 * (scale augmentation), flips and rotates them, resizes them to the model's
 * input with the same resampling as inference, and keeps only crops with at
 * least two objects of a minimum size, from which it picks the objects to
 * prompt. Labels are resized to the model's input too (nearest neighbour), so
 * losses are computed in the frame the model sees.
 */
#pragma once

#include <gio/gio.h>

#include "usam-image.h"

G_BEGIN_DECLS

#define USAM_TYPE_TRAIN_DATA (usam_train_data_get_type ())
G_DECLARE_FINAL_TYPE (UsamTrainData, usam_train_data, USAM, TRAIN_DATA, GObject)

UsamTrainData *usam_train_data_new (void);

/* Adds one 2D image with its label image (same size, integer labels). */
gboolean usam_train_data_add (UsamTrainData *self, UsamImage *image, UsamImage *labels, GError **error);
gboolean usam_train_data_add_files (UsamTrainData *self, const char *image_path, const char *label_path,
                                    GError **error);
/* The image files of @image_dir that have a label file of the same name
 * (without extension) in @label_dir, sorted by name: paths alternating
 * image, labels. An error when there is none. */
GPtrArray *usam_train_data_pair_folders (const char *image_dir, const char *label_dir, GError **error);
/* Adds every pair of usam_train_data_pair_folders(). */
gboolean usam_train_data_add_folders (UsamTrainData *self, const char *image_dir, const char *label_dir,
                                      GError **error);
/* A text file of "IMAGE LABELS" lines; relative paths are relative to the list. */
gboolean usam_train_data_add_list (UsamTrainData *self, const char *list_path, GError **error);

guint usam_train_data_get_n_items (UsamTrainData *self);
const char *usam_train_data_get_name (UsamTrainData *self, guint index);
/* The normalised RGB image and its labels, as added. */
void usam_train_data_get_item (UsamTrainData *self, guint index, const guint8 **rgb, const gint32 **labels,
                               guint *width, guint *height);

typedef struct {
  guint n_images;
  guint image_size;     /* the model's input side */
  guint n_objects;      /* at most this many objects per image */
  guint min_objects;    /* crops with fewer objects are drawn again (μSAM: 2) */
  guint min_size;       /* objects smaller than this (pixels, resized) are ignored (μSAM: 25) */
  double min_scale;     /* crop side / image_size, drawn between these */
  double max_scale;
  gboolean augment;     /* flips and 90° rotations */
  gboolean ais_targets; /* also compute the AIS decoder's targets */
} UsamBatchSpec;

UsamBatchSpec usam_batch_spec_default (guint image_size);

typedef struct {
  guint n_images;
  guint image_size;
  guint n_objects;
  guint8 *images;      /* n × size × size × 3 */
  gint32 *labels;      /* n × size × size, consecutive ids from 1 */
  gint32 *object_ids;  /* n × n_objects */
  float *ais_targets;  /* n × 3 × size × size, or NULL */
  guint *sources;      /* n: the item each image came from */
} UsamTrainBatch;

/* Draws a batch; fails only when no item can give a valid crop. */
UsamTrainBatch *usam_train_data_sample (UsamTrainData *self, const UsamBatchSpec *spec, GRand *rand, GError **error);
void usam_train_batch_free (UsamTrainBatch *batch);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (UsamTrainBatch, usam_train_batch_free)

G_END_DECLS
