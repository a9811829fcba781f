/* usam-engine-private.h — between the engine loader and its generated trampolines. */
#pragma once

#include <glib.h>

#include "usam-engine.h"

G_BEGIN_DECLS

typedef struct
{
  const char *name;
  void **slot;
} UsamEngineSymbol;

/* Generated: every engine function and where its address goes. */
const UsamEngineSymbol *usam_engine_symbols (void);

/* Loads the engine on first use; FALSE if it cannot be loaded. */
gboolean usam_engine_ready (void);
/* Why loading failed, as the trampolines report it. */
const char *usam_engine_get_load_error (void);

G_END_DECLS
