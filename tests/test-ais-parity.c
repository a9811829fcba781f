/* Parity of the AIS decoder's C API with micro-sam (torch_em's UNETR decoder)
 * on ../shared/golden/ais-decoder-interp-cases.h5, the errors of models
 * without a decoder or with a damaged one, and the transposed-convolution
 * variant through a save/load round trip. */
#include <math.h>
#include <string.h>
#include <zlib.h>

#include "usam-ais.h"
#include "usam-h5.h"
#include "usam-sam.h"
#include "usam-test-util.h"

#define AIS_TOL 1e-3f

static const char *image_names[] = { "nuclei256", "colour256x320", "phase1022x1024" };

static gpointer
read_golden (hid_t file, const char *name, hid_t type, int *rank, hsize_t *dims)
{
  g_autoptr (GError) error = NULL;
  gpointer data = usam_h5_read (file, name, type, rank, dims, &error);
  ck_assert_msg (data != NULL, "%s", error ? error->message : "");
  return data;
}

static hid_t
open_golden (const char *relative)
{
  g_autofree char *path = usam_test_shared_path (relative);
  g_autoptr (GError) error = NULL;
  hid_t file = usam_h5_open (path, FALSE, &error);
  ck_assert_msg (file >= 0, "%s", error ? error->message : "");
  return file;
}

static usam_sam_model *
load_model (const char *path)
{
  usam_sam_model_params params = usam_sam_model_default_params ();
  params.precision = USAM_SAM_PRECISION_FP32;
  usam_sam_model *model = NULL;
  ck_assert_msg (usam_sam_model_load (path, &params, &model) == USAM_SAM_STATUS_OK, "loading %s: %s", path,
                 usam_sam_last_error ());
  return model;
}

static usam_sam_model *
load_shared_model (const char *relative)
{
  g_autofree char *path = usam_test_shared_path (relative);
  return load_model (path);
}

/* The golden embedding of @name in sam-tiny-a-cases.h5, with the original
 * and resized sizes of its image. */
static usam_sam_embedding *
golden_embedding (usam_sam_model *model, const char *name)
{
  hid_t cases = open_golden ("golden/sam-tiny-a-cases.h5");
  int rank;
  hsize_t idims[USAM_H5_MAX_RANK], rdims[USAM_H5_MAX_RANK], edims[USAM_H5_MAX_RANK];
  g_autofree char *ip = g_strdup_printf ("/images/%s/image", name);
  g_autofree char *rp = g_strdup_printf ("/images/%s/resized", name);
  g_autofree char *ep = g_strdup_printf ("/images/%s/embedding", name);
  g_autofree guint8 *image = read_golden (cases, ip, H5T_NATIVE_UINT8, &rank, idims);
  g_autofree guint8 *resized = read_golden (cases, rp, H5T_NATIVE_UINT8, &rank, rdims);
  g_autofree float *features = read_golden (cases, ep, H5T_NATIVE_FLOAT, &rank, edims);
  ck_assert_int_eq (rank, 4);
  H5Fclose (cases);

  usam_sam_embedding_shape shape = { 0 };
  shape.channels = (int) edims[1];
  shape.height = (int) edims[2];
  shape.width = (int) edims[3];
  shape.original_height = (int) idims[0];
  shape.original_width = (int) idims[1];
  shape.input_height = (int) rdims[0];
  shape.input_width = (int) rdims[1];
  usam_sam_embedding *embedding = NULL;
  ck_assert_msg (usam_sam_embedding_new (model, features, &shape, &embedding) == USAM_SAM_STATUS_OK, "%s: %s", name,
                 usam_sam_last_error ());
  return embedding;
}

/* Half a float16 ulp at @v: the golden outputs are stored as float16. */
static float
half_ulp_f16 (float v)
{
  int e;
  if (v == 0.0f)
    return ldexpf (1.0f, -25);
  frexpf (fabsf (v), &e); /* |v| in [2^(e-1), 2^e) */
  return ldexpf (1.0f, MAX (e - 1, -14) - 11);
}

/* Fails unless every value is within AIS_TOL plus the float16 rounding of
 * the expected one; returns the max abs error. */
static float
compare_maps (const char *what, const float *got, const float *expected, gsize n)
{
  float worst = 0.0f;
  for (gsize i = 0; i < n; i++)
    {
      float err = fabsf (got[i] - expected[i]);
      ck_assert_msg (err <= AIS_TOL + half_ulp_f16 (expected[i]), "%s: value %zu is %g, expected %g", what, i,
                     (double) got[i], (double) expected[i]);
      worst = fmaxf (worst, err);
    }
  return worst;
}

