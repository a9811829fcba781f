/* usam-project.h — an annotation project, kept in one SQLite file (NAME.usam).
 *
 * A project holds the images being annotated (one, or a series), every
 * committed object with the prompts that made it, the undo/redo history of
 * each image, and settings such as the model. Every edit is one
 * transaction in WAL mode, so a process killed at any moment leaves the
 * project as it was after its last complete edit; there is no "save".
 *
 * Undo works on versions: an edit adds objects and retires others, and
 * undoing it swaps them back. History is linear per image and survives
 * restarts; a new edit after an undo drops what could have been redone.
 *
 * A UsamProject is used from one thread.
 */
#pragma once

#include <gio/gio.h>

#include "usam-image.h"
#include "usam-object.h"

G_BEGIN_DECLS

/* The newest schema this build reads and writes; older files are migrated
 * when opened. */
#define USAM_PROJECT_SCHEMA_VERSION 2

typedef enum {
  USAM_IMAGE_STATUS_TODO,
  USAM_IMAGE_STATUS_IN_PROGRESS,
  USAM_IMAGE_STATUS_DONE,
} UsamImageStatus;

const char *usam_image_status_to_string (UsamImageStatus status);

/* An image of the project. Shape fields are 0 and @hash NULL until the
 * image has been opened once (usam_project_set_image_info()). */
typedef struct
{
  gint64 id;
  guint position; /* order in the series, from 0 */
  char *path;     /* absolute */
  char *hash;
  guint width, height, channels, depth, frames;
  UsamImageStatus status;
} UsamProjectImage;

void usam_project_image_free (UsamProjectImage *image);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (UsamProjectImage, usam_project_image_free)

#define USAM_TYPE_PROJECT (usam_project_get_type ())
G_DECLARE_FINAL_TYPE (UsamProject, usam_project, USAM, PROJECT, GObject)

/* Opens @path, creating it when it does not exist. Fails with
 * USAM_ERROR_INVALID_DATA for a file that is not a usam project and
 * USAM_ERROR_UNSUPPORTED for one made by a newer usam. */
UsamProject *usam_project_open (const char *path, GError **error);
/* Opens a project (NAME.usam), or the project of an image or of a folder of
 * images (a series): that one lives in the user's data folder
 * (usam_project_default_path()) and is found again when the same path is
 * opened later, so work on an image is kept without asking where. New
 * images of the folder are added to the series. */
UsamProject *usam_project_open_any (const char *path, GError **error);
/* $XDG_DATA_HOME/usam/projects/NAME-HASH.usam for an image or folder. */
char *usam_project_default_path (const char *path);
const char *usam_project_get_path (UsamProject *self);
guint usam_project_get_schema_version (UsamProject *self);

/* Writes a consistent copy of the project to @path (which must not exist),
 * with image paths still pointing at the same files. */
gboolean usam_project_save_as (UsamProject *self, const char *path, GError **error);

/* ---- images ---- */

/* Adds @path at the end of the series; returns its id, or the id it already
 * has, or 0 on error. Paths inside the project's folder are stored relative
 * to it, so the two can move together. */
gint64 usam_project_add_image (UsamProject *self, const char *path, GError **error);
/* By position. */
GPtrArray *usam_project_list_images (UsamProject *self, GError **error);
UsamProjectImage *usam_project_get_image (UsamProject *self, gint64 image_id, GError **error);
/* Records the shape and content hash of @image, opened from image @image_id. */
gboolean usam_project_set_image_info (UsamProject *self, gint64 image_id, UsamImage *image, GError **error);
gboolean usam_project_set_image_status (UsamProject *self, gint64 image_id, UsamImageStatus status, GError **error);
/* SHA-256 of the pixel type, shape and pixels: the same for the same data
 * however it is stored. */
char *usam_image_dup_content_hash (UsamImage *image);

/* ---- objects ---- */

/* The current objects of image @image_id, by label; @t and @z select one
 * plane, or all planes when -1. */
