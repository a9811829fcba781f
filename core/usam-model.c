#include "usam-model-private.h"
#include "usam-progress-proxy.h"
#include "usam-workers.h"

#include <string.h>

#include "usam-ais.h"
#include "usam-error.h"

struct _UsamModel
{
  GObject parent_instance;
  usam_sam_model *sam;
  char *path;
  char *decoder_path; /* the AIS decoder's own file, when it came from one */
  usam_sam_model_info info;
  GMutex hash_lock;
  char *encoder_hash; /* computed on first use */
};

G_DEFINE_FINAL_TYPE (UsamModel, usam_model, G_TYPE_OBJECT)

static void
usam_model_finalize (GObject *object)
{
  UsamModel *self = USAM_MODEL (object);
  g_clear_pointer (&self->sam, usam_sam_model_free);
  g_clear_pointer (&self->path, g_free);
  g_clear_pointer (&self->decoder_path, g_free);
  g_clear_pointer (&self->encoder_hash, g_free);
  g_mutex_clear (&self->hash_lock);
  G_OBJECT_CLASS (usam_model_parent_class)->finalize (object);
}

static void
usam_model_class_init (UsamModelClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = usam_model_finalize;
}

static void
usam_model_init (UsamModel *self)
{
  g_mutex_init (&self->hash_lock);
}

static const struct
{
  const char *name;
  UsamPrecision value;
} precision_names[] = {
  { "auto", USAM_PRECISION_AUTO },
  { "fp32", USAM_PRECISION_FP32 },
  { "bf16", USAM_PRECISION_BF16 },
};

gboolean
usam_precision_from_string (const char *text, UsamPrecision *out)
{
  for (guint i = 0; i < G_N_ELEMENTS (precision_names); i++)
    if (g_strcmp0 (text, precision_names[i].name) == 0)
      {
        *out = precision_names[i].value;
        return TRUE;
      }
  return FALSE;
}

const char *
usam_precision_to_string (UsamPrecision precision)
{
  for (guint i = 0; i < G_N_ELEMENTS (precision_names); i++)
    if (precision_names[i].value == precision)
      return precision_names[i].name;
  return "unknown";
}

gboolean
usam_normalize_from_string (const char *text, UsamNormalize *out)
{
  if (g_strcmp0 (text, "minmax") == 0)
    *out = USAM_NORMALIZE_MINMAX;
  else if (g_strcmp0 (text, "none") == 0)
    *out = USAM_NORMALIZE_NONE;
  else
    return FALSE;
  return TRUE;
}

void
usam_set_error_from_sam (GError **error, usam_sam_status status)
{
  const char *message = usam_sam_last_error ();
  if (!message || !*message)
    message = usam_sam_status_to_string (status);
  switch (status)
    {
    case USAM_SAM_STATUS_ABORTED:
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CANCELLED, message);
      return;
    case USAM_SAM_STATUS_IO:
      g_set_error_literal (error, USAM_ERROR, USAM_ERROR_IO, message);
      return;
    case USAM_SAM_STATUS_FORMAT:
      g_set_error_literal (error, USAM_ERROR, USAM_ERROR_INVALID_DATA, message);
      return;
    case USAM_SAM_STATUS_UNSUPPORTED:
      g_set_error_literal (error, USAM_ERROR, USAM_ERROR_UNSUPPORTED, message);
      return;
    case USAM_SAM_STATUS_SHAPE:
      g_set_error_literal (error, USAM_ERROR, USAM_ERROR_MODEL, message);
      return;
    case USAM_SAM_STATUS_INVALID_ARGUMENT:
      g_set_error_literal (error, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT, message);
      return;
    default:
      g_set_error_literal (error, USAM_ERROR, USAM_ERROR_FAILED, message);
      return;
    }
}

bool
usam_cancellable_abort_func (void *cancellable)
{
  return cancellable && g_cancellable_is_cancelled (G_CANCELLABLE (cancellable));
}

