/* usam-image-png.c — PNG through libpng. */
/* fdopen(), fileno(): -std=c17 hides POSIX. */
#define _POSIX_C_SOURCE 200809L

#include "usam-image-private.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <png.h>
#include <stdio.h>
#include <string.h>

/* libpng reports errors by longjmp. Everything that must survive the jump
 * lives here, outside the function that calls setjmp(), so none of it is
 * left indeterminate. */
typedef struct
{
  FILE *file;
  png_structp png;
  png_infop info;
  gboolean writing;
  char *message;
  png_bytep *rows;
  UsamImage *image;
} PngState;

static void
png_state_clear (PngState *state)
{
  if (state->writing)
    png_destroy_write_struct (&state->png, &state->info);
  else
    png_destroy_read_struct (&state->png, &state->info, NULL);
  g_clear_pointer (&state->file, fclose);
  g_clear_pointer (&state->message, g_free);
  g_clear_pointer (&state->rows, g_free);
  g_clear_object (&state->image);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (PngState, png_state_clear)

static void
on_png_error (png_structp png, png_const_charp message)
{
  PngState *state = png_get_error_ptr (png);
  if (!state->message)
    state->message = g_strdup (message);
  png_longjmp (png, 1);
}

static void
on_png_warning (png_structp png, png_const_charp message)
{
  /* Benign (an unknown chunk, an sRGB profile nit): nothing to tell. */
}

static void
read_data (png_structp png, png_bytep data, size_t length)
{
  PngState *state = png_get_io_ptr (png);
  /* libpng's own reader says "Read Error" for both of these. */
  if (fread (data, 1, length, state->file) != length)
    png_error (png, ferror (state->file) ? g_strerror (errno) : "the file is truncated");
}

static gboolean
read_png (PngState *state, const char *path, GError **error)
{
  png_structp png = state->png;
  png_infop info = state->info;
  png_uint_32 width, height;
  int bit_depth, color_type;

  if (setjmp (png_jmpbuf (png)))
    {
      usam_image_set_error (error, USAM_ERROR_INVALID_DATA, path, "damaged PNG: %s",
                            state->message ? state->message : "unknown error");
      return FALSE;
    }

  png_set_read_fn (png, state, read_data);
  png_read_info (png, info);
  png_get_IHDR (png, info, &width, &height, &bit_depth, &color_type, NULL, NULL, NULL);

  if (color_type == PNG_COLOR_TYPE_PALETTE)
    {
      png_set_palette_to_rgb (png);
      /* A palette's tRNS is its alpha; on grey or RGB it only marks one
       * value as a key colour, which is data in microscopy. */
      if (png_get_valid (png, info, PNG_INFO_tRNS))
        png_set_tRNS_to_alpha (png);
    }
  else if (bit_depth < 8)
    png_set_expand_gray_1_2_4_to_8 (png);
  if (bit_depth == 16 && G_BYTE_ORDER == G_LITTLE_ENDIAN)
    png_set_swap (png);
  png_set_interlace_handling (png);
  png_read_update_info (png, info);

  guint channels = png_get_channels (png, info);
  gboolean wide = png_get_bit_depth (png, info) == 16;
  UsamPixelType type = wide ? USAM_PIXEL_TYPE_U16 : USAM_PIXEL_TYPE_U8;
  state->image = usam_image_new_for_reading (path, type, width, height, channels, 1, 1, error);
  if (!state->image)
    return FALSE;

  gsize stride = usam_image_get_plane_size (state->image) / height;
  if (png_get_rowbytes (png, info) != stride)
    {
      usam_image_set_error (error, USAM_ERROR_INVALID_DATA, path, "unexpected PNG row size");
      return FALSE;
    }
  state->rows = g_try_new (png_bytep, height);
  if (!state->rows)
    {
      usam_image_set_error (error, USAM_ERROR_FAILED, path, "not enough memory");
      return FALSE;
    }
  guint8 *data = usam_image_get_plane_mutable (state->image, 0, 0);
  for (png_uint_32 y = 0; y < height; y++)
    state->rows[y] = data + (gsize) y * stride;
  png_read_image (png, state->rows);
  /* Also checks the CRCs of the chunks after the pixels. */
  png_read_end (png, NULL);
  return TRUE;
}

UsamImage *
usam_image_load_png (const char *path, GCancellable *cancellable, GError **error)
{
  g_auto (PngState) state = { NULL };

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;
  state.file = g_fopen (path, "rbe");
  if (!state.file)
    {
      int saved = errno;
      usam_image_set_error (error, saved == ENOENT ? USAM_ERROR_NOT_FOUND : USAM_ERROR_IO, path, "cannot open: %s",
                            g_strerror (saved));
      return NULL;
    }
  state.png = png_create_read_struct (PNG_LIBPNG_VER_STRING, &state, on_png_error, on_png_warning);
  if (state.png)
    state.info = png_create_info_struct (state.png);
  if (!state.png || !state.info)
    {
      usam_image_set_error (error, USAM_ERROR_FAILED, path, "not enough memory");
      return NULL;
    }
  if (!read_png (&state, path, error))
    return NULL;
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;
  return g_steal_pointer (&state.image);
}

static gboolean
write_png (PngState *state, UsamImage *self, const char *path, GError **error)
{
  static const int color_types[] = {
    PNG_COLOR_TYPE_GRAY,
    PNG_COLOR_TYPE_GRAY_ALPHA,
    PNG_COLOR_TYPE_RGB,
    PNG_COLOR_TYPE_RGB_ALPHA,
  };
  png_structp png = state->png;
  png_infop info = state->info;
  guint width = usam_image_get_width (self);
  guint height = usam_image_get_height (self);
  guint channels = usam_image_get_channels (self);
  gboolean wide = usam_image_get_pixel_type (self) == USAM_PIXEL_TYPE_U16;
  const guint8 *data = usam_image_get_plane (self, 0, 0);
  gsize stride = usam_image_get_plane_size (self) / height;

  if (setjmp (png_jmpbuf (png)))
    {
      usam_image_set_error (error, USAM_ERROR_IO, path, "cannot write: %s",
                            state->message ? state->message : "unknown error");
      return FALSE;
    }

  png_init_io (png, state->file);
  png_set_IHDR (png, info, width, height, wide ? 16 : 8, color_types[channels - 1], PNG_INTERLACE_NONE,
                PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info (png, info);
  if (wide && G_BYTE_ORDER == G_LITTLE_ENDIAN)
    png_set_swap (png);
  for (guint y = 0; y < height; y++)
    png_write_row (png, data + (gsize) y * stride);
  png_write_end (png, NULL);
  return TRUE;
}

gboolean
usam_image_save_png (UsamImage *self, const char *path, GError **error)
{
  g_return_val_if_fail (USAM_IS_IMAGE (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  UsamPixelType type = usam_image_get_pixel_type (self);
  guint channels = usam_image_get_channels (self);
  guint depth = usam_image_get_depth (self);
  guint frames = usam_image_get_frames (self);
  if (type != USAM_PIXEL_TYPE_U8 && type != USAM_PIXEL_TYPE_U16)
    {
      usam_image_set_error (error, USAM_ERROR_UNSUPPORTED, path, "PNG holds 8- or 16-bit unsigned samples, not %s",
                            usam_pixel_type_to_string (type));
      return FALSE;
    }
  if (channels > 4)
    {
      usam_image_set_error (error, USAM_ERROR_INVALID_ARGUMENT, path, "PNG holds 1 to 4 channels, not %u", channels);
      return FALSE;
    }
  if (depth != 1 || frames != 1)
    {
      usam_image_set_error (error, USAM_ERROR_INVALID_ARGUMENT, path,
                            "PNG holds one 2D plane, not depth %u × %u frames; save as TIFF", depth, frames);
      return FALSE;
    }

  g_auto (PngState) state = { .writing = TRUE };
  g_autofree char *tmp_path = NULL;
  int fd = usam_image_open_temporary (path, &tmp_path, error);
  if (fd < 0)
    return FALSE;
  state.file = fdopen (fd, "wb");
  if (!state.file)
    {
      int saved = errno;
      g_close (fd, NULL);
      usam_image_discard_temporary (tmp_path);
      usam_image_set_error (error, USAM_ERROR_IO, path, "cannot write: %s", g_strerror (saved));
      return FALSE;
    }
  state.png = png_create_write_struct (PNG_LIBPNG_VER_STRING, &state, on_png_error, on_png_warning);
  if (state.png)
    state.info = png_create_info_struct (state.png);
  if (!state.png || !state.info)
    {
      usam_image_discard_temporary (tmp_path);
      usam_image_set_error (error, USAM_ERROR_FAILED, path, "not enough memory");
      return FALSE;
    }

  gboolean ok = write_png (&state, self, path, error);
  /* On disk before the rename, or a crash could leave an empty file in
   * place of the old one. */
  if (ok && (fflush (state.file) != 0 || g_fsync (fileno (state.file)) != 0))
    {
      usam_image_set_error (error, USAM_ERROR_IO, path, "cannot write: %s", g_strerror (errno));
      ok = FALSE;
    }
  FILE *file = g_steal_pointer (&state.file);
  if (fclose (file) != 0 && ok)
    {
      usam_image_set_error (error, USAM_ERROR_IO, path, "cannot write: %s", g_strerror (errno));
      ok = FALSE;
    }
  if (!ok)
    {
      usam_image_discard_temporary (tmp_path);
      return FALSE;
    }
  if (!usam_image_commit_temporary (tmp_path, path, error))
    return FALSE;
  usam_image_set_path (self, path);
  return TRUE;
}
