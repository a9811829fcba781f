#include "usam-auto-panel-private.h"

#include <stddef.h>

#include "usam-error.h"

/* Parameters change in bursts (a held spin button arrow, typing): run
 * once the burst is over rather than for every step. */
#define DEBOUNCE_MS 150

typedef enum { PARAM_DOUBLE, PARAM_UINT, PARAM_BOOL } ParamKind;

typedef struct
{
  UsamAutoMode mode;
  const char *key, *label, *tip;
  ParamKind kind;
  double min, max, step;
  guint digits;
  gsize offset; /* into UsamAutoParams */
} Param;

#define AIS(field) USAM_AUTO_MODE_AIS, #field
#define AMG(field) USAM_AUTO_MODE_AMG, #field
#define APG(field) USAM_AUTO_MODE_APG, #field
#define AT(part, field) offsetof (UsamAutoParams, part.field)

static const Param params_table[] = {
  { AIS (center_distance_threshold), "Center distance", "Seeds: smoothed center distance below this",
    PARAM_DOUBLE, 0, 1, 0.05, 2, AT (ais, center_distance_threshold) },
  { AIS (boundary_distance_threshold), "Boundary distance", "Seeds: smoothed boundary distance below this",
    PARAM_DOUBLE, 0, 1, 0.05, 2, AT (ais, boundary_distance_threshold) },
  { AIS (foreground_threshold), "Foreground", "Foreground: smoothed probability above this", PARAM_DOUBLE, 0, 1,
    0.05, 2, AT (ais, foreground_threshold) },
  { AIS (foreground_smoothing), "Foreground smoothing", "Gaussian sigma for the foreground", PARAM_DOUBLE, 0, 10,
    0.1, 1, AT (ais, foreground_smoothing) },
  { AIS (distance_smoothing), "Distance smoothing", "Gaussian sigma for the distance maps", PARAM_DOUBLE, 0, 10,
    0.1, 1, AT (ais, distance_smoothing) },
  { AIS (min_size), "Minimum size", "Objects smaller than this (pixels) are dropped", PARAM_UINT, 0, 1e6, 1, 0,
    AT (ais, min_size) },
  { AMG (points_per_side), "Points per side", "Grid of point prompts; changing it runs the model again",
    PARAM_UINT, 1, 128, 1, 0, AT (amg, points_per_side) },
  { AMG (pred_iou_thresh), "Predicted IoU", "Keep masks whose predicted IoU is above this (0: all)", PARAM_DOUBLE,
    0, 1, 0.01, 2, AT (amg, pred_iou_thresh) },
  { AMG (stability_score_thresh), "Stability", "Keep masks whose stability score is at least this (0: all)",
    PARAM_DOUBLE, 0, 1, 0.01, 2, AT (amg, stability_score_thresh) },
  { AMG (stability_score_offset), "Stability offset",
    "Logit band of the stability score; changing it runs the model again", PARAM_DOUBLE, 0.05, 10, 0.05, 2,
    AT (amg, stability_score_offset) },
  { AMG (box_nms_thresh), "Box NMS", "Drop masks whose box overlaps a better one's by more than this",
    PARAM_DOUBLE, 0, 1, 0.05, 2, AT (amg, box_nms_thresh) },
  { AMG (min_size), "Minimum size", "Objects smaller than this (pixels) are dropped", PARAM_UINT, 0, 1e6, 1, 0,
    AT (amg, min_size) },
  { AMG (remove_largest), "Drop the largest", "Take the largest object for background", PARAM_BOOL, 0, 1, 1, 0,
    AT (amg, remove_largest) },
  { APG (center_distance_threshold), "Center distance", "Prompts: center distance below this", PARAM_DOUBLE, 0,
    1, 0.05, 2, AT (apg, center_distance_threshold) },
  { APG (boundary_distance_threshold), "Boundary distance", "Prompts: boundary distance below this",
    PARAM_DOUBLE, 0, 1, 0.05, 2, AT (apg, boundary_distance_threshold) },
  { APG (foreground_threshold), "Foreground", "Prompts: foreground probability at least this", PARAM_DOUBLE, 0,
    1, 0.05, 2, AT (apg, foreground_threshold) },
  { APG (min_size), "Minimum size", "Masks of at most this many pixels are dropped", PARAM_UINT, 0, 1e6, 1, 0,
    AT (apg, min_size) },
  { APG (nms_thresh), "Mask NMS", "Drop masks overlapping a better one by more than this (IoU)", PARAM_DOUBLE, 0,
    1, 0.05, 2, AT (apg, nms_thresh) },
  { APG (multimask), "Three masks per prompt", "Decode three masks per prompt and keep the best", PARAM_BOOL, 0,
    1, 1, 0, AT (apg, multimask) },
};

