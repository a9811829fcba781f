/* The lineage side panel: a tree of tracks and the edits on them. */
#include "usam-lineage-view.h"

#include "usam-auto-eval.h"
#include "usam-auto-tracker.h"
#include "usam-error.h"

struct _UsamLineageView
{
  GtkBox parent_instance;
  UsamSession *session;
  UsamCanvas *canvas;
  GtkListBox *list;
  GtkEntry *name;
  GtkButton *track_button;
  GtkProgressBar *progress;
  GtkWidget *progress_box;
  GtkLabel *summary;
  GPtrArray *tracks;   /* UsamProjectTrack, in row order */
  GArray *depths;      /* guint, per row */
  GCancellable *cancellable; /* of automatic tracking; NULL when none runs */
  gint64 tracking_image;     /* the image being tracked */
  gboolean rebuilding;       /* selection changes are ours, not the user's */
  gboolean jumping;          /* a plane change of ours: the tracks are the same */
};

G_DEFINE_FINAL_TYPE (UsamLineageView, usam_lineage_view, GTK_TYPE_BOX)

enum
{
  SIGNAL_MESSAGE,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
message (UsamLineageView *self, const char *text, gboolean is_error)
{
  g_signal_emit (self, signals[SIGNAL_MESSAGE], 0, text, is_error);
}

/* ---- the tree ---- */

static void
add_subtree (UsamLineageView *self, GPtrArray *all, guint index, guint depth, GPtrArray *order, GArray *depths,
             GHashTable *placed)
{
  UsamProjectTrack *t = all->pdata[index];
  if (!g_hash_table_add (placed, GUINT_TO_POINTER (t->label)))
    return;
  g_ptr_array_add (order, t);
  g_array_append_val (depths, depth);
  for (guint i = 0; i < all->len; i++)
    if (((UsamProjectTrack *) all->pdata[i])->parent == t->label)
      add_subtree (self, all, i, depth + 1, order, depths, placed);
}

static char *
row_text (const UsamProjectTrack *t)
{
  g_autofree char *what = t->name ? g_strdup_printf ("%s (%u)", t->name, t->label)
                                  : g_strdup_printf ("Track %u", t->label);
  if (t->n_frames != t->end - t->begin + 1)
    return g_strdup_printf ("%s · frames %u–%u, %u missing", what, t->begin, t->end,
                            t->end - t->begin + 1 - t->n_frames);
  return g_strdup_printf ("%s · frames %u–%u", what, t->begin, t->end);
}

static GArray *
selected_labels (UsamLineageView *self)
{
  GArray *labels = g_array_new (FALSE, FALSE, sizeof (guint));
  g_autoptr (GList) rows = gtk_list_box_get_selected_rows (self->list);
  for (GList *l = rows; l; l = l->next)
    {
      int i = gtk_list_box_row_get_index (l->data);
      if (i >= 0 && (guint) i < self->tracks->len)
        g_array_append_val (labels, ((UsamProjectTrack *) self->tracks->pdata[i])->label);
    }
  return labels;
}

/* One selected track stands out on the canvas. */
static void
update_highlight (UsamLineageView *self)
{
  if (!self->canvas)
    return; /* disposed */
  g_autoptr (GArray) labels = selected_labels (self);
  usam_canvas_set_highlight (self->canvas, labels->len == 1 ? g_array_index (labels, guint, 0) : 0);
}

static void
rebuild (UsamLineageView *self)
{
  if (self->jumping)
    return;
  g_autoptr (GArray) keep = selected_labels (self);
  self->rebuilding = TRUE;
  /* gtk_list_box_remove_all() is GTK 4.12; the floor here is 4.8. */
  GtkWidget *row;
  while ((row = gtk_widget_get_first_child (GTK_WIDGET (self->list))))
    gtk_list_box_remove (self->list, row);
  g_ptr_array_set_size (self->tracks, 0);
  g_array_set_size (self->depths, 0);
  UsamProject *project = usam_session_get_project (self->session);
  g_autoptr (GPtrArray) all = NULL;
  if (project && usam_session_get_image (self->session))
    {
      g_autoptr (GError) error = NULL;
      all = usam_project_list_tracks (project, usam_session_get_image_id (self->session), &error);
      if (!all)
        message (self, error->message, TRUE);
    }
  guint divisions = 0;
  if (all)
    {
      /* Rows own the tracks from here on. */
      g_ptr_array_set_free_func (all, NULL);
      g_autoptr (GHashTable) placed = g_hash_table_new (NULL, NULL);
      for (guint i = 0; i < all->len; i++)
        if (((UsamProjectTrack *) all->pdata[i])->parent == 0)
          add_subtree (self, all, i, 0, self->tracks, self->depths, placed);
      for (guint i = 0; i < all->len; i++)
        if (!g_hash_table_contains (placed, GUINT_TO_POINTER (((UsamProjectTrack *) all->pdata[i])->label)))
          usam_project_track_free (all->pdata[i]);
      for (guint i = 0; i < self->tracks->len; i++)
        divisions += ((UsamProjectTrack *) self->tracks->pdata[i])->parent != 0;
    }
  for (guint i = 0; i < self->tracks->len; i++)
    {
      const UsamProjectTrack *t = self->tracks->pdata[i];
      g_autofree char *text = row_text (t);
      GtkWidget *label = gtk_label_new (text);
      gtk_label_set_xalign (GTK_LABEL (label), 0);
      gtk_widget_set_margin_start (label, 6 + 16 * (int) g_array_index (self->depths, guint, i));
      gtk_list_box_append (self->list, label);
      for (guint k = 0; k < keep->len; k++)
        if (g_array_index (keep, guint, k) == t->label)
          gtk_list_box_select_row (self->list, gtk_list_box_get_row_at_index (self->list, (int) i));
    }
  g_autofree char *summary = g_strdup_printf ("%u tracks, %u with a parent", self->tracks->len, divisions);
  gtk_label_set_text (self->summary, summary);
  self->rebuilding = FALSE;
  update_highlight (self);
}

static void
on_selection_changed (UsamLineageView *self)
{
  /* Disposed: the list drops its rows, and its selection, as it goes. */
  if (self->rebuilding || !self->session)
    return;
  update_highlight (self);
  g_autoptr (GList) rows = gtk_list_box_get_selected_rows (self->list);
  if (!rows || rows->next)
    return;
  int i = gtk_list_box_row_get_index (rows->data);
  const UsamProjectTrack *t = self->tracks->pdata[i];
  gtk_editable_set_text (GTK_EDITABLE (self->name), t->name ? t->name : "");
  /* Only a single pick jumps: Ctrl+clicking daughters must stay on the
   * division frame. */
  self->jumping = TRUE;
  usam_session_set_plane (self->session, t->begin, usam_session_get_z (self->session));
  self->jumping = FALSE;
}

guint
usam_lineage_view_get_n_rows (UsamLineageView *self)
{
  return self->tracks->len;
}

gboolean
usam_lineage_view_get_row (UsamLineageView *self, guint index, guint *label, guint *depth, char **text)
{
  if (index >= self->tracks->len)
    return FALSE;
  if (label)
    *label = ((UsamProjectTrack *) self->tracks->pdata[index])->label;
  if (depth)
    *depth = g_array_index (self->depths, guint, index);
  if (text)
    {
      GtkWidget *child = gtk_list_box_row_get_child (gtk_list_box_get_row_at_index (self->list, (int) index));
      *text = g_strdup (gtk_label_get_text (GTK_LABEL (child)));
    }
  return TRUE;
}

void
usam_lineage_view_select (UsamLineageView *self, const guint *labels, guint n_labels)
{
  gtk_list_box_unselect_all (self->list);
  for (guint k = 0; k < n_labels; k++)
    for (guint i = 0; i < self->tracks->len; i++)
      if (((UsamProjectTrack *) self->tracks->pdata[i])->label == labels[k])
        gtk_list_box_select_row (self->list, gtk_list_box_get_row_at_index (self->list, (int) i));
}

/* ---- edits ---- */

static const UsamProjectTrack *
track_of (UsamLineageView *self, guint label)
{
  for (guint i = 0; i < self->tracks->len; i++)
    if (((UsamProjectTrack *) self->tracks->pdata[i])->label == label)
      return self->tracks->pdata[i];
  return NULL;
}

static gboolean
need_selection (UsamLineageView *self, GArray *labels, guint min, guint max, const char *what, GError **error)
{
  if (labels->len >= min && labels->len <= max && usam_session_get_project (self->session))
    return TRUE;
  g_set_error (error, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT, "%s", what);
  return FALSE;
}

/* After an edit: the session reads the objects again, which rebuilds the
 * tree through "objects-changed". */
static gboolean
edited (UsamLineageView *self, gboolean ok, const char *text)
{
  if (!ok)
    return FALSE;
  usam_session_reload (self->session);
  message (self, text, FALSE);
  return TRUE;
}

gboolean
usam_lineage_view_rename (UsamLineageView *self, const char *name, GError **error)
{
  g_autoptr (GArray) labels = selected_labels (self);
  if (!need_selection (self, labels, 1, 1, "Select one track to rename", error))
    return FALSE;
  guint label = g_array_index (labels, guint, 0);
  gboolean ok = usam_project_set_track_name (usam_session_get_project (self->session),
                                             usam_session_get_image_id (self->session), label, name, error);
  return edited (self, ok, "Renamed the track");
}

gboolean
usam_lineage_view_delete (UsamLineageView *self, GError **error)
{
  g_autoptr (GArray) labels = selected_labels (self);
  if (!need_selection (self, labels, 1, 1, "Select one track to delete", error))
    return FALSE;
  gboolean ok = usam_project_delete_track (usam_session_get_project (self->session),
                                           usam_session_get_image_id (self->session),
                                           g_array_index (labels, guint, 0), error);
  return edited (self, ok, "Deleted the track (Ctrl+Z brings it back)");
}

gboolean
usam_lineage_view_divide (UsamLineageView *self, GError **error)
{
  g_autoptr (GArray) labels = selected_labels (self);
  if (!need_selection (self, labels, 2, 3,
                       "Pick a daughter, then Ctrl+click the mother and the other daughter (or only the mother, "
                       "when her track goes on as the other daughter)", error))
    return FALSE;
  /* The mother is the track that began first. */
  guint mother = 0, first = G_MAXUINT;
  for (guint i = 0; i < labels->len; i++)
    {
      const UsamProjectTrack *t = track_of (self, g_array_index (labels, guint, i));
      if (t && (t->begin < first || (t->begin == first && t->label < mother)))
        {
          first = t->begin;
          mother = t->label;
        }
    }
  guint daughters[2] = { mother, 0 }, n = labels->len == 2 ? 1 : 0;
  for (guint i = 0; i < labels->len; i++)
    if (g_array_index (labels, guint, i) != mother)
      daughters[n++] = g_array_index (labels, guint, i);
  gboolean ok = usam_project_mark_division (usam_session_get_project (self->session),
                                            usam_session_get_image_id (self->session), mother,
                                            usam_session_get_t (self->session), daughters[0], daughters[1], error);
  return edited (self, ok, "Marked the division");
}

gboolean
usam_lineage_view_split (UsamLineageView *self, GError **error)
{
  g_autoptr (GArray) labels = selected_labels (self);
  if (!need_selection (self, labels, 1, 1, "Select one track, go to the frame where it should end, and split", error))
    return FALSE;
  guint fresh = 0;
  gboolean ok = usam_project_split_track (usam_session_get_project (self->session),
                                          usam_session_get_image_id (self->session), g_array_index (labels, guint, 0),
                                          usam_session_get_t (self->session), &fresh, error);
  g_autofree char *text = g_strdup_printf ("Split the track: from this frame on it is track %u", fresh);
  return edited (self, ok, text);
}

gboolean
usam_lineage_view_join (UsamLineageView *self, GError **error)
{
  g_autoptr (GArray) labels = selected_labels (self);
  if (!need_selection (self, labels, 2, 2, "Select the two tracks to join (Ctrl+click the second)", error))
    return FALSE;
  guint a = g_array_index (labels, guint, 0), b = g_array_index (labels, guint, 1);
  const UsamProjectTrack *ta = track_of (self, a), *tb = track_of (self, b);
  /* The one that begins first goes on as the other. */
  if (ta && tb && tb->begin < ta->begin)
    {
      guint swap = a;
      a = b;
      b = swap;
    }
  gboolean ok = usam_project_join_tracks (usam_session_get_project (self->session),
                                          usam_session_get_image_id (self->session), a, b, error);
  g_autofree char *text = g_strdup_printf ("Joined track %u onto track %u", b, a);
  return edited (self, ok, text);
}

gboolean
usam_lineage_view_import_ctc (UsamLineageView *self, const char *dir, GError **error)
{
  UsamProject *project = usam_session_get_project (self->session);
  if (!project || !usam_session_get_image (self->session))
    {
      g_set_error_literal (error, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT, "Open a time-lapse first");
      return FALSE;
    }
  guint n = 0;
  gboolean ok = usam_project_import_ctc (project, usam_session_get_image_id (self->session), dir, &n, error);
  g_autofree char *text = g_strdup_printf ("Imported %u tracks (Ctrl+Z takes them back)", n);
  return edited (self, ok, text);
}

gboolean
usam_lineage_view_export_ctc (UsamLineageView *self, const char *dir, GError **error)
{
  UsamProject *project = usam_session_get_project (self->session);
  if (!project || !usam_session_get_image (self->session))
    {
      g_set_error_literal (error, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT, "Open a time-lapse first");
      return FALSE;
    }
  if (!usam_project_export_ctc (project, usam_session_get_image_id (self->session), dir, error))
    return FALSE;
  g_autofree char *text = g_strdup_printf ("Wrote the tracks to %s (CTC format)", dir);
  message (self, text, FALSE);
  return TRUE;
}

/* ---- automatic tracking ---- */

static void
on_track_progress (double fraction, gpointer user_data)
{
  UsamLineageView *self = user_data;
  /* Late calls may come after the result, or after the panel is gone. */
  if (self->cancellable)
    gtk_progress_bar_set_fraction (self->progress, fraction);
}

static void
on_tracked (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (UsamLineageView) self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (UsamAutoTrackResult) tracked = usam_auto_track_finish (result, &error);
  /* The window closed meanwhile: the widgets are gone. */
  if (!self->session)
    return;
  g_clear_object (&self->cancellable);
  gtk_widget_set_visible (self->progress_box, FALSE);
  gtk_widget_set_sensitive (GTK_WIDGET (self->track_button), TRUE);
  if (!tracked)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        message (self, "Automatic tracking cancelled; nothing was added", FALSE);
      else
        message (self, error->message, TRUE);
      return;
    }
  UsamProject *project = usam_session_get_project (self->session);
  /* The user may have moved on to another image meanwhile. */
  if (!project || usam_session_get_image_id (self->session) != self->tracking_image)
    return;
  if (!usam_project_add_tracks (project, self->tracking_image, tracked->tracked, tracked->tracks,
                                "automatic tracking", &error))
    {
      message (self, error->message, TRUE);
      return;
    }
  g_autofree char *text
      = tracked->tracks->len ? g_strdup_printf ("Automatic tracking: %u tracks (Ctrl+Z takes them back)",
                                                tracked->tracks->len)
                             : g_strdup ("Automatic tracking found no objects");
  edited (self, TRUE, text);
}

