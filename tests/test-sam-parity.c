/* Parity of the engine's C API with the official SamPredictor, on every case
 * of ../shared/golden/sam-tiny-a-cases.h5, within the tolerances of
 * ../shared/golden/README.md. */
#include <math.h>
#include <string.h>

#include "usam-h5.h"
#include "usam-sam.h"
#include "usam-test-util.h"

#define EMBEDDING_TOL 1e-3f
#define LOGIT_TOL 1e-3f
#define IOU_TOL 1e-3f
#define MASK_AGREEMENT 0.999

static const char *image_names[] = { "nuclei256", "colour256x320", "phase1022x1024" };

typedef struct
{
  usam_sam_model *model;
  hid_t golden;
} Fixture;

static usam_sam_model *
load_model (const char *relative, usam_sam_precision precision)
{
  g_autofree char *path = usam_test_shared_path (relative);
  usam_sam_model_params params = usam_sam_model_default_params ();
  params.precision = precision;
  usam_sam_model *model = NULL;
  usam_sam_status status = usam_sam_model_load (path, &params, &model);
  ck_assert_msg (status == USAM_SAM_STATUS_OK, "loading %s: %s", path, usam_sam_last_error ());
  return model;
}

static Fixture
fixture_open (void)
{
  Fixture f;
  f.model = load_model ("golden/sam-tiny-a.pth", USAM_SAM_PRECISION_FP32);
  g_autofree char *cases = usam_test_shared_path ("golden/sam-tiny-a-cases.h5");
  g_autoptr (GError) error = NULL;
  f.golden = usam_h5_open (cases, FALSE, &error);
  ck_assert_msg (f.golden >= 0, "%s", error ? error->message : "");
  return f;
}

static void
fixture_close (Fixture *f)
{
  usam_sam_model_free (f->model);
  H5Fclose (f->golden);
}

static gpointer
read_golden (hid_t file, const char *name, hid_t type, int *rank, hsize_t *dims)
{
  g_autoptr (GError) error = NULL;
  gpointer data = usam_h5_read (file, name, type, rank, dims, &error);
  ck_assert_msg (data != NULL, "%s", error ? error->message : "");
  return data;
}

static float
max_abs_diff (const float *a, const float *b, gsize n)
{
  float m = 0.0f;
  for (gsize i = 0; i < n; i++)
    m = fmaxf (m, fabsf (a[i] - b[i]));
  return m;
}

static double
mask_agreement (const guint8 *a, const guint8 *b, gsize n)
{
  gsize same = 0;
  for (gsize i = 0; i < n; i++)
    same += (a[i] != 0) == (b[i] != 0);
  return (double) same / (double) n;
}

static usam_sam_embedding *
encode_golden_image (Fixture *f, const char *name, int *height, int *width)
{
  int rank;
  hsize_t dims[USAM_H5_MAX_RANK];
  g_autofree char *path = g_strdup_printf ("/images/%s/image", name);
  g_autofree guint8 *image = read_golden (f->golden, path, H5T_NATIVE_UINT8, &rank, dims);
  ck_assert_int_eq (rank, 3);
  *height = (int) dims[0];
  *width = (int) dims[1];
  usam_sam_image_view view = { image, USAM_SAM_PIXEL_U8, *width, *height, 3, 0 };
  usam_sam_encode_params params = usam_sam_encode_default_params ();
  params.normalize = USAM_SAM_NORMALIZE_NONE;
  usam_sam_embedding *embedding = NULL;
  ck_assert_msg (usam_sam_encode (f->model, &view, &params, &embedding) == USAM_SAM_STATUS_OK, "%s",
                 usam_sam_last_error ());
  return embedding;
}

static void
check_embedding (Fixture *f, const char *name, usam_sam_embedding *embedding)
{
  int rank;
  hsize_t dims[USAM_H5_MAX_RANK];
  g_autofree char *path = g_strdup_printf ("/images/%s/embedding", name);
  g_autofree float *expected = read_golden (f->golden, path, H5T_NATIVE_FLOAT, &rank, dims);
  usam_sam_embedding_shape shape;
  usam_sam_embedding_get_shape (embedding, &shape);
  ck_assert_int_eq (shape.channels, (int) dims[1]);
  ck_assert_int_eq (shape.height, (int) dims[2]);
  ck_assert_int_eq (shape.width, (int) dims[3]);
  float err = max_abs_diff (usam_sam_embedding_get_features (embedding), expected, dims[1] * dims[2] * dims[3]);
  ck_assert_msg (err < EMBEDDING_TOL, "%s: embedding max abs error %g", name, err);
}

