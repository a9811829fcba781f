#include "usam-model-chooser.h"

#include <string.h>

#include "usam-known-model.h"

struct _UsamModelChooser
{
  GtkWidget parent_instance;

  GtkMenuButton *button;
  GtkPopover *popover;
  GtkListBox *list;
  GtkLabel *state; /* while the list is read, or when it cannot be */
  GCancellable *cancellable;
  char *current_path;
  int choose_file_target;
  gboolean listing;
};

G_DEFINE_FINAL_TYPE (UsamModelChooser, usam_model_chooser, GTK_TYPE_WIDGET)

static const char *const group_titles[] = {
  [USAM_KNOWN_MODEL_BUNDLED] = "Bundled with usam",
  [USAM_KNOWN_MODEL_TRAINED] = "Trained here",
  [USAM_KNOWN_MODEL_MICRO_SAM] = "μSAM",
  [USAM_KNOWN_MODEL_SAM] = "Segment Anything",
};

static GtkWidget *
small_label (const char *text, gboolean dim)
{
  GtkWidget *label = gtk_label_new (text);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (label), PANGO_WRAP_WORD_CHAR);
  gtk_label_set_max_width_chars (GTK_LABEL (label), 64);
  gtk_widget_add_css_class (label, "caption");
  if (dim)
    gtk_widget_add_css_class (label, "dim-label");
  return label;
}

static GtkWidget *
make_row (UsamModelChooser *self, const UsamKnownModel *m)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
  gtk_widget_set_margin_start (box, 6);
  gtk_widget_set_margin_end (box, 6);
  gtk_widget_set_margin_top (box, 4);
  gtk_widget_set_margin_bottom (box, 4);

  GtkWidget *line = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *title = gtk_label_new (m->title);
  gtk_label_set_xalign (GTK_LABEL (title), 0);
  gtk_widget_set_hexpand (title, TRUE);
  gtk_widget_add_css_class (title, "heading");
  gtk_box_append (GTK_BOX (line), title);
  if (m->path && g_strcmp0 (m->path, self->current_path) == 0)
    {
      GtkWidget *check = gtk_image_new_from_icon_name ("object-select-symbolic");
      gtk_widget_set_tooltip_text (check, "In use");
      gtk_box_append (GTK_BOX (line), check);
    }
  gtk_box_append (GTK_BOX (box), line);
  gtk_box_append (GTK_BOX (box), small_label (m->description, FALSE));
  if (m->path)
    {
      g_autofree char *size = g_format_size ((guint64) m->size);
      g_autofree char *where = g_strdup_printf ("%s · %s", size, m->path);
      gtk_box_append (GTK_BOX (box), small_label (where, TRUE));
    }

  GtkWidget *row = gtk_list_box_row_new ();
  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), box);
  /* A file that is missing or unreadable is listed, not offered. */
  gtk_widget_set_sensitive (row, m->usable);
  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), m->usable);
  g_object_set_data_full (G_OBJECT (row), "name", g_strdup (m->name), g_free);
  g_object_set_data_full (G_OBJECT (row), "path", g_strdup (m->path), g_free);
  g_object_set_data (G_OBJECT (row), "group", GINT_TO_POINTER (m->group));
  return row;
}

static void
update_header (GtkListBoxRow *row, GtkListBoxRow *before, gpointer user_data)
{
  int group = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (row), "group"));
  if (before && GPOINTER_TO_INT (g_object_get_data (G_OBJECT (before), "group")) == group)
    {
      gtk_list_box_row_set_header (row, NULL);
      return;
    }
  if (gtk_list_box_row_get_header (row))
    return;
  GtkWidget *header = gtk_label_new (group_titles[group]);
  gtk_label_set_xalign (GTK_LABEL (header), 0);
  gtk_widget_add_css_class (header, "dim-label");
  gtk_widget_set_margin_start (header, 6);
  gtk_widget_set_margin_top (header, before ? 10 : 2);
  gtk_widget_set_margin_bottom (header, 2);
  gtk_list_box_row_set_header (row, header);
}

static void
clear_rows (UsamModelChooser *self)
{
  GtkWidget *child;
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->list))))
    gtk_list_box_remove (self->list, child);
}

static void
listed (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (UsamModelChooser) self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) models = usam_known_models_list_finish (result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) || !self->list)
    return; /* a newer listing runs, or the widget is gone */
  self->listing = FALSE;
  clear_rows (self);
  if (!models)
    {
      gtk_label_set_text (self->state, error->message);
      return;
    }
  gtk_widget_set_visible (GTK_WIDGET (self->state), FALSE);
  for (guint i = 0; i < models->len; i++)
    gtk_list_box_append (self->list, make_row (self, g_ptr_array_index (models, i)));
}

static void
refresh (UsamModelChooser *self)
{
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  self->listing = TRUE;
  gtk_label_set_text (self->state, "Looking for models…");
  gtk_widget_set_visible (GTK_WIDGET (self->state), TRUE);
  usam_known_models_list_async (self->cancellable, listed, g_object_ref (self));
}