#define N_PARAMS G_N_ELEMENTS (params_table)


G_DEFINE_FINAL_TYPE (UsamAutoPanel, usam_auto_panel, GTK_TYPE_BOX)

enum { SIGNAL_MESSAGE, SIGNAL_FINISHED, N_SIGNALS };
static guint signals[N_SIGNALS];
G_STATIC_ASSERT (N_PARAMS == USAM_AUTO_PANEL_N_PARAMS);

void
usam_auto_panel_emit_finished (UsamAutoPanel *self)
{
  g_signal_emit (self, signals[SIGNAL_FINISHED], 0);
}

void
usam_auto_panel_message (UsamAutoPanel *self, const char *text, gboolean is_error)
{
  g_signal_emit (self, signals[SIGNAL_MESSAGE], 0, text, is_error);
}

void
usam_auto_panel_set_status (UsamAutoPanel *self, const char *text)
{
  gtk_label_set_text (self->status, text);
}

void
usam_auto_panel_update_buttons (UsamAutoPanel *self)
{
  gtk_widget_set_sensitive (self->commit_button, self->result && self->result->n_objects > 0 && !self->running);
  gtk_widget_set_visible (self->progress_box, self->running);
  UsamImage *image = self->session ? usam_session_get_image (self->session) : NULL;
  gtk_widget_set_visible (self->volume_button, image && usam_image_get_depth (image) > 1);
  gtk_widget_set_sensitive (self->volume_button, self->has_decoder && !self->running);
}

static void
show_result (UsamAutoPanel *self)
{
  usam_canvas_set_automatic (self->canvas, self->result ? self->result->labels : NULL);
  usam_auto_panel_update_buttons (self);
}

static void
drop_result (UsamAutoPanel *self)
{
  g_clear_pointer (&self->result, usam_auto_result_free);
  show_result (self);
}

/* ---- parameters ---- */

static void
params_to_widgets (UsamAutoPanel *self)
{
  self->updating = TRUE;
  for (guint i = 0; i < N_PARAMS; i++)
    {
      const Param *p = &params_table[i];
      const guint8 *at = (const guint8 *) &self->params + p->offset;
      if (p->kind == PARAM_BOOL)
        gtk_check_button_set_active (GTK_CHECK_BUTTON (self->widgets[i]), *(const gboolean *) at);
      else
        gtk_spin_button_set_value (GTK_SPIN_BUTTON (self->widgets[i]),
                                   p->kind == PARAM_UINT ? (double) *(const guint *) at : *(const double *) at);
    }
  gtk_drop_down_set_selected (self->mode, self->params.mode);
  gtk_stack_set_visible_child_name (self->pages, usam_auto_mode_to_string (self->params.mode));
  self->updating = FALSE;
}

static void
widget_to_param (UsamAutoPanel *self, guint i)
{
  const Param *p = &params_table[i];
  guint8 *at = (guint8 *) &self->params + p->offset;
  if (p->kind == PARAM_BOOL)
    *(gboolean *) at = gtk_check_button_get_active (GTK_CHECK_BUTTON (self->widgets[i]));
  else if (p->kind == PARAM_UINT)
    *(guint *) at = (guint) gtk_spin_button_get_value_as_int (GTK_SPIN_BUTTON (self->widgets[i]));
  else
    *(double *) at = gtk_spin_button_get_value (GTK_SPIN_BUTTON (self->widgets[i]));
}

