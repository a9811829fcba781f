#include "usam-renderer.h"

#include <epoxy/gl.h>
#include <gtk/gtk.h>
#include <string.h>

static gboolean
is_software (const char *renderer)
{
  static const char *const names[] = { "llvmpipe", "softpipe", "swrast", "Software Rasterizer" };
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    if (strstr (renderer, names[i]))
      return TRUE;
  return FALSE;
}

char *
usam_renderer_choose (void)
{
  GdkDisplay *display = gdk_display_get_default ();
  if (!display || g_getenv ("GSK_RENDERER"))
    return NULL;
  g_autoptr (GdkGLContext) context = gdk_display_create_gl_context (display, NULL);
  if (!context || !gdk_gl_context_realize (context, NULL))
    return NULL;
  gdk_gl_context_make_current (context);
  const char *renderer = (const char *) glGetString (GL_RENDERER);
  char *name = g_strdup (renderer ? renderer : "");
  gdk_gl_context_clear_current ();
  /* Measured under Xvfb with llvmpipe on two cores (test-annotator's timing
   * case): GL 0.2 s to map the window with Mesa's shader cache warm (1.1 s
   * cold, compiling GSK's shaders), 57–61 ms from a prompt to its mask on
   * screen, and a 30–70 ms frame whenever anything outside the canvas
   * changed during an embedding; cairo 65 ms, 34 ms and ≤ 20 ms. GSK reads
   * the variable when it makes its first renderer. */
  if (is_software (name))
    g_setenv ("GSK_RENDERER", "cairo", FALSE);
  return name;
}
