/* usam-runner.h — the annotator's model work, off the main loop.
 *
 * Holds the model and the embeddings it made (one per image plane, kept
 * for the session and on disk), computes the embedding of the plane being annotated in
 * a worker thread with progress and cancel, and runs prompt predictions in
 * a worker thread against it. One model operation runs at a time: a
 * prediction asked for while the embedding computes waits for it, and a
 * newer prediction request replaces one still waiting. Results come back
 * as signals in the main loop.
 */
#pragma once

#include <gio/gio.h>

#include "usam-embedding-cache.h"
#include "usam-model.h"
#include "usam-object.h"

G_BEGIN_DECLS

#define USAM_TYPE_RUNNER (usam_runner_get_type ())
G_DECLARE_FINAL_TYPE (UsamRunner, usam_runner, USAM, RUNNER, GObject)

UsamRunner *usam_runner_new (void);

/* Forgets the embeddings of the previous model. */
void usam_runner_set_model (UsamRunner *self, UsamModel *model);
UsamModel *usam_runner_get_model (UsamRunner *self);

/* The plane to work on; its embedding starts computing unless cached.
 * @image_id names the image in the memory cache; @image_hash (its pixels'
 * hash, or NULL) in the disk cache ($XDG_CACHE_HOME/usam/embeddings), used
 * for models read from a file. NULL @image stops. */
void usam_runner_set_plane (UsamRunner *self, UsamImage *image, gint64 image_id, const char *image_hash, guint t,
                            guint z);
/* Forgets every embedding (another project's image ids). */
void usam_runner_clear_cache (UsamRunner *self);

gboolean usam_runner_is_encoding (UsamRunner *self);
gboolean usam_runner_has_embedding (UsamRunner *self);
/* The plane's embedding, or NULL while there is none. */
UsamEmbedding *usam_runner_dup_embedding (UsamRunner *self);
/* The disk cache of the plane's image and model, or NULL (not open yet, a
 * model without a file, or a cache that failed): other work on the same
 * volume reads the slices encoded so far from it. */
UsamEmbeddingCache *usam_runner_dup_cache (UsamRunner *self);
/* Stops the embedding in progress; usam_runner_encode() starts it again. */
void usam_runner_cancel (UsamRunner *self);
void usam_runner_encode (UsamRunner *self);

/* Predicts from @marks (UsamMark) on the plane: one mask from all of them,
 * or with @batch one per positive point or box (negative points are left
 * out). "predicted" hands the result back with @tag. */
void usam_runner_predict (UsamRunner *self, GArray *marks, gboolean batch, guint tag);
/* A prediction is running or waiting. */
gboolean usam_runner_is_predicting (UsamRunner *self);
/* Drops a prediction still waiting. */
void usam_runner_drop_pending (UsamRunner *self);

G_END_DECLS