static gboolean
debounced (gpointer user_data)
{
  UsamAutoPanel *self = user_data;
  self->debounce = 0;
  usam_auto_panel_run (self);
  return G_SOURCE_REMOVE;
}

static void
schedule_run (UsamAutoPanel *self)
{
  self->wanted = TRUE;
  g_clear_handle_id (&self->debounce, g_source_remove);
  self->debounce = g_timeout_add (DEBOUNCE_MS, debounced, self);
}

static void
on_param_changed (GtkWidget *widget, UsamAutoPanel *self)
{
  if (self->updating)
    return;
  widget_to_param (self, GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (widget), "param")));
  schedule_run (self);
}

/* The presets of the model; @keep_mode keeps the mode the user chose when
 * the model can run it (a new model starts from its own default mode). */
static void
reset_params (UsamAutoPanel *self, gboolean keep_mode)
{
  UsamAutoMode mode = self->params.mode;
  g_autoptr (GError) error = NULL;
  if (!usam_auto_params_init (&self->params, self->model, &error))
    usam_auto_panel_message (self, error->message, TRUE);
  if (keep_mode && (self->has_decoder || !usam_auto_mode_needs_decoder (mode)))
    self->params.mode = mode;
  params_to_widgets (self);
  schedule_run (self);
}

void
usam_auto_panel_reset (UsamAutoPanel *self)
{
  g_return_if_fail (USAM_IS_AUTO_PANEL (self));
  reset_params (self, TRUE);
}

/* ---- the mode ---- */

UsamAutoMode
usam_auto_panel_get_mode (UsamAutoPanel *self)
{
  return self->params.mode;
}

gboolean
usam_auto_panel_set_mode (UsamAutoPanel *self, UsamAutoMode mode)
{
  g_return_val_if_fail (USAM_IS_AUTO_PANEL (self) && mode < USAM_N_AUTO_MODES, FALSE);
  if (usam_auto_mode_needs_decoder (mode) && !self->has_decoder)
    return FALSE;
  gtk_drop_down_set_selected (self->mode, mode);
  return TRUE;
}

static gboolean
mode_allowed (UsamAutoPanel *self, guint mode)
{
  return self->has_decoder || !usam_auto_mode_needs_decoder ((UsamAutoMode) mode);
}

static void
on_mode_selected (GtkDropDown *drop, GParamSpec *pspec, UsamAutoPanel *self)
{
  guint mode = gtk_drop_down_get_selected (drop);
  if (mode >= USAM_N_AUTO_MODES || self->updating)
    return;
  if (!mode_allowed (self, mode))
    {
      /* The list greys these out; keys can still reach them. */
      self->updating = TRUE;
      gtk_drop_down_set_selected (drop, self->params.mode);
      self->updating = FALSE;
      usam_auto_panel_message (self, "AIS and APG need a model with an AIS decoder (a μSAM checkpoint).", FALSE);
      return;
    }
  self->params.mode = (UsamAutoMode) mode;
  gtk_stack_set_visible_child_name (self->pages, usam_auto_mode_to_string (self->params.mode));
  drop_result (self);
  schedule_run (self);
}

static void
mode_item_setup (GtkSignalListItemFactory *factory, GtkListItem *item, gpointer user_data)
{
  GtkWidget *label = gtk_label_new (NULL);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_list_item_set_child (item, label);
}

static void
mode_item_bind (GtkSignalListItemFactory *factory, GtkListItem *item, UsamAutoPanel *self)
{
  GtkWidget *label = gtk_list_item_get_child (item);
  GtkStringObject *text = gtk_list_item_get_item (item);
  guint mode = gtk_list_item_get_position (item);
  gboolean allowed = mode_allowed (self, mode);
  gtk_label_set_text (GTK_LABEL (label), gtk_string_object_get_string (text));
  gtk_widget_set_sensitive (label, allowed);
  gtk_list_item_set_activatable (item, allowed);
  gtk_list_item_set_selectable (item, allowed);
  gtk_widget_set_tooltip_text (label, allowed ? NULL : "Needs a model with an AIS decoder (a μSAM checkpoint)");
}

