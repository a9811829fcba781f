#include "usam-canvas.h"

#include "usam-image-display.h"

#include <math.h>
#include <string.h>

#define MIN_ZOOM (1.0 / 64)
#define MAX_ZOOM 64.0
/* Pointer travel (screen pixels) below which a press-release is a click. */
#define CLICK_SLOP 4.0

struct _UsamCanvas
{
  GtkWidget parent_instance;

  UsamImage *image;
  guint t, z, width, height;
  double low, high;          /* contrast limits */
  double value_min, value_max;
  GdkTexture *image_texture; /* rebuilt on plane or contrast changes */
  GdkTexture *objects_texture;
  GPtrArray *objects; /* what objects_texture shows, to redraw it highlighted */
  guint highlight;    /* a track label drawn at full strength, the rest faded; 0: none */
  GdkTexture *current_texture;
  GdkTexture *automatic_texture;
  GArray *marks; /* UsamMark */

  gboolean visible[USAM_N_LAYERS];
  double opacity[USAM_N_LAYERS];

  UsamTool tool;
  gboolean positive;
  double brush_radius;

  /* View: widget position of image pixel (0, 0), and screen pixels per
   * image pixel. Fit is recomputed on resize until the user zooms. */
  double zoom, ox, oy;
  gboolean fit;

  /* The drag in progress. */
  guint drag_button;
  gboolean drag_panning, drag_moved;
  double drag_x, drag_y;     /* start, widget coordinates */
  double drag_ox, drag_oy;   /* view offset at the start */
  double last_ix, last_iy;   /* brush: previous image position */
  double box_x1, box_y1;     /* box preview end, widget coordinates */
  double pinch_zoom;

  double pointer_x, pointer_y;
  gboolean pointer_inside;
  gint64 first_image_frame;
};

G_DEFINE_FINAL_TYPE (UsamCanvas, usam_canvas, GTK_TYPE_WIDGET)

enum {
  SIGNAL_POINT,
  SIGNAL_BOX,
  SIGNAL_BRUSH,
  SIGNAL_BRUSH_END,
  SIGNAL_PICK,
  SIGNAL_DELETE,
  SIGNAL_HOVER,
  N_SIGNALS
};
static guint signals[N_SIGNALS];

/* ---- textures ---- */

static void
rebuild_image_texture (UsamCanvas *self)
{
  g_clear_object (&self->image_texture);
  if (!self->image)
    return;
  g_autoptr (GBytes) rgb = usam_image_render_rgb8 (self->image, self->t, self->z, self->low, self->high);
  self->image_texture
      = gdk_memory_texture_new ((int) self->width, (int) self->height, GDK_MEMORY_R8G8B8, rgb, self->width * 3);
}

void
usam_canvas_label_colour (guint label, GdkRGBA *colour)
{
  /* Golden-ratio hues: neighbouring labels get far-apart colours. */
  double h = fmod (label * 0.618033988749895, 1.0) * 6.0, s = 0.75, v = 1.0;
  int i = (int) h;
  double f = h - i, p = v * (1 - s), q = v * (1 - s * f), r = v * (1 - s * (1 - f));
  double rgb[6][3] = { { v, r, p }, { q, v, p }, { p, v, r }, { p, q, v }, { r, p, v }, { v, p, q } };
  *colour = (GdkRGBA) { (float) rgb[i % 6][0], (float) rgb[i % 6][1], (float) rgb[i % 6][2], 1.0f };
}

typedef struct
{
  guint8 *pixels; /* R8G8B8A8 premultiplied, opaque where painted */
  guint width, height;
  guint8 rgba[4];
} PaintTarget;

static void
paint_run (guint y, guint x0, guint x1, gpointer user_data)
{
  PaintTarget *t = user_data;
  if (y >= t->height)
    return;
  x1 = MIN (x1, t->width);
  guint8 *row = t->pixels + (gsize) y * t->width * 4;
  for (guint x = x0; x < x1; x++)
    memcpy (row + x * 4, t->rgba, 4);
}

