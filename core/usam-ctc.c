/* usam-ctc.c — Cell Tracking Challenge files: track tables and label
 * sequences (the measures are in usam-ctc-measures.c). */
#include "usam-ctc.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

#include "usam-error.h"

/* ---- the track table ---- */

GArray *
usam_ctc_tracks_load (const char *path, GError **error)
{
  g_autofree char *text = NULL;
  g_autoptr (GError) local = NULL;
  if (!g_file_get_contents (path, &text, NULL, &local))
    {
      g_set_error (error, USAM_ERROR, g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT) ?
                   USAM_ERROR_NOT_FOUND : USAM_ERROR_IO, "%s: %s", path, local->message);
      return NULL;
    }
  g_autoptr (GArray) tracks = g_array_new (FALSE, FALSE, sizeof (UsamCtcTrack));
  g_autoptr (GHashTable) seen = g_hash_table_new (g_direct_hash, g_direct_equal);
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  for (guint l = 0; lines[l]; l++)
    {
      /* The reference reads whitespace-separated tokens; a line holds one
       * track in every file the challenge publishes, so errors name lines. */
      g_auto (GStrv) tokens = g_strsplit_set (g_strstrip (lines[l]), " \t\r", -1);
      guint64 v[4];
      guint n = 0;
      for (guint i = 0; tokens[i]; i++)
        {
          if (!*tokens[i])
            continue;
          char *end = NULL;
          errno = 0;
          guint64 value = g_ascii_strtoull (tokens[i], &end, 10);
          if (n == 4 || *end || errno || tokens[i][0] == '-' || value > G_MAXUINT32)
            {
              g_set_error (error, USAM_ERROR, USAM_ERROR_INVALID_DATA,
                           "%s: line %u: expected four non-negative integers 'label begin end parent'", path, l + 1);
              return NULL;
            }
          v[n++] = value;
        }
      if (n == 0)
        continue;
      if (n != 4)
        {
          g_set_error (error, USAM_ERROR, USAM_ERROR_INVALID_DATA,
                       "%s: line %u: expected four integers 'label begin end parent', found %u", path, l + 1, n);
          return NULL;
        }
      UsamCtcTrack track = { (guint32) v[0], (guint) v[1], (guint) v[2], (guint32) v[3] };
      if (track.label == 0 || track.begin > track.end)
        {
          g_set_error (error, USAM_ERROR, USAM_ERROR_INVALID_DATA, "%s: line %u: %s", path, l + 1,
                       track.label == 0 ? "label 0 is the background, not a track" : "the track ends before it begins");
          return NULL;
        }
      if (!g_hash_table_add (seen, GUINT_TO_POINTER (track.label)))
        {
          g_set_error (error, USAM_ERROR, USAM_ERROR_INVALID_DATA, "%s: line %u: track %u appears twice", path, l + 1,
                       track.label);
          return NULL;
        }
      g_array_append_val (tracks, track);
    }
  return g_steal_pointer (&tracks);
}

gboolean
usam_ctc_tracks_save (const char *path, const UsamCtcTrack *tracks, guint n_tracks, GError **error)
{
  g_autoptr (GString) text = g_string_new (NULL);
  for (guint i = 0; i < n_tracks; i++)
    g_string_append_printf (text, "%u %u %u %u\n", tracks[i].label, tracks[i].begin, tracks[i].end, tracks[i].parent);
  g_autoptr (GError) local = NULL;
  if (!g_file_set_contents (path, text->str, (gssize) text->len, &local))
    {
      g_set_error (error, USAM_ERROR, USAM_ERROR_IO, "%s: %s", path, local->message);
      return FALSE;
    }
  return TRUE;
}

/* ---- label sequences ---- */

