/* usam-renderer.h — which GTK renderer draws the annotator. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Chooses GTK's renderer for this process before its first window is
 * realised: GTK's default (GL) unless the only GL is a software rasteriser
 * (Mesa's llvmpipe, softpipe or swrast: a machine without a GPU, a VM, a
 * remote session), where the cairo renderer draws the same window several
 * times faster. Returns the name of the GL renderer it found, or NULL when
 * there is no GL or GSK_RENDERER is set (then nothing is changed). Call it
 * on the main thread once GTK is initialised. */
char *usam_renderer_choose (void);

G_END_DECLS