START_TEST (test_resize_matches_pillow)
{
  Fixture f = fixture_open ();
  for (guint i = 0; i < G_N_ELEMENTS (image_names); i++)
    {
      int rank;
      hsize_t dims[USAM_H5_MAX_RANK], rdims[USAM_H5_MAX_RANK];
      g_autofree char *ip = g_strdup_printf ("/images/%s/image", image_names[i]);
      g_autofree char *rp = g_strdup_printf ("/images/%s/resized", image_names[i]);
      g_autofree guint8 *image = read_golden (f.golden, ip, H5T_NATIVE_UINT8, &rank, dims);
      g_autofree guint8 *resized = read_golden (f.golden, rp, H5T_NATIVE_UINT8, &rank, rdims);
      int w = 0, h = 0;
      ck_assert (usam_sam_resize_longest_side (image, (int) dims[1], (int) dims[0], 1024, NULL, &w, &h)
                 == USAM_SAM_STATUS_OK);
      ck_assert_int_eq (h, (int) rdims[0]);
      ck_assert_int_eq (w, (int) rdims[1]);
      g_autofree guint8 *mine = g_malloc ((gsize) w * h * 3);
      ck_assert (usam_sam_resize_longest_side (image, (int) dims[1], (int) dims[0], 1024, mine, &w, &h)
                 == USAM_SAM_STATUS_OK);
      int worst = 0;
      for (gsize k = 0; k < (gsize) w * h * 3; k++)
        worst = MAX (worst, abs ((int) mine[k] - (int) resized[k]));
      /* Pillow's fixed-point resampling is reproduced exactly. */
      ck_assert_msg (worst == 0, "%s: resize differs by up to %d grey levels", image_names[i], worst);
    }
  fixture_close (&f);
}
END_TEST

START_TEST (test_encoder_from_resized)
{
  Fixture f = fixture_open ();
  const char *name = image_names[_i];
  int rank;
  hsize_t dims[USAM_H5_MAX_RANK], rdims[USAM_H5_MAX_RANK];
  g_autofree char *ip = g_strdup_printf ("/images/%s/image", name);
  g_autofree char *rp = g_strdup_printf ("/images/%s/resized", name);
  g_autofree guint8 *image = read_golden (f.golden, ip, H5T_NATIVE_UINT8, &rank, dims);
  g_autofree guint8 *resized = read_golden (f.golden, rp, H5T_NATIVE_UINT8, &rank, rdims);
  usam_sam_embedding *embedding = NULL;
  usam_sam_encode_params params = usam_sam_encode_default_params ();
  ck_assert_msg (usam_sam_encode_resized (f.model, resized, (int) rdims[1], (int) rdims[0], (int) dims[1],
                                          (int) dims[0], &params, &embedding)
                     == USAM_SAM_STATUS_OK,
                 "%s", usam_sam_last_error ());
  check_embedding (&f, name, embedding);
  usam_sam_embedding_free (embedding);
  fixture_close (&f);
}
END_TEST

static void
read_prompt (hid_t golden, const char *group, usam_sam_prompt *p, gboolean *multimask, float **points, gint32 **labels,
             float **box, float **mask_input)
{
  int rank;
  hsize_t dims[USAM_H5_MAX_RANK];
  memset (p, 0, sizeof *p);
  g_autofree char *pc = g_strdup_printf ("%s/point_coords", group);
  g_autofree char *pl = g_strdup_printf ("%s/point_labels", group);
  g_autofree char *bx = g_strdup_printf ("%s/box", group);
  g_autofree char *mi = g_strdup_printf ("%s/mask_input", group);
  *points = NULL;
  *labels = NULL;
  *box = NULL;
  *mask_input = NULL;
  if (usam_h5_exists (golden, pc))
    {
      *points = read_golden (golden, pc, H5T_NATIVE_FLOAT, &rank, dims);
      p->n_points = (int) dims[0];
      *labels = read_golden (golden, pl, H5T_NATIVE_INT32, &rank, dims);
      ck_assert_int_eq ((int) dims[0], p->n_points);
    }
  if (usam_h5_exists (golden, bx))
    *box = read_golden (golden, bx, H5T_NATIVE_FLOAT, &rank, dims);
  if (usam_h5_exists (golden, mi))
    *mask_input = read_golden (golden, mi, H5T_NATIVE_FLOAT, &rank, dims);
  p->points = *points;
  p->labels = *labels;
  p->box = *box;
  p->mask_input = *mask_input;
  g_auto (UsamH5Group) g = H5Gopen2 (golden, group, H5P_DEFAULT);
  gint64 mm = 0;
  g_autoptr (GError) error = NULL;
  ck_assert_msg (usam_h5_read_attr_ints (g, "multimask", &mm, 1, &error), "%s", error ? error->message : "");
  *multimask = mm != 0;
}

