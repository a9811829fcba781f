#include "usam-histogram.h"

#include <math.h>

struct _UsamHistogram
{
  GtkWidget parent_instance;
  GArray *bins; /* guint64 */
  double min, max, low, high;
};

G_DEFINE_FINAL_TYPE (UsamHistogram, usam_histogram, GTK_TYPE_WIDGET)

void
usam_histogram_set_data (UsamHistogram *self, const guint64 *bins, guint n_bins, double min, double max)
{
  g_array_set_size (self->bins, 0);
  if (bins && n_bins)
    g_array_append_vals (self->bins, bins, n_bins);
  self->min = min;
  self->max = max;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
usam_histogram_set_limits (UsamHistogram *self, double low, double high)
{
  self->low = low;
  self->high = high;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
usam_histogram_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  UsamHistogram *self = USAM_HISTOGRAM (widget);
  float w = (float) gtk_widget_get_width (widget), h = (float) gtk_widget_get_height (widget);
  static const GdkRGBA back = { 0, 0, 0, 0.25f }, bar = { 0.85f, 0.85f, 0.85f, 1 }, limit = { 1, 0.6f, 0.1f, 1 };
  gtk_snapshot_append_color (snapshot, &back, &GRAPHENE_RECT_INIT (0, 0, w, h));
  guint n = self->bins->len;
  if (!n || self->max <= self->min)
    return;
  double top = 0;
  for (guint i = 0; i < n; i++)
    top = MAX (top, log1p ((double) g_array_index (self->bins, guint64, i)));
  float bw = w / n;
  for (guint i = 0; i < n && top > 0; i++)
    {
      float bh = (float) (log1p ((double) g_array_index (self->bins, guint64, i)) / top) * (h - 2);
      gtk_snapshot_append_color (snapshot, &bar, &GRAPHENE_RECT_INIT (i * bw, h - bh, MAX (bw, 1), bh));
    }
  double span = self->max - self->min;
  for (int k = 0; k < 2; k++)
    {
      double v = k ? self->high : self->low;
      float x = (float) CLAMP ((v - self->min) / span * w, 0, w - 2);
      gtk_snapshot_append_color (snapshot, &limit, &GRAPHENE_RECT_INIT (x, 0, 2, h));
    }
}

static void
usam_histogram_measure (GtkWidget *widget, GtkOrientation orientation, int for_size, int *minimum, int *natural,
                        int *minimum_baseline, int *natural_baseline)
{
  *minimum = *natural = orientation == GTK_ORIENTATION_HORIZONTAL ? 128 : 24;
}

static void
usam_histogram_finalize (GObject *object)
{
  g_array_unref (USAM_HISTOGRAM (object)->bins);
  G_OBJECT_CLASS (usam_histogram_parent_class)->finalize (object);
}

static void
usam_histogram_class_init (UsamHistogramClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = usam_histogram_finalize;
  GTK_WIDGET_CLASS (klass)->snapshot = usam_histogram_snapshot;
  GTK_WIDGET_CLASS (klass)->measure = usam_histogram_measure;
  gtk_widget_class_set_css_name (GTK_WIDGET_CLASS (klass), "usam-histogram");
}

static void
usam_histogram_init (UsamHistogram *self)
{
  self->bins = g_array_new (FALSE, FALSE, sizeof (guint64));
  gtk_widget_set_valign (GTK_WIDGET (self), GTK_ALIGN_CENTER);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self), "Histogram of the plane (log scale) and the contrast limits");
}

GtkWidget *
usam_histogram_new (void)
{
  return g_object_new (USAM_TYPE_HISTOGRAM, NULL);
}