gboolean
usam_ctc_get_frame_labels (UsamImage *labels, guint t, guint32 *out, GError **error)
{
  guint w = usam_image_get_width (labels), h = usam_image_get_height (labels);
  guint depth = usam_image_get_depth (labels);
  UsamPixelType type = usam_image_get_pixel_type (labels);
  if (usam_image_get_channels (labels) != 1 || type == USAM_PIXEL_TYPE_F32 || type == USAM_PIXEL_TYPE_F64)
    {
      g_set_error (error, USAM_ERROR, USAM_ERROR_INVALID_DATA, "%s: a label image must have one integer channel",
                   usam_image_get_path (labels) ? usam_image_get_path (labels) : "labels");
      return FALSE;
    }
  if (t >= usam_image_get_frames (labels))
    {
      g_set_error (error, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT, "frame %u of %u", t,
                   usam_image_get_frames (labels));
      return FALSE;
    }
  gsize n = (gsize) w * h;
  for (guint z = 0; z < depth; z++)
    {
      const void *plane = usam_image_get_plane (labels, t, z);
      guint32 *dst = out + z * n;
      gboolean negative = FALSE;
      switch (type)
        {
        case USAM_PIXEL_TYPE_U8:
          for (gsize i = 0; i < n; i++)
            dst[i] = ((const guint8 *) plane)[i];
          break;
        case USAM_PIXEL_TYPE_U16:
          for (gsize i = 0; i < n; i++)
            dst[i] = ((const guint16 *) plane)[i];
          break;
        case USAM_PIXEL_TYPE_I16:
          for (gsize i = 0; i < n; i++)
            {
              gint16 v = ((const gint16 *) plane)[i];
              negative |= v < 0;
              dst[i] = (guint32) MAX (v, 0);
            }
          break;
        case USAM_PIXEL_TYPE_U32:
          memcpy (dst, plane, n * sizeof (guint32));
          break;
        case USAM_PIXEL_TYPE_I32:
          for (gsize i = 0; i < n; i++)
            {
              gint32 v = ((const gint32 *) plane)[i];
              negative |= v < 0;
              dst[i] = (guint32) MAX (v, 0);
            }
          break;
        default:
          g_assert_not_reached ();
        }
      if (negative)
        {
          g_set_error (error, USAM_ERROR, USAM_ERROR_INVALID_DATA, "%s: negative labels",
                       usam_image_get_path (labels) ? usam_image_get_path (labels) : "labels");
          return FALSE;
        }
    }
  return TRUE;
}

GArray *
usam_ctc_tracks_from_labels (UsamImage *labels, GError **error)
{
  guint frames = usam_image_get_frames (labels);
  gsize n = (gsize) usam_image_get_width (labels) * usam_image_get_height (labels) * usam_image_get_depth (labels);
  g_autofree guint32 *buf = g_new (guint32, n);
  /* label → index + 1 into @tracks */
  g_autoptr (GHashTable) index = g_hash_table_new (g_direct_hash, g_direct_equal);
  g_autoptr (GArray) tracks = g_array_new (FALSE, FALSE, sizeof (UsamCtcTrack));
  for (guint t = 0; t < frames; t++)
    {
      if (!usam_ctc_get_frame_labels (labels, t, buf, error))
        return NULL;
      guint32 last = 0;
      for (gsize i = 0; i < n; i++)
        {
          guint32 v = buf[i];
          if (v == 0 || v == last)
            continue;
          last = v;
          guint k = GPOINTER_TO_UINT (g_hash_table_lookup (index, GUINT_TO_POINTER (v)));
          if (k == 0)
            {
              UsamCtcTrack track = { v, t, t, 0 };
              g_array_append_val (tracks, track);
              g_hash_table_insert (index, GUINT_TO_POINTER (v), GUINT_TO_POINTER (tracks->len));
              continue;
            }
          UsamCtcTrack *track = &g_array_index (tracks, UsamCtcTrack, k - 1);
          if (track->end == t)
            continue;
          if (track->end + 1 != t)
            {
              g_set_error (error, USAM_ERROR, USAM_ERROR_INVALID_DATA,
                           "label %u is absent from frame %u to %u; a track must be contiguous in time", v,
                           track->end + 1, t - 1);
              return NULL;
            }
          track->end = t;
        }
    }
  return g_steal_pointer (&tracks);
}

static char *
frame_path (const char *dir, const char *prefix, guint digits, guint t)
{
  g_autofree char *name = g_strdup_printf ("%s%0*u.tif", prefix, (int) digits, t);
  return g_build_filename (dir, name, NULL);
}

