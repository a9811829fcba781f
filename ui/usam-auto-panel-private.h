/* usam-auto-panel-private.h — what usam-auto-panel.c shares with
 * usam-auto-panel-volume.c (automatic 3D). */
#pragma once

#include "usam-auto-panel.h"

G_BEGIN_DECLS

/* Entries of the parameter table (checked in usam-auto-panel.c). */
#define USAM_AUTO_PANEL_N_PARAMS 19

struct _UsamAutoPanel
{
  GtkBox parent_instance;

  UsamCanvas *canvas;   /* not owned: the window's */
  UsamSession *session; /* owned */
  UsamAutoSegmenter *segmenter;

  UsamModel *model; /* the one the presets came from; not owned, compared only */
  gboolean has_decoder;
  UsamAutoParams params;
  gboolean updating; /* writing params into the widgets: no re-run */

  GtkDropDown *mode;
  GtkStack *pages;
  GtkWidget *widgets[USAM_AUTO_PANEL_N_PARAMS];
  GtkWidget *progress_box, *commit_button, *volume_button;
  GtkProgressBar *progress;
  GtkLabel *status;

  guint debounce;
  gboolean wanted; /* a run is due once the embedding is there */
  GCancellable *cancellable;
  guint generation; /* of the run whose result counts */
  gboolean running;
  UsamAutoResult *result;
  UsamImage *volume_image; /* while automatic 3D runs on it; compared only */
};

/* A run's claim on the panel: its result counts while the panel's
 * generation is still its own. */
typedef struct
{
  UsamAutoPanel *self; /* a reference */
  guint generation;
} RunTicket;

RunTicket *usam_auto_panel_ticket_new (UsamAutoPanel *self);
void usam_auto_panel_ticket_free (gpointer ticket);
/* A UsamProgressFunc taking a RunTicket. */
void usam_auto_panel_on_run_progress (double fraction, gpointer ticket);

void usam_auto_panel_message (UsamAutoPanel *self, const char *text, gboolean is_error);
void usam_auto_panel_set_status (UsamAutoPanel *self, const char *text);
void usam_auto_panel_update_buttons (UsamAutoPanel *self);
void usam_auto_panel_emit_finished (UsamAutoPanel *self);
/* The automatic 3D button's handler (usam-auto-panel-volume.c). */
void usam_auto_panel_on_volume_clicked (GtkButton *button, UsamAutoPanel *self);

G_END_DECLS