gboolean
usam_lineage_view_track (UsamLineageView *self, GError **error)
{
  UsamImage *image = usam_session_get_image (self->session);
  UsamModel *model = usam_session_get_model (self->session);
  if (self->cancellable)
    {
      g_set_error_literal (error, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT, "Automatic tracking is running");
      return FALSE;
    }
  if (!image || usam_image_get_frames (image) < 2)
    {
      g_set_error_literal (error, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT, "Automatic tracking needs a time-lapse");
      return FALSE;
    }
  if (!model || !usam_model_has_decoder (model))
    {
      g_set_error_literal (error, USAM_ERROR, USAM_ERROR_UNSUPPORTED,
                           "Automatic tracking needs a model with an AIS decoder");
      return FALSE;
    }
  UsamAutoTrackParams params = usam_auto_track_params_default ();
  /* the checkpoint's tuned AIS thresholds, as the automatic panel uses */
  const char *path = usam_model_get_path (model);
  if (path)
    usam_ais_params_load_presets (path, &params.ais, NULL);
  self->cancellable = g_cancellable_new ();
  self->tracking_image = usam_session_get_image_id (self->session);
  gtk_progress_bar_set_fraction (self->progress, 0);
  gtk_widget_set_visible (self->progress_box, TRUE);
  gtk_widget_set_sensitive (GTK_WIDGET (self->track_button), FALSE);
  usam_auto_track_async (model, image, &params, self->cancellable, on_track_progress, g_object_ref (self),
                         g_object_unref, on_tracked, g_object_ref (self));
  return TRUE;
}

