/* The `usam embed` and `usam predict` contract, run as a user runs it: every
 * golden case through the command line, and the exit codes and one-line
 * messages of bad invocations. */
#include <math.h>
#include <string.h>
#include <sys/wait.h>

#include "usam-h5.h"
#include "usam-image.h"
#include "usam-test-util.h"

static const char *image_names[] = { "nuclei256", "colour256x320", "phase1022x1024" };

typedef struct
{
  int status;
  char *out;
  char *err;
} Run;

static void
run_clear (Run *r)
{
  g_free (r->out);
  g_free (r->err);
}

static Run
run_usam (const char *const *args)
{
  g_autofree char *exe = usam_test_build_path ("app/usam");
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_ptr_array_add (argv, exe);
  for (int i = 0; args[i]; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);
  Run r = { 0 };
  int wait_status = 0;
  g_autoptr (GError) error = NULL;
  ck_assert_msg (g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, &r.out, &r.err,
                               &wait_status, &error),
                 "cannot run %s: %s", exe, error ? error->message : "");
  ck_assert_msg (WIFEXITED (wait_status), "usam did not exit normally (crash?): %s", r.err);
  r.status = WEXITSTATUS (wait_status);
  return r;
}

static void
expect_exit (const char *const *args, int status, const char *needle)
{
  Run r = run_usam (args);
  ck_assert_msg (r.status == status, "exit %d (expected %d), stderr: %s", r.status, status, r.err);
  g_autofree char *trimmed = g_strchomp (g_strdup (r.err));
  ck_assert_msg (*trimmed && strchr (trimmed, '\n') == NULL, "stderr is not one line: '%s'", r.err);
  ck_assert_msg (!needle || strstr (r.err, needle), "stderr '%s' does not mention '%s'", r.err, needle);
  run_clear (&r);
}

static hid_t
open_golden (void)
{
  g_autofree char *path = usam_test_shared_path ("golden/sam-tiny-a-cases.h5");
  g_autoptr (GError) error = NULL;
  hid_t f = usam_h5_open (path, FALSE, &error);
  ck_assert_msg (f >= 0, "%s", error ? error->message : "");
  return f;
}

static gpointer
read_h5 (hid_t file, const char *name, hid_t type, int *rank, hsize_t *dims)
{
  g_autoptr (GError) error = NULL;
  gpointer data = usam_h5_read (file, name, type, rank, dims, &error);
  ck_assert_msg (data != NULL, "%s", error ? error->message : "");
  return data;
}

/* Writes /images/@name/image as an 8-bit RGB file usam can read. */
static char *
write_golden_image (hid_t golden, const char *name, const char *extension)
{
  int rank;
  hsize_t dims[USAM_H5_MAX_RANK];
  g_autofree char *p = g_strdup_printf ("/images/%s/image", name);
  guint8 *pixels = read_h5 (golden, p, H5T_NATIVE_UINT8, &rank, dims);
  g_autoptr (GBytes) bytes = g_bytes_new_take (pixels, dims[0] * dims[1] * 3);
  g_autoptr (GError) error = NULL;
  g_autoptr (UsamImage) image = usam_image_new_from_bytes (bytes, USAM_PIXEL_TYPE_U8, (guint) dims[1],
                                                           (guint) dims[0], 3, 1, 1, &error);
  ck_assert_msg (image != NULL, "%s", error ? error->message : "");
  char *path = g_strdup_printf ("%s/%s.%s", usam_test_tmpdir (), name, extension);
  gboolean ok = g_str_equal (extension, "png") ? usam_image_save_png (image, path, &error)
                                               : usam_image_save_tiff (image, path, &error);
  ck_assert_msg (ok, "%s", error ? error->message : "");
  return path;
}

static float
max_abs_diff (const float *a, const float *b, gsize n)
{
  float m = 0;
  for (gsize i = 0; i < n; i++)
    m = fmaxf (m, fabsf (a[i] - b[i]));
  return m;
}