/* New items rebind, so the greying follows the model. */
static void
refill_modes (UsamAutoPanel *self)
{
  static const char *const names[] = { "AIS — decoder", "AMG — point grid", "APG — decoder prompts", NULL };
  self->updating = TRUE;
  g_autoptr (GtkStringList) list = gtk_string_list_new (names);
  gtk_drop_down_set_model (self->mode, G_LIST_MODEL (list));
  gtk_drop_down_set_selected (self->mode, self->params.mode);
  self->updating = FALSE;
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->mode),
                               self->has_decoder ? "Automatic segmentation mode"
                                                 : "AIS and APG need a model with an AIS decoder");
}

/* ---- runs ---- */


void
usam_auto_panel_on_run_progress (double fraction, gpointer user_data)
{
  RunTicket *ticket = user_data;
  if (ticket->self->running && ticket->generation == ticket->self->generation)
    gtk_progress_bar_set_fraction (ticket->self->progress, fraction);
}

void
usam_auto_panel_ticket_free (gpointer data)
{
  RunTicket *ticket = data;
  g_object_unref (ticket->self);
  g_free (ticket);
}

RunTicket *
usam_auto_panel_ticket_new (UsamAutoPanel *self)
{
  RunTicket *ticket = g_new0 (RunTicket, 1);
  ticket->self = g_object_ref (self);
  ticket->generation = self->generation;
  return ticket;
}

static void
on_run_done (GObject *source, GAsyncResult *res, gpointer user_data)
{
  RunTicket *ticket = user_data;
  UsamAutoPanel *self = ticket->self;
  g_autoptr (GError) error = NULL;
  g_autoptr (UsamAutoResult) result = usam_auto_segmenter_run_finish (USAM_AUTO_SEGMENTER (source), res, &error);
  gboolean current = ticket->generation == self->generation;
  if (current)
    {
      self->running = FALSE;
      g_clear_object (&self->cancellable);
      UsamImage *image = usam_session_get_image (self->session);
      if (result && image && result->width == usam_image_get_width (image)
          && result->height == usam_image_get_height (image))
        {
          g_clear_pointer (&self->result, usam_auto_result_free);
          self->result = g_steal_pointer (&result);
          g_autofree char *text = g_strdup_printf ("%u objects", self->result->n_objects);
          usam_auto_panel_set_status (self, text);
        }
      else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        usam_auto_panel_set_status (self, "Cancelled");
      else if (error)
        {
          usam_auto_panel_set_status (self, "Failed");
          usam_auto_panel_message (self, error->message, TRUE);
        }
      show_result (self);
      g_signal_emit (self, signals[SIGNAL_FINISHED], 0);
    }
  usam_auto_panel_ticket_free (ticket);
}

void
usam_auto_panel_cancel (UsamAutoPanel *self)
{
  g_return_if_fail (USAM_IS_AUTO_PANEL (self));
  g_clear_handle_id (&self->debounce, g_source_remove);
  self->wanted = FALSE;
  if (self->cancellable)
    g_cancellable_cancel (self->cancellable);
}

