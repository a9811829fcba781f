/* usam-known-model.h — the models usam knows by name, and where they are.
 *
 * The bundled starter model, the models trained with usam on this machine,
 * the official SAM checkpoints where PyTorch keeps them, and μSAM's
 * published models where micro-sam keeps them: so a person picks "μSAM,
 * light microscopy" instead of hunting for a file, and sees what is not
 * installed yet and where it belongs.
 *
 * Places looked in, in order (environment variables as the tools that
 * download these files honour them):
 *  - SAM: $TORCH_HOME/hub/checkpoints (else $XDG_CACHE_HOME/torch/…, else
 *    ~/.cache/torch/…), then μSAM's cache under μSAM's name (`vit_b`);
 *  - μSAM: $MICROSAM_CACHEDIR/models, else $XDG_CACHE_HOME/micro_sam/models,
 *    else ~/.cache/micro_sam/models; the AIS decoder beside each model as
 *    `NAME_decoder`, loaded with it (usam_model_new_from_file).
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef enum {
  USAM_KNOWN_MODEL_BUNDLED,   /* ships with usam */
  USAM_KNOWN_MODEL_TRAINED,   /* trained with usam on this machine */
  USAM_KNOWN_MODEL_MICRO_SAM, /* μSAM's fine-tuned models */
  USAM_KNOWN_MODEL_SAM,       /* Segment Anything (Meta) */
} UsamKnownModelGroup;

typedef struct {
  UsamKnownModelGroup group;
  char *name;          /* file name: `sam_vit_b_01ec64.pth`, `vit_b_lm`, … */
  char *title;         /* for people: "μSAM, light microscopy (ViT-B)" */
  char *path;          /* NULL when not installed */
  char *expected_path; /* where it is looked for first; where to put it */
  char *url;           /* where it is published; NULL for usam's own */
  char *decoder_url;   /* μSAM's separate AIS decoder, when there is one */
  /* Installed: what the file holds (usam_model_describe_file) or why it
   * cannot be used; else why it is missing and how to get it. */
  char *description;
  gboolean usable;      /* installed and readable by usam */
  gboolean has_decoder; /* an AIS decoder comes with it (automatic AIS and APG) */
  gint64 size;          /* bytes of the checkpoint and its decoder file */
} UsamKnownModel;

void usam_known_model_free (UsamKnownModel *model);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (UsamKnownModel, usam_known_model_free)

/* The bundled starter model (`usam-starter.pt`): the source tree's when
 * running from the build tree, else the installed one; NULL if neither. */
char *usam_known_models_find_starter (void);

/* Every known model, installed or not, grouped in the order of
 * UsamKnownModelGroup: UsamKnownModel elements, freed with the array. Reads
 * each installed checkpoint's index (not its weights), so run it off the
 * main loop; the async variant does. */
GPtrArray *usam_known_models_list (void);
void usam_known_models_list_async (GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data);
GPtrArray *usam_known_models_list_finish (GAsyncResult *result, GError **error);

G_END_DECLS