gboolean
usam_lineage_view_is_tracking (UsamLineageView *self)
{
  return self->cancellable != NULL;
}

void
usam_lineage_view_cancel (UsamLineageView *self)
{
  if (self->cancellable)
    g_cancellable_cancel (self->cancellable);
}

/* ---- buttons ---- */

static void
report (UsamLineageView *self, gboolean ok, GError *error)
{
  if (!ok && error)
    message (self, error->message, TRUE);
}

static void
on_rename (UsamLineageView *self)
{
  g_autoptr (GError) error = NULL;
  report (self, usam_lineage_view_rename (self, gtk_editable_get_text (GTK_EDITABLE (self->name)), &error), error);
}

static void
on_delete (UsamLineageView *self)
{
  g_autoptr (GError) error = NULL;
  report (self, usam_lineage_view_delete (self, &error), error);
}

static void
on_split (UsamLineageView *self)
{
  g_autoptr (GError) error = NULL;
  report (self, usam_lineage_view_split (self, &error), error);
}

static void
on_join (UsamLineageView *self)
{
  g_autoptr (GError) error = NULL;
  report (self, usam_lineage_view_join (self, &error), error);
}

static void
on_divide (UsamLineageView *self)
{
  g_autoptr (GError) error = NULL;
  report (self, usam_lineage_view_divide (self, &error), error);
}