static void
check_prediction (Fixture *f, const char *group, const usam_sam_prediction *pred, int prompt, int height, int width)
{
  int rank;
  hsize_t dims[USAM_H5_MAX_RANK];
  g_autofree char *ip = g_strdup_printf ("%s/iou", group);
  g_autofree char *lp = g_strdup_printf ("%s/low_res_logits", group);
  g_autofree char *mp = g_strdup_printf ("%s/masks", group);
  g_autofree float *iou = read_golden (f->golden, ip, H5T_NATIVE_FLOAT, &rank, dims);
  g_autofree float *low = read_golden (f->golden, lp, H5T_NATIVE_FLOAT, &rank, dims);
  g_autofree guint8 *masks = read_golden (f->golden, mp, H5T_NATIVE_UINT8, &rank, dims);
  /* batched groups hold one mask per prompt; cases hold C masks for one prompt */
  gboolean batched = g_str_has_suffix (group, "batched_boxes");
  int C = batched ? 1 : (int) dims[0];
  ck_assert_int_eq (usam_sam_prediction_get_n_masks (pred), C);
  const gsize hw = (gsize) height * width, lr = 256 * 256;
  const gsize off = batched ? (gsize) prompt : 0;
  float iou_err = max_abs_diff (usam_sam_prediction_get_iou (pred, prompt), iou + off, (gsize) C);
  float low_err = max_abs_diff (usam_sam_prediction_get_low_res_logits (pred, prompt), low + off * lr, C * lr);
  double agree = mask_agreement (usam_sam_prediction_get_masks (pred, prompt), masks + off * hw, C * hw);
  ck_assert_msg (iou_err < IOU_TOL, "%s[%d]: IoU error %g", group, prompt, iou_err);
  ck_assert_msg (low_err < LOGIT_TOL, "%s[%d]: low-res logits error %g", group, prompt, low_err);
  ck_assert_msg (agree >= MASK_AGREEMENT, "%s[%d]: masks agree on %.5f of pixels", group, prompt, agree);
}

START_TEST (test_whole_path_cases)
{
  Fixture f = fixture_open ();
  const char *name = image_names[_i];
  int height, width;
  usam_sam_embedding *embedding = encode_golden_image (&f, name, &height, &width);
  check_embedding (&f, name, embedding);
  for (int k = 0;; k++)
    {
      g_autofree char *group = g_strdup_printf ("/images/%s/cases/%d", name, k);
      if (!usam_h5_exists (f.golden, group))
        {
          ck_assert_msg (k >= 7, "%s: only %d cases", name, k);
          break;
        }
      usam_sam_prompt prompt;
      gboolean multimask;
      g_autofree float *points = NULL, *box = NULL, *mask_input = NULL;
      g_autofree gint32 *labels = NULL;
      read_prompt (f.golden, group, &prompt, &multimask, &points, &labels, &box, &mask_input);
      usam_sam_predict_params params = usam_sam_predict_default_params ();
      params.multimask = multimask;
      params.outputs = USAM_SAM_OUTPUT_MASKS | USAM_SAM_OUTPUT_LOW_RES;
      usam_sam_prediction *pred = NULL;
      ck_assert_msg (usam_sam_predict (f.model, embedding, &prompt, &params, &pred) == USAM_SAM_STATUS_OK, "%s: %s",
                     group, usam_sam_last_error ());
      check_prediction (&f, group, pred, 0, height, width);
      usam_sam_prediction_free (pred);
    }
  usam_sam_embedding_free (embedding);
  fixture_close (&f);
}
END_TEST