GPtrArray *usam_project_list_objects (UsamProject *self, gint64 image_id, gint t, gint z, GError **error);
guint usam_project_count_objects (UsamProject *self, gint64 image_id);
/* A label no object of image @image_id has had, retired ones included: for
 * one object drawn on several planes (prompt projection through Z). */
guint usam_project_next_label (UsamProject *self, gint64 image_id);

/* ---- edits ---- */

typedef struct _UsamProjectEdit UsamProjectEdit;

/* Starts collecting one step of work on image @image_id; nothing is written
 * until usam_project_commit_edit(). @description is for people ("commit",
 * "delete", "brush"). */
UsamProjectEdit *usam_project_edit_new (UsamProject *self, gint64 image_id, const char *description);
void usam_project_edit_free (UsamProjectEdit *edit);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (UsamProjectEdit, usam_project_edit_free)
/* Adds @object (its t and z set). A label of 0 gets the next free label of
 * the image; an existing label makes a new version of that object. */
void usam_project_edit_add (UsamProjectEdit *edit, UsamObject *object);
/* Retires the object whose row is @object_id. */
void usam_project_edit_remove (UsamProjectEdit *edit, gint64 object_id);
/* Gives track @label (> 0) the name @name (NULL: none) and the parent
 * track @parent (0: none), as a new version of its row. */
void usam_project_edit_set_track (UsamProjectEdit *edit, guint label, const char *name, guint parent);
/* Retires track @label's row (its objects are removed separately). */
void usam_project_edit_remove_track (UsamProjectEdit *edit, guint label);
gboolean usam_project_edit_is_empty (UsamProjectEdit *edit);

/* Writes @edit in one transaction, consuming it; an empty edit writes
 * nothing. On success the added objects have their id, image_id and label
 * set. */
gboolean usam_project_commit_edit (UsamProject *self, UsamProjectEdit *edit, GError **error);

/* ---- history ---- */

gboolean usam_project_can_undo (UsamProject *self, gint64 image_id);
gboolean usam_project_can_redo (UsamProject *self, gint64 image_id);
/* Undoes or redoes the latest step on image @image_id; @description, when
 * not NULL, gets what it was. FALSE without error when there is none. */
gboolean usam_project_undo (UsamProject *self, gint64 image_id, char **description, GError **error);
gboolean usam_project_redo (UsamProject *self, gint64 image_id, char **description, GError **error);

/* ---- settings ---- */

char *usam_project_dup_setting (UsamProject *self, const char *key);
/* A NULL @value removes the setting. */
gboolean usam_project_set_setting (UsamProject *self, const char *key, const char *value, GError **error);

/* ---- label images (usam-project-labels.c) ---- */

/* Image @image_id's objects as a label image of its full shape (T, Z, Y,
 * X), numbered 1..n in label order; uint16 for up to 65535 objects, uint32
 * beyond. Later labels are drawn over earlier ones where objects overlap. */
UsamImage *usam_project_render_labels (UsamProject *self, gint64 image_id, GError **error);
/* usam_project_render_labels() written as a TIFF. */
gboolean usam_project_export_labels (UsamProject *self, gint64 image_id, const char *path, GError **error);
/* Adds every object of @labels (an integer label image of image @image_id's
 * shape; one object per value per plane) as imported objects, in one edit.
 * @n_added, when not NULL, gets how many. */
gboolean usam_project_import_labels (UsamProject *self, gint64 image_id, UsamImage *labels, guint *n_added,
                                     GError **error);
/* Adds @labels (the image's shape) as objects made by @source in one edit
 * named @what, keeping which pixels share a value — an object across
 * slices or frames keeps one label — with the labels moved past the
 * image's existing ones. */
gboolean usam_project_add_labels (UsamProject *self, gint64 image_id, UsamImage *labels, UsamObjectSource source,
                                  const char *what, guint *n_added, GError **error);

