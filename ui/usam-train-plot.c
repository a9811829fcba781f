#include "usam-train-plot.h"

#include <math.h>

struct _UsamTrainPlot
{
  GtkWidget parent_instance;
  GArray *loss; /* graphene_point_t: step, value */
  GArray *iou;
};

G_DEFINE_FINAL_TYPE (UsamTrainPlot, usam_train_plot, GTK_TYPE_WIDGET)

#define MARGIN 28

static void
trace (cairo_t *cr, GArray *points, double x_max, double y_lo, double y_hi, double w, double h)
{
  for (guint i = 0; i < points->len; i++)
    {
      const graphene_point_t *p = &g_array_index (points, graphene_point_t, i);
      double x = MARGIN + (w - 2 * MARGIN) * p->x / MAX (x_max, 1);
      double y = h - MARGIN - (h - 2 * MARGIN) * (p->y - y_lo) / MAX (y_hi - y_lo, 1e-9);
      if (i == 0)
        cairo_move_to (cr, x, y);
      else
        cairo_line_to (cr, x, y);
      if (points->len == 1)
        cairo_rectangle (cr, x - 2, y - 2, 4, 4);
    }
  cairo_stroke (cr);
}

static void
label (cairo_t *cr, double x, double y, const char *text)
{
  cairo_move_to (cr, x, y);
  cairo_show_text (cr, text);
}

static void
usam_train_plot_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  UsamTrainPlot *self = USAM_TRAIN_PLOT (widget);
  double w = gtk_widget_get_width (widget), h = gtk_widget_get_height (widget);
  if (w <= 2 * MARGIN || h <= 2 * MARGIN)
    return;
  cairo_t *cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, w, h));
  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_paint (cr);
  cairo_set_source_rgb (cr, 0.6, 0.6, 0.6);
  cairo_set_line_width (cr, 1);
  cairo_rectangle (cr, MARGIN, MARGIN, w - 2 * MARGIN, h - 2 * MARGIN);
  cairo_stroke (cr);
  cairo_set_font_size (cr, 10);

  double x_max = 1, lo = INFINITY, hi = -INFINITY;
  for (guint i = 0; i < self->loss->len; i++)
    {
      const graphene_point_t *p = &g_array_index (self->loss, graphene_point_t, i);
      x_max = MAX (x_max, p->x);
      lo = MIN (lo, p->y);
      hi = MAX (hi, p->y);
    }
  for (guint i = 0; i < self->iou->len; i++)
    x_max = MAX (x_max, g_array_index (self->iou, graphene_point_t, i).x);
  if (self->loss->len == 0)
    lo = 0, hi = 1;
  if (hi - lo < 1e-6)
    lo -= 0.5, hi += 0.5;

  char text[64];
  cairo_set_source_rgb (cr, 0.2, 0.2, 0.2);
  g_snprintf (text, sizeof text, "loss %.3g", hi);
  label (cr, 2, MARGIN - 6, text);
  g_snprintf (text, sizeof text, "%.3g", lo);
  label (cr, 2, h - MARGIN + 12, text);
  g_snprintf (text, sizeof text, "step %.0f", x_max);
  label (cr, w - MARGIN - 50, h - 6, text);
  label (cr, w - MARGIN - 70, MARGIN - 6, "validation IoU 1");

  cairo_set_line_width (cr, 1.5);
  cairo_set_source_rgb (cr, 0.12, 0.38, 0.75);
  trace (cr, self->loss, x_max, lo, hi, w, h);
  cairo_set_source_rgb (cr, 0.85, 0.45, 0.1);
  trace (cr, self->iou, x_max, 0, 1, w, h);
  cairo_destroy (cr);
}

static void
usam_train_plot_measure (GtkWidget *widget, GtkOrientation orientation, int for_size, int *minimum, int *natural,
                         int *minimum_baseline, int *natural_baseline)
{
  *minimum = orientation == GTK_ORIENTATION_HORIZONTAL ? 240 : 140;
  *natural = orientation == GTK_ORIENTATION_HORIZONTAL ? 480 : 220;
}

static void
usam_train_plot_finalize (GObject *object)
{
  UsamTrainPlot *self = USAM_TRAIN_PLOT (object);
  g_array_unref (self->loss);
  g_array_unref (self->iou);
  G_OBJECT_CLASS (usam_train_plot_parent_class)->finalize (object);
}

static void
usam_train_plot_class_init (UsamTrainPlotClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = usam_train_plot_finalize;
  GTK_WIDGET_CLASS (klass)->snapshot = usam_train_plot_snapshot;
  GTK_WIDGET_CLASS (klass)->measure = usam_train_plot_measure;
}

static void
usam_train_plot_init (UsamTrainPlot *self)
{
  self->loss = g_array_new (FALSE, FALSE, sizeof (graphene_point_t));
  self->iou = g_array_new (FALSE, FALSE, sizeof (graphene_point_t));
}

GtkWidget *
usam_train_plot_new (void)
{
  return g_object_new (USAM_TYPE_TRAIN_PLOT, NULL);
}

void
usam_train_plot_clear (UsamTrainPlot *self)
{
  g_array_set_size (self->loss, 0);
  g_array_set_size (self->iou, 0);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
add (UsamTrainPlot *self, GArray *points, double step, double value)
{
  if (!isfinite (step) || !isfinite (value))
    return;
  graphene_point_t p = GRAPHENE_POINT_INIT ((float) step, (float) value);
  g_array_append_val (points, p);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
usam_train_plot_add_loss (UsamTrainPlot *self, double step, double loss)
{
  add (self, self->loss, step, loss);
}

void
usam_train_plot_add_val_iou (UsamTrainPlot *self, double step, double iou)
{
  add (self, self->iou, step, iou);
}

guint
usam_train_plot_get_n_losses (UsamTrainPlot *self)
{
  return self->loss->len;
}

guint
usam_train_plot_get_n_val (UsamTrainPlot *self)
{
  return self->iou->len;
}