START_TEST (test_batched_boxes)
{
  Fixture f = fixture_open ();
  const char *name = image_names[_i];
  int height, width, rank;
  hsize_t dims[USAM_H5_MAX_RANK];
  usam_sam_embedding *embedding = encode_golden_image (&f, name, &height, &width);
  g_autofree char *group = g_strdup_printf ("/images/%s/batched_boxes", name);
  g_autofree char *bp = g_strdup_printf ("%s/boxes", group);
  g_autofree float *boxes = read_golden (f.golden, bp, H5T_NATIVE_FLOAT, &rank, dims);
  const int n = (int) dims[0];
  g_autofree usam_sam_prompt *prompts = g_new0 (usam_sam_prompt, n);
  for (int i = 0; i < n; i++)
    prompts[i].box = boxes + 4 * i;
  usam_sam_predict_params params = usam_sam_predict_default_params ();
  params.multimask = FALSE;
  usam_sam_prediction *pred = NULL;
  ck_assert (usam_sam_predict_batch (f.model, embedding, prompts, n, &params, &pred) == USAM_SAM_STATUS_OK);
  ck_assert_int_eq (usam_sam_prediction_get_n_prompts (pred), n);
  for (int i = 0; i < n; i++)
    check_prediction (&f, group, pred, i, height, width);
  usam_sam_prediction_free (pred);
  usam_sam_embedding_free (embedding);
  fixture_close (&f);
}
END_TEST

START_TEST (test_mixed_batch_equals_single_calls)
{
  /* A batch of prompts of different kinds must give what each gives alone. */
  Fixture f = fixture_open ();
  int height, width;
  usam_sam_embedding *embedding = encode_golden_image (&f, "colour256x320", &height, &width);
  const float pts[] = { 40, 50, 200, 100, 120, 30 };
  const gint32 lab[] = { 1, 0, 1 };
  const float box[] = { 30, 20, 150, 140 };
  usam_sam_prompt prompts[] = {
    { pts, lab, 1, NULL, NULL },
    { pts, lab, 3, NULL, NULL },
    { NULL, NULL, 0, box, NULL },
    { pts + 2, lab + 1, 2, box, NULL },
    { pts + 4, lab + 2, 1, NULL, NULL },
  };
  const int n = G_N_ELEMENTS (prompts);
  usam_sam_predict_params params = usam_sam_predict_default_params ();
  params.outputs |= USAM_SAM_OUTPUT_LOGITS;
  usam_sam_prediction *batch = NULL;
  ck_assert (usam_sam_predict_batch (f.model, embedding, prompts, n, &params, &batch) == USAM_SAM_STATUS_OK);
  for (int i = 0; i < n; i++)
    {
      usam_sam_prediction *single = NULL;
      ck_assert (usam_sam_predict (f.model, embedding, &prompts[i], &params, &single) == USAM_SAM_STATUS_OK);
      const gsize hw = (gsize) height * width * 3;
      ck_assert_float_lt (max_abs_diff (usam_sam_prediction_get_iou (batch, i), usam_sam_prediction_get_iou (single, 0), 3), 1e-5f);
      ck_assert_float_lt (max_abs_diff (usam_sam_prediction_get_logits (batch, i), usam_sam_prediction_get_logits (single, 0), hw), 1e-4f);
      /* Batched matrix products round differently: masks may differ only
       * where the logit is within that rounding of the threshold. */
      const guint8 *mb = usam_sam_prediction_get_masks (batch, i), *ms = usam_sam_prediction_get_masks (single, 0);
      const float *ls = usam_sam_prediction_get_logits (single, 0);
      gsize flips = 0;
      for (gsize k = 0; k < hw; k++)
        if (mb[k] != ms[k])
          {
            ck_assert_msg (fabsf (ls[k]) < 1e-4f, "prompt %d: mask differs at a logit of %g", i, ls[k]);
            flips++;
          }
      ck_assert_msg (flips * 10000 < hw, "prompt %d: %zu pixels differ", i, flips);
      usam_sam_prediction_free (single);
    }
  usam_sam_prediction_free (batch);
  usam_sam_embedding_free (embedding);
  fixture_close (&f);
}
END_TEST

