/* The known models (usam-known-model.h) and μSAM's separate decoder files:
 * a model laid out as micro-sam's cache keeps it (`vit_b_lm` +
 * `vit_b_lm_decoder`) loads with its AIS decoder and gives the reference's
 * AIS maps; the catalogue finds what is installed where the publishers' tools
 * put it, describes it without loading it, and says where the rest belongs. */
#include <math.h>
#include <string.h>

#include <glib/gstdio.h>

#include "usam-ais-maps.h"
#include "usam-error.h"
#include "usam-h5.h"
#include "usam-known-model.h"
#include "usam-model.h"
#include "usam-test-util.h"

static char *torch_home, *micro_sam_dir, *data_home;

static char *
micro_sam_model (const char *name)
{
  return g_build_filename (micro_sam_dir, "models", name, NULL);
}

/* The golden μSAM checkpoint split the way micro-sam publishes its models:
 * the SAM state dict under the model's name, the AIS decoder beside it. */
static void
write_split (const char *model_path, const char *decoder_path)
{
  g_autofree char *combined = usam_test_shared_path ("golden/usam-ckpt-tiny-a-interp.pt");
  g_autoptr (GError) error = NULL;
  g_autoptr (UsamModel) model = usam_model_new_from_file (combined, USAM_PRECISION_FP32, &error);
  ck_assert_msg (model != NULL, "%s", error ? error->message : "");
  g_autofree char *dir = g_path_get_dirname (model_path);
  g_mkdir_with_parents (dir, 0755);
  ck_assert_msg (usam_model_save (model, model_path, FALSE, &error), "%s", error ? error->message : "");
  if (decoder_path)
    ck_assert_msg (usam_model_save_decoder (model, decoder_path, &error), "%s", error ? error->message : "");
}

static UsamAisMaps *
golden_maps (UsamModel *model, float **reference, guint *height, guint *width)
{
  g_autofree char *cases = usam_test_shared_path ("golden/sam-tiny-a-cases.h5");
  g_autofree char *ais = usam_test_shared_path ("golden/ais-decoder-interp-cases.h5");
  g_autoptr (GError) error = NULL;
  g_auto (UsamH5File) file = usam_h5_open (cases, FALSE, &error);
  ck_assert_msg (file >= 0, "%s", error ? error->message : "");
  int rank;
  hsize_t idims[USAM_H5_MAX_RANK], edims[USAM_H5_MAX_RANK];
  g_autofree guint8 *image = usam_h5_read (file, "/images/nuclei256/image", H5T_NATIVE_UINT8, &rank, idims, &error);
  ck_assert_msg (image != NULL, "%s", error ? error->message : "");
  g_autofree float *features
      = usam_h5_read (file, "/images/nuclei256/embedding", H5T_NATIVE_FLOAT, &rank, edims, &error);
  ck_assert_msg (features != NULL && rank == 4, "%s", error ? error->message : "");
  UsamEmbeddingShape shape = { (guint) edims[1], (guint) edims[2], (guint) edims[3], (guint) idims[0],
                               (guint) idims[1], 1024, 1024 };
  g_autoptr (UsamEmbedding) embedding = usam_embedding_new (model, features, &shape, &error);
  ck_assert_msg (embedding != NULL, "%s", error ? error->message : "");
  UsamAisMaps *maps = usam_ais_maps_predict (model, embedding, &error);
  ck_assert_msg (maps != NULL, "%s", error ? error->message : "");

  g_auto (UsamH5File) afile = usam_h5_open (ais, FALSE, &error);
  ck_assert_msg (afile >= 0, "%s", error ? error->message : "");
  hsize_t odims[USAM_H5_MAX_RANK];
  *reference = usam_h5_read (afile, "/interp/nuclei256/output", H5T_NATIVE_FLOAT, &rank, odims, &error);
  ck_assert_msg (*reference != NULL, "%s", error ? error->message : "");
  *height = (guint) odims[2];
  *width = (guint) odims[3];
  return maps;
}