static usam_sam_model_params
sam_params (UsamPrecision precision)
{
  usam_sam_model_params p = usam_sam_model_default_params ();
  p.precision = precision == USAM_PRECISION_FP32   ? USAM_SAM_PRECISION_FP32
                : precision == USAM_PRECISION_BF16 ? USAM_SAM_PRECISION_BF16
                                                   : USAM_SAM_PRECISION_AUTO;
  return p;
}

static UsamModel *
wrap (usam_sam_model *sam, const char *path)
{
  UsamModel *self = g_object_new (USAM_TYPE_MODEL, NULL);
  self->sam = sam;
  self->path = g_strdup (path);
  usam_sam_model_get_info (sam, &self->info);
  return self;
}

UsamModel *
usam_model_new_from_file (const char *path, UsamPrecision precision, GError **error)
{
  g_return_val_if_fail (path != NULL, NULL);
  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, USAM_ERROR, USAM_ERROR_NOT_FOUND, "%s: no such file", path);
      return NULL;
    }
  if (g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, USAM_ERROR, USAM_ERROR_INVALID_DATA, "%s: is a folder, not a checkpoint", path);
      return NULL;
    }
  usam_sam_model_params params = sam_params (precision);
  g_autofree char *decoder_path = usam_model_find_decoder_file (path);
  params.decoder_path = decoder_path;
  usam_sam_model *sam = NULL;
  usam_sam_status status = usam_sam_model_load (path, &params, &sam);
  if (status != USAM_SAM_STATUS_OK)
    {
      usam_set_error_from_sam (error, status);
      return NULL;
    }
  UsamModel *self = wrap (sam, path);
  if (self->info.decoder_separate)
    self->decoder_path = g_steal_pointer (&decoder_path);
  return self;
}

/* μSAM keeps a model's AIS decoder in a file of its own: `vit_b_lm` and
 * `vit_b_lm_decoder` in its cache, `vit_b.pt` and `vit_b_decoder.pt` on
 * bioimage.io. */
char *
usam_model_find_decoder_file (const char *checkpoint)
{
  g_autofree char *cache_style = g_strconcat (checkpoint, "_decoder", NULL);
  if (g_file_test (cache_style, G_FILE_TEST_IS_REGULAR))
    return g_steal_pointer (&cache_style);
  const char *base = strrchr (checkpoint, '/');
  const char *dot = strrchr (base ? base : checkpoint, '.');
  if (!dot || dot == (base ? base + 1 : checkpoint))
    return NULL;
  g_autofree char *stem = g_strndup (checkpoint, (gsize) (dot - checkpoint));
  g_autofree char *export_style = g_strconcat (stem, "_decoder", dot, NULL);
  if (g_file_test (export_style, G_FILE_TEST_IS_REGULAR))
    return g_steal_pointer (&export_style);
  return NULL;
}

static char *
describe (const usam_sam_model_info *i, const char *decoder_path)
{
  g_autofree char *kind = g_strcmp0 (i->type, "custom") == 0
                              ? g_strdup_printf ("custom ViT (width %d, depth %d, %d heads)", i->embed_dim, i->depth,
                                                 i->num_heads)
                              : g_strdup (i->type);
  g_autofree char *decoder_file = decoder_path ? g_path_get_basename (decoder_path) : NULL;
  g_autofree char *decoder = !i->has_decoder ? g_strdup ("no AIS decoder")
                             : decoder_file  ? g_strdup_printf ("AIS decoder from %s", decoder_file)
                                             : g_strdup ("with AIS decoder");
  return g_strdup_printf ("%s, %.1f M parameters, %s%s%s, %s", kind, (double) i->n_parameters / 1e6,
                          g_strcmp0 (i->format, "usam") == 0 ? "μSAM checkpoint" : "SAM checkpoint",
                          *i->usam_type ? " " : "", i->usam_type, decoder);
}

