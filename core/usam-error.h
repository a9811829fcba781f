/* usam-error.h — the GError domain of usam's core. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define USAM_ERROR (usam_error_quark ())

typedef enum {
  USAM_ERROR_FAILED,
  USAM_ERROR_NOT_FOUND,        /* a file or dataset that is not there */
  USAM_ERROR_IO,               /* reading or writing failed */
  USAM_ERROR_INVALID_DATA,     /* a file that is damaged or not what it claims */
  USAM_ERROR_UNSUPPORTED,      /* understood, but not supported */
  USAM_ERROR_INVALID_ARGUMENT, /* a caller's mistake: bad shape, bad option */
  USAM_ERROR_MODEL,            /* a checkpoint with missing or wrong weights */
} UsamError;

GQuark usam_error_quark (void);

G_END_DECLS
