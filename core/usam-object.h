/* usam-object.h — one segmented object of an annotation project.
 *
 * An object is a mask in one plane (frame @t, slice @z) of one image of a
 * project, kept run-length encoded (usam-rle.h), with where it came from
 * and the prompts that made it. Objects are immutable: editing one makes a
 * new version with the same @label, so undo only has to switch versions.
 */
#pragma once

#include <gio/gio.h>

#include "usam-rle.h"

G_BEGIN_DECLS

typedef enum {
  USAM_OBJECT_SOURCE_PROMPT,    /* segmented from point or box prompts */
  USAM_OBJECT_SOURCE_AUTOMATIC, /* from automatic segmentation */
  USAM_OBJECT_SOURCE_BRUSH,     /* painted, or edited with the brush or eraser */
  USAM_OBJECT_SOURCE_IMPORTED,  /* from a label image */
} UsamObjectSource;

const char *usam_object_source_to_string (UsamObjectSource source);
gboolean usam_object_source_from_string (const char *text, UsamObjectSource *out);

typedef enum {
  USAM_MARK_POSITIVE, /* a point on the object */
  USAM_MARK_NEGATIVE, /* a point off it */
  USAM_MARK_BOX,      /* a box around it */
} UsamMarkKind;

/* One prompt, in image pixels. Points use (x0, y0). */
typedef struct
{
  UsamMarkKind kind;
  float x0, y0, x1, y1;
} UsamMark;

typedef struct _UsamObject UsamObject;

struct _UsamObject
{
  gint64 id;       /* its row in the project, 0 before it is stored */
  gint64 image_id; /* the project's image, 0 before it is stored */
  guint t, z;
  guint label;     /* stable across edits; 0 until the project numbers it */
  UsamRect box;
  guint64 area;    /* pixels */
  UsamObjectSource source;
  GBytes *rle;
  GArray *marks;   /* UsamMark: the prompts that made it; may be empty */
  /*< private >*/
  gatomicrefcount ref;
};

GType usam_object_get_type (void) G_GNUC_CONST;
#define USAM_TYPE_OBJECT (usam_object_get_type ())

/* The object of the non-zero pixels of @mask (@width × @height), or NULL
 * when there are none. */
UsamObject *usam_object_new_from_mask (const guint8 *mask, guint width, guint height, UsamObjectSource source);
/* Takes a reference on @rle. */
UsamObject *usam_object_new (GBytes *rle, const UsamRect *box, guint64 area, UsamObjectSource source);
UsamObject *usam_object_ref (UsamObject *self);
void usam_object_unref (UsamObject *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (UsamObject, usam_object_unref)

void usam_object_set_marks (UsamObject *self, const UsamMark *marks, guint n_marks);

/* Sets the object's pixels to @value; see usam_rle_paint_labels(). */
gboolean usam_object_paint_labels (UsamObject *self, guint32 *labels, guint width, guint height, guint32 value,
                                   GError **error);
gboolean usam_object_paint_mask (UsamObject *self, guint8 *mask, guint width, guint height, guint8 value,
                                 GError **error);

/* Whether pixel (@x, @y) of the plane is part of the object. */
gboolean usam_object_contains (UsamObject *self, guint x, guint y);

G_END_DECLS