START_TEST (test_golden_model_has_interpolation_decoder)
{
  usam_sam_model *model = load_shared_model ("golden/usam-ckpt-tiny-a-interp.pt");
  ck_assert (usam_sam_model_has_ais_decoder (model));
  ck_assert_str_eq (usam_sam_model_get_ais_variant (model), "interpolation");
  usam_sam_model_info info;
  usam_sam_model_get_info (model, &info);
  ck_assert (info.has_decoder);
  usam_sam_model_free (model);
}
END_TEST

START_TEST (test_cases_cover_the_images)
{
  /* The cases file and this suite must agree on the images, and on the
   * sizes each embedding is decoded for. */
  hid_t golden = open_golden ("golden/ais-decoder-interp-cases.h5");
  hid_t cases = open_golden ("golden/sam-tiny-a-cases.h5");
  g_auto (UsamH5Group) group = H5Gopen2 (golden, "/interp", H5P_DEFAULT);
  ck_assert (group >= 0);
  H5G_info_t info;
  ck_assert (H5Gget_info (group, &info) >= 0);
  ck_assert_int_eq ((int) info.nlinks, (int) G_N_ELEMENTS (image_names));
  for (hsize_t k = 0; k < info.nlinks; k++)
    {
      char name[256];
      ck_assert (H5Lget_name_by_idx (group, ".", H5_INDEX_NAME, H5_ITER_INC, k, name, sizeof name, H5P_DEFAULT) > 0);
      gboolean known = FALSE;
      for (guint i = 0; i < G_N_ELEMENTS (image_names); i++)
        known |= strcmp (name, image_names[i]) == 0;
      ck_assert_msg (known, "ais-decoder-interp-cases.h5 has an image '%s' this test does not run", name);

      g_auto (UsamH5Group) g = H5Gopen2 (group, name, H5P_DEFAULT);
      gint64 input_size[2], original_size[2];
      g_autoptr (GError) error = NULL;
      ck_assert_msg (usam_h5_read_attr_ints (g, "input_size", input_size, 2, &error), "%s", error ? error->message : "");
      ck_assert_msg (usam_h5_read_attr_ints (g, "original_size", original_size, 2, &error), "%s",
                     error ? error->message : "");
      int rank;
      hsize_t idims[USAM_H5_MAX_RANK], rdims[USAM_H5_MAX_RANK];
      g_autofree char *ip = g_strdup_printf ("/images/%s/image", name);
      g_autofree char *rp = g_strdup_printf ("/images/%s/resized", name);
      g_autofree guint8 *image = read_golden (cases, ip, H5T_NATIVE_UINT8, &rank, idims);
      g_autofree guint8 *resized = read_golden (cases, rp, H5T_NATIVE_UINT8, &rank, rdims);
      ck_assert_int_eq (original_size[0], (gint64) idims[0]);
      ck_assert_int_eq (original_size[1], (gint64) idims[1]);
      ck_assert_int_eq (input_size[0], (gint64) rdims[0]);
      ck_assert_int_eq (input_size[1], (gint64) rdims[1]);
    }
  H5Fclose (cases);
  H5Fclose (golden);
}
END_TEST

