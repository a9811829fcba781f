/* usam models — the models usam knows, installed or not. */
#include "usam-cli-private.h"

#include <stdio.h>

#include "usam-known-model.h"

int
usam_cli_models (const char *name, int argc, char **argv)
{
  gboolean installed_only = FALSE;
  GOptionEntry entries[] = {
    { "installed", 'i', 0, G_OPTION_ARG_NONE, &installed_only, "only the models on this machine", NULL },
    { NULL },
  };
  if (!usam_cli_parse (name, "list the models usam knows and where they are", entries, &argc, &argv))
    return USAM_EXIT_USAGE;
  if (argc > 1)
    return usam_cli_usage_error (name, "unexpected argument '%s'", argv[1]);
  g_autoptr (GPtrArray) models = usam_known_models_list ();
  for (guint i = 0; i < models->len; i++)
    {
      UsamKnownModel *m = g_ptr_array_index (models, i);
      if (installed_only && !m->path)
        continue;
      const char *state = !m->path ? "not installed" : m->usable ? "installed" : "unusable";
      printf ("%s\n  %s: %s\n  %s\n", m->title, state, m->path ? m->path : m->expected_path, m->description);
    }
  return USAM_EXIT_OK;
}