static GdkTexture *
rgba_texture (guint8 *pixels, guint width, guint height)
{
  g_autoptr (GBytes) bytes = g_bytes_new_take (pixels, (gsize) width * height * 4);
  return gdk_memory_texture_new ((int) width, (int) height, GDK_MEMORY_R8G8B8A8_PREMULTIPLIED, bytes, width * 4);
}

void
usam_canvas_set_highlight (UsamCanvas *self, guint label)
{
  g_return_if_fail (USAM_IS_CANVAS (self));
  if (label == self->highlight)
    return;
  self->highlight = label;
  g_autoptr (GPtrArray) objects = self->objects ? g_ptr_array_ref (self->objects) : NULL;
  usam_canvas_set_objects (self, objects);
}

guint
usam_canvas_get_highlight (UsamCanvas *self)
{
  return self->highlight;
}

void
usam_canvas_set_objects (UsamCanvas *self, GPtrArray *objects)
{
  g_return_if_fail (USAM_IS_CANVAS (self));
  g_clear_object (&self->objects_texture);
  if (objects)
    g_ptr_array_ref (objects);
  g_clear_pointer (&self->objects, g_ptr_array_unref);
  self->objects = objects;
  if (objects && objects->len && self->width)
    {
      PaintTarget target = { g_malloc0 ((gsize) self->width * self->height * 4), self->width, self->height, { 0 } };
      for (guint i = 0; i < objects->len; i++)
        {
          UsamObject *o = g_ptr_array_index (objects, i);
          GdkRGBA c;
          usam_canvas_label_colour (o->label, &c);
          /* premultiplied */
          double alpha = self->highlight && o->label != self->highlight ? 0.3 : 1.0;
          target.rgba[0] = (guint8) (c.red * alpha * 255);
          target.rgba[1] = (guint8) (c.green * alpha * 255);
          target.rgba[2] = (guint8) (c.blue * alpha * 255);
          target.rgba[3] = (guint8) (alpha * 255);
          /* A damaged mask is skipped here; the store reports it elsewhere. */
          usam_rle_foreach_run (o->rle, &o->box, paint_run, &target, NULL);
        }
      self->objects_texture = rgba_texture (target.pixels, self->width, self->height);
    }
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
usam_canvas_set_automatic (UsamCanvas *self, const guint32 *labels)
{
  g_return_if_fail (USAM_IS_CANVAS (self));
  g_clear_object (&self->automatic_texture);
  if (labels && self->width)
    {
      gsize n = (gsize) self->width * self->height;
      guint8 *pixels = g_malloc0 (n * 4);
      guint32 last = 0;
      guint8 rgba[4] = { 0 };
      for (gsize p = 0; p < n; p++)
        {
          if (!labels[p])
            continue;
          if (labels[p] != last)
            {
              /* Offset from the committed objects' colours, so an automatic
               * object rarely shares the colour of a committed neighbour. */
              GdkRGBA c;
              usam_canvas_label_colour (labels[p] * 7 + 3, &c);
              rgba[0] = (guint8) (c.red * 255), rgba[1] = (guint8) (c.green * 255);
              rgba[2] = (guint8) (c.blue * 255), rgba[3] = 255;
              last = labels[p];
            }
          memcpy (pixels + p * 4, rgba, 4);
        }
      self->automatic_texture = rgba_texture (pixels, self->width, self->height);
    }
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
usam_canvas_set_current (UsamCanvas *self, const guint8 *mask)
{
  g_return_if_fail (USAM_IS_CANVAS (self));
  g_clear_object (&self->current_texture);
  if (mask && self->width)
    {
      gsize n = (gsize) self->width * self->height;
      guint8 *pixels = g_malloc0 (n * 4);
      /* The current object in one fixed colour (cyan), unlike any
       * committed one's at full saturation. */
      for (gsize p = 0; p < n; p++)
        if (mask[p])
          {
            pixels[p * 4 + 0] = 0;
            pixels[p * 4 + 1] = 230;
            pixels[p * 4 + 2] = 255;
            pixels[p * 4 + 3] = 255;
          }
      self->current_texture = rgba_texture (pixels, self->width, self->height);
    }
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
usam_canvas_set_marks (UsamCanvas *self, const UsamMark *marks, guint n_marks)
{
  g_return_if_fail (USAM_IS_CANVAS (self));
  g_array_set_size (self->marks, 0);
  if (n_marks)
    g_array_append_vals (self->marks, marks, n_marks);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

/* ---- image and contrast ---- */

void
usam_canvas_set_plane (UsamCanvas *self, UsamImage *image, guint t, guint z)
{
  g_return_if_fail (USAM_IS_CANVAS (self));
  gboolean same = image && image == self->image;
  if (image)
    g_object_ref (image);
  g_clear_object (&self->image);
  self->image = image;
  self->t = t;
  self->z = z;
  guint old_w = self->width, old_h = self->height;
  self->width = image ? usam_image_get_width (image) : 0;
  self->height = image ? usam_image_get_height (image) : 0;
  g_clear_pointer (&self->objects, g_ptr_array_unref);
  g_clear_object (&self->objects_texture);
  g_clear_object (&self->current_texture);
  g_clear_object (&self->automatic_texture);
  g_array_set_size (self->marks, 0);
  if (image)
    {
      usam_image_plane_range (image, t, z, 0, &self->value_min, &self->value_max);
      if (!same)
        usam_canvas_auto_contrast (self, 0.4, 99.6);
      else
        rebuild_image_texture (self);
    }
  else
    g_clear_object (&self->image_texture);
  if (old_w != self->width || old_h != self->height)
    usam_canvas_zoom_fit (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
usam_canvas_set_contrast (UsamCanvas *self, double low, double high)
{
  g_return_if_fail (USAM_IS_CANVAS (self));
  self->low = low;
  self->high = high;
  rebuild_image_texture (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
usam_canvas_get_contrast (UsamCanvas *self, double *low, double *high)
{
  *low = self->low;
  *high = self->high;
}

void
usam_canvas_get_value_range (UsamCanvas *self, double *min, double *max)
{
  *min = self->value_min;
  *max = self->value_max;
}

void
usam_canvas_auto_contrast (UsamCanvas *self, double low_percent, double high_percent)
{
  g_return_if_fail (USAM_IS_CANVAS (self));
  if (!self->image)
    return;
  double low, high;
  usam_image_plane_percentiles (self->image, self->t, self->z, 0, low_percent, high_percent, &low, &high);
  usam_canvas_set_contrast (self, low, high);
}

/* ---- view ---- */

void
usam_canvas_image_to_widget (UsamCanvas *self, double x, double y, double *wx, double *wy)
{
  *wx = self->ox + x * self->zoom;
  *wy = self->oy + y * self->zoom;
}

void
usam_canvas_widget_to_image (UsamCanvas *self, double wx, double wy, double *x, double *y)
{
  *x = (wx - self->ox) / self->zoom;
  *y = (wy - self->oy) / self->zoom;
}

static void
apply_fit (UsamCanvas *self)
{
  int w = gtk_widget_get_width (GTK_WIDGET (self)), h = gtk_widget_get_height (GTK_WIDGET (self));
  if (!self->width || w <= 0 || h <= 0)
    return;
  self->zoom = CLAMP (MIN ((double) w / self->width, (double) h / self->height), MIN_ZOOM, MAX_ZOOM);
  self->ox = (w - self->width * self->zoom) / 2;
  self->oy = (h - self->height * self->zoom) / 2;
}

void
usam_canvas_zoom_fit (UsamCanvas *self)
{
  self->fit = TRUE;
  apply_fit (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
usam_canvas_set_zoom (UsamCanvas *self, double zoom, const graphene_point_t *anchor)
{
  double ax = anchor ? anchor->x : gtk_widget_get_width (GTK_WIDGET (self)) / 2.0;
  double ay = anchor ? anchor->y : gtk_widget_get_height (GTK_WIDGET (self)) / 2.0;
  double ix, iy;
  usam_canvas_widget_to_image (self, ax, ay, &ix, &iy);
  self->zoom = CLAMP (zoom, MIN_ZOOM, MAX_ZOOM);
  self->ox = ax - ix * self->zoom;
  self->oy = ay - iy * self->zoom;
  self->fit = FALSE;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

double
usam_canvas_get_zoom (UsamCanvas *self)
{
  return self->zoom;
}

static void
usam_canvas_size_allocate (GtkWidget *widget, int width, int height, int baseline)
{
  UsamCanvas *self = USAM_CANVAS (widget);
  if (self->fit)
    apply_fit (self);
}

/* ---- drawing ---- */

static void
append_texture_layer (UsamCanvas *self, GtkSnapshot *snapshot, GdkTexture *texture, UsamLayer layer)
{
  if (!texture || !self->visible[layer] || self->opacity[layer] <= 0)
    return;
  graphene_rect_t rect = GRAPHENE_RECT_INIT (0, 0, (float) self->width, (float) self->height);
  gtk_snapshot_push_opacity (snapshot, self->opacity[layer]);
  gtk_snapshot_append_texture (snapshot, texture, &rect);
  gtk_snapshot_pop (snapshot);
}

static void
append_frame (GtkSnapshot *snapshot, double x0, double y0, double x1, double y1, const GdkRGBA *colour)
{
  GskRoundedRect outline;
  graphene_rect_t r = GRAPHENE_RECT_INIT ((float) MIN (x0, x1), (float) MIN (y0, y1), (float) fabs (x1 - x0),
                                          (float) fabs (y1 - y0));
  gsk_rounded_rect_init_from_rect (&outline, &r, 0);
  const float widths[4] = { 2, 2, 2, 2 };
  const GdkRGBA colours[4] = { *colour, *colour, *colour, *colour };
  gtk_snapshot_append_border (snapshot, &outline, widths, colours);
}

static void
append_marks (UsamCanvas *self, GtkSnapshot *snapshot)
{
  static const GdkRGBA green = { 0.1f, 0.9f, 0.2f, 1 }, red = { 1, 0.15f, 0.1f, 1 }, blue = { 0.3f, 0.5f, 1, 1 },
                       black = { 0, 0, 0, 1 };
  for (guint i = 0; i < self->marks->len; i++)
    {
      const UsamMark *m = &g_array_index (self->marks, UsamMark, i);
      double x0, y0, x1, y1;
      /* Prompts sit on pixel centres. */
      usam_canvas_image_to_widget (self, m->x0 + 0.5, m->y0 + 0.5, &x0, &y0);
      if (m->kind == USAM_MARK_BOX)
        {
          usam_canvas_image_to_widget (self, m->x1 + 0.5, m->y1 + 0.5, &x1, &y1);
          append_frame (snapshot, x0, y0, x1, y1, &blue);
          continue;
        }
      /* Fixed screen size at any zoom, with a dark rim to show on any image. */
      graphene_rect_t rim = GRAPHENE_RECT_INIT ((float) x0 - 6, (float) y0 - 6, 12, 12);
      graphene_rect_t dot = GRAPHENE_RECT_INIT ((float) x0 - 4, (float) y0 - 4, 8, 8);
      gtk_snapshot_append_color (snapshot, &black, &rim);
      gtk_snapshot_append_color (snapshot, m->kind == USAM_MARK_POSITIVE ? &green : &red, &dot);
    }
}

static void
usam_canvas_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  UsamCanvas *self = USAM_CANVAS (widget);
  int w = gtk_widget_get_width (widget), h = gtk_widget_get_height (widget);
  static const GdkRGBA background = { 0.12f, 0.12f, 0.13f, 1 };
  graphene_rect_t bounds = GRAPHENE_RECT_INIT (0, 0, (float) w, (float) h);
  gtk_snapshot_push_clip (snapshot, &bounds);
  gtk_snapshot_append_color (snapshot, &background, &bounds);
  if (self->image_texture)
    {
      gtk_snapshot_save (snapshot);
      gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT ((float) self->ox, (float) self->oy));
      gtk_snapshot_scale (snapshot, (float) self->zoom, (float) self->zoom);
      append_texture_layer (self, snapshot, self->image_texture, USAM_LAYER_IMAGE);
      append_texture_layer (self, snapshot, self->objects_texture, USAM_LAYER_OBJECTS);
      append_texture_layer (self, snapshot, self->automatic_texture, USAM_LAYER_AUTOMATIC);
      append_texture_layer (self, snapshot, self->current_texture, USAM_LAYER_CURRENT);
      gtk_snapshot_restore (snapshot);
      if (self->visible[USAM_LAYER_PROMPTS])
        append_marks (self, snapshot);
      if (!self->first_image_frame)
        self->first_image_frame = g_get_monotonic_time ();
    }
  if (self->drag_button && !self->drag_panning && self->tool == USAM_TOOL_BOX && self->drag_moved)
    {
      static const GdkRGBA preview = { 0.3f, 0.5f, 1, 0.8f };
      append_frame (snapshot, self->drag_x, self->drag_y, self->box_x1, self->box_y1, &preview);
    }
  if (self->pointer_inside && (self->tool == USAM_TOOL_BRUSH || self->tool == USAM_TOOL_ERASER))
    {
      static const GdkRGBA ring = { 1, 1, 1, 0.8f };
      double r = self->brush_radius * self->zoom;
      append_frame (snapshot, self->pointer_x - r, self->pointer_y - r, self->pointer_x + r, self->pointer_y + r,
                    &ring);
    }
  gtk_snapshot_pop (snapshot);
}

/* ---- input ---- */

static gboolean
drag_pans (UsamCanvas *self, guint button)
{
  return button == GDK_BUTTON_MIDDLE || (button == GDK_BUTTON_SECONDARY && self->tool != USAM_TOOL_POINT)
         || self->tool == USAM_TOOL_PAN;
}

static void
on_drag_begin (GtkGestureDrag *gesture, double x, double y, UsamCanvas *self)
{
  guint button = gtk_gesture_single_get_current_button (GTK_GESTURE_SINGLE (gesture));
  self->drag_button = button;
  self->drag_x = self->box_x1 = x;
  self->drag_y = self->box_y1 = y;
  self->drag_ox = self->ox;
  self->drag_oy = self->oy;
  self->drag_moved = FALSE;
  self->drag_panning = drag_pans (self, button);
  usam_canvas_widget_to_image (self, x, y, &self->last_ix, &self->last_iy);
  if (!self->drag_panning && button == GDK_BUTTON_PRIMARY
      && (self->tool == USAM_TOOL_BRUSH || self->tool == USAM_TOOL_ERASER))
    g_signal_emit (self, signals[SIGNAL_BRUSH], 0, self->last_ix, self->last_iy, self->last_ix, self->last_iy,
                   self->brush_radius, self->tool == USAM_TOOL_ERASER);
}

static void
on_drag_update (GtkGestureDrag *gesture, double dx, double dy, UsamCanvas *self)
{
  if (hypot (dx, dy) >= CLICK_SLOP)
    self->drag_moved = TRUE;
  double x = self->drag_x + dx, y = self->drag_y + dy;
  if (self->drag_panning)
    {
      /* A second right click in the point tool stays a click until moved. */
      if (!self->drag_moved)
        return;
      self->ox = self->drag_ox + dx;
      self->oy = self->drag_oy + dy;
      self->fit = FALSE;
      gtk_widget_queue_draw (GTK_WIDGET (self));
      return;
    }
  if (self->drag_button != GDK_BUTTON_PRIMARY)
    return;
  if (self->tool == USAM_TOOL_BOX)
    {
      self->box_x1 = x;
      self->box_y1 = y;
      gtk_widget_queue_draw (GTK_WIDGET (self));
    }
  else if (self->tool == USAM_TOOL_BRUSH || self->tool == USAM_TOOL_ERASER)
    {
      double ix, iy;
      usam_canvas_widget_to_image (self, x, y, &ix, &iy);
      g_signal_emit (self, signals[SIGNAL_BRUSH], 0, self->last_ix, self->last_iy, ix, iy, self->brush_radius,
                     self->tool == USAM_TOOL_ERASER);
      self->last_ix = ix;
      self->last_iy = iy;
    }
}

static void
on_drag_end (GtkGestureDrag *gesture, double dx, double dy, UsamCanvas *self)
{
  guint button = self->drag_button;
  gboolean panning = self->drag_panning, moved = self->drag_moved;
  self->drag_button = 0;
  double ix0, iy0, ix1, iy1;
  usam_canvas_widget_to_image (self, self->drag_x, self->drag_y, &ix0, &iy0);
  usam_canvas_widget_to_image (self, self->drag_x + dx, self->drag_y + dy, &ix1, &iy1);
  gtk_widget_queue_draw (GTK_WIDGET (self));
  if (self->tool == USAM_TOOL_BRUSH || self->tool == USAM_TOOL_ERASER)
    {
      if (!panning && button == GDK_BUTTON_PRIMARY)
        g_signal_emit (self, signals[SIGNAL_BRUSH_END], 0);
      return;
    }
  if (panning && moved)
    return;
  /* Pixel coordinates: prompts sit on the pixel under the pointer. */
  double px = floor (ix0), py = floor (iy0);
  if (px < 0 || py < 0 || px >= self->width || py >= self->height)
    return;
  if (self->tool == USAM_TOOL_BOX && button == GDK_BUTTON_PRIMARY && moved)
    {
      double bx1 = CLAMP (floor (ix1), 0, self->width - 1.0), by1 = CLAMP (floor (iy1), 0, self->height - 1.0);
      g_signal_emit (self, signals[SIGNAL_BOX], 0, MIN (px, bx1), MIN (py, by1), MAX (px, bx1), MAX (py, by1));
      return;
    }
  if (moved)
    return;
  switch (self->tool)
    {
    case USAM_TOOL_POINT:
      if (button == GDK_BUTTON_PRIMARY || button == GDK_BUTTON_SECONDARY)
        {
          /* The right button gives the opposite of the current polarity. */
          gboolean positive = button == GDK_BUTTON_PRIMARY ? self->positive : !self->positive;
          g_signal_emit (self, signals[SIGNAL_POINT], 0, px, py, positive);
        }
      break;
    case USAM_TOOL_PICK:
      g_signal_emit (self, signals[SIGNAL_PICK], 0, px, py);
      break;
    case USAM_TOOL_DELETE:
      g_signal_emit (self, signals[SIGNAL_DELETE], 0, px, py);
      break;
    case USAM_TOOL_BOX:
    case USAM_TOOL_BRUSH:
    case USAM_TOOL_ERASER:
    case USAM_TOOL_PAN:
    default:
      break;
    }
}

static gboolean
on_scroll (GtkEventControllerScroll *controller, double dx, double dy, UsamCanvas *self)
{
  if (!self->image)
    return FALSE;
  graphene_point_t anchor = GRAPHENE_POINT_INIT ((float) self->pointer_x, (float) self->pointer_y);
  usam_canvas_set_zoom (self, self->zoom * pow (1.15, -dy), self->pointer_inside ? &anchor : NULL);
  return TRUE;
}

static void
on_pinch_begin (GtkGesture *gesture, GdkEventSequence *sequence, UsamCanvas *self)
{
  self->pinch_zoom = self->zoom;
}

static void
on_pinch (GtkGestureZoom *gesture, double scale, UsamCanvas *self)
{
  double x, y;
  graphene_point_t anchor;
  if (gtk_gesture_get_bounding_box_center (GTK_GESTURE (gesture), &x, &y))
    anchor = GRAPHENE_POINT_INIT ((float) x, (float) y);
  else
    anchor = GRAPHENE_POINT_INIT ((float) self->pointer_x, (float) self->pointer_y);
  usam_canvas_set_zoom (self, self->pinch_zoom * scale, &anchor);
}

static void
on_motion (GtkEventControllerMotion *controller, double x, double y, UsamCanvas *self)
{
  self->pointer_x = x;
  self->pointer_y = y;
  self->pointer_inside = TRUE;
  if (self->tool == USAM_TOOL_BRUSH || self->tool == USAM_TOOL_ERASER)
    gtk_widget_queue_draw (GTK_WIDGET (self));
  double ix, iy;
  usam_canvas_widget_to_image (self, x, y, &ix, &iy);
  g_signal_emit (self, signals[SIGNAL_HOVER], 0, floor (ix), floor (iy));
}

static void
on_leave (GtkEventControllerMotion *controller, UsamCanvas *self)
{
  self->pointer_inside = FALSE;
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_signal_emit (self, signals[SIGNAL_HOVER], 0, -1.0, -1.0);
}

/* ---- settings ---- */

void
usam_canvas_set_tool (UsamCanvas *self, UsamTool tool)
{
  self->tool = tool;
  gtk_widget_set_cursor_from_name (GTK_WIDGET (self), tool == USAM_TOOL_PAN ? "grab" : "crosshair");
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

UsamTool
usam_canvas_get_tool (UsamCanvas *self)
{
  return self->tool;
}

void
usam_canvas_set_positive (UsamCanvas *self, gboolean positive)
{
  self->positive = positive;
}

gboolean
usam_canvas_get_positive (UsamCanvas *self)
{
  return self->positive;
}

void
usam_canvas_set_brush_radius (UsamCanvas *self, double radius)
{
  self->brush_radius = CLAMP (radius, 0.5, 500);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

double
usam_canvas_get_brush_radius (UsamCanvas *self)
{
  return self->brush_radius;
}

void
usam_canvas_set_layer_visible (UsamCanvas *self, UsamLayer layer, gboolean visible)
{
  g_return_if_fail (layer < USAM_N_LAYERS);
  self->visible[layer] = visible;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

gboolean
usam_canvas_get_layer_visible (UsamCanvas *self, UsamLayer layer)
{
  g_return_val_if_fail (layer < USAM_N_LAYERS, FALSE);
  return self->visible[layer];
}

void
usam_canvas_set_layer_opacity (UsamCanvas *self, UsamLayer layer, double opacity)
{
  g_return_if_fail (layer < USAM_N_LAYERS);
  self->opacity[layer] = CLAMP (opacity, 0, 1);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

gint64
usam_canvas_get_first_image_frame_time (UsamCanvas *self)
{
  return self->first_image_frame;
}

/* ---- life cycle ---- */

static void
usam_canvas_dispose (GObject *object)
{
  UsamCanvas *self = USAM_CANVAS (object);
  g_clear_object (&self->image);
  g_clear_object (&self->image_texture);
  g_clear_object (&self->objects_texture);
  g_clear_pointer (&self->objects, g_ptr_array_unref);
  g_clear_object (&self->current_texture);
  g_clear_object (&self->automatic_texture);
  G_OBJECT_CLASS (usam_canvas_parent_class)->dispose (object);
}

static void
usam_canvas_finalize (GObject *object)
{
  UsamCanvas *self = USAM_CANVAS (object);
  g_array_unref (self->marks);
  G_OBJECT_CLASS (usam_canvas_parent_class)->finalize (object);
}

static void
usam_canvas_measure (GtkWidget *widget, GtkOrientation orientation, int for_size, int *minimum, int *natural,
                     int *minimum_baseline, int *natural_baseline)
{
  *minimum = 64;
  *natural = 640;
}

static void
usam_canvas_class_init (UsamCanvasClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  object_class->dispose = usam_canvas_dispose;
  object_class->finalize = usam_canvas_finalize;
  widget_class->snapshot = usam_canvas_snapshot;
  widget_class->size_allocate = usam_canvas_size_allocate;
  widget_class->measure = usam_canvas_measure;

  /* All coordinates are image pixels (column, row). */
  signals[SIGNAL_POINT] = g_signal_new ("point", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                        G_TYPE_NONE, 3, G_TYPE_DOUBLE, G_TYPE_DOUBLE, G_TYPE_BOOLEAN);
  signals[SIGNAL_BOX] = g_signal_new ("box", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                      G_TYPE_NONE, 4, G_TYPE_DOUBLE, G_TYPE_DOUBLE, G_TYPE_DOUBLE, G_TYPE_DOUBLE);
  /* A brush segment from (x0, y0) to (x1, y1) of the given radius. */
  signals[SIGNAL_BRUSH] = g_signal_new ("brush", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                        G_TYPE_NONE, 6, G_TYPE_DOUBLE, G_TYPE_DOUBLE, G_TYPE_DOUBLE, G_TYPE_DOUBLE,
                                        G_TYPE_DOUBLE, G_TYPE_BOOLEAN);
  signals[SIGNAL_BRUSH_END] = g_signal_new ("brush-end", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                                            NULL, NULL, G_TYPE_NONE, 0);
  signals[SIGNAL_PICK] = g_signal_new ("pick", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                       G_TYPE_NONE, 2, G_TYPE_DOUBLE, G_TYPE_DOUBLE);
  signals[SIGNAL_DELETE] = g_signal_new ("delete", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                                         NULL, G_TYPE_NONE, 2, G_TYPE_DOUBLE, G_TYPE_DOUBLE);
  /* The pixel under the pointer; (-1, -1) when it leaves. */
  signals[SIGNAL_HOVER] = g_signal_new ("hover", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                        G_TYPE_NONE, 2, G_TYPE_DOUBLE, G_TYPE_DOUBLE);
  gtk_widget_class_set_css_name (widget_class, "usam-canvas");
}

static void
usam_canvas_init (UsamCanvas *self)
{
  self->marks = g_array_new (FALSE, FALSE, sizeof (UsamMark));
  self->zoom = 1;
  self->fit = TRUE;
  self->positive = TRUE;
  self->brush_radius = 5;
  for (guint i = 0; i < USAM_N_LAYERS; i++)
    {
      self->visible[i] = TRUE;
      self->opacity[i] = 1;
    }
  self->opacity[USAM_LAYER_OBJECTS] = 0.45;
  self->opacity[USAM_LAYER_CURRENT] = 0.55;
  self->opacity[USAM_LAYER_AUTOMATIC] = 0.5;
  gtk_widget_set_focusable (GTK_WIDGET (self), TRUE);
  gtk_widget_set_hexpand (GTK_WIDGET (self), TRUE);
  gtk_widget_set_vexpand (GTK_WIDGET (self), TRUE);
  gtk_widget_set_cursor_from_name (GTK_WIDGET (self), "crosshair");

  GtkGesture *drag = gtk_gesture_drag_new ();
  gtk_gesture_single_set_button (GTK_GESTURE_SINGLE (drag), 0);
  g_signal_connect (drag, "drag-begin", G_CALLBACK (on_drag_begin), self);
  g_signal_connect (drag, "drag-update", G_CALLBACK (on_drag_update), self);
  g_signal_connect (drag, "drag-end", G_CALLBACK (on_drag_end), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (drag));

  GtkEventController *scroll = gtk_event_controller_scroll_new (GTK_EVENT_CONTROLLER_SCROLL_VERTICAL);
  g_signal_connect (scroll, "scroll", G_CALLBACK (on_scroll), self);
  gtk_widget_add_controller (GTK_WIDGET (self), scroll);

  GtkGesture *pinch = gtk_gesture_zoom_new ();
  g_signal_connect (pinch, "begin", G_CALLBACK (on_pinch_begin), self);
  g_signal_connect (pinch, "scale-changed", G_CALLBACK (on_pinch), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (pinch));

  GtkEventController *motion = gtk_event_controller_motion_new ();
  g_signal_connect (motion, "motion", G_CALLBACK (on_motion), self);
  g_signal_connect (motion, "leave", G_CALLBACK (on_leave), self);
  gtk_widget_add_controller (GTK_WIDGET (self), motion);
}

GtkWidget *
usam_canvas_new (void)
{
  return g_object_new (USAM_TYPE_CANVAS, NULL);
}