static void
on_track (UsamLineageView *self)
{
  g_autoptr (GError) error = NULL;
  report (self, usam_lineage_view_track (self, &error), error);
}

static void
folder_chosen (GtkNativeDialog *chooser, int response, gpointer user_data)
{
  g_autoptr (UsamLineageView) self = user_data;
  gboolean export = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (chooser), "export"));
  g_autoptr (GFile) file = response == GTK_RESPONSE_ACCEPT ? gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser))
                                                           : NULL;
  g_autofree char *path = file ? g_file_get_path (file) : NULL;
  g_autoptr (GError) error = NULL;
  if (path)
    report (self, export ? usam_lineage_view_export_ctc (self, path, &error)
                         : usam_lineage_view_import_ctc (self, path, &error), error);
  g_object_unref (chooser);
}

static void
choose_folder (UsamLineageView *self, gboolean export)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  GtkFileChooserNative *chooser = gtk_file_chooser_native_new (
      export ? "Export the tracks (CTC result folder)" : "Import a CTC result or ground truth folder",
      GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
      GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER, "_Select", "_Cancel");
  g_object_set_data (G_OBJECT (chooser), "export", GINT_TO_POINTER (export));
  g_signal_connect (chooser, "response", G_CALLBACK (folder_chosen), g_object_ref (self));
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