char *
usam_model_describe_file (const char *path, gboolean *has_decoder, GError **error)
{
  if (has_decoder)
    *has_decoder = FALSE;
  if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
    {
      g_set_error (error, USAM_ERROR, USAM_ERROR_NOT_FOUND, "%s: no such file", path);
      return NULL;
    }
  g_autofree char *decoder_path = usam_model_find_decoder_file (path);
  usam_sam_model_info info;
  usam_sam_status status = usam_sam_checkpoint_inspect (path, decoder_path, &info);
  if (status != USAM_SAM_STATUS_OK)
    {
      usam_set_error_from_sam (error, status);
      return NULL;
    }
  if (has_decoder)
    *has_decoder = info.has_decoder;
  return describe (&info, info.decoder_separate ? decoder_path : NULL);
}

typedef struct
{
  char *path;
  UsamPrecision precision;
} LoadData;

static void
load_data_free (LoadData *d)
{
  g_free (d->path);
  g_free (d);
}

static void
load_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  LoadData *d = task_data;
  GError *error = NULL;
  UsamModel *model = usam_model_new_from_file (d->path, d->precision, &error);
  if (model)
    g_task_return_pointer (task, model, g_object_unref);
  else
    g_task_return_error (task, error);
}

void
usam_model_new_from_file_async (const char *path, UsamPrecision precision, GCancellable *cancellable,
                                GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  LoadData *d = g_new0 (LoadData, 1);
  d->path = g_strdup (path);
  d->precision = precision;
  g_task_set_source_tag (task, usam_model_new_from_file_async);
  g_task_set_task_data (task, d, (GDestroyNotify) load_data_free);
  usam_task_run_in_thread (task, load_thread);
}