void
usam_auto_panel_run (UsamAutoPanel *self)
{
  g_return_if_fail (USAM_IS_AUTO_PANEL (self));
  g_clear_handle_id (&self->debounce, g_source_remove);
  UsamModel *model = usam_session_get_model (self->session);
  g_autoptr (UsamEmbedding) embedding = usam_session_dup_embedding (self->session);
  if (!model || !embedding || !usam_session_get_image (self->session))
    {
      /* state-changed starts it when the embedding arrives. */
      self->wanted = TRUE;
      usam_auto_panel_set_status (self, model ? "Waiting for the embedding…" : "Choose a model first");
      return;
    }
  if (self->cancellable)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  self->wanted = FALSE;
  self->running = TRUE;
  self->generation++;
  gtk_progress_bar_set_fraction (self->progress, 0);
  usam_auto_panel_set_status (self, "Segmenting…");
  usam_auto_panel_update_buttons (self);
  usam_auto_segmenter_run_async (self->segmenter, model, embedding, &self->params, self->cancellable,
                                 usam_auto_panel_on_run_progress, usam_auto_panel_ticket_new (self), usam_auto_panel_ticket_free, on_run_done, usam_auto_panel_ticket_new (self));
}

gboolean
usam_auto_panel_is_running (UsamAutoPanel *self)
{
  return self->running;
}

const UsamAutoResult *
usam_auto_panel_get_result (UsamAutoPanel *self)
{
  return self->result;
}

UsamAutoSegmenter *
usam_auto_panel_get_segmenter (UsamAutoPanel *self)
{
  return self->segmenter;
}

GtkSpinButton *
usam_auto_panel_get_spin (UsamAutoPanel *self, UsamAutoMode mode, const char *key)
{
  for (guint i = 0; i < N_PARAMS; i++)
    if (params_table[i].mode == mode && g_str_equal (params_table[i].key, key) && params_table[i].kind != PARAM_BOOL)
      return GTK_SPIN_BUTTON (self->widgets[i]);
  return NULL;
}

/* ---- committing ---- */

/* The objects of @r (only label @only, unless 0), as project objects; one pass for the boxes, then each encoded inside its own. */
static GPtrArray *
objects_from_labels (const UsamAutoResult *r, guint only)
{
  GPtrArray *objects = g_ptr_array_new_with_free_func ((GDestroyNotify) usam_object_unref);
  guint n = r->n_objects;
  g_autofree guint *box = g_new (guint, 4 * (gsize) (n + 1));
  for (guint l = 0; l <= n; l++)
    box[4 * l] = box[4 * l + 1] = G_MAXUINT, box[4 * l + 2] = box[4 * l + 3] = 0;
  for (guint y = 0; y < r->height; y++)
    for (guint x = 0; x < r->width; x++)
      {
        guint32 l = r->labels[(gsize) y * r->width + x];
        if (!l || l > n)
          continue;
        guint *b = box + 4 * (gsize) l;
        b[0] = MIN (b[0], x), b[1] = MIN (b[1], y), b[2] = MAX (b[2], x), b[3] = MAX (b[3], y);
      }
  for (guint l = 1; l <= n; l++)
    {
      const guint *b = box + 4 * (gsize) l;
      if ((only && l != only) || b[0] == G_MAXUINT)
        continue;
      UsamRect within = { b[0], b[1], b[2] - b[0] + 1, b[3] - b[1] + 1 }, out;
      guint64 area = 0;
      g_autoptr (GBytes) rle = usam_rle_encode_label (r->labels, r->width, r->height, l, &within, &out, &area);
      if (rle)
        g_ptr_array_add (objects, usam_object_new (rle, &out, area, USAM_OBJECT_SOURCE_AUTOMATIC));
    }
  return objects;
}

gboolean
usam_auto_panel_commit_all (UsamAutoPanel *self, GError **error)
{
  g_return_val_if_fail (USAM_IS_AUTO_PANEL (self), FALSE);
  if (!self->result || self->running)
    {
      g_set_error_literal (error, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT,
                           self->running ? "The automatic segmentation is still running."
                                         : "There is no automatic segmentation to commit.");
      return FALSE;
    }
  g_autoptr (GPtrArray) objects = objects_from_labels (self->result, 0);
  if (!usam_session_add_objects (self->session, objects, "automatic segmentation", error))
    return FALSE;
  g_autofree char *text = g_strdup_printf ("Committed %u automatic objects.", objects->len);
  usam_auto_panel_message (self, text, FALSE);
  drop_result (self);
  usam_auto_panel_set_status (self, "Committed");
  return TRUE;
}