static void
on_import (UsamLineageView *self)
{
  choose_folder (self, FALSE);
}

static void
on_export (UsamLineageView *self)
{
  choose_folder (self, TRUE);
}

static GtkWidget *
button (UsamLineageView *self, const char *text, const char *tooltip, GCallback callback)
{
  GtkWidget *b = gtk_button_new_with_label (text);
  gtk_widget_set_tooltip_text (b, tooltip);
  g_signal_connect_swapped (b, "clicked", callback, self);
  return b;
}

static void
usam_lineage_view_init (UsamLineageView *self)
{
  self->tracks = g_ptr_array_new_with_free_func ((GDestroyNotify) usam_project_track_free);
  self->depths = g_array_new (FALSE, FALSE, sizeof (guint));
  gtk_orientable_set_orientation (GTK_ORIENTABLE (self), GTK_ORIENTATION_VERTICAL);
  gtk_box_set_spacing (GTK_BOX (self), 6);
  gtk_widget_set_size_request (GTK_WIDGET (self), 260, -1);
  gtk_widget_set_margin_start (GTK_WIDGET (self), 6);
  gtk_widget_set_margin_end (GTK_WIDGET (self), 6);

  self->track_button = GTK_BUTTON (button (self, "Track automatically",
                                           "Segment every frame (AIS) and link the objects into tracks with divisions",
                                           G_CALLBACK (on_track)));
  gtk_box_append (GTK_BOX (self), GTK_WIDGET (self->track_button));
  self->progress_box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 4);
  self->progress = GTK_PROGRESS_BAR (gtk_progress_bar_new ());
  gtk_widget_set_hexpand (GTK_WIDGET (self->progress), TRUE);
  gtk_widget_set_valign (GTK_WIDGET (self->progress), GTK_ALIGN_CENTER);
  gtk_box_append (GTK_BOX (self->progress_box), GTK_WIDGET (self->progress));
  GtkWidget *cancel = gtk_button_new_from_icon_name ("process-stop-symbolic");
  gtk_widget_set_tooltip_text (cancel, "Cancel automatic tracking (nothing is added)");
  g_signal_connect_swapped (cancel, "clicked", G_CALLBACK (usam_lineage_view_cancel), self);
  gtk_box_append (GTK_BOX (self->progress_box), cancel);
  gtk_widget_set_visible (self->progress_box, FALSE);
  gtk_box_append (GTK_BOX (self), self->progress_box);

  self->summary = GTK_LABEL (gtk_label_new (""));
  gtk_label_set_xalign (self->summary, 0);
  gtk_box_append (GTK_BOX (self), GTK_WIDGET (self->summary));
  self->list = GTK_LIST_BOX (gtk_list_box_new ());
  gtk_list_box_set_selection_mode (self->list, GTK_SELECTION_MULTIPLE);
  g_signal_connect_swapped (self->list, "selected-rows-changed", G_CALLBACK (on_selection_changed), self);
  GtkWidget *scroller = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scroller), GTK_WIDGET (self->list));
  gtk_widget_set_vexpand (scroller, TRUE);
  gtk_box_append (GTK_BOX (self), scroller);

  GtkWidget *rename = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 4);
  self->name = GTK_ENTRY (gtk_entry_new ());
  gtk_entry_set_placeholder_text (self->name, "Name");
  gtk_widget_set_hexpand (GTK_WIDGET (self->name), TRUE);
  g_signal_connect_swapped (self->name, "activate", G_CALLBACK (on_rename), self);
  gtk_box_append (GTK_BOX (rename), GTK_WIDGET (self->name));
  gtk_box_append (GTK_BOX (rename), button (self, "Rename", "Name the selected track", G_CALLBACK (on_rename)));
  gtk_box_append (GTK_BOX (self), rename);
  GtkWidget *actions = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 4);
  gtk_box_append (GTK_BOX (actions), button (self, "Delete", "Delete the selected track: all its objects",
                                             G_CALLBACK (on_delete)));
  gtk_box_append (GTK_BOX (actions),
                  button (self, "Divide here",
                          "Pick a daughter (this goes to the frame where the cell divided), Ctrl+click the mother "
                          "and the other daughter (or only the mother, when her track goes on as the other "
                          "daughter), then press this",
                          G_CALLBACK (on_divide)));
  gtk_box_append (GTK_BOX (self), actions);
  GtkWidget *mend = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 4);
  gtk_box_append (GTK_BOX (mend), button (self, "Split here",
                                          "The selected track ends before this frame; from here on it is a new "
                                          "track (its daughters go with it)",
                                          G_CALLBACK (on_split)));
  gtk_box_append (GTK_BOX (mend), button (self, "Join",
                                          "Two selected tracks that are one cell: the later goes on as the earlier",
                                          G_CALLBACK (on_join)));
  gtk_box_append (GTK_BOX (self), mend);
  GtkWidget *ctc = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 4);
  gtk_box_append (GTK_BOX (ctc), button (self, "Import CTC…",
                                         "Add a Cell Tracking Challenge result or ground truth (TRA) as tracks",
                                         G_CALLBACK (on_import)));
  gtk_box_append (GTK_BOX (ctc), button (self, "Export CTC…",
                                         "Write the tracks as a Cell Tracking Challenge result (maskTTT.tif, "
                                         "res_track.txt)", G_CALLBACK (on_export)));
  gtk_box_append (GTK_BOX (self), ctc);
}

