/* Checkpoint loading: the torch.save() layouts usam must read, and every
 * malformed file it must refuse with one line naming the file and the problem.
 *
 * The checkpoints are written by a small torch.save() writer of this test's
 * own (zip + pickle protocol 2, as PyTorch writes them), independent of the
 * engine's writer, from the weights of a random "tiny" model. */
#include <math.h>
#include <string.h>
#include <zlib.h>

#include <glib/gstdio.h>

#include "usam-error.h"
#include "usam-model.h"
#include "usam-sam.h"
#include "usam-test-util.h"

/* ---- a minimal torch.save() writer ---- */

typedef struct
{
  GByteArray *pkl;
  GPtrArray *names;   /* record names under data/ */
  GPtrArray *records; /* GBytes */
  gboolean deflate_pickle;
} Writer;

static Writer *
writer_new (void)
{
  Writer *w = g_new0 (Writer, 1);
  w->pkl = g_byte_array_new ();
  w->names = g_ptr_array_new_with_free_func (g_free);
  w->records = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  guint8 proto[] = { 0x80, 2 };
  g_byte_array_append (w->pkl, proto, 2);
  return w;
}

static void
writer_free (Writer *w)
{
  g_byte_array_unref (w->pkl);
  g_ptr_array_unref (w->names);
  g_ptr_array_unref (w->records);
  g_free (w);
}

static void
op (Writer *w, guint8 code)
{
  g_byte_array_append (w->pkl, &code, 1);
}

static void
put_le (GByteArray *a, guint64 v, int n)
{
  for (int i = 0; i < n; i++)
    {
      guint8 b = (guint8) (v >> (8 * i));
      g_byte_array_append (a, &b, 1);
    }
}

static void
pk_str (Writer *w, const char *s)
{
  op (w, 'X');
  put_le (w->pkl, strlen (s), 4);
  g_byte_array_append (w->pkl, (const guint8 *) s, (guint) strlen (s));
}

static void
pk_int (Writer *w, gint64 v)
{
  if (v >= 0 && v < 256)
    {
      op (w, 'K');
      put_le (w->pkl, (guint64) v, 1);
    }
  else if (v >= G_MININT32 && v <= G_MAXINT32)
    {
      op (w, 'J');
      put_le (w->pkl, (guint32) (gint32) v, 4);
    }
  else
    {
      op (w, 0x8a);
      put_le (w->pkl, 8, 1);
      put_le (w->pkl, (guint64) v, 8);
    }
}

static void
pk_float (Writer *w, double v)
{
  op (w, 'G');
  guint64 bits;
  memcpy (&bits, &v, 8);
  for (int i = 7; i >= 0; i--)
    {
      guint8 b = (guint8) (bits >> (8 * i));
      g_byte_array_append (w->pkl, &b, 1);
    }
}

static void
pk_global (Writer *w, const char *module, const char *name)
{
  op (w, 'c');
  g_byte_array_append (w->pkl, (const guint8 *) module, (guint) strlen (module));
  op (w, '\n');
  g_byte_array_append (w->pkl, (const guint8 *) name, (guint) strlen (name));
  op (w, '\n');
}

static void
pk_ordered_dict_begin (Writer *w)
{
  pk_global (w, "collections", "OrderedDict");
  op (w, ')');
  op (w, 'R');
  op (w, '(');
}

/* A tensor as torch writes it; @storage_numel may exceed the view. */
static void
pk_tensor_ex (Writer *w, const char *storage, gconstpointer data, gsize nbytes, gint64 storage_numel, gint64 offset,
              int ndim, const gint64 *sizes)
{
  char key[16];
  g_snprintf (key, sizeof key, "%u", w->names->len);
  g_ptr_array_add (w->names, g_strdup (key));
  g_ptr_array_add (w->records, g_bytes_new (data, nbytes));
  pk_global (w, "torch._utils", "_rebuild_tensor_v2");
  op (w, '(');
  op (w, '(');
  pk_str (w, "storage");
  pk_global (w, "torch", storage);
  pk_str (w, key);
  pk_str (w, "cpu");
  pk_int (w, storage_numel);
  op (w, 't');
  op (w, 'Q');
  pk_int (w, offset);
  op (w, '(');
  for (int i = 0; i < ndim; i++)
    pk_int (w, sizes[i]);
  op (w, 't');
  op (w, '(');
  gint64 stride = 1;
  gint64 strides[8];
  for (int i = ndim - 1; i >= 0; i--)
    {
      strides[i] = stride;
      stride *= sizes[i];
    }
  for (int i = 0; i < ndim; i++)
    pk_int (w, strides[i]);
  op (w, 't');
  op (w, 0x89);
  pk_global (w, "collections", "OrderedDict");
  op (w, ')');
  op (w, 'R');
  op (w, 't');
  op (w, 'R');
}

