#include "usam-plot.h"

#include <cairo.h>
#include <math.h>

#include "usam-error.h"

typedef struct
{
  char *name;
  GArray *x, *y;
  gboolean dashed;
} Series;

struct _UsamPlot
{
  char *title, *x_label, *y_label;
  GPtrArray *series;
  gboolean fixed_y;
  double y_lo, y_hi;
};

static void
series_free (Series *s)
{
  g_free (s->name);
  g_array_unref (s->x);
  g_array_unref (s->y);
  g_free (s);
}

UsamPlot *
usam_plot_new (const char *title, const char *x_label, const char *y_label)
{
  UsamPlot *self = g_new0 (UsamPlot, 1);
  self->title = g_strdup (title);
  self->x_label = g_strdup (x_label);
  self->y_label = g_strdup (y_label);
  self->series = g_ptr_array_new_with_free_func ((GDestroyNotify) series_free);
  return self;
}

void
usam_plot_free (UsamPlot *self)
{
  if (!self)
    return;
  g_free (self->title);
  g_free (self->x_label);
  g_free (self->y_label);
  g_ptr_array_unref (self->series);
  g_free (self);
}

void
usam_plot_add_series (UsamPlot *self, const char *name, const double *x, const double *y, guint n, gboolean dashed)
{
  Series *s = g_new0 (Series, 1);
  s->name = g_strdup (name);
  s->x = g_array_new (FALSE, FALSE, sizeof (double));
  s->y = g_array_new (FALSE, FALSE, sizeof (double));
  g_array_append_vals (s->x, x, n);
  g_array_append_vals (s->y, y, n);
  s->dashed = dashed;
  g_ptr_array_add (self->series, s);
}

void
usam_plot_set_y_range (UsamPlot *self, double lo, double hi)
{
  self->fixed_y = TRUE;
  self->y_lo = lo;
  self->y_hi = hi;
}

static const double palette[][3] = {
  { 0.12, 0.47, 0.71 }, { 0.84, 0.15, 0.16 }, { 0.17, 0.63, 0.17 }, { 1.0, 0.5, 0.05 }, { 0.58, 0.4, 0.74 },
};

gboolean
usam_plot_save_png (UsamPlot *self, const char *path, guint width, guint height, GError **error)
{
  double x_lo = INFINITY, x_hi = -INFINITY, y_lo = INFINITY, y_hi = -INFINITY;
  for (guint i = 0; i < self->series->len; i++)
    {
      Series *s = self->series->pdata[i];
      for (guint k = 0; k < s->x->len; k++)
        {
          double x = g_array_index (s->x, double, k), y = g_array_index (s->y, double, k);
          if (!isfinite (x) || !isfinite (y))
            continue;
          x_lo = MIN (x_lo, x);
          x_hi = MAX (x_hi, x);
          y_lo = MIN (y_lo, y);
          y_hi = MAX (y_hi, y);
        }
    }
  if (!isfinite (x_lo))
    x_lo = 0, x_hi = 1, y_lo = 0, y_hi = 1;
  if (self->fixed_y)
    y_lo = self->y_lo, y_hi = self->y_hi;
  if (x_hi <= x_lo)
    x_hi = x_lo + 1;
  if (y_hi <= y_lo)
    y_hi = y_lo + 1;

  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, (int) width, (int) height);
  cairo_t *cr = cairo_create (surface);
  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_paint (cr);
  const double left = 70, right = width - 170.0, top = 40, bottom = height - 50.0;
  cairo_select_font_face (cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);

  /* axes, ticks and grid */
  cairo_set_line_width (cr, 1);
  cairo_set_font_size (cr, 11);
  for (int t = 0; t <= 5; t++)
    {
      double fy = t / 5.0, v = y_lo + fy * (y_hi - y_lo), py = bottom - fy * (bottom - top);
      cairo_set_source_rgb (cr, 0.9, 0.9, 0.9);
      cairo_move_to (cr, left, py);
      cairo_line_to (cr, right, py);
      cairo_stroke (cr);
      char label[32];
      g_snprintf (label, sizeof label, "%.3g", v);
      cairo_set_source_rgb (cr, 0.2, 0.2, 0.2);
      cairo_move_to (cr, left - 45, py + 4);
      cairo_show_text (cr, label);
      double fx = t / 5.0, vx = x_lo + fx * (x_hi - x_lo), px = left + fx * (right - left);
      g_snprintf (label, sizeof label, "%.3g", vx);
      cairo_move_to (cr, px - 10, bottom + 16);
      cairo_show_text (cr, label);
    }
  cairo_set_source_rgb (cr, 0.2, 0.2, 0.2);
  cairo_rectangle (cr, left, top, right - left, bottom - top);
  cairo_stroke (cr);
  cairo_set_font_size (cr, 13);
  cairo_move_to (cr, left, top - 14);
  cairo_show_text (cr, self->title);
  cairo_move_to (cr, (left + right) / 2 - 30, bottom + 38);
  cairo_show_text (cr, self->x_label);
  cairo_save (cr);
  cairo_move_to (cr, 16, (top + bottom) / 2 + 30);
  cairo_rotate (cr, -G_PI / 2);
  cairo_show_text (cr, self->y_label);
  cairo_restore (cr);

  for (guint i = 0; i < self->series->len; i++)
    {
      Series *s = self->series->pdata[i];
      const double *c = palette[i % G_N_ELEMENTS (palette)];
      cairo_set_source_rgb (cr, c[0], c[1], c[2]);
      cairo_set_line_width (cr, 2);
      double dash[] = { 6, 4 };
      cairo_set_dash (cr, dash, s->dashed ? 2 : 0, 0);
      gboolean pen = FALSE;
      for (guint k = 0; k < s->x->len; k++)
        {
          double x = g_array_index (s->x, double, k), y = g_array_index (s->y, double, k);
          if (!isfinite (x) || !isfinite (y))
            {
              pen = FALSE;
              continue;
            }
          y = CLAMP (y, y_lo, y_hi);
          double px = left + (x - x_lo) / (x_hi - x_lo) * (right - left);
          double py = bottom - (y - y_lo) / (y_hi - y_lo) * (bottom - top);
          if (pen)
            cairo_line_to (cr, px, py);
          else
            cairo_move_to (cr, px, py);
          pen = TRUE;
        }
      cairo_stroke (cr);
      cairo_set_dash (cr, NULL, 0, 0);
      /* legend */
      double ly = top + 10 + 20 * i;
      cairo_move_to (cr, right + 15, ly);
      cairo_line_to (cr, right + 40, ly);
      cairo_stroke (cr);
      cairo_set_source_rgb (cr, 0.1, 0.1, 0.1);
      cairo_set_font_size (cr, 11);
      cairo_move_to (cr, right + 46, ly + 4);
      cairo_show_text (cr, s->name);
    }
  cairo_destroy (cr);
  cairo_status_t status = cairo_surface_write_to_png (surface, path);
  cairo_surface_destroy (surface);
  if (status != CAIRO_STATUS_SUCCESS)
    {
      g_set_error (error, USAM_ERROR, USAM_ERROR_IO, "%s: cannot write the plot: %s", path,
                   cairo_status_to_string (status));
      return FALSE;
    }
  return TRUE;
}