UsamImage *
usam_ctc_frames_load (const char *dir, const char *prefix, guint n_frames, GError **error)
{
  guint digits = 3;
  {
    g_autofree char *p3 = frame_path (dir, prefix, 3, 0);
    g_autofree char *p4 = frame_path (dir, prefix, 4, 0);
    if (!g_file_test (p3, G_FILE_TEST_EXISTS) && g_file_test (p4, G_FILE_TEST_EXISTS))
      digits = 4;
  }
  g_autoptr (GPtrArray) images = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint t = 0; n_frames == 0 || t < n_frames; t++)
    {
      g_autofree char *path = frame_path (dir, prefix, digits, t);
      if (!g_file_test (path, G_FILE_TEST_EXISTS))
        {
          if (n_frames == 0 && t > 0)
            break;
          g_set_error (error, USAM_ERROR, USAM_ERROR_NOT_FOUND, "%s: no such file (%u frames expected)", path,
                       MAX (n_frames, 1));
          return NULL;
        }
      UsamImage *image = usam_image_load (path, error);
      if (!image)
        return NULL;
      g_ptr_array_add (images, image);
      UsamImage *first = images->pdata[0];
      if (usam_image_get_frames (image) != 1 || usam_image_get_channels (image) != 1 ||
          usam_image_get_width (image) != usam_image_get_width (first) ||
          usam_image_get_height (image) != usam_image_get_height (first) ||
          usam_image_get_depth (image) != usam_image_get_depth (first))
        {
          g_set_error (error, USAM_ERROR, USAM_ERROR_INVALID_DATA,
                       "%s: %u×%u×%u, %u channels, %u frames; expected one frame of one channel, %u×%u×%u like frame 0",
                       path, usam_image_get_width (image), usam_image_get_height (image), usam_image_get_depth (image),
                       usam_image_get_channels (image), usam_image_get_frames (image), usam_image_get_width (first),
                       usam_image_get_height (first), usam_image_get_depth (first));
          return NULL;
        }
    }
  UsamImage *first = images->pdata[0];
  g_autoptr (UsamImage) stack
    = usam_image_new (USAM_PIXEL_TYPE_U32, usam_image_get_width (first), usam_image_get_height (first), 1,
                      usam_image_get_depth (first), images->len, error);
  if (!stack)
    return NULL;
  for (guint t = 0; t < images->len; t++)
    if (!usam_ctc_get_frame_labels (images->pdata[t], 0, usam_image_get_plane_mutable (stack, t, 0), error))
      return NULL;
  return g_steal_pointer (&stack);
}

gboolean
usam_ctc_result_save (const char *dir, UsamImage *labels, const UsamCtcTrack *tracks, guint n_tracks,
                      GError **error)
{
  if (g_mkdir_with_parents (dir, 0755) != 0)
    {
      int saved = errno;
      g_set_error (error, USAM_ERROR, USAM_ERROR_IO, "%s: %s", dir, g_strerror (saved));
      return FALSE;
    }
  guint w = usam_image_get_width (labels), h = usam_image_get_height (labels), d = usam_image_get_depth (labels);
  guint frames = usam_image_get_frames (labels);
  gsize n = (gsize) w * h * d;
  g_autofree guint32 *buf = g_new (guint32, n);
  for (guint t = 0; t < frames; t++)
    {
      if (!usam_ctc_get_frame_labels (labels, t, buf, error))
        return FALSE;
      g_autoptr (UsamImage) frame = usam_image_new (USAM_PIXEL_TYPE_U16, w, h, 1, d, 1, error);
      if (!frame)
        return FALSE;
      guint16 *dst = usam_image_get_plane_mutable (frame, 0, 0);
      for (gsize i = 0; i < n; i++)
        {
          if (buf[i] > G_MAXUINT16)
            {
              g_set_error (error, USAM_ERROR, USAM_ERROR_UNSUPPORTED,
                           "label %u in frame %u: the CTC format holds 16-bit labels", buf[i], t);
              return FALSE;
            }
          dst[i] = (guint16) buf[i];
        }
      g_autofree char *path = frame_path (dir, "mask", frames > 1000 ? 4 : 3, t);
      if (!usam_image_save_tiff (frame, path, error))
        return FALSE;
    }
  g_autofree char *track_path = g_build_filename (dir, "res_track.txt", NULL);
  return usam_ctc_tracks_save (track_path, tracks, n_tracks, error);
}
