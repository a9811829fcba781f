#include "usam-toolbar.h"

struct _UsamToolbar
{
  GtkBox parent_instance;
  UsamCanvas *canvas;   /* not owned: both live in the same window */
  UsamSession *session; /* owned */
  GtkToggleButton *tool_buttons[USAM_TOOL_PAN + 1];
  GtkToggleButton *polarity;
  GtkCheckButton *auto_segment;
  GtkSpinButton *brush_size;
};

G_DEFINE_FINAL_TYPE (UsamToolbar, usam_toolbar, GTK_TYPE_BOX)

static GtkWidget *
icon_button (const char *icon, const char *tip, const char *action, GVariant *target)
{
  GtkWidget *button = gtk_button_new_from_icon_name (icon);
  gtk_widget_set_tooltip_text (button, tip);
  gtk_actionable_set_action_name (GTK_ACTIONABLE (button), action);
  if (target)
    gtk_actionable_set_action_target_value (GTK_ACTIONABLE (button), target);
  return button;
}

static GtkWidget *
text_button (const char *label, const char *tip, const char *action)
{
  GtkWidget *button = gtk_button_new_with_label (label);
  gtk_widget_set_tooltip_text (button, tip);
  gtk_actionable_set_action_name (GTK_ACTIONABLE (button), action);
  return button;
}

static const struct
{
  const char *icon, *tip;
} tool_info[] = {
  [USAM_TOOL_POINT] = { "list-add-symbolic", "Point prompt (P); T toggles positive / negative" },
  [USAM_TOOL_BOX] = { "view-fullscreen-symbolic", "Box prompt (B)" },
  [USAM_TOOL_BRUSH] = { "document-edit-symbolic", "Brush: paint the current object (R)" },
  [USAM_TOOL_ERASER] = { "edit-clear-symbolic", "Eraser (E)" },
  [USAM_TOOL_PICK] = { "find-location-symbolic", "Pick an object to correct it (I)" },
  [USAM_TOOL_DELETE] = { "user-trash-symbolic", "Delete an object (D)" },
  [USAM_TOOL_PAN] = { "input-mouse-symbolic", "Pan (H); the middle button pans with any tool" },
};

void
usam_toolbar_set_tool (UsamToolbar *self, UsamTool tool)
{
  gtk_toggle_button_set_active (self->tool_buttons[tool], TRUE);
}

static void
on_tool_toggled (GtkToggleButton *button, UsamToolbar *self)
{
  if (!gtk_toggle_button_get_active (button))
    return;
  for (guint i = 0; i < G_N_ELEMENTS (self->tool_buttons); i++)
    if (self->tool_buttons[i] == button)
      usam_canvas_set_tool (self->canvas, (UsamTool) i);
}

static void
on_polarity_toggled (GtkToggleButton *button, UsamToolbar *self)
{
  gboolean negative = gtk_toggle_button_get_active (button);
  usam_canvas_set_positive (self->canvas, !negative);
  gtk_button_set_label (GTK_BUTTON (button), negative ? "Negative" : "Positive");
}


static void
on_brush_size (GtkSpinButton *spin, UsamToolbar *self)
{
  usam_canvas_set_brush_radius (self->canvas, gtk_spin_button_get_value (spin) / 2);
}

static void
on_auto_segment (GtkCheckButton *check, UsamToolbar *self)
{
  usam_session_set_auto_segment (self->session, gtk_check_button_get_active (check));
}


static void
on_layer_visible (GtkCheckButton *check, UsamToolbar *self)
{
  UsamLayer layer = (UsamLayer) GPOINTER_TO_INT (g_object_get_data (G_OBJECT (check), "layer"));
  usam_canvas_set_layer_visible (self->canvas, layer, gtk_check_button_get_active (check));
}

static void
on_layer_opacity (GtkRange *range, UsamToolbar *self)
{
  UsamLayer layer = (UsamLayer) GPOINTER_TO_INT (g_object_get_data (G_OBJECT (range), "layer"));
  usam_canvas_set_layer_opacity (self->canvas, layer, gtk_range_get_value (range));
}

/* A popover with a visibility switch and an opacity slider per layer. */
static GtkWidget *
layers_button (UsamToolbar *self)
{
  static const char *const names[USAM_N_LAYERS] = { "Image", "Committed objects", "Current object", "Prompts",
                                                    "Automatic segmentation" };
  static const double opacity[USAM_N_LAYERS] = { 1, 0.45, 0.55, 1, 0.5 };
  GtkWidget *grid = gtk_grid_new ();
  gtk_grid_set_row_spacing (GTK_GRID (grid), 6);
  gtk_grid_set_column_spacing (GTK_GRID (grid), 12);
  for (int i = 0; i < USAM_N_LAYERS; i++)
    {
      GtkWidget *check = gtk_check_button_new_with_label (names[i]);
      gtk_check_button_set_active (GTK_CHECK_BUTTON (check), TRUE);
      g_object_set_data (G_OBJECT (check), "layer", GINT_TO_POINTER (i));
      g_signal_connect (check, "toggled", G_CALLBACK (on_layer_visible), self);
      GtkWidget *scale = gtk_scale_new_with_range (GTK_ORIENTATION_HORIZONTAL, 0, 1, 0.05);
      gtk_range_set_value (GTK_RANGE (scale), opacity[i]);
      gtk_widget_set_size_request (scale, 140, -1);
      g_object_set_data (G_OBJECT (scale), "layer", GINT_TO_POINTER (i));
      g_signal_connect (scale, "value-changed", G_CALLBACK (on_layer_opacity), self);
      gtk_grid_attach (GTK_GRID (grid), check, 0, i, 1, 1);
      gtk_grid_attach (GTK_GRID (grid), scale, 1, i, 1, 1);
    }
  GtkWidget *popover = gtk_popover_new ();
  gtk_popover_set_child (GTK_POPOVER (popover), grid);
  GtkWidget *button = gtk_menu_button_new ();
  gtk_menu_button_set_label (GTK_MENU_BUTTON (button), "Layers");
  gtk_menu_button_set_popover (GTK_MENU_BUTTON (button), popover);
  return button;
}