START_TEST (test_usam_checkpoint_has_the_same_sam)
{
  /* The μSAM checkpoint wraps sam-tiny-a: it must load (prefix "sam.",
   * extra decoder_state) and give the same embedding. */
  Fixture f = fixture_open ();
  usam_sam_model *usam = load_model ("golden/usam-ckpt-tiny-a-interp.pt", USAM_SAM_PRECISION_FP32);
  usam_sam_model_info info;
  usam_sam_model_get_info (usam, &info);
  ck_assert_str_eq (info.format, "usam");
  ck_assert (info.has_decoder);
  ck_assert_str_eq (info.usam_type, "tiny-a");
  ck_assert_int_eq (info.embed_dim, 64);
  ck_assert_int_eq (info.depth, 4);
  ck_assert_int_eq (info.num_heads, 2);
  ck_assert_int_eq (info.n_global, 2);
  ck_assert_int_eq (info.global_attn_indexes[0], 1);
  ck_assert_int_eq (info.global_attn_indexes[1], 3);
  ck_assert_int_eq (info.window_size, 14);
  int height, width;
  usam_sam_model *plain = f.model;
  f.model = usam;
  usam_sam_embedding *embedding = encode_golden_image (&f, "nuclei256", &height, &width);
  check_embedding (&f, "nuclei256", embedding);
  usam_sam_embedding_free (embedding);
  f.model = plain;
  usam_sam_model_free (usam);
  fixture_close (&f);
}
END_TEST

START_TEST (test_bf16_masks_agree_with_fp32)
{
  /* The bf16 encoder is an approximation: masks must stay ≥ 99 % identical. */
  Fixture f = fixture_open ();
  usam_sam_model *bf16 = load_model ("golden/sam-tiny-a.pth", USAM_SAM_PRECISION_BF16);
  for (guint i = 0; i < G_N_ELEMENTS (image_names); i++)
    {
      int height, width;
      usam_sam_embedding *e32 = encode_golden_image (&f, image_names[i], &height, &width);
      usam_sam_model *plain = f.model;
      f.model = bf16;
      usam_sam_embedding *e16 = encode_golden_image (&f, image_names[i], &height, &width);
      f.model = plain;
      for (int k = 0; k < 6; k++)
        {
          g_autofree char *group = g_strdup_printf ("/images/%s/cases/%d", image_names[i], k);
          usam_sam_prompt prompt;
          gboolean multimask;
          g_autofree float *points = NULL, *box = NULL, *mask_input = NULL;
          g_autofree gint32 *labels = NULL;
          read_prompt (f.golden, group, &prompt, &multimask, &points, &labels, &box, &mask_input);
          usam_sam_predict_params params = usam_sam_predict_default_params ();
          params.multimask = multimask;
          usam_sam_prediction *p32 = NULL, *p16 = NULL;
          ck_assert (usam_sam_predict (f.model, e32, &prompt, &params, &p32) == USAM_SAM_STATUS_OK);
          ck_assert (usam_sam_predict (bf16, e16, &prompt, &params, &p16) == USAM_SAM_STATUS_OK);
          const gsize n = (gsize) usam_sam_prediction_get_n_masks (p32) * height * width;
          double agree = mask_agreement (usam_sam_prediction_get_masks (p32, 0), usam_sam_prediction_get_masks (p16, 0), n);
          ck_assert_msg (agree >= 0.99, "%s: bf16 masks agree with fp32 on only %.4f", group, agree);
          usam_sam_prediction_free (p32);
          usam_sam_prediction_free (p16);
        }
      usam_sam_embedding_free (e32);
      usam_sam_embedding_free (e16);
    }
  usam_sam_model_free (bf16);
  fixture_close (&f);
}
END_TEST

static Suite *
parity_suite (void)
{
  Suite *s = suite_create ("sam-parity");
  TCase *tc = usam_test_tcase_new ("golden");
  tcase_add_test (tc, test_resize_matches_pillow);
  tcase_add_loop_test (tc, test_encoder_from_resized, 0, G_N_ELEMENTS (image_names));
  tcase_add_loop_test (tc, test_whole_path_cases, 0, G_N_ELEMENTS (image_names));
  tcase_add_loop_test (tc, test_batched_boxes, 0, G_N_ELEMENTS (image_names));
  tcase_add_test (tc, test_mixed_batch_equals_single_calls);
  tcase_add_test (tc, test_usam_checkpoint_has_the_same_sam);
  tcase_add_test (tc, test_bf16_masks_agree_with_fp32);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  return usam_test_run (parity_suite ());
}
