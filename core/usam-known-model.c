#include "usam-known-model.h"

#include <string.h>

#include <glib/gstdio.h>

#include "usam-config.h"
#include "usam-model.h"
#include "usam-train-job.h"
#include "usam-workers.h"

/* Facts from the publishers: segment-anything's README and micro-sam's model
 * registry (micro_sam/util.py, models()). */
typedef struct
{
  const char *name, *title, *url, *decoder_url;
  const char *micro_sam_alias; /* the file's name in μSAM's cache, for SAM's own */
} Entry;

#define EBI "https://uk1s3.embassy.ebi.ac.uk/public-datasets/bioimage.io/"
#define GWDG "https://owncloud.gwdg.de/index.php/s/"

static const Entry sam_entries[] = {
  { "sam_vit_b_01ec64.pth", "Segment Anything, ViT-B",
    "https://dl.fbaipublicfiles.com/segment_anything/sam_vit_b_01ec64.pth", NULL, "vit_b" },
  { "sam_vit_l_0b3195.pth", "Segment Anything, ViT-L",
    "https://dl.fbaipublicfiles.com/segment_anything/sam_vit_l_0b3195.pth", NULL, "vit_l" },
  { "sam_vit_h_4b8939.pth", "Segment Anything, ViT-H",
    "https://dl.fbaipublicfiles.com/segment_anything/sam_vit_h_4b8939.pth", NULL, "vit_h" },
};

static const Entry micro_sam_entries[] = {
  { "vit_b_lm", "μSAM, light microscopy (ViT-B)", EBI "diplomatic-bug/1.2/files/vit_b.pt",
    EBI "diplomatic-bug/1.2/files/vit_b_decoder.pt", NULL },
  { "vit_l_lm", "μSAM, light microscopy (ViT-L)", EBI "idealistic-rat/1.2/files/vit_l.pt",
    EBI "idealistic-rat/1.2/files/vit_l_decoder.pt", NULL },
  { "vit_t_lm", "μSAM, light microscopy (ViT-T)", EBI "faithful-chicken/1.1/files/vit_t.pt",
    EBI "faithful-chicken/1.1/files/vit_t_decoder.pt", NULL },
  { "vit_b_em_organelles", "μSAM, electron microscopy organelles (ViT-B)", EBI "noisy-ox/1.2/files/vit_b.pt",
    EBI "noisy-ox/1.2/files/vit_b_decoder.pt", NULL },
  { "vit_l_em_organelles", "μSAM, electron microscopy organelles (ViT-L)", EBI "humorous-crab/1.2/files/vit_l.pt",
    EBI "humorous-crab/1.2/files/vit_l_decoder.pt", NULL },
  { "vit_t_em_organelles", "μSAM, electron microscopy organelles (ViT-T)", EBI "greedy-whale/1/files/vit_t.pt",
    EBI "greedy-whale/1/files/vit_t_decoder.pt", NULL },
  { "vit_b_histopathology", "μSAM, histopathology (ViT-B)", GWDG "sBB4H8CTmIoBZsQ/download",
    GWDG "KO9AWqynI7SFOBj/download", NULL },
  { "vit_l_histopathology", "μSAM, histopathology (ViT-L)", GWDG "IZgnn1cpBq2PHod/download",
    GWDG "oIs6VSmkOp7XrKF/download", NULL },
  { "vit_h_histopathology", "μSAM, histopathology (ViT-H)", GWDG "L7AcvVz7DoWJ2RZ/download",
    GWDG "1qAKxy5H0jgwZvM/download", NULL },
  { "vit_b_medical_imaging", "μSAM, medical imaging (ViT-B)", GWDG "f5Ol4FrjPQWfjUF/download",
    GWDG "ahd3ZhZl2e0RIwz/download", NULL },
  { "vit_t", "MobileSAM (ViT-T), as μSAM distributes it", GWDG "TuDzuwVDHd1ZDnQ/download", NULL, NULL },
};

void
usam_known_model_free (UsamKnownModel *model)
{
  if (!model)
    return;
  g_free (model->name);
  g_free (model->title);
  g_free (model->path);
  g_free (model->expected_path);
  g_free (model->url);
  g_free (model->decoder_url);
  g_free (model->description);
  g_free (model);
}

/* Read at every call, not through g_get_user_cache_dir(), which keeps the
 * first value it saw: tests and long sessions change these. */
static char *
user_cache_dir (void)
{
  const char *xdg = g_getenv ("XDG_CACHE_HOME");
  return xdg && *xdg ? g_strdup (xdg) : g_build_filename (g_get_home_dir (), ".cache", NULL);
}

static char *
torch_hub_dir (void)
{
  const char *torch_home = g_getenv ("TORCH_HOME");
  g_autofree char *cache = user_cache_dir ();
  g_autofree char *home = torch_home && *torch_home ? g_strdup (torch_home) : g_build_filename (cache, "torch", NULL);
  return g_build_filename (home, "hub", "checkpoints", NULL);
}

static char *
micro_sam_models_dir (void)
{
  const char *dir = g_getenv ("MICROSAM_CACHEDIR");
  g_autofree char *cache = user_cache_dir ();
  g_autofree char *root = dir && *dir ? g_strdup (dir) : g_build_filename (cache, "micro_sam", NULL);
  return g_build_filename (root, "models", NULL);
}