START_TEST (test_decoder_beside_the_model)
{
  g_autofree char *path = micro_sam_model ("vit_b_lm");
  g_autofree char *decoder = micro_sam_model ("vit_b_lm_decoder");
  write_split (path, decoder);

  g_autoptr (GError) error = NULL;
  g_autoptr (UsamModel) model = usam_model_new_from_file (path, USAM_PRECISION_FP32, &error);
  ck_assert_msg (model != NULL, "%s", error ? error->message : "");
  ck_assert (usam_model_has_decoder (model));
  ck_assert_str_eq (usam_model_get_decoder_path (model), decoder);
  g_autofree char *description = usam_model_dup_description (model);
  ck_assert_msg (strstr (description, "AIS decoder from vit_b_lm_decoder"), "%s", description);

  /* The decoder read from its own file is the reference's decoder. */
  g_autofree float *reference = NULL;
  guint h, w;
  g_autoptr (UsamAisMaps) maps = golden_maps (model, &reference, &h, &w);
  ck_assert_uint_eq (maps->height, h);
  ck_assert_uint_eq (maps->width, w);
  const float *got[3] = { maps->foreground, maps->center_distances, maps->boundary_distances };
  double worst = 0;
  for (guint c = 0; c < 3; c++)
    for (gsize i = 0; i < (gsize) h * w; i++)
      worst = MAX (worst, fabs (got[c][i] - reference[c * (gsize) h * w + i]));
  /* The parity bound of test-ais-parity, plus the float16 rounding of the stored reference. */
  ck_assert_msg (worst < 1e-3 + 2.5e-4, "AIS maps differ from the reference by %g", worst);

  /* Described from the index alone, in the loaded model's words. */
  gboolean has_decoder = FALSE;
  g_autofree char *described = usam_model_describe_file (path, &has_decoder, &error);
  ck_assert_msg (described != NULL, "%s", error ? error->message : "");
  ck_assert (has_decoder);
  ck_assert_str_eq (described, description);
}
END_TEST

START_TEST (test_decoder_export_naming)
{
  /* bioimage.io's names: vit_b.pt and vit_b_decoder.pt. */
  g_autofree char *dir = g_build_filename (usam_test_tmpdir (), "bioimageio", NULL);
  g_autofree char *path = g_build_filename (dir, "vit_b.pt", NULL);
  g_autofree char *decoder = g_build_filename (dir, "vit_b_decoder.pt", NULL);
  write_split (path, decoder);
  g_autofree char *found = usam_model_find_decoder_file (path);
  ck_assert_str_eq (found, decoder);
  g_autoptr (GError) error = NULL;
  g_autoptr (UsamModel) model = usam_model_new_from_file (path, USAM_PRECISION_FP32, &error);
  ck_assert_msg (model != NULL, "%s", error ? error->message : "");
  ck_assert (usam_model_has_decoder (model));

  /* Without the file, the same checkpoint has no decoder. */
  ck_assert_int_eq (g_unlink (decoder), 0);
  g_clear_object (&model);
  model = usam_model_new_from_file (path, USAM_PRECISION_FP32, &error);
  ck_assert_msg (model != NULL, "%s", error ? error->message : "");
  ck_assert (!usam_model_has_decoder (model));
  ck_assert_ptr_null (usam_model_get_decoder_path (model));
}
END_TEST

START_TEST (test_wrong_decoder_file)
{
  /* A SAM checkpoint where the decoder belongs: refused, naming the file. */
  g_autofree char *dir = g_build_filename (usam_test_tmpdir (), "wrong", NULL);
  g_autofree char *path = g_build_filename (dir, "model", NULL);
  g_autofree char *decoder = g_build_filename (dir, "model_decoder", NULL);
  write_split (path, NULL);
  g_autofree char *bytes = NULL;
  gsize size = 0;
  ck_assert (g_file_get_contents (path, &bytes, &size, NULL));
  ck_assert (g_file_set_contents (decoder, bytes, (gssize) size, NULL));
  g_autoptr (GError) error = NULL;
  g_autoptr (UsamModel) model = usam_model_new_from_file (path, USAM_PRECISION_FP32, &error);
  ck_assert_ptr_null (model);
  ck_assert_msg (strstr (error->message, decoder) && strstr (error->message, "not an AIS decoder"), "%s",
                 error->message);

  /* A model without a decoder cannot write one. */
  g_autofree char *sam = usam_test_shared_path ("golden/sam-tiny-a.pth");
  g_autoptr (UsamModel) bare = usam_model_new_from_file (sam, USAM_PRECISION_FP32, NULL);
  ck_assert_ptr_nonnull (bare);
  g_clear_error (&error);
  g_autofree char *out = g_build_filename (dir, "none_decoder", NULL);
  ck_assert (!usam_model_save_decoder (bare, out, &error));
  ck_assert_msg (strstr (error->message, "no AIS decoder"), "%s", error->message);
}
END_TEST