gboolean
usam_auto_panel_commit_at (UsamAutoPanel *self, guint x, guint y, gboolean *handled, GError **error)
{
  g_return_val_if_fail (USAM_IS_AUTO_PANEL (self) && handled != NULL, FALSE);
  *handled = FALSE;
  UsamAutoResult *r = self->result;
  if (!r || self->running || !gtk_widget_get_visible (GTK_WIDGET (self))
      || !usam_canvas_get_layer_visible (self->canvas, USAM_LAYER_AUTOMATIC) || x >= r->width || y >= r->height)
    return TRUE;
  guint32 label = r->labels[(gsize) y * r->width + x];
  if (!label)
    return TRUE;
  *handled = TRUE;
  g_autoptr (GPtrArray) objects = objects_from_labels (r, label);
  if (!usam_session_add_objects (self->session, objects, "automatic object", error))
    return FALSE;
  /* Out of the preview, so the next click there picks the committed one. */
  for (gsize i = 0; i < (gsize) r->width * r->height; i++)
    if (r->labels[i] == label)
      r->labels[i] = 0;
  show_result (self);
  return TRUE;
}

static void
on_commit_clicked (GtkButton *button, UsamAutoPanel *self)
{
  g_autoptr (GError) error = NULL;
  if (!usam_auto_panel_commit_all (self, &error))
    usam_auto_panel_message (self, error->message, TRUE);
}

/* ---- following the session ---- */

static void
on_image_changed (UsamSession *session, UsamAutoPanel *self)
{
  /* Automatic 3D goes on while the user moves through its volume. */
  if (self->volume_image && self->volume_image == usam_session_get_image (session))
    return;
  self->volume_image = NULL;
  /* Another plane: the old result and any run for it are void. */
  if (self->cancellable)
    g_cancellable_cancel (self->cancellable);
  self->generation++;
  self->running = FALSE;
  g_clear_pointer (&self->result, usam_auto_result_free);
  usam_auto_panel_update_buttons (self);
  if (gtk_widget_get_visible (GTK_WIDGET (self)))
    schedule_run (self);
}

static void
on_state_changed (UsamSession *session, UsamAutoPanel *self)
{
  UsamModel *model = usam_session_get_model (session);
  if (model != self->model)
    {
      self->model = model;
      self->has_decoder = model && usam_model_has_decoder (model);
      refill_modes (self);
      /* A new model's presets; a result of the old one is void. */
      on_image_changed (session, self);
      reset_params (self, FALSE);
      return;
    }
  if (self->wanted && !self->debounce && gtk_widget_get_visible (GTK_WIDGET (self))
      && usam_session_has_embedding (session))
    usam_auto_panel_run (self);
}

static void
on_visible (UsamAutoPanel *self, GParamSpec *pspec, gpointer user_data)
{
  if (gtk_widget_get_visible (GTK_WIDGET (self)))
    {
      usam_canvas_set_layer_visible (self->canvas, USAM_LAYER_AUTOMATIC, TRUE);
      if (!self->result && !self->running)
        usam_auto_panel_run (self);
      else
        show_result (self);
    }
  else
    {
      /* Hidden: nothing runs, nothing automatic is drawn. */
      usam_auto_panel_cancel (self);
      usam_canvas_set_automatic (self->canvas, NULL);
    }
}

/* ---- construction ---- */

