/* test-annotator-models.c — the Model button's list under Xvfb: models laid
 * out where torch and micro-sam keep them are listed with what they are, the
 * missing and the unreadable ones are shown but not offered, and choosing a
 * μSAM model loads it with its separate AIS decoder. The popover is saved
 * under tests/artefacts/.
 */
#include <string.h>

#include <glib/gstdio.h>

#include "usam-model-chooser.h"
#include "usam-test-gui.h"
#include "usam-window.h"

static const char *chosen_path;

static gboolean
listed (gpointer data)
{
  return !usam_model_chooser_is_listing (data);
}

static gboolean
chosen_model_loaded (gpointer data)
{
  UsamModel *model = usam_session_get_model (usam_window_get_session (data));
  return model && g_strcmp0 (usam_model_get_path (model), chosen_path) == 0;
}

static UsamModelChooser *
find_chooser (GtkWidget *root)
{
  if (USAM_IS_MODEL_CHOOSER (root))
    return USAM_MODEL_CHOOSER (root);
  for (GtkWidget *child = gtk_widget_get_first_child (root); child; child = gtk_widget_get_next_sibling (child))
    {
      UsamModelChooser *found = find_chooser (child);
      if (found)
        return found;
    }
  return NULL;
}

static GtkListBoxRow *
row_of (UsamModelChooser *chooser, const char *name)
{
  GtkListBoxRow *row = usam_model_chooser_get_row (chooser, name);
  ck_assert_msg (row != NULL, "no row for %s", name);
  return row;
}

START_TEST (test_choose_known_model)
{
  usam_test_gui_setup ();
  g_autofree char *micro_sam = g_build_filename (usam_test_tmpdir (), "micro_sam", NULL);
  g_autofree char *torch = g_build_filename (usam_test_tmpdir (), "torch", NULL);
  g_setenv ("MICROSAM_CACHEDIR", micro_sam, TRUE);
  g_setenv ("TORCH_HOME", torch, TRUE);

  /* vit_b_lm as micro-sam's cache holds it: the model, its decoder beside it. */
  g_autofree char *models = g_build_filename (micro_sam, "models", NULL);
  g_autofree char *lm = g_build_filename (models, "vit_b_lm", NULL);
  g_autofree char *lm_decoder = g_build_filename (models, "vit_b_lm_decoder", NULL);
  g_autoptr (GError) error = NULL;
  ck_assert_int_eq (g_mkdir_with_parents (models, 0755), 0);
  {
    g_autoptr (UsamModel) random = usam_test_tiny_model_with (256, "interpolation", 5);
    ck_assert_msg (usam_model_save (random, lm, FALSE, &error), "%s", error ? error->message : "");
    ck_assert_msg (usam_model_save_decoder (random, lm_decoder, &error), "%s", error ? error->message : "");
  }
  /* An interrupted download of ViT-H. */
  g_autofree char *hub = g_build_filename (torch, "hub", "checkpoints", NULL);
  ck_assert_int_eq (g_mkdir_with_parents (hub, 0755), 0);
  g_autofree char *vit_h = g_build_filename (hub, "sam_vit_h_4b8939.pth", NULL);
  ck_assert (g_file_set_contents (vit_h, "PK\003\004 cut short", -1, NULL));

  UsamWindow *window = usam_test_new_window (900, 700);
  g_autofree char *sample = usam_test_source_path ("data/samples/nuclei.tif");
  ck_assert (usam_window_open (window, sample, NULL));
  UsamModelChooser *chooser = find_chooser (GTK_WIDGET (window));
  ck_assert_ptr_nonnull (chooser);

  usam_model_chooser_popup (chooser);
  usam_test_wait_for (listed, chooser, "the list of models");
  GtkWidget *popover = usam_model_chooser_get_popover (chooser);
  usam_test_wait_for (usam_test_is_mapped, popover, "the popover");
  usam_test_settle ();
  g_autoptr (GdkTexture) shot = usam_test_render_widget (popover, popover, "model-chooser.png");
  ck_assert_int_gt (gdk_texture_get_height (shot), 200);

  /* Installed and readable: offered. Missing or damaged: shown, not offered. */
  ck_assert (gtk_widget_get_sensitive (GTK_WIDGET (row_of (chooser, "usam-starter.pt"))));
  ck_assert (gtk_widget_get_sensitive (GTK_WIDGET (row_of (chooser, "vit_b_lm"))));
  ck_assert (!gtk_widget_get_sensitive (GTK_WIDGET (row_of (chooser, "vit_l_lm"))));
  ck_assert (!gtk_widget_get_sensitive (GTK_WIDGET (row_of (chooser, "sam_vit_h_4b8939.pth"))));
  ck_assert (!gtk_widget_get_sensitive (GTK_WIDGET (row_of (chooser, "sam_vit_b_01ec64.pth"))));

  chosen_path = lm;
  gtk_widget_activate (GTK_WIDGET (row_of (chooser, "vit_b_lm")));
  usam_test_wait_for (chosen_model_loaded, window, "the chosen model");
  UsamModel *model = usam_session_get_model (usam_window_get_session (window));
  ck_assert (usam_model_has_decoder (model));
  ck_assert_str_eq (usam_model_get_decoder_path (model), lm_decoder);
  ck_assert (!gtk_widget_get_mapped (popover));
  usam_test_wait_for (usam_test_has_embedding, window, "the embedding with the chosen model");

  /* The list marks the model in use. */
  usam_model_chooser_popup (chooser);
  usam_test_wait_for (listed, chooser, "the list of models, again");
  GtkWidget *line = gtk_widget_get_first_child (gtk_list_box_row_get_child (row_of (chooser, "vit_b_lm")));
  ck_assert (GTK_IS_IMAGE (gtk_widget_get_last_child (line)));
  line = gtk_widget_get_first_child (gtk_list_box_row_get_child (row_of (chooser, "usam-starter.pt")));
  ck_assert (!GTK_IS_IMAGE (gtk_widget_get_last_child (line)));
  gtk_popover_popdown (GTK_POPOVER (popover));
  gtk_window_destroy (GTK_WINDOW (window));
  usam_test_settle ();
}
END_TEST

int
main (void)
{
  Suite *suite = suite_create ("annotator-models");
  TCase *tc = usam_test_tcase_new ("chooser");
  tcase_add_test (tc, test_choose_known_model);
  suite_add_tcase (suite, tc);
  return usam_test_gui_run (suite);
}