/* ---- tracks of a time-lapse (usam-project-tracks.c) ----
 *
 * A track is a label: the objects that share it over the frames. It may
 * have a name and a parent track (the cell it divided from). Every change
 * below is one edit, undone and redone with the objects. */

typedef struct
{
  guint label;
  char *name;   /* NULL when it has none */
  guint parent; /* 0: none, or a track that has objects */
  guint begin, end; /* first and last frame with an object */
  guint n_frames;   /* frames with an object: end − begin + 1 unless it skips some */
} UsamProjectTrack;

void usam_project_track_free (UsamProjectTrack *track);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (UsamProjectTrack, usam_project_track_free)

/* Every label of image @image_id with at least one object, by label. */
GPtrArray *usam_project_list_tracks (UsamProject *self, gint64 image_id, GError **error);
/* NULL when @label has no objects. */
UsamProjectTrack *usam_project_get_track (UsamProject *self, gint64 image_id, guint label, GError **error);
gboolean usam_project_set_track_name (UsamProject *self, gint64 image_id, guint label, const char *name,
                                      GError **error);
/* Fails with USAM_ERROR_INVALID_ARGUMENT when @parent (0: none) has no
 * objects or the link would make a cycle. */
gboolean usam_project_set_track_parent (UsamProject *self, gint64 image_id, guint label, guint parent,
                                        GError **error);
/* Removes every object of track @label and its row; its daughters lose
 * their parent. */
gboolean usam_project_delete_track (UsamProject *self, gint64 image_id, guint label, GError **error);
/* A division at frame @t: track @label ends at t − 1 and the tracks
 * @daughter_a and @daughter_b (both present at @t) become its daughters.
 * A daughter that is @label itself — the tracker followed one daughter
 * under the mother's label — moves to a new track from @t on; otherwise
 * the mother's objects from @t on are removed. */
gboolean usam_project_mark_division (UsamProject *self, gint64 image_id, guint label, guint t, guint daughter_a,
                                     guint daughter_b, GError **error);
/* Track @label's objects from frame @t on become a new track (no parent;
 * *@new_label, when not NULL, gets its label), which the track's daughters
 * now descend from: a tracker that let one cell's track run on into
 * another's is corrected. Fails unless @t is after its first frame and at
 * most its last. */
gboolean usam_project_split_track (UsamProject *self, gint64 image_id, guint label, guint t, guint *new_label,
                                   GError **error);
/* Track @later goes on as track @earlier: its objects take @earlier's
 * label, its daughters become @earlier's, its row goes. Fails when the two
 * overlap in time or @earlier already divides. */
gboolean usam_project_join_tracks (UsamProject *self, gint64 image_id, guint earlier, guint later, GError **error);
/* Writes image @image_id's objects and tracks as a CTC result in @dir
 * (usam_ctc_result_save(); labels are the track labels). Fails with
 * USAM_ERROR_UNSUPPORTED when a track skips a frame. */
gboolean usam_project_export_ctc (UsamProject *self, gint64 image_id, const char *dir, GError **error);
/* Adds the objects of @labels (by track label, image @image_id's shape)
 * and the track table @tracks (UsamCtcTrack: label, parent) in one edit
 * named @what, shifting labels past existing ones as
 * usam_project_import_ctc() does. */
gboolean usam_project_add_tracks (UsamProject *self, gint64 image_id, UsamImage *labels, GArray *tracks,
                                  const char *what, GError **error);
/* Adds a CTC result (DIR/maskTTT.tif, DIR/res_track.txt) or ground truth
 * (DIR/man_trackTTT.tif and DIR/man_track.txt, or the same in DIR/TRA) as
 * objects and tracks, in one edit. Labels keep their numbers when the image
 * has none yet, and are shifted past the existing ones otherwise.
 * @n_tracks, when not NULL, gets how many tracks came in. */
gboolean usam_project_import_ctc (UsamProject *self, gint64 image_id, const char *dir, guint *n_tracks,
                                  GError **error);

G_END_DECLS