static UsamKnownModel *
find (GPtrArray *models, const char *name)
{
  for (guint i = 0; i < models->len; i++)
    {
      UsamKnownModel *m = g_ptr_array_index (models, i);
      if (g_strcmp0 (m->name, name) == 0)
        return m;
    }
  ck_abort_msg ("%s is not listed", name);
  return NULL;
}

static gint64
size_of (const char *path)
{
  GStatBuf st;
  ck_assert_int_eq (g_stat (path, &st), 0);
  return (gint64) st.st_size;
}

START_TEST (test_catalogue)
{
  g_autofree char *lm = micro_sam_model ("vit_b_lm");
  g_autofree char *lm_decoder = micro_sam_model ("vit_b_lm_decoder");
  write_split (lm, lm_decoder);
  /* SAM ViT-B as micro-sam caches it (`vit_b`), ViT-L where torch keeps it
   * but cut short, as an interrupted download leaves it. */
  g_autofree char *sam = usam_test_shared_path ("golden/sam-tiny-a.pth");
  g_autofree char *sam_bytes = NULL;
  gsize sam_size = 0;
  ck_assert (g_file_get_contents (sam, &sam_bytes, &sam_size, NULL));
  g_autofree char *vit_b = micro_sam_model ("vit_b");
  ck_assert (g_file_set_contents (vit_b, sam_bytes, (gssize) sam_size, NULL));
  g_autofree char *hub = g_build_filename (torch_home, "hub", "checkpoints", NULL);
  g_mkdir_with_parents (hub, 0755);
  g_autofree char *vit_l = g_build_filename (hub, "sam_vit_l_0b3195.pth", NULL);
  ck_assert (g_file_set_contents (vit_l, sam_bytes, (gssize) sam_size / 2, NULL));
  /* A model trained here. */
  g_autofree char *trained_dir = g_build_filename (data_home, "usam", "models", NULL);
  g_mkdir_with_parents (trained_dir, 0755);
  g_autofree char *trained = g_build_filename (trained_dir, "nuclei-2026-11-25.pt", NULL);
  ck_assert (g_file_set_contents (trained, sam_bytes, (gssize) sam_size, NULL));

  g_autoptr (GPtrArray) models = usam_known_models_list ();

  UsamKnownModel *starter = find (models, "usam-starter.pt");
  ck_assert_int_eq (starter->group, USAM_KNOWN_MODEL_BUNDLED);
  ck_assert_msg (starter->usable, "%s", starter->description);
  ck_assert (starter->has_decoder);

  UsamKnownModel *m = find (models, "nuclei-2026-11-25.pt");
  ck_assert_int_eq (m->group, USAM_KNOWN_MODEL_TRAINED);
  ck_assert_str_eq (m->path, trained);
  ck_assert (m->usable && !m->has_decoder);

  m = find (models, "vit_b_lm");
  ck_assert_int_eq (m->group, USAM_KNOWN_MODEL_MICRO_SAM);
  ck_assert_str_eq (m->path, lm);
  ck_assert_msg (m->usable && m->has_decoder, "%s", m->description);
  ck_assert_int_eq (m->size, size_of (lm) + size_of (lm_decoder));
  ck_assert_msg (strstr (m->description, "AIS decoder from vit_b_lm_decoder"), "%s", m->description);

  m = find (models, "vit_l_lm");
  ck_assert_ptr_null (m->path);
  g_autofree char *expected = micro_sam_model ("vit_l_lm");
  ck_assert_str_eq (m->expected_path, expected);
  ck_assert (m->has_decoder && !m->usable);
  ck_assert_msg (strstr (m->description, m->url) && strstr (m->description, m->decoder_url)
                     && strstr (m->description, expected),
                 "%s", m->description);

  m = find (models, "sam_vit_b_01ec64.pth");
  ck_assert_int_eq (m->group, USAM_KNOWN_MODEL_SAM);
  ck_assert_str_eq (m->path, vit_b);
  ck_assert (m->usable && !m->has_decoder);

  m = find (models, "sam_vit_l_0b3195.pth");
  ck_assert_str_eq (m->path, vit_l);
  ck_assert (!m->usable);
  ck_assert_msg (strstr (m->description, vit_l), "%s", m->description);

  m = find (models, "sam_vit_h_4b8939.pth");
  ck_assert_ptr_null (m->path);
  g_autofree char *vit_h = g_build_filename (hub, "sam_vit_h_4b8939.pth", NULL);
  ck_assert_str_eq (m->expected_path, vit_h);

  /* Grouped in order. */
  for (guint i = 1; i < models->len; i++)
    ck_assert_int_le (((UsamKnownModel *) g_ptr_array_index (models, i - 1))->group,
                      ((UsamKnownModel *) g_ptr_array_index (models, i))->group);

  /* torch's own cache wins over micro-sam's copy. */
  g_autofree char *hub_b = g_build_filename (hub, "sam_vit_b_01ec64.pth", NULL);
  ck_assert (g_file_set_contents (hub_b, sam_bytes, (gssize) sam_size, NULL));
  g_autoptr (GPtrArray) again = usam_known_models_list ();
  ck_assert_str_eq (find (again, "sam_vit_b_01ec64.pth")->path, hub_b);
  ck_assert_int_eq (g_unlink (hub_b), 0);
}
END_TEST