static gsize
numel (int ndim, const gint64 *sizes)
{
  gsize n = 1;
  for (int i = 0; i < ndim; i++)
    n *= (gsize) sizes[i];
  return n;
}

static void
pk_float_tensor (Writer *w, const float *data, int ndim, const gint64 *sizes)
{
  gsize n = numel (ndim, sizes);
  pk_tensor_ex (w, "FloatStorage", data, n * 4, (gint64) n, 0, ndim, sizes);
}

static void
zip_entry (GByteArray *zip, GByteArray *cd, const char *name, gconstpointer data, gsize size, gboolean deflated)
{
  g_autofree guint8 *packed = NULL;
  gsize packed_size = size;
  const guint8 *payload = data;
  if (deflated)
    {
      z_stream zs = { 0 };
      deflateInit2 (&zs, 6, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
      packed = g_malloc (deflateBound (&zs, size));
      zs.next_in = (Bytef *) data;
      zs.avail_in = (uInt) size;
      zs.next_out = packed;
      zs.avail_out = (uInt) deflateBound (&zs, size);
      deflate (&zs, Z_FINISH);
      packed_size = zs.total_out;
      deflateEnd (&zs);
      payload = packed;
    }
  guint32 crc = (guint32) crc32 (crc32 (0, NULL, 0), data, (uInt) size);
  guint32 offset = zip->len;
  put_le (zip, 0x04034b50, 4);
  put_le (zip, 20, 2);
  put_le (zip, 0, 2);
  put_le (zip, deflated ? 8 : 0, 2);
  put_le (zip, 0, 4);
  put_le (zip, crc, 4);
  put_le (zip, packed_size, 4);
  put_le (zip, size, 4);
  put_le (zip, strlen (name), 2);
  put_le (zip, 0, 2);
  g_byte_array_append (zip, (const guint8 *) name, (guint) strlen (name));
  g_byte_array_append (zip, payload, (guint) packed_size);

  put_le (cd, 0x02014b50, 4);
  put_le (cd, 20, 2);
  put_le (cd, 20, 2);
  put_le (cd, 0, 2);
  put_le (cd, deflated ? 8 : 0, 2);
  put_le (cd, 0, 4);
  put_le (cd, crc, 4);
  put_le (cd, packed_size, 4);
  put_le (cd, size, 4);
  put_le (cd, strlen (name), 2);
  put_le (cd, 0, 2);
  put_le (cd, 0, 2);
  put_le (cd, 0, 2);
  put_le (cd, 0, 2);
  put_le (cd, 0, 4);
  put_le (cd, offset, 4);
  g_byte_array_append (cd, (const guint8 *) name, (guint) strlen (name));
}

static char *
writer_finish (Writer *w, const char *file_name)
{
  op (w, '.');
  g_autoptr (GByteArray) zip = g_byte_array_new ();
  g_autoptr (GByteArray) cd = g_byte_array_new ();
  zip_entry (zip, cd, "archive/data.pkl", w->pkl->data, w->pkl->len, w->deflate_pickle);
  for (guint i = 0; i < w->names->len; i++)
    {
      g_autofree char *name = g_strdup_printf ("archive/data/%s", (char *) w->names->pdata[i]);
      gsize n;
      gconstpointer d = g_bytes_get_data (w->records->pdata[i], &n);
      zip_entry (zip, cd, name, d, n, FALSE);
    }
  zip_entry (zip, cd, "archive/version", "3\n", 2, FALSE);
  guint32 cd_offset = zip->len;
  guint entries = w->names->len + 2;
  g_byte_array_append (zip, cd->data, cd->len);
  put_le (zip, 0x06054b50, 4);
  put_le (zip, 0, 2);
  put_le (zip, 0, 2);
  put_le (zip, entries, 2);
  put_le (zip, entries, 2);
  put_le (zip, cd->len, 4);
  put_le (zip, cd_offset, 4);
  put_le (zip, 0, 2);
  char *path = g_build_filename (usam_test_tmpdir (), file_name, NULL);
  g_autoptr (GError) error = NULL;
  ck_assert_msg (g_file_set_contents (path, (const char *) zip->data, zip->len, &error), "%s",
                 error ? error->message : "");
  writer_free (w);
  return path;
}

/* ---- state dicts built from a random tiny model ---- */

typedef enum {
  EDIT_NONE,
  EDIT_DROP,        /* leave out @key */
  EDIT_RESHAPE,     /* give @key one more row */
  EDIT_ADD,         /* add @key as an extra weight */
  EDIT_NAN,         /* put a NaN into @key */
  EDIT_RENAME,      /* store @key under @renamed */
} Edit;

typedef struct
{
  Edit edit;
  const char *key;
  const char *renamed;
  gboolean half;       /* store every weight as float16 */
  const char *prefix;  /* prepended to each name ("sam." for μSAM) */
} Variant;

static usam_sam_model *
tiny_model (void)
{
  usam_sam_model_params params = usam_sam_model_default_params ();
  params.precision = USAM_SAM_PRECISION_FP32;
  usam_sam_model *model = NULL;
  ck_assert (usam_sam_model_new_random ("tiny", 7, &params, &model) == USAM_SAM_STATUS_OK);
  return model;
}

static void
write_state_dict (Writer *w, usam_sam_model *model, const Variant *v)
{
  pk_ordered_dict_begin (w);
  int n = usam_sam_model_get_n_weights (model);
  for (int i = 0; i < n; i++)
    {
      const char *name;
      int ndim;
      const int64_t *sizes;
      const float *data;
      ck_assert (usam_sam_model_get_weight (model, i, &name, &ndim, &sizes, &data) == USAM_SAM_STATUS_OK);
      gboolean target = v->key && g_str_equal (name, v->key);
      if (target && v->edit == EDIT_DROP)
        continue;
      gint64 shape[8];
      for (int d = 0; d < ndim; d++)
        shape[d] = sizes[d];
      gsize count = numel (ndim, shape);
      g_autofree float *copy = g_memdup2 (data, count * sizeof (float));
      if (target && v->edit == EDIT_RESHAPE)
        {
          shape[0] += 1;
          copy = g_realloc (copy, numel (ndim, shape) * sizeof (float));
          memset (copy + count, 0, (numel (ndim, shape) - count) * sizeof (float));
          count = numel (ndim, shape);
        }
      if (target && v->edit == EDIT_NAN)
        copy[0] = NAN;
      g_autofree char *key = g_strconcat (v->prefix ? v->prefix : "",
                                          target && v->edit == EDIT_RENAME ? v->renamed : name, NULL);
      pk_str (w, key);
      if (v->half)
        {
          g_autofree guint16 *h = g_new (guint16, count);
          for (gsize k = 0; k < count; k++)
            {
              /* float32 → float16 by truncating the mantissa; values are small */
              guint32 b;
              memcpy (&b, &copy[k], 4);
              guint32 sign = (b >> 16) & 0x8000;
              gint32 exp = (gint32) ((b >> 23) & 0xff) - 127 + 15;
              guint32 mant = (b >> 13) & 0x3ff;
              h[k] = exp <= 0 ? (guint16) sign : exp >= 31 ? (guint16) (sign | 0x7c00) : (guint16) (sign | (guint32) exp << 10 | mant);
            }
          pk_tensor_ex (w, "HalfStorage", h, count * 2, (gint64) count, 0, ndim, shape);
        }
      else
        pk_float_tensor (w, copy, ndim, shape);
    }
  if (v->edit == EDIT_ADD)
    {
      float x[4] = { 1, 2, 3, 4 };
      gint64 s[1] = { 4 };
      g_autofree char *key = g_strconcat (v->prefix ? v->prefix : "", v->key, NULL);
      pk_str (w, key);
      pk_float_tensor (w, x, 1, s);
    }
  op (w, 'u');
}

static char *
write_sam (usam_sam_model *model, const Variant *v, const char *file_name)
{
  Writer *w = writer_new ();
  write_state_dict (w, model, v);
  return writer_finish (w, file_name);
}

/* Loads @path expecting failure with @status and a message that names the
 * file and contains @needle. */
static void
expect_failure (const char *path, usam_sam_status status, const char *needle)
{
  usam_sam_model_params params = usam_sam_model_default_params ();
  usam_sam_model *model = NULL;
  usam_sam_status got = usam_sam_model_load (path, &params, &model);
  const char *message = usam_sam_last_error ();
  ck_assert_msg (got == status, "%s: expected '%s', got '%s' (%s)", path, usam_sam_status_to_string (status),
                 usam_sam_status_to_string (got), message);
  ck_assert_ptr_null (model);
  ck_assert_msg (strstr (message, path) != NULL, "message does not name the file: %s", message);
  ck_assert_msg (strchr (message, '\n') == NULL, "message is not one line: %s", message);
  ck_assert_msg (!needle || strstr (message, needle) != NULL, "message '%s' does not mention '%s'", message, needle);
}

static usam_sam_model *
expect_success (const char *path)
{
  usam_sam_model_params params = usam_sam_model_default_params ();
  params.precision = USAM_SAM_PRECISION_FP32;
  usam_sam_model *model = NULL;
  ck_assert_msg (usam_sam_model_load (path, &params, &model) == USAM_SAM_STATUS_OK, "%s: %s", path,
                 usam_sam_last_error ());
  return model;
}

static void
assert_same_weights (usam_sam_model *a, usam_sam_model *b, float tolerance)
{
  ck_assert_int_eq (usam_sam_model_get_n_weights (a), usam_sam_model_get_n_weights (b));
  for (int i = 0; i < usam_sam_model_get_n_weights (a); i++)
    {
      const char *na, *nb;
      int da, db;
      const int64_t *sa, *sb;
      const float *xa, *xb;
      usam_sam_model_get_weight (a, i, &na, &da, &sa, &xa);
      usam_sam_model_get_weight (b, i, &nb, &db, &sb, &xb);
      ck_assert_str_eq (na, nb);
      ck_assert_int_eq (da, db);
      gsize n = 1;
      for (int d = 0; d < da; d++)
        {
          ck_assert_int_eq (sa[d], sb[d]);
          n *= (gsize) sa[d];
        }
      /* One assertion per weight: Check's per-call bookkeeping is slow. */
      gsize bad = n;
      for (gsize k = 0; k < n && bad == n; k++)
        if (!(fabsf (xa[k] - xb[k]) <= tolerance * (1.0f + fabsf (xa[k]))))
          bad = k;
      ck_assert_msg (bad == n, "%s[%zu]: %g vs %g", na, bad, bad < n ? xa[bad] : 0.0f, bad < n ? xb[bad] : 0.0f);
    }
}

START_TEST (test_reads_independent_writer)
{
  usam_sam_model *ref = tiny_model ();
  Variant v = { EDIT_NONE };
  g_autofree char *path = write_sam (ref, &v, "plain.pth");
  usam_sam_model *model = expect_success (path);
  assert_same_weights (ref, model, 0.0f);
  usam_sam_model_info info;
  usam_sam_model_get_info (model, &info);
  ck_assert_str_eq (info.format, "sam");
  ck_assert_int_eq (info.embed_dim, 64);
  ck_assert (!info.has_decoder);
  usam_sam_model_free (model);
  usam_sam_model_free (ref);
}
END_TEST

START_TEST (test_reads_deflated_pickle_and_half_weights)
{
  usam_sam_model *ref = tiny_model ();
  Writer *w = writer_new ();
  w->deflate_pickle = TRUE;
  Variant v = { EDIT_NONE, NULL, NULL, TRUE, NULL };
  write_state_dict (w, ref, &v);
  g_autofree char *path = writer_finish (w, "half.pth");
  usam_sam_model *model = expect_success (path);
  assert_same_weights (ref, model, 2e-3f);
  usam_sam_model_free (model);
  usam_sam_model_free (ref);
}
END_TEST

START_TEST (test_reads_usam_checkpoint_and_skips_training_state)
{
  usam_sam_model *ref = tiny_model ();
  Writer *w = writer_new ();
  Variant v = { EDIT_NONE, NULL, NULL, FALSE, "sam." };
  op (w, '}');
  op (w, '(');
  pk_str (w, "model_type");
  pk_str (w, "vit_b_lm");
  pk_str (w, "model_state");
  write_state_dict (w, ref, &v);
  /* What torch_em's trainer leaves beside the weights. */
  pk_str (w, "optimizer_state");
  op (w, '}');
  op (w, '(');
  pk_str (w, "param_groups");
  op (w, ']');
  op (w, '(');
  op (w, '}');
  op (w, '(');
  pk_str (w, "lr");
  pk_float (w, 1e-5);
  pk_str (w, "betas");
  pk_float (w, 0.9);
  pk_float (w, 0.999);
  op (w, 0x86);
  op (w, 'u');
  op (w, 'e');
  pk_str (w, "state");
  op (w, '}');
  op (w, 'u');
  pk_str (w, "init");
  pk_global (w, "torch_em.trainer", "DefaultTrainer");
  op (w, ')');
  op (w, 0x81);
  op (w, '}');
  pk_str (w, "x");
  pk_int (w, 1);
  op (w, 's');
  op (w, 'b');
  pk_str (w, "iteration");
  pk_int (w, (gint64) 1 << 40);
  pk_str (w, "best_metric");
  pk_float (w, 0.25);
  pk_str (w, "decoder_state");
  pk_ordered_dict_begin (w);
  op (w, 'u');
  op (w, 'u');
  g_autofree char *path = writer_finish (w, "usam.pt");
  usam_sam_model *model = expect_success (path);
  assert_same_weights (ref, model, 0.0f);
  usam_sam_model_info info;
  usam_sam_model_get_info (model, &info);
  ck_assert_str_eq (info.format, "usam");
  ck_assert_str_eq (info.usam_type, "vit_b_lm");
  ck_assert (!info.has_decoder);
  usam_sam_model_free (model);
  usam_sam_model_free (ref);
}
END_TEST

START_TEST (test_saved_checkpoints_round_trip)
{
  usam_sam_model *ref = tiny_model ();
  for (int format = 0; format < 2; format++)
    {
      g_autofree char *path = g_build_filename (usam_test_tmpdir (), format ? "saved.pt" : "saved.pth", NULL);
      ck_assert_msg (usam_sam_model_save (ref, path, (usam_sam_checkpoint_format) format) == USAM_SAM_STATUS_OK, "%s",
                     usam_sam_last_error ());
      usam_sam_model *model = expect_success (path);
      assert_same_weights (ref, model, 0.0f);
      usam_sam_model_info info;
      usam_sam_model_get_info (model, &info);
      ck_assert_str_eq (info.format, format ? "usam" : "sam");
      usam_sam_model_free (model);
    }
  usam_sam_model_free (ref);
}
END_TEST

START_TEST (test_missing_and_non_checkpoint_files)
{
  const char *dir = usam_test_tmpdir ();
  g_autofree char *missing = g_build_filename (dir, "no-such.pth", NULL);
  expect_failure (missing, USAM_SAM_STATUS_IO, "cannot open");

  g_autofree char *empty = g_build_filename (dir, "empty.pth", NULL);
  g_file_set_contents (empty, "", 0, NULL);
  expect_failure (empty, USAM_SAM_STATUS_FORMAT, "not a checkpoint");

  g_autofree char *noise = g_build_filename (dir, "noise.pth", NULL);
  g_autofree guint8 *bytes = g_malloc (1 << 16);
  GRand *rand = g_rand_new_with_seed (3);
  for (int i = 0; i < 1 << 16; i++)
    bytes[i] = (guint8) g_rand_int (rand);
  g_rand_free (rand);
  g_file_set_contents (noise, (const char *) bytes, 1 << 16, NULL);
  expect_failure (noise, USAM_SAM_STATUS_FORMAT, "not a checkpoint");

  g_autofree char *text = g_build_filename (dir, "notes.pth", NULL);
  g_file_set_contents (text, "this is a text file\n", -1, NULL);
  expect_failure (text, USAM_SAM_STATUS_FORMAT, NULL);

  /* A pickle without the ZIP container: torch's legacy format. */
  g_autofree char *legacy = g_build_filename (dir, "legacy.pth", NULL);
  const guint8 legacy_bytes[] = { 0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, '.',
                                  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
  g_file_set_contents (legacy, (const char *) legacy_bytes, sizeof legacy_bytes, NULL);
  expect_failure (legacy, USAM_SAM_STATUS_UNSUPPORTED, "legacy");
}
END_TEST

START_TEST (test_truncated_and_damaged_golden)
{
  g_autofree char *golden = usam_test_shared_path ("golden/sam-tiny-a.pth");
  g_autofree char *contents = NULL;
  gsize size = 0;
  ck_assert (g_file_get_contents (golden, &contents, &size, NULL));
  const double cuts[] = { 0.999, 0.9, 0.5, 0.1 };
  for (guint i = 0; i < G_N_ELEMENTS (cuts); i++)
    {
      g_autofree char *path = g_strdup_printf ("%s/cut-%u.pth", usam_test_tmpdir (), i);
      g_file_set_contents (path, contents, (gssize) (size * cuts[i]), NULL);
      expect_failure (path, USAM_SAM_STATUS_FORMAT, "truncated");
    }
  /* One flipped byte in the middle of a weight: the CRC catches it. */
  g_autofree char *flipped = g_strdup_printf ("%s/flipped.pth", usam_test_tmpdir ());
  contents[size / 2] ^= 0x40;
  g_file_set_contents (flipped, contents, (gssize) size, NULL);
  expect_failure (flipped, USAM_SAM_STATUS_FORMAT, "damaged");
}
END_TEST

START_TEST (test_wrong_weights)
{
  usam_sam_model *ref = tiny_model ();
  struct
  {
    Variant v;
    usam_sam_status status;
    const char *needle;
  } cases[] = {
    { { EDIT_DROP, "mask_decoder.iou_token.weight" }, USAM_SAM_STATUS_SHAPE, "missing weight 'mask_decoder.iou_token.weight'" },
    { { EDIT_DROP, "image_encoder.patch_embed.proj.weight" }, USAM_SAM_STATUS_SHAPE, "image_encoder.patch_embed.proj.weight" },
    { { EDIT_RESHAPE, "image_encoder.blocks.2.mlp.lin1.weight" }, USAM_SAM_STATUS_SHAPE, "image_encoder.blocks.2.mlp.lin1.weight' has shape [257, 64]" },
    { { EDIT_RESHAPE, "image_encoder.blocks.0.attn.rel_pos_h" }, USAM_SAM_STATUS_SHAPE, "rel_pos" },
    { { EDIT_ADD, "image_encoder.blocks.0.attn.qkv.lora_A.weight" }, USAM_SAM_STATUS_SHAPE, "LoRA" },
    { { EDIT_ADD, "something.else" }, USAM_SAM_STATUS_SHAPE, "unexpected weight 'something.else'" },
    { { EDIT_NAN, "prompt_encoder.no_mask_embed.weight" }, USAM_SAM_STATUS_FORMAT, "NaN" },
    { { EDIT_ADD, "image_encoder.patch_embed.seq.0.c.weight" }, USAM_SAM_STATUS_UNSUPPORTED, "vit_t" },
    { { EDIT_ADD, "image_encoder.trunk.blocks.0.attn.qkv.weight" }, USAM_SAM_STATUS_UNSUPPORTED, "SAM 2" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *name = g_strdup_printf ("wrong-%u.pth", i);
      g_autofree char *path = write_sam (ref, &cases[i].v, name);
      expect_failure (path, cases[i].status, cases[i].needle);
    }
  usam_sam_model_free (ref);
}
END_TEST

START_TEST (test_malformed_structure)
{
  usam_sam_model *ref = tiny_model ();

  /* The saved object is a list, not a dict. */
  Writer *w = writer_new ();
  op (w, ']');
  g_autofree char *list = writer_finish (w, "list.pth");
  expect_failure (list, USAM_SAM_STATUS_FORMAT, "not a dictionary");

  /* A dict without any tensors. */
  w = writer_new ();
  op (w, '}');
  pk_str (w, "epoch");
  pk_int (w, 3);
  op (w, 's');
  g_autofree char *no_tensors = writer_finish (w, "no-tensors.pth");
  expect_failure (no_tensors, USAM_SAM_STATUS_FORMAT, "no model weights");

  /* A tensor whose view reaches past its storage. */
  w = writer_new ();
  pk_ordered_dict_begin (w);
  pk_str (w, "image_encoder.pos_embed");
  float data[4] = { 0 };
  gint64 sizes[2] = { 2, 2 };
  pk_tensor_ex (w, "FloatStorage", data, sizeof data, 4, 3, 2, sizes);
  op (w, 'u');
  g_autofree char *past = writer_finish (w, "past.pth");
  expect_failure (past, USAM_SAM_STATUS_SHAPE, "past its storage");

  /* A storage record shorter than the storage it claims. */
  w = writer_new ();
  pk_ordered_dict_begin (w);
  pk_str (w, "image_encoder.pos_embed");
  pk_tensor_ex (w, "FloatStorage", data, sizeof data, 400, 0, 2, sizes);
  op (w, 'u');
  g_autofree char *short_record = writer_finish (w, "short.pth");
  expect_failure (short_record, USAM_SAM_STATUS_FORMAT, "expected 1600");

  /* Garbage where the pickle should be. */
  w = writer_new ();
  op (w, 0xff);
  op (w, 0xfe);
  g_autofree char *garbage = writer_finish (w, "garbage.pth");
  expect_failure (garbage, USAM_SAM_STATUS_FORMAT, "damaged pickle");

  /* A pickle that stops in the middle. */
  w = writer_new ();
  op (w, '}');
  op (w, '(');
  pk_str (w, "model_state");
  w->pkl->len -= 3;
  g_autofree char *cut_pickle = writer_finish (w, "cut-pickle.pth");
  expect_failure (cut_pickle, USAM_SAM_STATUS_FORMAT, "damaged pickle");

  usam_sam_model_free (ref);
}
END_TEST

START_TEST (test_core_errors)
{
  /* Through core, the same failures become GErrors with fitting codes. */
  g_autoptr (GError) error = NULL;
  g_autofree char *missing = g_build_filename (usam_test_tmpdir (), "missing.pth", NULL);
  ck_assert_ptr_null (usam_model_new_from_file (missing, USAM_PRECISION_FP32, &error));
  ck_assert (g_error_matches (error, USAM_ERROR, USAM_ERROR_NOT_FOUND));
  g_clear_error (&error);

  ck_assert_ptr_null (usam_model_new_from_file (usam_test_tmpdir (), USAM_PRECISION_FP32, &error));
  ck_assert (g_error_matches (error, USAM_ERROR, USAM_ERROR_INVALID_DATA));
  g_clear_error (&error);

  usam_sam_model *ref = tiny_model ();
  Variant v = { EDIT_DROP, "mask_decoder.mask_tokens.weight" };
  g_autofree char *path = write_sam (ref, &v, "core-missing.pth");
  ck_assert_ptr_null (usam_model_new_from_file (path, USAM_PRECISION_FP32, &error));
  ck_assert (g_error_matches (error, USAM_ERROR, USAM_ERROR_MODEL));
  ck_assert (strstr (error->message, path) != NULL);
  usam_sam_model_free (ref);
}
END_TEST

static Suite *
checkpoint_suite (void)
{
  Suite *s = suite_create ("checkpoint");
  TCase *tc = usam_test_tcase_new ("load");
  tcase_add_test (tc, test_reads_independent_writer);
  tcase_add_test (tc, test_reads_deflated_pickle_and_half_weights);
  tcase_add_test (tc, test_reads_usam_checkpoint_and_skips_training_state);
  tcase_add_test (tc, test_saved_checkpoints_round_trip);
  suite_add_tcase (s, tc);
  TCase *bad = usam_test_tcase_new ("malformed");
  tcase_add_test (bad, test_missing_and_non_checkpoint_files);
  tcase_add_test (bad, test_truncated_and_damaged_golden);
  tcase_add_test (bad, test_wrong_weights);
  tcase_add_test (bad, test_malformed_structure);
  tcase_add_test (bad, test_core_errors);
  suite_add_tcase (s, bad);
  return s;
}

int
main (void)
{
  return usam_test_run (checkpoint_suite ());
}