START_TEST (test_interpolation_parity)
{
  const char *name = image_names[_i];
  usam_sam_model *model = load_shared_model ("golden/usam-ckpt-tiny-a-interp.pt");
  usam_sam_embedding *embedding = golden_embedding (model, name);
  hid_t golden = open_golden ("golden/ais-decoder-interp-cases.h5");

  int rank;
  hsize_t dims[USAM_H5_MAX_RANK];
  g_autofree char *op = g_strdup_printf ("/interp/%s/output", name);
  g_autofree float *expected = read_golden (golden, op, H5T_NATIVE_FLOAT, &rank, dims);
  usam_sam_embedding_shape shape;
  usam_sam_embedding_get_shape (embedding, &shape);
  ck_assert_int_eq (rank, 4);
  ck_assert_int_eq ((int) dims[1], USAM_SAM_AIS_N_OUTPUTS);
  ck_assert_int_eq ((int) dims[2], shape.original_height);
  ck_assert_int_eq ((int) dims[3], shape.original_width);
  const gsize n = (gsize) USAM_SAM_AIS_N_OUTPUTS * shape.original_height * shape.original_width;
  g_autofree float *out = g_new (float, n);
  ck_assert_msg (usam_sam_ais_predict (model, embedding, out) == USAM_SAM_STATUS_OK, "%s", usam_sam_last_error ());
  float err = compare_maps (op, out, expected, n);
  fprintf (stderr, "%s: AIS output max abs error %.3g\n", name, (double) err);

  g_autofree char *rp = g_strdup_printf ("/interp/%s/raw_1024", name);
  if (usam_h5_exists (golden, rp))
    {
      g_autofree float *raw_expected = read_golden (golden, rp, H5T_NATIVE_FLOAT, &rank, dims);
      usam_sam_model_info info;
      usam_sam_model_get_info (model, &info);
      ck_assert_int_eq ((int) dims[2], info.img_size);
      ck_assert_int_eq ((int) dims[3], info.img_size);
      const gsize nr = (gsize) USAM_SAM_AIS_N_OUTPUTS * info.img_size * info.img_size;
      g_autofree float *raw = g_new (float, nr);
      ck_assert_msg (usam_sam_ais_predict_raw (model, embedding, raw) == USAM_SAM_STATUS_OK, "%s", usam_sam_last_error ());
      float raw_err = compare_maps (rp, raw, raw_expected, nr);
      fprintf (stderr, "%s: AIS raw output max abs error %.3g\n", name, (double) raw_err);
    }
  else
    ck_assert_str_ne (name, "nuclei256");

  H5Fclose (golden);
  usam_sam_embedding_free (embedding);
  usam_sam_model_free (model);
}
END_TEST

START_TEST (test_model_without_decoder)
{
  g_autofree char *path = usam_test_shared_path ("golden/sam-tiny-a.pth");
  usam_sam_model *model = load_model (path);
  ck_assert (!usam_sam_model_has_ais_decoder (model));
  ck_assert_ptr_null (usam_sam_model_get_ais_variant (model));
  usam_sam_embedding *embedding = golden_embedding (model, "nuclei256");
  float out[16];
  ck_assert_int_eq (usam_sam_ais_predict (model, embedding, out), USAM_SAM_STATUS_INVALID_ARGUMENT);
  g_autofree char *needle = g_strdup_printf ("%s: has no AIS decoder (decoder_state)", path);
  ck_assert_msg (strstr (usam_sam_last_error (), needle), "message: %s", usam_sam_last_error ());
  ck_assert_int_eq (usam_sam_ais_predict_raw (model, embedding, out), USAM_SAM_STATUS_INVALID_ARGUMENT);
  ck_assert (strstr (usam_sam_last_error (), "has no AIS decoder"));
  ck_assert_int_eq (usam_sam_ais_predict (model, NULL, out), USAM_SAM_STATUS_INVALID_ARGUMENT);
  ck_assert_int_eq (usam_sam_ais_predict (NULL, embedding, out), USAM_SAM_STATUS_INVALID_ARGUMENT);
  ck_assert (!usam_sam_model_has_ais_decoder (NULL));
  usam_sam_embedding_free (embedding);
  usam_sam_model_free (model);
}
END_TEST

/* ---- damaging a saved checkpoint's pickle ---- */

static guint8 *
find_bytes (guint8 *hay, gsize n, const void *needle, gsize len)
{
  for (gsize i = 0; i + len <= n; i++)
    if (memcmp (hay + i, needle, len) == 0)
      return hay + i;
  return NULL;
}

static guint32
le32_at (const guint8 *p)
{
  return (guint32) p[0] | (guint32) p[1] << 8 | (guint32) p[2] << 16 | (guint32) p[3] << 24;
}

static guint16
le16_at (const guint8 *p)
{
  return (guint16) (p[0] | p[1] << 8);
}

static void
put_le32_at (guint8 *p, guint32 v)
{
  for (int i = 0; i < 4; i++)
    p[i] = (guint8) (v >> (8 * i));
}

/* Where the stored (uncompressed) data.pkl of a ZIP archive lies, and where
 * its two CRCs are. */
typedef struct
{
  gsize data, size, local_crc, central_crc;
} PickleRecord;

static PickleRecord
find_pickle (const guint8 *zip, gsize n)
{
  PickleRecord r = { 0 };
  for (gsize i = 0; i + 46 < n; i++)
    {
      if (le32_at (zip + i) != 0x02014b50u)
        continue;
      gsize name_len = le16_at (zip + i + 28);
      if (i + 46 + name_len > n || name_len < 8 || memcmp (zip + i + 46 + name_len - 8, "data.pkl", 8) != 0)
        continue;
      ck_assert_int_eq (le16_at (zip + i + 10), 0); /* stored */
      gsize local = le32_at (zip + i + 42);
      ck_assert (local + 30 < n && le32_at (zip + local) == 0x04034b50u);
      r.central_crc = i + 16;
      r.local_crc = local + 14;
      r.size = le32_at (zip + i + 20);
      r.data = local + 30 + le16_at (zip + local + 26) + le16_at (zip + local + 28);
      ck_assert (r.data + r.size <= n);
      return r;
    }
  ck_abort_msg ("no data.pkl in the saved checkpoint");
  return r;
}