static GtkWidget *
build_page (UsamAutoPanel *self, UsamAutoMode mode)
{
  GtkWidget *grid = gtk_grid_new ();
  gtk_grid_set_row_spacing (GTK_GRID (grid), 4);
  gtk_grid_set_column_spacing (GTK_GRID (grid), 8);
  int row = 0;
  for (guint i = 0; i < N_PARAMS; i++)
    {
      const Param *p = &params_table[i];
      if (p->mode != mode)
        continue;
      GtkWidget *w;
      if (p->kind == PARAM_BOOL)
        {
          w = gtk_check_button_new_with_label (p->label);
          g_signal_connect (w, "toggled", G_CALLBACK (on_param_changed), self);
          gtk_grid_attach (GTK_GRID (grid), w, 0, row, 2, 1);
        }
      else
        {
          GtkWidget *label = gtk_label_new (p->label);
          gtk_label_set_xalign (GTK_LABEL (label), 0);
          gtk_widget_set_hexpand (label, TRUE);
          w = gtk_spin_button_new_with_range (p->min, p->max, p->step);
          gtk_spin_button_set_digits (GTK_SPIN_BUTTON (w), p->digits);
          gtk_widget_set_tooltip_text (label, p->tip);
          g_signal_connect (w, "value-changed", G_CALLBACK (on_param_changed), self);
          gtk_grid_attach (GTK_GRID (grid), label, 0, row, 1, 1);
          gtk_grid_attach (GTK_GRID (grid), w, 1, row, 1, 1);
        }
      gtk_widget_set_tooltip_text (w, p->tip);
      g_object_set_data (G_OBJECT (w), "param", GUINT_TO_POINTER (i));
      self->widgets[i] = w;
      row++;
    }
  return grid;
}

static void
on_cancel_clicked (GtkButton *button, UsamAutoPanel *self)
{
  usam_auto_panel_cancel (self);
}

static void
on_reset_clicked (GtkButton *button, UsamAutoPanel *self)
{
  usam_auto_panel_reset (self);
}

GtkWidget *
usam_auto_panel_new (UsamCanvas *canvas, UsamSession *session)
{
  g_return_val_if_fail (USAM_IS_CANVAS (canvas) && USAM_IS_SESSION (session), NULL);
  UsamAutoPanel *self = g_object_new (USAM_TYPE_AUTO_PANEL, "orientation", GTK_ORIENTATION_VERTICAL, "spacing", 8,
                                      NULL);
  self->canvas = canvas;
  self->session = g_object_ref (session);
  GtkBox *box = GTK_BOX (self);
  gtk_widget_set_size_request (GTK_WIDGET (self), 260, -1);
  /* The labels expand within the panel; the canvas takes the window's width. */
  gtk_widget_set_hexpand (GTK_WIDGET (self), FALSE);
  gtk_widget_set_margin_start (GTK_WIDGET (self), 8);
  gtk_widget_set_margin_end (GTK_WIDGET (self), 8);
  gtk_widget_set_margin_top (GTK_WIDGET (self), 8);

  GtkWidget *title = gtk_label_new ("Automatic segmentation");
  gtk_widget_add_css_class (title, "heading");
  gtk_box_append (box, title);

  GtkListItemFactory *factory = gtk_signal_list_item_factory_new ();
  g_signal_connect (factory, "setup", G_CALLBACK (mode_item_setup), self);
  g_signal_connect (factory, "bind", G_CALLBACK (mode_item_bind), self);
  self->mode = GTK_DROP_DOWN (gtk_drop_down_new (NULL, NULL));
  gtk_drop_down_set_factory (self->mode, factory);
  g_object_unref (factory);
  gtk_box_append (box, GTK_WIDGET (self->mode));

  self->pages = GTK_STACK (gtk_stack_new ());
  for (UsamAutoMode m = 0; m < USAM_N_AUTO_MODES; m++)
    gtk_stack_add_named (self->pages, build_page (self, m), usam_auto_mode_to_string (m));
  gtk_box_append (box, GTK_WIDGET (self->pages));

  GtkWidget *reset = gtk_button_new_with_label ("Reset to presets");
  gtk_widget_set_tooltip_text (reset, "The model's presets (CKPT.presets for AIS) or micro-sam's defaults");
  g_signal_connect (reset, "clicked", G_CALLBACK (on_reset_clicked), self);
  gtk_box_append (box, reset);

  self->progress_box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  self->progress = GTK_PROGRESS_BAR (gtk_progress_bar_new ());
  gtk_widget_set_hexpand (GTK_WIDGET (self->progress), TRUE);
  gtk_widget_set_valign (GTK_WIDGET (self->progress), GTK_ALIGN_CENTER);
  GtkWidget *cancel = gtk_button_new_from_icon_name ("process-stop-symbolic");
  gtk_widget_set_tooltip_text (cancel, "Cancel the automatic segmentation");
  g_signal_connect (cancel, "clicked", G_CALLBACK (on_cancel_clicked), self);
  gtk_box_append (GTK_BOX (self->progress_box), GTK_WIDGET (self->progress));
  gtk_box_append (GTK_BOX (self->progress_box), cancel);
  gtk_box_append (box, self->progress_box);

  self->status = GTK_LABEL (gtk_label_new (""));
  gtk_label_set_xalign (self->status, 0);
  gtk_box_append (box, GTK_WIDGET (self->status));

  self->commit_button = gtk_button_new_with_label ("Commit all");
  gtk_widget_add_css_class (self->commit_button, "suggested-action");
  gtk_widget_set_tooltip_text (self->commit_button,
                               "Add every automatic object to the project (one undo step); with the pick tool, a "
                               "click on an automatic object adds just that one");
  g_signal_connect (self->commit_button, "clicked", G_CALLBACK (on_commit_clicked), self);
  gtk_box_append (box, self->commit_button);

  self->volume_button = gtk_button_new_with_label ("Whole volume (3D)");
  gtk_widget_set_tooltip_text (self->volume_button,
                               "AIS with these settings on every slice, objects joined across slices, added to the "
                               "project as one undo step (usam segment --volume)");
  g_signal_connect (self->volume_button, "clicked", G_CALLBACK (usam_auto_panel_on_volume_clicked), self);
  gtk_box_append (box, self->volume_button);

  self->model = usam_session_get_model (session);
  self->has_decoder = self->model && usam_model_has_decoder (self->model);
  g_autoptr (GError) error = NULL;
  if (!usam_auto_params_init (&self->params, self->model, &error))
    usam_auto_panel_message (self, error->message, TRUE);
  refill_modes (self);
  params_to_widgets (self);
  usam_auto_panel_update_buttons (self);
  g_signal_connect (self->mode, "notify::selected", G_CALLBACK (on_mode_selected), self);

  g_signal_connect_object (session, "image-changed", G_CALLBACK (on_image_changed), self, 0);
  g_signal_connect_object (session, "state-changed", G_CALLBACK (on_state_changed), self, 0);
  g_signal_connect (self, "notify::visible", G_CALLBACK (on_visible), NULL);
  return GTK_WIDGET (self);
}

