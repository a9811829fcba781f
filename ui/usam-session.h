/* usam-session.h — what the annotator is working on, without widgets.
 *
 * A session holds the project, the image and plane being annotated, the
 * model and its embeddings, the prompts and the current (uncommitted)
 * object, and turns the user's actions into project edits. Everything
 * slow — loading an image, loading a model, encoding, predicting — runs in
 * worker threads; results come back to the main loop, where the session
 * emits "changed" signals for the window to redraw. The model runs one
 * operation at a time: a request that arrives while it is busy waits for
 * it, the newest of its kind winning.
 */
#pragma once

#include <gio/gio.h>

#include "usam-model.h"
#include "usam-object.h"
#include "usam-project.h"
#include "usam-runner.h"

G_BEGIN_DECLS

#define USAM_TYPE_SESSION (usam_session_get_type ())
G_DECLARE_FINAL_TYPE (UsamSession, usam_session, USAM, SESSION, GObject)

UsamSession *usam_session_new (void);

/* Opens a project, an image or a folder (usam_project_open_any()). The
 * first image not marked done starts loading; "image-changed" says when.
 * usam_session_save_as() puts a copy of the project where the user wants. */
gboolean usam_session_open (UsamSession *self, const char *path, GError **error);
gboolean usam_session_save_as (UsamSession *self, const char *path, GError **error);
UsamProject *usam_session_get_project (UsamSession *self);

/* ---- images ---- */
guint usam_session_get_n_images (UsamSession *self);
guint usam_session_get_image_index (UsamSession *self);
void usam_session_go_to_image (UsamSession *self, guint index);
/* Marks the image done when it has objects, and opens the next. */
gboolean usam_session_next_image (UsamSession *self, GError **error);
/* NULL while loading. */
UsamImage *usam_session_get_image (UsamSession *self);
gint64 usam_session_get_image_id (UsamSession *self);
void usam_session_set_plane (UsamSession *self, guint t, guint z);
guint usam_session_get_t (UsamSession *self);
guint usam_session_get_z (UsamSession *self);

/* ---- the model ---- */
void usam_session_set_model (UsamSession *self, UsamModel *model);
UsamModel *usam_session_get_model (UsamSession *self);
/* Loads in the background; errors come as "message". */
void usam_session_load_model (UsamSession *self, const char *path);
gboolean usam_session_is_encoding (UsamSession *self);
gboolean usam_session_has_embedding (UsamSession *self);
/* The current plane's embedding, or NULL while there is none. */
UsamEmbedding *usam_session_dup_embedding (UsamSession *self);
void usam_session_cancel_encoding (UsamSession *self);

/* ---- the current object ---- */
void usam_session_add_mark (UsamSession *self, const UsamMark *mark);
const UsamMark *usam_session_get_marks (UsamSession *self, guint *n_marks);
/* Segments from the prompts in the background; TRUE when it started or
 * will start as soon as the embedding is ready. */
gboolean usam_session_segment (UsamSession *self, GError **error);
/* Batched mode: each positive point and each box becomes its own object,
 * all committed in one edit when the prediction arrives. */
gboolean usam_session_segment_batch (UsamSession *self, GError **error);
/* Re-segment on every prompt change. */
void usam_session_set_auto_segment (UsamSession *self, gboolean auto_segment);
gboolean usam_session_is_segmenting (UsamSession *self);
/* A width × height mask of the plane, or NULL. */
const guint8 *usam_session_get_current (UsamSession *self);
void usam_session_brush (UsamSession *self, double x0, double y0, double x1, double y1, double radius,
                         gboolean erase);
/* Commits the current object (a new one, or a new version of a picked
 * one) as one edit. */
gboolean usam_session_commit (UsamSession *self, GError **error);
void usam_session_clear (UsamSession *self);
/* Makes the object at (@x, @y) the current one, to correct it. */
gboolean usam_session_pick (UsamSession *self, guint x, guint y);
gboolean usam_session_delete_at (UsamSession *self, guint x, guint y, GError **error);

/* Adds every object of a label image of the image's shape (see
 * usam_project_import_labels()) in one edit. */
gboolean usam_session_import_labels (UsamSession *self, const char *path, guint *n_added, GError **error);

/* Adds @objects (UsamObject, masks of the current plane, unnumbered) in
 * one edit named @what: one undo takes them all back. */
gboolean usam_session_add_objects (UsamSession *self, GPtrArray *objects, const char *what, GError **error);

/* Prompt projection through Z (usam-projection-bar.h). The image's
 * embedding cache, or NULL. */
UsamEmbeddingCache *usam_session_dup_embedding_cache (UsamSession *self);
/* The current object as an object of the plane, with its prompts and a
 * label: the picked object's, else a new one (usam_project_next_label());
 * NULL when there is none. @retire_id, if not NULL, gets the picked
 * object's row (0: none), which becomes a new version. */
UsamObject *usam_session_dup_current_object (UsamSession *self, gint64 *retire_id);
/* Adds @objects (UsamObject with their own t, z and label, on any plane)
 * and retires the row @retire_id (0: none), in one edit named @what. The
 * current object is cleared when it is the one retired or @clear_current. */
gboolean usam_session_add_volume_objects (UsamSession *self, GPtrArray *objects, gint64 retire_id,
                                          gboolean clear_current, const char *what, GError **error);

/* ---- objects and history ---- */
/* Reads the objects again after an edit made on the project directly
 * (tracks, usam-lineage-view.h). */
void usam_session_reload (UsamSession *self);
/* The plane's committed objects, less a picked one being edited. */
GPtrArray *usam_session_get_objects (UsamSession *self);
gboolean usam_session_can_undo (UsamSession *self);
gboolean usam_session_can_redo (UsamSession *self);
gboolean usam_session_undo (UsamSession *self, GError **error);
gboolean usam_session_redo (UsamSession *self, GError **error);

G_END_DECLS