START_TEST (test_cli_models)
{
  g_autofree char *lm = micro_sam_model ("vit_b_lm");
  g_autofree char *lm_decoder = micro_sam_model ("vit_b_lm_decoder");
  write_split (lm, lm_decoder);
  const char *args[] = { "models", "--installed", NULL };
  g_autofree char *out = NULL, *err = NULL;
  ck_assert_msg (usam_test_run_usam_full (args, &out, &err) == 0, "usam models failed: %s", err);
  g_autofree char *entry = g_strdup_printf ("μSAM, light microscopy (ViT-B)\n  installed: %s\n", lm);
  ck_assert_msg (strstr (out, entry), "%s", out);
  ck_assert_msg (strstr (out, "usam starter"), "%s", out);
  ck_assert_msg (!strstr (out, "not installed"), "--installed lists missing models: %s", out);
}
END_TEST

int
main (void)
{
  /* Before anything asks GLib for the user's folders. */
  torch_home = g_build_filename (usam_test_tmpdir (), "torch", NULL);
  micro_sam_dir = g_build_filename (usam_test_tmpdir (), "micro_sam", NULL);
  data_home = g_build_filename (usam_test_tmpdir (), "data", NULL);
  g_setenv ("TORCH_HOME", torch_home, TRUE);
  g_setenv ("MICROSAM_CACHEDIR", micro_sam_dir, TRUE);
  g_setenv ("XDG_DATA_HOME", data_home, TRUE);

  Suite *s = suite_create ("known-model");
  TCase *tc = usam_test_tcase_new ("decoder-file");
  tcase_add_test (tc, test_decoder_beside_the_model);
  tcase_add_test (tc, test_decoder_export_naming);
  tcase_add_test (tc, test_wrong_decoder_file);
  suite_add_tcase (s, tc);
  tc = usam_test_tcase_new ("catalogue");
  tcase_add_test (tc, test_catalogue);
  tcase_add_test (tc, test_cli_models);
  suite_add_tcase (s, tc);
  return usam_test_run (s);
}
