/* usam-engine.h — loading the SAM engine (libtorch) on demand.
 *
 * The engine is a shared module opened the first time a model is used, so
 * the application starts without paying for libtorch (a few hundred
 * milliseconds) and core can prepare the OpenMP environment first: libgomp
 * reads it once, when it is loaded, and its default of spinning threads
 * halves the speed of the engine on a machine with few cores.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Loads the engine if needed; thread-safe; cheap once loaded. */
gboolean usam_engine_load (GError **error);
gboolean usam_engine_is_loaded (void);
/* The module that was loaded, or NULL. */
const char *usam_engine_get_path (void);

G_END_DECLS