static void
on_row_activated (GtkListBox *list, GtkListBoxRow *row, UsamModelChooser *self)
{
  const char *path = g_object_get_data (G_OBJECT (row), "path");
  if (!path)
    return;
  gtk_popover_popdown (self->popover);
  gtk_widget_activate_action (GTK_WIDGET (self), "annotator.load-model", "s", path);
}

static void
on_other_file (GtkButton *button, UsamModelChooser *self)
{
  gtk_popover_popdown (self->popover);
  gtk_widget_activate_action (GTK_WIDGET (self), "annotator.choose", "i", self->choose_file_target);
}

static void
usam_model_chooser_dispose (GObject *object)
{
  UsamModelChooser *self = USAM_MODEL_CHOOSER (object);
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->current_path, g_free);
  self->list = NULL;
  if (self->button)
    gtk_widget_unparent (GTK_WIDGET (self->button));
  self->button = NULL;
  G_OBJECT_CLASS (usam_model_chooser_parent_class)->dispose (object);
}

static void
usam_model_chooser_class_init (UsamModelChooserClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = usam_model_chooser_dispose;
  gtk_widget_class_set_layout_manager_type (GTK_WIDGET_CLASS (klass), GTK_TYPE_BIN_LAYOUT);
}

static void
usam_model_chooser_init (UsamModelChooser *self)
{
  self->list = GTK_LIST_BOX (gtk_list_box_new ());
  gtk_list_box_set_selection_mode (self->list, GTK_SELECTION_NONE);
  gtk_list_box_set_header_func (self->list, update_header, NULL, NULL);
  g_signal_connect (self->list, "row-activated", G_CALLBACK (on_row_activated), self);

  GtkWidget *scroller = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scroller), GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
  gtk_scrolled_window_set_propagate_natural_height (GTK_SCROLLED_WINDOW (scroller), TRUE);
  gtk_scrolled_window_set_max_content_height (GTK_SCROLLED_WINDOW (scroller), 520);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scroller), GTK_WIDGET (self->list));

  self->state = GTK_LABEL (small_label ("", TRUE));
  GtkWidget *other = gtk_button_new_with_mnemonic ("_Other checkpoint file…");
  gtk_widget_set_tooltip_text (other, "A SAM (.pth) or μSAM (.pt) checkpoint anywhere on disk");
  g_signal_connect (other, "clicked", G_CALLBACK (on_other_file), self);

  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (self->state));
  gtk_box_append (GTK_BOX (box), scroller);
  gtk_box_append (GTK_BOX (box), other);

  self->popover = GTK_POPOVER (gtk_popover_new ());
  gtk_popover_set_child (self->popover, box);
  g_signal_connect_swapped (self->popover, "show", G_CALLBACK (refresh), self);

  self->button = GTK_MENU_BUTTON (gtk_menu_button_new ());
  gtk_menu_button_set_popover (self->button, GTK_WIDGET (self->popover));
  gtk_widget_set_parent (GTK_WIDGET (self->button), GTK_WIDGET (self));
  usam_model_chooser_set_model (self, NULL);
}

GtkWidget *
usam_model_chooser_new (int choose_file_target)
{
  UsamModelChooser *self = g_object_new (USAM_TYPE_MODEL_CHOOSER, NULL);
  self->choose_file_target = choose_file_target;
  return GTK_WIDGET (self);
}

void
usam_model_chooser_set_model (UsamModelChooser *self, UsamModel *model)
{
  if (!self->button)
    return; /* disposed */
  const char *path = model ? usam_model_get_path (model) : NULL;
  g_autofree char *base = path ? g_path_get_basename (path) : NULL;
  char *dot = base ? strrchr (base, '.') : NULL;
  if (dot && dot != base)
    *dot = '\0';
  g_autofree char *label = base ? g_strdup_printf ("Model: %s", base) : g_strdup ("Model");
  gtk_menu_button_set_label (self->button, label);
  g_autofree char *description = model ? usam_model_dup_description (model) : NULL;
  g_autofree char *tooltip = model ? g_strdup_printf ("%s\n%s", path ? path : "made in memory", description)
                                   : g_strdup ("Choose a SAM or μSAM model");
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->button), tooltip);
  if (g_strcmp0 (path, self->current_path) != 0)
    {
      g_free (self->current_path);
      self->current_path = g_strdup (path);
    }
}

void
usam_model_chooser_popup (UsamModelChooser *self)
{
  gtk_menu_button_popup (self->button);
}

gboolean
usam_model_chooser_is_listing (UsamModelChooser *self)
{
  return self->listing;
}

GtkListBoxRow *
usam_model_chooser_get_row (UsamModelChooser *self, const char *name)
{
  for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (self->list)); child;
       child = gtk_widget_get_next_sibling (child))
    if (GTK_IS_LIST_BOX_ROW (child) && g_strcmp0 (g_object_get_data (G_OBJECT (child), "name"), name) == 0)
      return GTK_LIST_BOX_ROW (child);
  return NULL;
}

GtkWidget *
usam_model_chooser_get_popover (UsamModelChooser *self)
{
  return GTK_WIDGET (self->popover);
}