static void
usam_lineage_view_dispose (GObject *object)
{
  UsamLineageView *self = USAM_LINEAGE_VIEW (object);
  if (self->cancellable)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  if (self->session)
    g_signal_handlers_disconnect_by_data (self->session, self);
  g_clear_object (&self->session);
  g_clear_object (&self->canvas);
  G_OBJECT_CLASS (usam_lineage_view_parent_class)->dispose (object);
}

static void
usam_lineage_view_finalize (GObject *object)
{
  UsamLineageView *self = USAM_LINEAGE_VIEW (object);
  g_ptr_array_unref (self->tracks);
  g_array_unref (self->depths);
  G_OBJECT_CLASS (usam_lineage_view_parent_class)->finalize (object);
}

static void
usam_lineage_view_class_init (UsamLineageViewClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = usam_lineage_view_dispose;
  G_OBJECT_CLASS (klass)->finalize = usam_lineage_view_finalize;
  signals[SIGNAL_MESSAGE] = g_signal_new ("message", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                                          NULL, G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_BOOLEAN);
}

GtkWidget *
usam_lineage_view_new (UsamSession *session, UsamCanvas *canvas)
{
  UsamLineageView *self = g_object_new (USAM_TYPE_LINEAGE_VIEW, NULL);
  self->session = g_object_ref (session);
  self->canvas = g_object_ref (canvas);
  g_signal_connect_swapped (session, "objects-changed", G_CALLBACK (rebuild), self);
  g_signal_connect_swapped (session, "image-changed", G_CALLBACK (rebuild), self);
  rebuild (self);
  return GTK_WIDGET (self);
}

GtkWidget *
usam_lineage_view_new_toggle (UsamLineageView *self)
{
  GtkWidget *toggle = gtk_toggle_button_new_with_label ("Lineage");
  gtk_widget_set_tooltip_text (toggle, "The tracks of a time-lapse as a lineage tree, in a side panel");
  g_object_bind_property (toggle, "active", self, "visible", G_BINDING_BIDIRECTIONAL | G_BINDING_SYNC_CREATE);
  return toggle;
}