/* Compares OUT.h5 of `usam predict` with the golden group. */
static void
check_output (hid_t golden, const char *group, const char *out_path)
{
  g_autoptr (GError) error = NULL;
  g_auto (UsamH5File) out = usam_h5_open (out_path, FALSE, &error);
  ck_assert_msg (out >= 0, "%s", error ? error->message : "");
  int rank, orank;
  hsize_t dims[USAM_H5_MAX_RANK], odims[USAM_H5_MAX_RANK];
  g_autofree char *mp = g_strdup_printf ("%s/masks", group);
  g_autofree char *ip = g_strdup_printf ("%s/iou", group);
  g_autofree char *lp = g_strdup_printf ("%s/low_res_logits", group);
  g_autofree guint8 *masks = read_h5 (golden, mp, H5T_NATIVE_UINT8, &rank, dims);
  g_autofree guint8 *omasks = read_h5 (out, "/masks", H5T_NATIVE_UINT8, &orank, odims);
  ck_assert_int_eq (orank, 3);
  for (int i = 0; i < 3; i++)
    ck_assert_int_eq (odims[i], dims[i]);
  gsize n = dims[0] * dims[1] * dims[2], same = 0;
  for (gsize i = 0; i < n; i++)
    same += (masks[i] != 0) == (omasks[i] != 0);
  ck_assert_msg ((double) same / n >= 0.999, "%s: masks agree on %.5f", group, (double) same / n);
  g_autofree float *iou = read_h5 (golden, ip, H5T_NATIVE_FLOAT, &rank, dims);
  g_autofree float *oiou = read_h5 (out, "/iou", H5T_NATIVE_FLOAT, &orank, odims);
  ck_assert_int_eq (odims[0], dims[0]);
  ck_assert_float_lt (max_abs_diff (iou, oiou, dims[0]), 1e-3f);
  g_autofree float *low = read_h5 (golden, lp, H5T_NATIVE_FLOAT, &rank, dims);
  g_autofree float *olow = read_h5 (out, "/low_res_logits", H5T_NATIVE_FLOAT, &orank, odims);
  ck_assert_int_eq (orank, 3);
  ck_assert_int_eq (odims[1], 256);
  ck_assert_float_lt (max_abs_diff (low, olow, dims[0] * dims[1] * dims[2]), 1e-3f);
}

/* The command line of golden case @group, appended to @args. */
static void
add_prompt_args (hid_t golden, const char *group, GPtrArray *args, GPtrArray *keep)
{
  int rank;
  hsize_t dims[USAM_H5_MAX_RANK];
  g_autofree char *pc = g_strdup_printf ("%s/point_coords", group);
  if (usam_h5_exists (golden, pc))
    {
      g_autofree char *pl = g_strdup_printf ("%s/point_labels", group);
      g_autofree float *points = read_h5 (golden, pc, H5T_NATIVE_FLOAT, &rank, dims);
      g_autofree gint32 *labels = read_h5 (golden, pl, H5T_NATIVE_INT32, &rank, dims);
      for (hsize_t i = 0; i < dims[0]; i++)
        {
          g_ptr_array_add (args, "--point");
          char *v = g_strdup_printf ("%.9g,%.9g,%d", points[2 * i], points[2 * i + 1], labels[i]);
          g_ptr_array_add (keep, v);
          g_ptr_array_add (args, v);
        }
    }
  g_autofree char *bx = g_strdup_printf ("%s/box", group);
  if (usam_h5_exists (golden, bx))
    {
      g_autofree float *box = read_h5 (golden, bx, H5T_NATIVE_FLOAT, &rank, dims);
      char *v = g_strdup_printf ("%.9g,%.9g,%.9g,%.9g", box[0], box[1], box[2], box[3]);
      g_ptr_array_add (keep, v);
      g_ptr_array_add (args, "--box");
      g_ptr_array_add (args, v);
    }
  g_autofree char *mi = g_strdup_printf ("%s/mask_input", group);
  if (usam_h5_exists (golden, mi))
    {
      g_autofree float *mask = read_h5 (golden, mi, H5T_NATIVE_FLOAT, &rank, dims);
      char *path = g_strdup_printf ("%s/mi-%u.h5", usam_test_tmpdir (), g_str_hash (group));
      g_autoptr (GError) error = NULL;
      g_autoptr (UsamH5Output) o = usam_h5_output_new (path, &error);
      ck_assert (o != NULL);
      ck_assert (usam_h5_write (usam_h5_output_get_file (o), "/mask_input", H5T_NATIVE_FLOAT, rank, dims, mask, FALSE,
                                &error));
      ck_assert (usam_h5_output_commit (o, &error));
      g_ptr_array_add (keep, path);
      g_ptr_array_add (args, "--mask-input");
      g_ptr_array_add (args, path);
    }
  g_auto (UsamH5Group) g = H5Gopen2 (golden, group, H5P_DEFAULT);
  gint64 multimask = 0;
  ck_assert (usam_h5_read_attr_ints (g, "multimask", &multimask, 1, NULL));
  if (multimask)
    g_ptr_array_add (args, "--multimask");
}

