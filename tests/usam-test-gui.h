/* usam-test-gui.h — what the annotator's GUI suites (suite "gui", under
 * Xvfb) share: waiting on the main loop, windows, models and rendering. */
#pragma once

#include "usam-test-util.h"
#include "usam-window.h"

G_BEGIN_DECLS

/* How long usam_test_wait_for() waits before failing the test. */
#define USAM_TEST_WAIT_SECONDS 300

typedef gboolean (*UsamTestCondition) (gpointer data);

/* Runs the main loop until @condition holds; fails the test after
 * @seconds. Polled, not blocking: some conditions change on worker threads
 * (a last reference dropped there) and wake no main loop, and a run that
 * never reports must still time out. */
void usam_test_wait_within (double seconds, UsamTestCondition condition, gpointer data, const char *what);
/* The same, within USAM_TEST_WAIT_SECONDS. */
void usam_test_wait_for (UsamTestCondition condition, gpointer data, const char *what);
/* Lets pending layout and drawing happen. */
void usam_test_settle (void);

/* Conditions. @data is a GtkWidget for is_mapped, a UsamWindow for the rest. */
gboolean usam_test_is_mapped (gpointer data);
gboolean usam_test_image_shown (gpointer data);
gboolean usam_test_has_image (gpointer data);
gboolean usam_test_has_embedding (gpointer data);

/* Keeps the user's data and cache folders (where the projects of opened
 * images and the embeddings go) in the test's temporary directory. */
void usam_test_set_xdg_dirs (void);
/* usam_test_set_xdg_dirs(), and GTK initialised. */
void usam_test_gui_setup (void);
/* usam_test_run() for a suite that opens windows. */
int usam_test_gui_run (Suite *suite);

/* The "tiny" preset with random weights (seed 3). */
UsamModel *usam_test_tiny_model (void);
/* The "tiny" preset from its architecture: @img_size 0 keeps the preset's,
 * @ais_variant NULL has no AIS decoder. */
UsamModel *usam_test_tiny_model_with (guint img_size, const char *ais_variant, guint64 seed);

/* A new annotator window of @width × @height, presented and mapped. */
UsamWindow *usam_test_new_window (int width, int height);
/* The committed objects of the window's current image. */
GPtrArray *usam_test_objects_of (UsamWindow *window);

/* @widget of @native as drawn by its renderer, saved under the build tree
 * (tests/artefacts/) as @artefact. */
GdkTexture *usam_test_render_widget (GtkWidget *native, GtkWidget *widget, const char *artefact);
/* The window's canvas, rendered likewise. */
GdkTexture *usam_test_render_canvas (UsamWindow *window, const char *artefact);
/* The colour drawn at image pixel (@x, @y) of a rendered canvas, as 8-bit RGB. */
void usam_test_pixel_at (UsamWindow *window, GdkTexture *texture, double x, double y, int rgb[3]);
gboolean usam_test_is_grey (const int rgb[3]);

G_END_DECLS
