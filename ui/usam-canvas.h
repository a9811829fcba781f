/* usam-canvas.h — the annotator's view of one image plane.
 *
 * Draws, bottom to top: the image (grey, through contrast limits), the
 * committed objects (each label its own colour), an automatic segmentation
 * being tried, the current object, and the prompts. Handles zoom (wheel, pinch, keys), pan (middle or right
 * drag, or any drag with the pan tool) and fit, and turns pointer input into
 * signals in image pixels according to the tool; what they mean is the
 * window's business.
 *
 * Everything here runs in the main loop and is O(visible pixels) or better
 * per frame: textures are rebuilt only when their content changes.
 */
#pragma once

#include <gtk/gtk.h>

#include "usam-image.h"
#include "usam-object.h"

G_BEGIN_DECLS

typedef enum {
  USAM_TOOL_POINT,  /* left click: positive or negative point (T toggles) */
  USAM_TOOL_BOX,    /* drag: a box */
  USAM_TOOL_BRUSH,  /* drag: paint into the current object */
  USAM_TOOL_ERASER, /* drag: erase from it */
  USAM_TOOL_PICK,   /* click: make an object the current one */
  USAM_TOOL_DELETE, /* click: delete an object */
  USAM_TOOL_PAN,    /* drag: move the view */
} UsamTool;

typedef enum {
  USAM_LAYER_IMAGE,
  USAM_LAYER_OBJECTS,
  USAM_LAYER_CURRENT,
  USAM_LAYER_PROMPTS,
  USAM_LAYER_AUTOMATIC, /* drawn above the committed objects, below the current one */
  USAM_N_LAYERS,
} UsamLayer;

#define USAM_TYPE_CANVAS (usam_canvas_get_type ())
G_DECLARE_FINAL_TYPE (UsamCanvas, usam_canvas, USAM, CANVAS, GtkWidget)

GtkWidget *usam_canvas_new (void);

/* Shows plane (@t, @z) of @image (its first channel, or RGB for 3-channel
 * 8-bit images); NULL shows nothing. Keeps the contrast limits when the
 * image is the same, otherwise sets them automatically. */
void usam_canvas_set_plane (UsamCanvas *self, UsamImage *image, guint t, guint z);
/* Contrast limits in pixel values. */
void usam_canvas_set_contrast (UsamCanvas *self, double low, double high);
void usam_canvas_get_contrast (UsamCanvas *self, double *low, double *high);
/* Sets the limits to the @low and @high percentiles of the plane. */
void usam_canvas_auto_contrast (UsamCanvas *self, double low_percent, double high_percent);
/* The plane's range of values, for a contrast control. */
void usam_canvas_get_value_range (UsamCanvas *self, double *min, double *max);

/* The committed objects of the plane shown (UsamObject), or NULL. */
void usam_canvas_set_objects (UsamCanvas *self, GPtrArray *objects);
/* Draws the objects of track @label at full strength and fades the others
 * (the lineage panel's selection); 0 draws all alike. */
void usam_canvas_set_highlight (UsamCanvas *self, guint label);
guint usam_canvas_get_highlight (UsamCanvas *self);
/* An automatic segmentation not committed yet: a width × height label
 * image of the plane (0 background), copied, each label its own colour;
 * NULL clears it. */
void usam_canvas_set_automatic (UsamCanvas *self, const guint32 *labels);
/* The object being segmented: a width × height mask of the plane, copied;
 * NULL clears it. */
void usam_canvas_set_current (UsamCanvas *self, const guint8 *mask);
/* The prompts of the current object (UsamMark), copied. */
void usam_canvas_set_marks (UsamCanvas *self, const UsamMark *marks, guint n_marks);

void usam_canvas_set_tool (UsamCanvas *self, UsamTool tool);
UsamTool usam_canvas_get_tool (UsamCanvas *self);
/* Whether a point click makes a positive point. */
void usam_canvas_set_positive (UsamCanvas *self, gboolean positive);
gboolean usam_canvas_get_positive (UsamCanvas *self);
/* Brush and eraser radius in image pixels. */
void usam_canvas_set_brush_radius (UsamCanvas *self, double radius);
double usam_canvas_get_brush_radius (UsamCanvas *self);

void usam_canvas_set_layer_visible (UsamCanvas *self, UsamLayer layer, gboolean visible);
gboolean usam_canvas_get_layer_visible (UsamCanvas *self, UsamLayer layer);
/* 0 (invisible) to 1 (opaque). */
void usam_canvas_set_layer_opacity (UsamCanvas *self, UsamLayer layer, double opacity);

/* Screen pixels per image pixel; the view keeps @anchor (widget
 * coordinates, or the centre when NULL) in place. */
void usam_canvas_set_zoom (UsamCanvas *self, double zoom, const graphene_point_t *anchor);
double usam_canvas_get_zoom (UsamCanvas *self);
/* Fits the whole plane in the widget (the default until the user zooms). */
void usam_canvas_zoom_fit (UsamCanvas *self);

/* Widget coordinates of image point (@x, @y), and back. */
void usam_canvas_image_to_widget (UsamCanvas *self, double x, double y, double *wx, double *wy);
void usam_canvas_widget_to_image (UsamCanvas *self, double wx, double wy, double *x, double *y);

/* The colour of committed object @label, as drawn (opaque). */
void usam_canvas_label_colour (guint label, GdkRGBA *colour);

/* Monotonic time (µs) of the first frame that showed an image, or 0. */
gint64 usam_canvas_get_first_image_frame_time (UsamCanvas *self);

G_END_DECLS