START_TEST (test_predict_golden_cases)
{
  const char *name = image_names[_i];
  hid_t golden = open_golden ();
  g_autofree char *model = usam_test_shared_path ("golden/sam-tiny-a.pth");
  g_autofree char *image = write_golden_image (golden, name, "png");
  for (int k = 0; k < 7; k++)
    {
      g_autofree char *group = g_strdup_printf ("/images/%s/cases/%d", name, k);
      g_autofree char *out = g_strdup_printf ("%s/%s-%d.h5", usam_test_tmpdir (), name, k);
      g_autoptr (GPtrArray) args = g_ptr_array_new ();
      g_autoptr (GPtrArray) keep = g_ptr_array_new_with_free_func (g_free);
      const char *fixed[] = { "predict", "--model", model, "--image", image, "--normalize", "none", "--out", out };
      for (guint i = 0; i < G_N_ELEMENTS (fixed); i++)
        g_ptr_array_add (args, (gpointer) fixed[i]);
      add_prompt_args (golden, group, args, keep);
      g_ptr_array_add (args, NULL);
      Run r = run_usam ((const char *const *) args->pdata);
      ck_assert_msg (r.status == 0, "%s: exit %d: %s", group, r.status, r.err);
      run_clear (&r);
      check_output (golden, group, out);
    }
  H5Fclose (golden);
}
END_TEST