UsamModel *
usam_model_new_from_file_finish (GAsyncResult *result, GError **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

UsamModel *
usam_model_new_random (const char *preset, guint64 seed, UsamPrecision precision, GError **error)
{
  usam_sam_model_params params = sam_params (precision);
  usam_sam_model *sam = NULL;
  usam_sam_status status = usam_sam_model_new_random (preset, seed, &params, &sam);
  if (status != USAM_SAM_STATUS_OK)
    {
      usam_set_error_from_sam (error, status);
      return NULL;
    }
  return wrap (sam, NULL);
}

gboolean
usam_architecture_from_preset (const char *preset, UsamArchitecture *out, GError **error)
{
  usam_sam_model_config c = usam_sam_model_config_preset (preset);
  if (c.img_size == 0)
    {
      g_set_error (error, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT,
                   "unknown model shape '%s' (expected vit_b, vit_l, vit_h or tiny)", preset);
      return FALSE;
    }
  memset (out, 0, sizeof *out);
  out->img_size = (guint) c.img_size;
  out->patch_size = (guint) c.patch_size;
  out->width = (guint) c.embed_dim;
  out->depth = (guint) c.depth;
  out->heads = (guint) c.num_heads;
  out->mlp_dim = (guint) c.mlp_dim;
  out->window = (guint) c.window_size;
  out->n_global = (guint) c.n_global;
  for (int i = 0; i < c.n_global; i++)
    out->global[i] = (guint) c.global_attn_indexes[i];
  out->prompt_dim = (guint) c.prompt_dim;
  out->decoder_depth = (guint) c.decoder_depth;
  out->decoder_mlp_dim = (guint) c.decoder_mlp_dim;
  return TRUE;
}

UsamModel *
usam_model_new_from_architecture (const UsamArchitecture *a, guint64 seed, UsamPrecision precision, GError **error)
{
  usam_sam_model_config c;
  memset (&c, 0, sizeof c);
  c.img_size = (int) a->img_size;
  c.patch_size = (int) a->patch_size;
  c.embed_dim = (int) a->width;
  c.depth = (int) a->depth;
  c.num_heads = (int) a->heads;
  c.mlp_dim = (int) a->mlp_dim;
  c.window_size = (int) a->window;
  c.n_global = (int) MIN (a->n_global, 16u);
  for (int i = 0; i < c.n_global; i++)
    c.global_attn_indexes[i] = (int) a->global[i];
  c.prompt_dim = (int) a->prompt_dim;
  c.decoder_depth = (int) (a->decoder_depth ? a->decoder_depth : 2);
  c.decoder_mlp_dim = (int) (a->decoder_mlp_dim ? a->decoder_mlp_dim : 2048);
  c.mask_in_chans = 16;
  c.iou_head_hidden = (int) a->prompt_dim;
  usam_sam_model_params params = sam_params (precision);
  usam_sam_model *sam = NULL;
  usam_sam_status status = usam_sam_model_new_from_config (&c, seed, &params, &sam);
  if (status == USAM_SAM_STATUS_OK && a->ais_variant)
    {
      static const int micro_sam[] = { 512, 256, 128, 64 };
      int features[8];
      int n = a->n_ais_features ? (int) MIN (a->n_ais_features, 8u) : 4;
      for (int i = 0; i < n; i++)
        features[i] = a->n_ais_features ? (int) a->ais_features[i] : micro_sam[i];
      status = usam_sam_model_add_random_ais_decoder_sized (sam, a->ais_variant, features, n, seed + 1);
    }
  if (status != USAM_SAM_STATUS_OK)
    {
      usam_set_error_from_sam (error, status);
      usam_sam_model_free (sam);
      return NULL;
    }
  return wrap (sam, NULL);
}

gboolean
usam_model_save (UsamModel *self, const char *path, gboolean usam_format, GError **error)
{
  usam_sam_status status
      = usam_sam_model_save (self->sam, path, usam_format ? USAM_SAM_CHECKPOINT_USAM : USAM_SAM_CHECKPOINT_SAM);
  if (status != USAM_SAM_STATUS_OK)
    {
      usam_set_error_from_sam (error, status);
      return FALSE;
    }
  return TRUE;
}

gboolean
usam_model_save_decoder (UsamModel *self, const char *path, GError **error)
{
  usam_sam_status status = usam_sam_model_save (self->sam, path, USAM_SAM_CHECKPOINT_DECODER);
  if (status != USAM_SAM_STATUS_OK)
    {
      usam_set_error_from_sam (error, status);
      return FALSE;
    }
  return TRUE;
}

usam_sam_model *
usam_model_get_sam (UsamModel *self)
{
  return self->sam;
}

const char *
usam_model_get_path (UsamModel *self)
{
  return self->path;
}

const char *
usam_model_get_architecture (UsamModel *self)
{
  return self->info.type;
}

UsamPrecision
usam_model_get_precision (UsamModel *self)
{
  return self->info.precision == USAM_SAM_PRECISION_BF16 ? USAM_PRECISION_BF16 : USAM_PRECISION_FP32;
}

gboolean
usam_model_has_decoder (UsamModel *self)
{
  return self->info.has_decoder;
}

guint
usam_model_get_input_size (UsamModel *self)
{
  return (guint) self->info.img_size;
}

guint
usam_model_get_embedding_size (UsamModel *self)
{
  return (guint) self->info.embedding_size;
}

gint64
usam_model_get_n_parameters (UsamModel *self)
{
  return self->info.n_parameters;
}

char *
usam_model_dup_description (UsamModel *self)
{
  return describe (&self->info, self->decoder_path);
}

const char *
usam_model_get_decoder_path (UsamModel *self)
{
  return self->decoder_path;
}

/* ---- identity ---- */

/* Four independent multiply–rotate lanes over 8-byte words: close to memory
 * speed on vit_h's 2.5 GB of encoder weights, where SHA-256 would take
 * seconds. It guards a cache against accidents, not against attackers. */
typedef struct
{
  guint64 lane[4];
  guint64 length;
} WeightHash;

static inline guint64
rotl64 (guint64 x, int r)
{
  return (x << r) | (x >> (64 - r));
}

static inline guint64
lane_step (guint64 h, guint64 word)
{
  h ^= word * G_GUINT64_CONSTANT (0x9e3779b97f4a7c15);
  return rotl64 (h, 29) * G_GUINT64_CONSTANT (0xbf58476d1ce4e5b9);
}

static void
weight_hash_update (WeightHash *h, const void *data, gsize size)
{
  const guint8 *p = data;
  gsize i = 0;
  for (; i + 32 <= size; i += 32)
    for (int k = 0; k < 4; k++)
      {
        guint64 word;
        memcpy (&word, p + i + 8 * k, 8);
        h->lane[k] = lane_step (h->lane[k], word);
      }
  /* The tail, zero-padded; the length mixed in at the end tells paddings apart. */
  for (int k = 0; i < size; i += 8, k++)
    {
      guint64 word = 0;
      memcpy (&word, p + i, MIN ((gsize) 8, size - i));
      h->lane[k] = lane_step (h->lane[k], word);
    }
  h->length += size;
}

static guint64
weight_hash_finish (const WeightHash *h)
{
  guint64 x = h->length;
  for (int k = 0; k < 4; k++)
    {
      x = lane_step (x, h->lane[k]);
      x ^= x >> 31;
    }
  x ^= x >> 30;
  x *= G_GUINT64_CONSTANT (0x94d049bb133111eb);
  return x ^ (x >> 31);
}

static char *
compute_encoder_hash (usam_sam_model *sam)
{
  WeightHash h = { { 1, 2, 3, 4 }, 0 };
  int n = usam_sam_model_get_n_weights (sam);
  gboolean any = FALSE;
  /* Only the encoder makes embeddings; a model fine-tuned in its decoder
   * alone keeps them. A state dict without encoder names is hashed whole. */
  for (int pass = 0; pass < 2 && !any; pass++)
    for (int i = 0; i < n; i++)
      {
        const char *name = NULL;
        int ndim = 0;
        const int64_t *sizes = NULL;
        const float *data = NULL;
        if (usam_sam_model_get_weight (sam, i, &name, &ndim, &sizes, &data) != USAM_SAM_STATUS_OK)
          continue;
        if (pass == 0 && !g_str_has_prefix (name, "image_encoder."))
          continue;
        any = TRUE;
        gint64 count = 1;
        weight_hash_update (&h, name, strlen (name) + 1);
        weight_hash_update (&h, &ndim, sizeof ndim);
        for (int d = 0; d < ndim; d++)
          {
            weight_hash_update (&h, &sizes[d], sizeof sizes[d]);
            count *= sizes[d];
          }
        if (data && count > 0)
          weight_hash_update (&h, data, (gsize) count * sizeof (float));
      }
  return g_strdup_printf ("%016" G_GINT64_MODIFIER "x", weight_hash_finish (&h));
}

char *
usam_model_dup_encoder_hash (UsamModel *self)
{
  g_return_val_if_fail (USAM_IS_MODEL (self), NULL);
  g_mutex_lock (&self->hash_lock);
  if (!self->encoder_hash)
    self->encoder_hash = compute_encoder_hash (self->sam);
  char *copy = g_strdup (self->encoder_hash);
  g_mutex_unlock (&self->hash_lock);
  return copy;
}

void
usam_model_forget_encoder_hash (UsamModel *self)
{
  g_mutex_lock (&self->hash_lock);
  g_clear_pointer (&self->encoder_hash, g_free);
  g_mutex_unlock (&self->hash_lock);
}

/* ---- encoding ---- */

gboolean
usam_image_get_sam_view (UsamImage *image, guint t, guint z, usam_sam_image_view *view, GError **error)
{
  if (t >= usam_image_get_frames (image) || z >= usam_image_get_depth (image))
    {
      g_set_error (error, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT, "%s: has no plane t=%u z=%u",
                   usam_image_get_path (image) ? usam_image_get_path (image) : "image", t, z);
      return FALSE;
    }
  static const usam_sam_pixel_type types[] = {
    [USAM_PIXEL_TYPE_U8] = USAM_SAM_PIXEL_U8,   [USAM_PIXEL_TYPE_U16] = USAM_SAM_PIXEL_U16,
    [USAM_PIXEL_TYPE_I16] = USAM_SAM_PIXEL_I16, [USAM_PIXEL_TYPE_U32] = USAM_SAM_PIXEL_U32,
    [USAM_PIXEL_TYPE_I32] = USAM_SAM_PIXEL_I32, [USAM_PIXEL_TYPE_F32] = USAM_SAM_PIXEL_F32,
    [USAM_PIXEL_TYPE_F64] = USAM_SAM_PIXEL_F64,
  };
  view->data = usam_image_get_plane (image, t, z);
  view->type = types[usam_image_get_pixel_type (image)];
  view->width = (int) usam_image_get_width (image);
  view->height = (int) usam_image_get_height (image);
  view->channels = (int) usam_image_get_channels (image);
  view->row_stride = 0;
  return TRUE;
}

/* The shim takes one user_data for both callbacks. */
typedef struct
{
  GCancellable *cancellable;
  UsamProgressFunc progress;
  gpointer progress_data;
} Callbacks;

static bool
callbacks_abort (void *user_data)
{
  Callbacks *c = user_data;
  return c->cancellable && g_cancellable_is_cancelled (c->cancellable);
}

static void
callbacks_progress (double fraction, void *user_data)
{
  Callbacks *c = user_data;
  if (c->progress)
    c->progress (fraction, c->progress_data);
}

UsamEmbedding *
usam_model_encode (UsamModel *self, UsamImage *image, guint t, guint z, UsamNormalize normalize,
                   GCancellable *cancellable, UsamProgressFunc progress, gpointer progress_data, GError **error)
{
  g_return_val_if_fail (USAM_IS_MODEL (self), NULL);
  g_return_val_if_fail (USAM_IS_IMAGE (image), NULL);
  usam_sam_image_view view;
  if (!usam_image_get_sam_view (image, t, z, &view, error))
    return NULL;
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;
  Callbacks callbacks = { cancellable, progress, progress_data };
  usam_sam_encode_params params = usam_sam_encode_default_params ();
  params.normalize = normalize == USAM_NORMALIZE_NONE ? USAM_SAM_NORMALIZE_NONE : USAM_SAM_NORMALIZE_MINMAX;
  params.abort = callbacks_abort;
  params.progress = callbacks_progress;
  params.user_data = &callbacks;
  usam_sam_embedding *sam = NULL;
  usam_sam_status status = usam_sam_encode (self->sam, &view, &params, &sam);
  if (status != USAM_SAM_STATUS_OK)
    {
      if (usam_image_get_path (image) && status == USAM_SAM_STATUS_INVALID_ARGUMENT)
        {
          g_set_error (error, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT, "%s: %s", usam_image_get_path (image),
                       usam_sam_last_error ());
          return NULL;
        }
      usam_set_error_from_sam (error, status);
      return NULL;
    }
  return usam_embedding_new_take (sam);
}

typedef struct
{
  UsamImage *image;
  guint t, z;
  UsamNormalize normalize;
  UsamProgressProxy *proxy;
} EncodeData;

static void
encode_data_free (EncodeData *d)
{
  g_clear_object (&d->image);
  g_clear_pointer (&d->proxy, usam_progress_proxy_unref);
  g_free (d);
}

static void
encode_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  EncodeData *d = task_data;
  GError *error = NULL;
  UsamEmbedding *e = usam_model_encode (USAM_MODEL (source), d->image, d->t, d->z, d->normalize, cancellable,
                                        d->proxy ? usam_progress_proxy_post : NULL, d->proxy, &error);
  if (e)
    g_task_return_pointer (task, e, (GDestroyNotify) usam_embedding_unref);
  else
    g_task_return_error (task, error);
}

void
usam_model_encode_async (UsamModel *self, UsamImage *image, guint t, guint z, UsamNormalize normalize,
                         GCancellable *cancellable, UsamProgressFunc progress, gpointer progress_data,
                         GDestroyNotify progress_destroy, GAsyncReadyCallback callback, gpointer user_data)
{
  g_return_if_fail (USAM_IS_MODEL (self));
  g_return_if_fail (USAM_IS_IMAGE (image));
  g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, usam_model_encode_async);
  EncodeData *d = g_new0 (EncodeData, 1);
  d->image = g_object_ref (image);
  d->t = t;
  d->z = z;
  d->normalize = normalize;
  d->proxy = usam_progress_proxy_new (progress, progress_data, progress_destroy);
  g_task_set_task_data (task, d, (GDestroyNotify) encode_data_free);
  usam_task_run_in_thread (task, encode_thread);
}

UsamEmbedding *
usam_model_encode_finish (UsamModel *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}