/* Replaces @len bytes of @from, looked for after the first @after in the
 * pickle, by @to, and fixes the archive's CRCs so only the content is wrong. */
static void
patch_pickle (guint8 *zip, gsize n, const char *after, const char *from, const char *to, gsize len)
{
  PickleRecord r = find_pickle (zip, n);
  guint8 *pkl = zip + r.data;
  guint8 *start = find_bytes (pkl, r.size, after, strlen (after));
  ck_assert_msg (start != NULL, "'%s' is not in the pickle", after);
  ck_assert_msg (find_bytes (start + 1, r.size - (gsize) (start + 1 - pkl), after, strlen (after)) == NULL,
                 "'%s' is not unique in the pickle", after);
  guint8 *at = find_bytes (start, r.size - (gsize) (start - pkl), from, len);
  ck_assert_msg (at != NULL, "the bytes to patch after '%s' were not found", after);
  memcpy (at, to, len);
  guint32 crc = (guint32) crc32 (crc32 (0L, Z_NULL, 0), pkl, (uInt) r.size);
  put_le32_at (zip + r.local_crc, crc);
  put_le32_at (zip + r.central_crc, crc);
}

START_TEST (test_damaged_decoder_fails_to_load)
{
  usam_sam_model *golden = load_shared_model ("golden/usam-ckpt-tiny-a-interp.pt");
  g_autofree char *saved = g_build_filename (usam_test_tmpdir (), "resaved.pt", NULL);
  ck_assert_msg (usam_sam_model_save (golden, saved, USAM_SAM_CHECKPOINT_USAM) == USAM_SAM_STATUS_OK, "%s",
                 usam_sam_last_error ());
  usam_sam_model_free (golden);
  usam_sam_model *resaved = load_model (saved);
  ck_assert_str_eq (usam_sam_model_get_ais_variant (resaved), "interpolation");
  usam_sam_model_free (resaved);

  g_autofree char *contents = NULL;
  gsize size = 0;
  ck_assert (g_file_get_contents (saved, &contents, &size, NULL));
  struct
  {
    const char *key, *from, *to;
    gsize len;
    const char *needle;
  } cases[] = {
    /* a weight under another name: missing */
    { "out_conv.bias", "out_conv.bias", "out_conv.bia_", 13, "decoder weight 'out_conv.bias' is missing" },
    /* sizes (3, 64, 1, 1) → (3, 32, 1, 1): still inside its storage, so only the shape is wrong */
    { "out_conv.weight", "(K\003K@K\001K\001t", "(K\003K K\001K\001t", 10,
      "decoder weight 'out_conv.weight' has shape [3, 32, 1, 1], expected [3, 64, 1, 1]" },
    { "deconv2.block.2.num_batches_tracked", "num_batches_tracked", "num_batches_trackeD", 19,
      "decoder weight 'deconv2.block.2.num_batches_tracked' is missing" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree guint8 *copy = g_memdup2 (contents, size);
      patch_pickle (copy, size, cases[i].key, cases[i].from, cases[i].to, cases[i].len);
      g_autofree char *name = g_strdup_printf ("damaged-%u.pt", i);
      g_autofree char *path = g_build_filename (usam_test_tmpdir (), name, NULL);
      ck_assert (g_file_set_contents (path, (const char *) copy, (gssize) size, NULL));
      usam_sam_model *model = NULL;
      usam_sam_model_params params = usam_sam_model_default_params ();
      usam_sam_status status = usam_sam_model_load (path, &params, &model);
      ck_assert_msg (status == USAM_SAM_STATUS_SHAPE, "%s: status %s (%s)", name, usam_sam_status_to_string (status),
                     usam_sam_last_error ());
      ck_assert_ptr_null (model);
      const char *message = usam_sam_last_error ();
      ck_assert_msg (g_str_has_prefix (message, path), "%s: message does not name the file: %s", name, message);
      ck_assert_msg (strstr (message, cases[i].needle), "%s: %s", name, message);
      ck_assert (strchr (message, '\n') == NULL);
    }
}
END_TEST

START_TEST (test_random_deconvolution_decoder_round_trips)
{
  usam_sam_model_params params = usam_sam_model_default_params ();
  params.precision = USAM_SAM_PRECISION_FP32;
  usam_sam_model *model = NULL;
  ck_assert (usam_sam_model_new_random ("tiny", 7, &params, &model) == USAM_SAM_STATUS_OK);
  ck_assert (!usam_sam_model_has_ais_decoder (model));
  ck_assert_int_eq (usam_sam_model_add_random_ais_decoder (model, "bilinear", 1), USAM_SAM_STATUS_INVALID_ARGUMENT);
  ck_assert (strstr (usam_sam_last_error (), "'bilinear'"));
  ck_assert_msg (usam_sam_model_add_random_ais_decoder (model, "deconvolution", 42) == USAM_SAM_STATUS_OK, "%s",
                 usam_sam_last_error ());
  ck_assert_str_eq (usam_sam_model_get_ais_variant (model), "deconvolution");

  usam_sam_model_info info;
  usam_sam_model_get_info (model, &info);
  ck_assert (info.has_decoder);
  usam_sam_embedding *embedding = golden_embedding (model, "colour256x320");
  const gsize n = (gsize) USAM_SAM_AIS_N_OUTPUTS * info.img_size * info.img_size;
  g_autofree float *before = g_new (float, n);
  g_autofree float *after = g_new (float, n);
  ck_assert_msg (usam_sam_ais_predict_raw (model, embedding, before) == USAM_SAM_STATUS_OK, "%s", usam_sam_last_error ());
  /* After the sigmoid, and not constant: the random decoder computes something. */
  float lo = 1.0f, hi = 0.0f;
  for (gsize i = 0; i < n; i++)
    {
      ck_assert (before[i] >= 0.0f && before[i] <= 1.0f);
      lo = fminf (lo, before[i]);
      hi = fmaxf (hi, before[i]);
    }
  ck_assert_msg (hi - lo > 1e-3f, "outputs span only [%g, %g]", (double) lo, (double) hi);

  g_autofree char *path = g_build_filename (usam_test_tmpdir (), "random-deconv.pt", NULL);
  ck_assert_msg (usam_sam_model_save (model, path, USAM_SAM_CHECKPOINT_USAM) == USAM_SAM_STATUS_OK, "%s",
                 usam_sam_last_error ());
  usam_sam_model *loaded = load_model (path);
  ck_assert_str_eq (usam_sam_model_get_ais_variant (loaded), "deconvolution");
  usam_sam_embedding *embedding2 = golden_embedding (loaded, "colour256x320");
  ck_assert_msg (usam_sam_ais_predict_raw (loaded, embedding2, after) == USAM_SAM_STATUS_OK, "%s", usam_sam_last_error ());
  ck_assert_msg (memcmp (before, after, n * sizeof (float)) == 0, "outputs differ after the round trip");

  /* The SAM layout has no place for the decoder. */
  g_autofree char *sam_path = g_build_filename (usam_test_tmpdir (), "random-deconv-sam.pth", NULL);
  ck_assert (usam_sam_model_save (model, sam_path, USAM_SAM_CHECKPOINT_SAM) == USAM_SAM_STATUS_OK);
  usam_sam_model *plain = load_model (sam_path);
  ck_assert (!usam_sam_model_has_ais_decoder (plain));

  usam_sam_model_free (plain);
  usam_sam_embedding_free (embedding2);
  usam_sam_model_free (loaded);
  usam_sam_embedding_free (embedding);
  usam_sam_model_free (model);
}
END_TEST

static Suite *
ais_suite (void)
{
  Suite *s = suite_create ("ais-parity");
  TCase *tc = usam_test_tcase_new ("interpolation");
  tcase_add_test (tc, test_golden_model_has_interpolation_decoder);
  tcase_add_test (tc, test_cases_cover_the_images);
  tcase_add_loop_test (tc, test_interpolation_parity, 0, G_N_ELEMENTS (image_names));
  suite_add_tcase (s, tc);
  TCase *errors = usam_test_tcase_new ("errors");
  tcase_add_test (errors, test_model_without_decoder);
  tcase_add_test (errors, test_damaged_decoder_fails_to_load);
  suite_add_tcase (s, errors);
  TCase *deconv = usam_test_tcase_new ("deconvolution");
  tcase_add_test (deconv, test_random_deconvolution_decoder_round_trips);
  suite_add_tcase (s, deconv);
  return s;
}

int
main (void)
{
  return usam_test_run (ais_suite ());
}