static void
usam_auto_panel_dispose (GObject *object)
{
  UsamAutoPanel *self = USAM_AUTO_PANEL (object);
  g_clear_handle_id (&self->debounce, g_source_remove);
  if (self->cancellable)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  if (self->session)
    g_signal_handlers_disconnect_by_data (self->session, self);
  g_clear_object (&self->session);
  G_OBJECT_CLASS (usam_auto_panel_parent_class)->dispose (object);
}

static void
usam_auto_panel_finalize (GObject *object)
{
  UsamAutoPanel *self = USAM_AUTO_PANEL (object);
  g_clear_pointer (&self->result, usam_auto_result_free);
  g_clear_object (&self->segmenter);
  G_OBJECT_CLASS (usam_auto_panel_parent_class)->finalize (object);
}

static void
usam_auto_panel_class_init (UsamAutoPanelClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  object_class->dispose = usam_auto_panel_dispose;
  object_class->finalize = usam_auto_panel_finalize;
  /* Something for the user: text, and whether it is an error. */
  signals[SIGNAL_MESSAGE] = g_signal_new ("message", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                                          NULL, G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_BOOLEAN);
  /* A run ended (result, error or cancel). */
  signals[SIGNAL_FINISHED] = g_signal_new ("finished", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                                           NULL, G_TYPE_NONE, 0);
}

static void
usam_auto_panel_init (UsamAutoPanel *self)
{
  self->segmenter = usam_auto_segmenter_new ();
}