START_TEST (test_embed_then_predict_from_embedding)
{
  hid_t golden = open_golden ();
  g_autofree char *model = usam_test_shared_path ("golden/sam-tiny-a.pth");
  /* TIFF this time, to cover the other image format. */
  g_autofree char *image = write_golden_image (golden, "colour256x320", "tif");
  g_autofree char *emb = g_strdup_printf ("%s/colour.emb.h5", usam_test_tmpdir ());
  const char *embed[] = { "embed", "--model", model, "--image", image, "--normalize", "none", "--out", emb, NULL };
  Run r = run_usam (embed);
  ck_assert_msg (r.status == 0, "embed: %s", r.err);
  run_clear (&r);

  g_autoptr (GError) error = NULL;
  g_auto (UsamH5File) f = usam_h5_open (emb, FALSE, &error);
  ck_assert (f >= 0);
  int rank, grank;
  hsize_t dims[USAM_H5_MAX_RANK], gdims[USAM_H5_MAX_RANK];
  g_autofree float *features = read_h5 (f, "/features", H5T_NATIVE_FLOAT, &rank, dims);
  g_autofree float *expected = read_h5 (golden, "/images/colour256x320/embedding", H5T_NATIVE_FLOAT, &grank, gdims);
  ck_assert_int_eq (rank, 4);
  ck_assert_int_eq (dims[0], 1);
  ck_assert_int_eq (dims[1], 256);
  ck_assert_int_eq (dims[2], 64);
  ck_assert_int_eq (dims[3], 64);
  ck_assert_float_lt (max_abs_diff (features, expected, 256 * 64 * 64), 1e-3f);
  gint64 input_size[2], original_size[2];
  ck_assert (usam_h5_read_attr_ints (f, "input_size", input_size, 2, NULL));
  ck_assert (usam_h5_read_attr_ints (f, "original_size", original_size, 2, NULL));
  ck_assert_int_eq (input_size[0], 819);
  ck_assert_int_eq (input_size[1], 1024);
  ck_assert_int_eq (original_size[0], 256);
  ck_assert_int_eq (original_size[1], 320);

  const char *group = "/images/colour256x320/cases/4";
  g_autofree char *out = g_strdup_printf ("%s/from-emb.h5", usam_test_tmpdir ());
  g_autoptr (GPtrArray) args = g_ptr_array_new ();
  g_autoptr (GPtrArray) keep = g_ptr_array_new_with_free_func (g_free);
  const char *fixed[] = { "predict", "--model", model, "--image", image, "--embedding", emb, "--out", out };
  for (guint i = 0; i < G_N_ELEMENTS (fixed); i++)
    g_ptr_array_add (args, (gpointer) fixed[i]);
  add_prompt_args (golden, group, args, keep);
  g_ptr_array_add (args, NULL);
  r = run_usam ((const char *const *) args->pdata);
  ck_assert_msg (r.status == 0, "predict: %s", r.err);
  run_clear (&r);
  check_output (golden, group, out);

  /* The embedding of one image refused for another. */
  g_autofree char *other = write_golden_image (golden, "nuclei256", "png");
  const char *mismatch[] = { "predict", "--model", model, "--image", other, "--embedding", emb, "--point", "5,5,1",
                             "--out", out, NULL };
  expect_exit (mismatch, 1, "embedding is of a 320×256 image");
  H5Fclose (golden);
}
END_TEST

START_TEST (test_bad_arguments_exit_2)
{
  g_autofree char *model = usam_test_shared_path ("golden/sam-tiny-a.pth");
  g_autofree char *out = g_strdup_printf ("%s/never.h5", usam_test_tmpdir ());
  const char *none[] = { NULL };
  Run r = run_usam (none);
  ck_assert_int_eq (r.status, 2);
  run_clear (&r);
  const char *unknown_cmd[] = { "frobnicate", NULL };
  expect_exit (unknown_cmd, 2, "unknown command");
  const char *unknown_opt[] = { "predict", "--model", model, "--frob", NULL };
  expect_exit (unknown_opt, 2, "--frob");
  const char *no_model[] = { "predict", "--image", "x.png", "--point", "1,2,1", "--out", out, NULL };
  expect_exit (no_model, 2, "--model");
  const char *no_out[] = { "embed", "--model", model, "--image", "x.png", NULL };
  expect_exit (no_out, 2, "--out");
  const char *bad_point[] = { "predict", "--model", model, "--image", "x.png", "--point", "1,2", "--out", out, NULL };
  expect_exit (bad_point, 2, "X,Y,L");
  const char *bad_label[] = { "predict", "--model", model, "--image", "x.png", "--point", "1,2,7", "--out", out, NULL };
  expect_exit (bad_label, 2, "label");
  const char *bad_box[] = { "predict", "--model", model, "--image", "x.png", "--box", "1,2,x,4", "--out", out, NULL };
  expect_exit (bad_box, 2, "--box");
  const char *no_prompt[] = { "predict", "--model", model, "--image", "x.png", "--out", out, NULL };
  expect_exit (no_prompt, 2, "--point");
  const char *bad_norm[] = { "embed", "--model", model, "--image", "x.png", "--normalize", "zscore", "--out", out, NULL };
  expect_exit (bad_norm, 2, "--normalize");
  const char *stray[] = { "embed", "--model", model, "--image", "x.png", "--out", out, "extra", NULL };
  expect_exit (stray, 2, "extra");
  ck_assert (!g_file_test (out, G_FILE_TEST_EXISTS));
}
END_TEST

