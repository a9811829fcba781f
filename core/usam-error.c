#include "usam-error.h"

G_DEFINE_QUARK (usam-error-quark, usam_error)
