#include "usam-model-private.h"

#include "usam-error.h"
#include "usam-h5.h"
#include "usam-config.h"

struct _UsamEmbedding
{
  gatomicrefcount ref;
  usam_sam_embedding *sam;
};

G_DEFINE_BOXED_TYPE (UsamEmbedding, usam_embedding, usam_embedding_ref, usam_embedding_unref)

UsamEmbedding *
usam_embedding_new_take (usam_sam_embedding *sam)
{
  UsamEmbedding *self = g_new0 (UsamEmbedding, 1);
  g_atomic_ref_count_init (&self->ref);
  self->sam = sam;
  return self;
}

UsamEmbedding *
usam_embedding_ref (UsamEmbedding *self)
{
  g_atomic_ref_count_inc (&self->ref);
  return self;
}

void
usam_embedding_unref (UsamEmbedding *self)
{
  if (self && g_atomic_ref_count_dec (&self->ref))
    {
      usam_sam_embedding_free (self->sam);
      g_free (self);
    }
}

usam_sam_embedding *
usam_embedding_get_sam (UsamEmbedding *self)
{
  return self->sam;
}

void
usam_embedding_get_shape (UsamEmbedding *self, UsamEmbeddingShape *shape)
{
  usam_sam_embedding_shape s;
  usam_sam_embedding_get_shape (self->sam, &s);
  shape->channels = (guint) s.channels;
  shape->height = (guint) s.height;
  shape->width = (guint) s.width;
  shape->original_height = (guint) s.original_height;
  shape->original_width = (guint) s.original_width;
  shape->input_height = (guint) s.input_height;
  shape->input_width = (guint) s.input_width;
}

const float *
usam_embedding_get_features (UsamEmbedding *self)
{
  return usam_sam_embedding_get_features (self->sam);
}

UsamEmbedding *
usam_embedding_new (UsamModel *model, const float *features, const UsamEmbeddingShape *shape, GError **error)
{
  usam_sam_embedding_shape s = {
    (int) shape->channels, (int) shape->height, (int) shape->width, (int) shape->original_height,
    (int) shape->original_width, (int) shape->input_height, (int) shape->input_width,
  };
  usam_sam_embedding *sam = NULL;
  usam_sam_status status = usam_sam_embedding_new (usam_model_get_sam (model), features, &s, &sam);
  if (status != USAM_SAM_STATUS_OK)
    {
      usam_set_error_from_sam (error, status);
      return NULL;
    }
  return usam_embedding_new_take (sam);
}


gboolean
usam_embedding_save (UsamEmbedding *self, UsamModel *model, const char *path, GError **error)
{
  UsamEmbeddingShape s;
  usam_embedding_get_shape (self, &s);
  g_autoptr (UsamH5Output) out = usam_h5_output_new (path, error);
  if (!out)
    return FALSE;
  hid_t file = usam_h5_output_get_file (out);
  const hsize_t dims[4] = { 1, s.channels, s.height, s.width };
  if (!usam_h5_write (file, "/features", H5T_NATIVE_FLOAT, 4, dims, usam_embedding_get_features (self), FALSE, error))
    return FALSE;
  const gint64 input_size[2] = { s.input_height, s.input_width };
  const gint64 original_size[2] = { s.original_height, s.original_width };
  /* μSAM keeps the sizes on the file; readers of the dataset alone find them there too. */
  g_auto (UsamH5Dataset) features = H5Dopen2 (file, "/features", H5P_DEFAULT);
  for (int i = 0; i < 2; i++)
    {
      hid_t obj = i == 0 ? file : features;
      if (!usam_h5_write_attr_ints (obj, "input_size", input_size, 2, error)
          || !usam_h5_write_attr_ints (obj, "original_size", original_size, 2, error))
        return FALSE;
    }
  if (model && !usam_h5_write_attr_string (file, "model_type", usam_model_get_architecture (model), error))
    return FALSE;
  if (!usam_h5_write_attr_string (file, "writer", "usam " PACKAGE_VERSION, error))
    return FALSE;
  return usam_h5_output_commit (out, error);
}

UsamEmbedding *
usam_embedding_load (UsamModel *model, const char *path, GError **error)
{
  g_auto (UsamH5File) file = usam_h5_open (path, FALSE, error);
  if (file < 0)
    return NULL;
  int rank = 0;
  hsize_t dims[USAM_H5_MAX_RANK] = { 0 };
  g_autofree float *features = usam_h5_read (file, "/features", H5T_NATIVE_FLOAT, &rank, dims, error);
  if (!features)
    return NULL;
  if (rank != 4 || dims[0] != 1)
    {
      g_set_error (error, USAM_ERROR, USAM_ERROR_INVALID_DATA,
                   "%s: '/features' is not one embedding of shape (1, C, H, W); a file of tiles is read by usam "
                   "segment and usam predict given the --tile and --halo it was made with, a volume's by the annotator",
                   path);
      return NULL;
    }
  /* An embedding cache (usam-embedding-cache.h) marks the slice written last. */
  if (usam_h5_exists (file, "/complete"))
    {
      const hsize_t one[1] = { 1 };
      g_autofree guint8 *complete = usam_h5_read_shaped (file, "/complete", H5T_NATIVE_UINT8, 1, one, error);
      if (!complete)
        return NULL;
      if (complete[0] != 1)
        {
          g_set_error (error, USAM_ERROR, USAM_ERROR_INVALID_DATA,
                       "%s: the embedding was never completely written (run usam embed again)", path);
          return NULL;
        }
    }
  gint64 input_size[2], original_size[2];
  g_auto (UsamH5Dataset) dset = H5Dopen2 (file, "/features", H5P_DEFAULT);
  hid_t holder = H5Aexists (dset, "input_size") > 0 ? dset : file;
  if (!usam_h5_read_attr_ints (holder, "input_size", input_size, 2, error)
      || !usam_h5_read_attr_ints (holder, "original_size", original_size, 2, error))
    return NULL;
  for (int i = 0; i < 2; i++)
    if (input_size[i] <= 0 || original_size[i] <= 0 || input_size[i] > G_MAXINT || original_size[i] > G_MAXINT)
      {
        g_set_error (error, USAM_ERROR, USAM_ERROR_INVALID_DATA, "%s: embedding sizes are invalid", path);
        return NULL;
      }
  UsamEmbeddingShape shape = {
    (guint) dims[1], (guint) dims[2], (guint) dims[3], (guint) original_size[0], (guint) original_size[1],
    (guint) input_size[0], (guint) input_size[1],
  };
  g_autoptr (GError) local = NULL;
  UsamEmbedding *e = usam_embedding_new (model, features, &shape, &local);
  if (!e)
    {
      g_set_error (error, USAM_ERROR, USAM_ERROR_INVALID_DATA, "%s: %s", path, local->message);
      return NULL;
    }
  return e;
}