START_TEST (test_unreadable_inputs_exit_1)
{
  hid_t golden = open_golden ();
  g_autofree char *model = usam_test_shared_path ("golden/sam-tiny-a.pth");
  g_autofree char *image = write_golden_image (golden, "nuclei256", "png");
  g_autofree char *out = g_strdup_printf ("%s/never.h5", usam_test_tmpdir ());
  const char *dir = usam_test_tmpdir ();

  const char *missing_image[] = { "predict", "--model", model, "--image", "/nonexistent/cells.tif", "--point", "1,1,1",
                                  "--out", out, NULL };
  expect_exit (missing_image, 1, "/nonexistent/cells.tif");
  const char *missing_model[] = { "embed", "--model", "/nonexistent/sam.pth", "--image", image, "--out", out, NULL };
  expect_exit (missing_model, 1, "/nonexistent/sam.pth");

  g_autofree char *broken = g_build_filename (dir, "broken.pth", NULL);
  g_file_set_contents (broken, "PK\003\004 not really a zip", -1, NULL);
  const char *bad_model[] = { "embed", "--model", broken, "--image", image, "--out", out, NULL };
  expect_exit (bad_model, 1, "broken.pth");

  g_autofree char *not_image = g_build_filename (dir, "text.png", NULL);
  g_file_set_contents (not_image, "hello", -1, NULL);
  const char *bad_image[] = { "embed", "--model", model, "--image", not_image, "--out", out, NULL };
  expect_exit (bad_image, 1, "text.png");

  /* A volume where a 2D image is expected. */
  g_autoptr (GError) error = NULL;
  g_autoptr (UsamImage) volume = usam_image_new (USAM_PIXEL_TYPE_U16, 32, 24, 1, 5, 1, &error);
  g_autofree char *volume_path = g_build_filename (dir, "volume.tif", NULL);
  ck_assert (usam_image_save_tiff (volume, volume_path, &error));
  const char *vol[] = { "embed", "--model", model, "--image", volume_path, "--out", out, NULL };
  expect_exit (vol, 1, "volume");

  /* 16-bit input with --normalize none. */
  g_autoptr (UsamImage) deep = usam_image_new (USAM_PIXEL_TYPE_U16, 32, 24, 1, 1, 1, &error);
  g_autofree char *deep_path = g_build_filename (dir, "deep.tif", NULL);
  ck_assert (usam_image_save_tiff (deep, deep_path, &error));
  const char *deep_none[] = { "embed", "--model", model, "--image", deep_path, "--normalize", "none", "--out", out, NULL };
  expect_exit (deep_none, 1, "8-bit");

  /* A mask input of the wrong shape. */
  g_autofree char *mi = g_build_filename (dir, "mi-bad.h5", NULL);
  g_autoptr (UsamH5Output) o = usam_h5_output_new (mi, &error);
  float zeros[64] = { 0 };
  hsize_t dims[2] = { 8, 8 };
  ck_assert (usam_h5_write (usam_h5_output_get_file (o), "/mask_input", H5T_NATIVE_FLOAT, 2, dims, zeros, FALSE, &error));
  ck_assert (usam_h5_output_commit (o, &error));
  const char *bad_mi[] = { "predict", "--model", model, "--image", image, "--mask-input", mi, "--out", out, NULL };
  expect_exit (bad_mi, 1, "mask_input");
  ck_assert (!g_file_test (out, G_FILE_TEST_EXISTS));
  H5Fclose (golden);
}
END_TEST

static Suite *
cli_suite (void)
{
  Suite *s = suite_create ("cli");
  TCase *tc = usam_test_tcase_new ("contract");
  tcase_add_loop_test (tc, test_predict_golden_cases, 0, G_N_ELEMENTS (image_names));
  tcase_add_test (tc, test_embed_then_predict_from_embedding);
  suite_add_tcase (s, tc);
  TCase *bad = usam_test_tcase_new ("errors");
  tcase_add_test (bad, test_bad_arguments_exit_2);
  tcase_add_test (bad, test_unreadable_inputs_exit_1);
  suite_add_tcase (s, bad);
  return s;
}

int
main (void)
{
  return usam_test_run (cli_suite ());
}