static void
build (UsamToolbar *self)
{
  GtkWidget *bar = GTK_WIDGET (self);
  gtk_widget_add_css_class (bar, "toolbar");
  for (int i = 0; i <= USAM_TOOL_PAN; i++)
    {
      GtkWidget *b = gtk_toggle_button_new ();
      gtk_button_set_icon_name (GTK_BUTTON (b), tool_info[i].icon);
      gtk_widget_set_tooltip_text (b, tool_info[i].tip);
      if (i > 0)
        gtk_toggle_button_set_group (GTK_TOGGLE_BUTTON (b), self->tool_buttons[0]);
      g_signal_connect (b, "toggled", G_CALLBACK (on_tool_toggled), self);
      self->tool_buttons[i] = GTK_TOGGLE_BUTTON (b);
      gtk_box_append (GTK_BOX (bar), b);
    }
  self->polarity = GTK_TOGGLE_BUTTON (gtk_toggle_button_new_with_label ("Positive"));
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->polarity), "Points are positive or negative (T)");
  g_signal_connect (self->polarity, "toggled", G_CALLBACK (on_polarity_toggled), self);
  gtk_box_append (GTK_BOX (bar), GTK_WIDGET (self->polarity));
  self->brush_size = GTK_SPIN_BUTTON (gtk_spin_button_new_with_range (1, 200, 1));
  gtk_spin_button_set_value (self->brush_size, 10);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->brush_size), "Brush and eraser diameter in image pixels");
  g_signal_connect (self->brush_size, "value-changed", G_CALLBACK (on_brush_size), self);
  gtk_box_append (GTK_BOX (bar), GTK_WIDGET (self->brush_size));
  gtk_box_append (GTK_BOX (bar), gtk_separator_new (GTK_ORIENTATION_VERTICAL));
  gtk_box_append (GTK_BOX (bar), text_button ("Segment", "Segment from the prompts (S)", "annotator.segment"));
  gtk_box_append (GTK_BOX (bar), text_button ("Batch", "Each positive point and box becomes its own object, "
                                              "committed at once (Shift+S)", "annotator.segment-batch"));
  gtk_box_append (GTK_BOX (bar), text_button ("Commit", "Keep the current object (C)", "annotator.commit"));
  gtk_box_append (GTK_BOX (bar), text_button ("Clear", "Drop the prompts and the current object (Shift+C)",
                                              "annotator.clear"));
  self->auto_segment = GTK_CHECK_BUTTON (gtk_check_button_new_with_label ("Live"));
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->auto_segment), "Segment again on every prompt change");
  g_signal_connect (self->auto_segment, "toggled", G_CALLBACK (on_auto_segment), self);
  gtk_box_append (GTK_BOX (bar), GTK_WIDGET (self->auto_segment));
  gtk_box_append (GTK_BOX (bar), gtk_separator_new (GTK_ORIENTATION_VERTICAL));
  gtk_box_append (GTK_BOX (bar), icon_button ("edit-undo-symbolic", "Undo (Ctrl+Z)", "annotator.undo", NULL));
  gtk_box_append (GTK_BOX (bar), icon_button ("edit-redo-symbolic", "Redo (Ctrl+Shift+Z)", "annotator.redo", NULL));
  gtk_box_append (GTK_BOX (bar), icon_button ("go-next-symbolic", "Next image (N)", "annotator.next-image", NULL));
  gtk_box_append (GTK_BOX (bar), gtk_separator_new (GTK_ORIENTATION_VERTICAL));
  gtk_box_append (GTK_BOX (bar), icon_button ("zoom-fit-best-symbolic", "Fit (0)", "annotator.zoom",
                                              g_variant_new_double (0)));
  gtk_box_append (GTK_BOX (bar), icon_button ("zoom-original-symbolic", "1:1 (1)", "annotator.zoom",
                                              g_variant_new_double (-1)));
  gtk_box_append (GTK_BOX (bar), layers_button (self));
}


void
usam_toolbar_toggle_polarity (UsamToolbar *self)
{
  usam_toolbar_set_tool (self, USAM_TOOL_POINT);
  gtk_toggle_button_set_active (self->polarity, !gtk_toggle_button_get_active (self->polarity));
}

static void
usam_toolbar_dispose (GObject *object)
{
  UsamToolbar *self = USAM_TOOLBAR (object);
  g_clear_object (&self->session);
  G_OBJECT_CLASS (usam_toolbar_parent_class)->dispose (object);
}

static void
usam_toolbar_class_init (UsamToolbarClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = usam_toolbar_dispose;
}

static void
usam_toolbar_init (UsamToolbar *self)
{
}

GtkWidget *
usam_toolbar_new (UsamCanvas *canvas, UsamSession *session)
{
  UsamToolbar *self = g_object_new (USAM_TYPE_TOOLBAR, "orientation", GTK_ORIENTATION_HORIZONTAL, "spacing", 4, NULL);
  self->canvas = canvas;
  self->session = g_object_ref (session);
  build (self);
  usam_toolbar_set_tool (self, USAM_TOOL_POINT);
  return GTK_WIDGET (self);
}