char *
usam_known_models_find_starter (void)
{
  g_autofree char *exe = g_file_read_link ("/proc/self/exe", NULL);
  gboolean in_build_tree = exe && g_str_has_prefix (exe, USAM_BUILD_ROOT);
  const char *dirs[] = { in_build_tree ? USAM_SOURCE_DATADIR : USAM_DATADIR,
                         in_build_tree ? USAM_DATADIR : USAM_SOURCE_DATADIR };
  for (guint i = 0; i < G_N_ELEMENTS (dirs); i++)
    {
      g_autofree char *path = g_build_filename (dirs[i], "models", "usam-starter.pt", NULL);
      if (g_file_test (path, G_FILE_TEST_IS_REGULAR))
        return g_steal_pointer (&path);
    }
  return NULL;
}

static gint64
file_size (const char *path)
{
  GStatBuf st;
  return path && g_stat (path, &st) == 0 ? (gint64) st.st_size : 0;
}

/* Fills what the file says about itself; a file usam cannot read is listed
 * with the reason instead of being hidden. */
static void
inspect (UsamKnownModel *m)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *decoder = usam_model_find_decoder_file (m->path);
  m->size = file_size (m->path) + file_size (decoder);
  m->description = usam_model_describe_file (m->path, &m->has_decoder, &error);
  m->usable = m->description != NULL;
  if (!m->usable)
    m->description = g_strdup (error->message);
}

static UsamKnownModel *
known_model_new (UsamKnownModelGroup group, const char *name, const char *title)
{
  UsamKnownModel *m = g_new0 (UsamKnownModel, 1);
  m->group = group;
  m->name = g_strdup (name);
  m->title = g_strdup (title);
  return m;
}

static UsamKnownModel *
from_entry (UsamKnownModelGroup group, const Entry *e, const char *const *dirs, const char *const *names)
{
  UsamKnownModel *m = known_model_new (group, e->name, e->title);
  m->url = g_strdup (e->url);
  m->decoder_url = g_strdup (e->decoder_url);
  m->expected_path = g_build_filename (dirs[0], names[0], NULL);
  for (guint i = 0; dirs[i] && !m->path; i++)
    {
      g_autofree char *path = g_build_filename (dirs[i], names[i], NULL);
      if (g_file_test (path, G_FILE_TEST_IS_REGULAR))
        m->path = g_steal_pointer (&path);
    }
  if (m->path)
    inspect (m);
  else
    {
      m->has_decoder = e->decoder_url != NULL;
      m->description = e->decoder_url
                           ? g_strdup_printf ("Not installed: save %s as %s and %s as %s_decoder (micro-sam does "
                                              "this when it first uses the model).",
                                              e->url, m->expected_path, e->decoder_url, m->expected_path)
                           : g_strdup_printf ("Not installed: save %s as %s.", e->url, m->expected_path);
    }
  return m;
}

GPtrArray *
usam_known_models_list (void)
{
  GPtrArray *models = g_ptr_array_new_with_free_func ((GDestroyNotify) usam_known_model_free);

  g_autofree char *starter = usam_known_models_find_starter ();
  UsamKnownModel *m = known_model_new (USAM_KNOWN_MODEL_BUNDLED, "usam-starter.pt",
                                       "usam starter (trained by usam on nuclei and phase contrast)");
  m->path = g_steal_pointer (&starter);
  m->expected_path = g_build_filename (USAM_DATADIR, "models", "usam-starter.pt", NULL);
  if (m->path)
    inspect (m);
  else
    m->description = g_strdup_printf ("Not installed: `meson install` puts it at %s.", m->expected_path);
  g_ptr_array_add (models, m);

  g_auto (GStrv) trained = usam_train_list_models ();
  for (guint i = 0; trained && trained[i]; i++)
    {
      g_autofree char *base = g_path_get_basename (trained[i]);
      g_autofree char *title = g_strdup_printf ("Trained here: %.*s", (int) (strlen (base) - 3), base);
      m = known_model_new (USAM_KNOWN_MODEL_TRAINED, base, title);
      m->path = g_strdup (trained[i]);
      m->expected_path = g_strdup (trained[i]);
      inspect (m);
      g_ptr_array_add (models, m);
    }

  g_autofree char *hub = torch_hub_dir ();
  g_autofree char *micro_sam = micro_sam_models_dir ();
  for (guint i = 0; i < G_N_ELEMENTS (micro_sam_entries); i++)
    {
      const char *dirs[] = { micro_sam, NULL };
      const char *names[] = { micro_sam_entries[i].name, NULL };
      g_ptr_array_add (models, from_entry (USAM_KNOWN_MODEL_MICRO_SAM, &micro_sam_entries[i], dirs, names));
    }
  for (guint i = 0; i < G_N_ELEMENTS (sam_entries); i++)
    {
      const char *dirs[] = { hub, micro_sam, NULL };
      const char *names[] = { sam_entries[i].name, sam_entries[i].micro_sam_alias, NULL };
      g_ptr_array_add (models, from_entry (USAM_KNOWN_MODEL_SAM, &sam_entries[i], dirs, names));
    }
  return models;
}

static void
list_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  g_task_return_pointer (task, usam_known_models_list (), (GDestroyNotify) g_ptr_array_unref);
}

void
usam_known_models_list_async (GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, usam_known_models_list_async);
  usam_task_run_in_thread (task, list_thread);
}

GPtrArray *
usam_known_models_list_finish (GAsyncResult *result, GError **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}
