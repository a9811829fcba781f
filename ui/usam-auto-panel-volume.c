/* usam-auto-panel-volume.c — automatic 3D from the automatic panel (see
 * usam_auto_panel_run_volume()). */
#include "usam-auto-panel-private.h"

#include <string.h>

#include "usam-ais-stack.h"
#include "usam-error.h"

static void
on_volume_done (GObject *source, GAsyncResult *res, gpointer user_data)
{
  RunTicket *ticket = user_data;
  UsamAutoPanel *self = ticket->self;
  g_autoptr (GError) error = NULL;
  guint n = 0;
  g_autoptr (UsamImage) labels = usam_ais_segment_volume_finish (res, &n, &error);
  if (ticket->generation == self->generation && self->session)
    {
      self->running = FALSE;
      self->volume_image = NULL;
      g_clear_object (&self->cancellable);
      UsamImage *image = usam_session_get_image (self->session);
      UsamProject *project = usam_session_get_project (self->session);
      guint added = 0;
      if (labels && image && project)
        {
          /* The project takes labels of the whole image: frame t of them. */
          guint frames = usam_image_get_frames (image), t = usam_session_get_t (self->session);
          g_autoptr (UsamImage) full = frames > 1 ? usam_image_new (USAM_PIXEL_TYPE_U32, usam_image_get_width (image),
                                                                    usam_image_get_height (image), 1,
                                                                    usam_image_get_depth (image), frames, &error)
                                                  : g_object_ref (labels);
          if (full && frames > 1)
            memcpy (usam_image_get_plane_mutable (full, t, 0), usam_image_get_plane (labels, 0, 0),
                    usam_image_get_plane_size (labels) * usam_image_get_depth (labels));
          if (full && usam_project_add_labels (project, usam_session_get_image_id (self->session), full,
                                               USAM_OBJECT_SOURCE_AUTOMATIC, "automatic 3D", &added, &error))
            {
              usam_session_reload (self->session);
              g_autofree char *text = g_strdup_printf ("%u objects through %u slices added (one undo step)", n,
                                                       usam_image_get_depth (image));
              usam_auto_panel_set_status (self, text);
              usam_auto_panel_message (self, text, FALSE);
            }
        }
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        usam_auto_panel_set_status (self, "Cancelled: nothing was added");
      else if (error)
        {
          usam_auto_panel_set_status (self, "Failed");
          usam_auto_panel_message (self, error->message, TRUE);
        }
      usam_auto_panel_update_buttons (self);
      usam_auto_panel_emit_finished (self);
    }
  usam_auto_panel_ticket_free (ticket);
}

gboolean
usam_auto_panel_run_volume (UsamAutoPanel *self, GError **error)
{
  UsamImage *image = usam_session_get_image (self->session);
  UsamModel *model = usam_session_get_model (self->session);
  if (!image || usam_image_get_depth (image) < 2)
    {
      g_set_error_literal (error, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT, "Automatic 3D needs a volume.");
      return FALSE;
    }
  if (!model || !usam_model_has_decoder (model))
    {
      g_set_error_literal (error, USAM_ERROR, USAM_ERROR_UNSUPPORTED,
                           "Automatic 3D runs AIS on every slice: choose a model with an AIS decoder.");
      return FALSE;
    }
  usam_auto_panel_cancel (self);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  self->running = TRUE;
  self->volume_image = image;
  self->generation++;
  gtk_progress_bar_set_fraction (self->progress, 0);
  usam_auto_panel_set_status (self, "Segmenting every slice…");
  usam_auto_panel_update_buttons (self);
  usam_ais_segment_volume_async (model, image, usam_session_get_t (self->session), &self->params.ais, NULL,
                                 USAM_NORMALIZE_MINMAX, usam_auto_panel_on_run_progress, usam_auto_panel_ticket_new (self), usam_auto_panel_ticket_free,
                                 self->cancellable, on_volume_done, usam_auto_panel_ticket_new (self));
  return TRUE;
}

void
usam_auto_panel_on_volume_clicked (GtkButton *button, UsamAutoPanel *self)
{
  g_autoptr (GError) error = NULL;
  if (!usam_auto_panel_run_volume (self, &error))
    usam_auto_panel_message (self, error->message, TRUE);
}
