#include "usam-embedding-cache.h"
#include "usam-progress-proxy.h"
#include "usam-workers.h"

#include <string.h>

#include "usam-config.h"
#include "usam-error.h"
#include "usam-h5.h"
#include "usam-model-private.h"
#include "usam-project.h"
#include "usam-tiling.h"

#define FORMAT_NAME "usam-embedding-cache"

/* One lock for every cache: it guards their HDF5 handles and slice states.
 * Debian's HDF5 is built thread-safe, but the rest of core calls it without
 * a lock only because each of its files lives in one thread; a cache's file
 * is shared by the threads that read and precompute it. Encoding, the slow
 * part, runs outside the lock. */
static GMutex cache_lock;
static GCond cache_changed;

static void
lock (void)
{
  g_mutex_lock (&cache_lock);
  usam_h5_silence_thread ();
}

typedef enum {
  SLICE_MISSING,
  SLICE_COMPUTING, /* by some thread, which will broadcast cache_changed */
  SLICE_COMPLETE,
} SliceState;

typedef struct
{
  const char *pixel_hash, *model_hash; /* owned */
  const char *model_type, *precision, *normalize;
  gint64 tile_shape[2], halo[2], input_size[2], original_size[2]; /* (h, w) */
} Signature;

struct _UsamEmbeddingCache
{
  GObject parent_instance;
  char *path;
  UsamModel *model;
  UsamImage *image;
  UsamNormalize normalize;
  Signature sig;
  guint n_slices, channels, side;
  /* A unit is one tile of one slice, unit = slice × n_tiles + tile; an
   * untiled cache has one tile, the whole plane. */
  UsamTiling tiling;
  guint n_tiles, n_units;
  UsamTile *tiles;
  gint64 *tile_input; /* each tile's resized (h, w) inside the model's input, 2 per tile */

  /* under cache_lock */
  hid_t file, features, complete; /* H5I_INVALID_HID until the file is opened or created */
  guint8 *state;                  /* SliceState per unit */
  char *reset_reason;
  guint n_computed, n_repaired;
};

G_DEFINE_FINAL_TYPE (UsamEmbeddingCache, usam_embedding_cache, G_TYPE_OBJECT)

static void
close_file (UsamEmbeddingCache *self)
{
  usam_h5_dataset_close (self->features);
  usam_h5_dataset_close (self->complete);
  usam_h5_file_close (self->file);
  self->features = self->complete = self->file = H5I_INVALID_HID;
}

static void
usam_embedding_cache_finalize (GObject *object)
{
  UsamEmbeddingCache *self = USAM_EMBEDDING_CACHE (object);
  lock ();
  close_file (self);
  g_mutex_unlock (&cache_lock);
  g_free (self->path);
  g_clear_object (&self->model);
  g_clear_object (&self->image);
  g_free ((gpointer) self->sig.pixel_hash);
  g_free ((gpointer) self->sig.model_hash);
  g_free (self->state);
  g_free (self->tiles);
  g_free (self->tile_input);
  g_free (self->reset_reason);
  G_OBJECT_CLASS (usam_embedding_cache_parent_class)->finalize (object);
}

static void
usam_embedding_cache_class_init (UsamEmbeddingCacheClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = usam_embedding_cache_finalize;
}

static void
usam_embedding_cache_init (UsamEmbeddingCache *self)
{
  self->file = self->features = self->complete = H5I_INVALID_HID;
}

/* ---- the signature ---- */

static gboolean
make_signature (UsamEmbeddingCache *self, const UsamEmbeddingCacheOptions *o, GError **error)
{
  Signature *s = &self->sig;
  s->pixel_hash = o->image_hash ? g_strdup (o->image_hash) : usam_image_dup_content_hash (self->image);
  s->model_hash = usam_model_dup_encoder_hash (self->model);
  s->model_type = usam_model_get_architecture (self->model);
  s->precision = usam_precision_to_string (usam_model_get_precision (self->model));
  s->normalize = o->normalize == USAM_NORMALIZE_NONE ? "none" : "minmax";
  s->tile_shape[0] = o->tile_height;
  s->tile_shape[1] = o->tile_width;
  s->halo[0] = o->halo_height;
  s->halo[1] = o->halo_width;
  int w = (int) usam_image_get_width (self->image), h = (int) usam_image_get_height (self->image);
  self->tiling = (UsamTiling) { (guint) w, (guint) h, o->tile_width, o->tile_height, o->halo_width, o->halo_height };
  self->n_tiles = usam_tiling_get_n_tiles (&self->tiling);
  self->tiles = g_new (UsamTile, self->n_tiles);
  self->tile_input = g_new (gint64, 2 * self->n_tiles);
  for (guint i = 0; i < self->n_tiles; i++)
    {
      usam_tiling_get_tile (&self->tiling, i, &self->tiles[i]);
      int iw = 0, ih = 0;
      usam_sam_status status
          = usam_sam_resize_longest_side (NULL, (int) self->tiles[i].outer.width, (int) self->tiles[i].outer.height,
                                          (int) usam_model_get_input_size (self->model), NULL, &iw, &ih);
      if (status != USAM_SAM_STATUS_OK)
        {
          usam_set_error_from_sam (error, status);
          return FALSE;
        }
      self->tile_input[2 * i] = ih;
      self->tile_input[2 * i + 1] = iw;
    }
  s->original_size[0] = h;
  s->original_size[1] = w;
  s->input_size[0] = self->tile_input[0];
  s->input_size[1] = self->tile_input[1];
  usam_sam_model_info info;
  usam_sam_model_get_info (usam_model_get_sam (self->model), &info);
  self->channels = (guint) info.embedding_channels;
  self->side = usam_model_get_embedding_size (self->model);
  return TRUE;
}

static const struct
{
  const char *attr;
  gsize offset;
  const char *what; /* "made for …" */
} string_fields[] = {
  { "pixel_hash", G_STRUCT_OFFSET (Signature, pixel_hash), "other pixel data" },
  { "model_hash", G_STRUCT_OFFSET (Signature, model_hash), "another model" },
  { "model_type", G_STRUCT_OFFSET (Signature, model_type), "another model type" },
  { "precision", G_STRUCT_OFFSET (Signature, precision), "another precision" },
  { "normalize", G_STRUCT_OFFSET (Signature, normalize), "another normalisation" },
};

static const struct
{
  const char *attr;
  gsize offset;
  const char *what;
} int_fields[] = {
  { "tile_shape", G_STRUCT_OFFSET (Signature, tile_shape), "another tile shape" },
  { "halo", G_STRUCT_OFFSET (Signature, halo), "another tile halo" },
  { "input_size", G_STRUCT_OFFSET (Signature, input_size), "another input size" },
  { "original_size", G_STRUCT_OFFSET (Signature, original_size), "an image of another size" },
};

#define STRING_FIELD(s, offset) (*(const char *const *) ((const char *) (s) + (offset)))
#define INTS_FIELD(s, offset) ((const gint64 *) ((const char *) (s) + (offset)))

static gboolean
write_signature (const Signature *s, hid_t file, GError **error)
{
  const gint64 version = USAM_EMBEDDING_CACHE_FORMAT_VERSION;
  if (!usam_h5_write_attr_string (file, "format", FORMAT_NAME, error)
      || !usam_h5_write_attr_ints (file, "format_version", &version, 1, error)
      || !usam_h5_write_attr_string (file, "writer", "usam " PACKAGE_VERSION, error))
    return FALSE;
  for (guint i = 0; i < G_N_ELEMENTS (string_fields); i++)
    if (!usam_h5_write_attr_string (file, string_fields[i].attr, STRING_FIELD (s, string_fields[i].offset), error))
      return FALSE;
  for (guint i = 0; i < G_N_ELEMENTS (int_fields); i++)
    if (!usam_h5_write_attr_ints (file, int_fields[i].attr, INTS_FIELD (s, int_fields[i].offset), 2, error))
      return FALSE;
  return TRUE;
}

/* NULL when the file's signature is ours, else what differs. */
static char *
compare_signature (const Signature *s, hid_t file)
{
  g_autofree char *format = usam_h5_read_attr_string (file, "format", NULL);
  if (g_strcmp0 (format, FORMAT_NAME) != 0)
    return g_strdup ("is not an embedding cache (no signature; written by another program or an older usam)");
  gint64 version = 0;
  if (!usam_h5_read_attr_ints (file, "format_version", &version, 1, NULL))
    return g_strdup ("has a damaged signature (format_version)");
  if (version != USAM_EMBEDDING_CACHE_FORMAT_VERSION)
    return g_strdup_printf ("is of cache format version %" G_GINT64_FORMAT ", not %d", version,
                            USAM_EMBEDDING_CACHE_FORMAT_VERSION);
  for (guint i = 0; i < G_N_ELEMENTS (string_fields); i++)
    {
      g_autofree char *value = usam_h5_read_attr_string (file, string_fields[i].attr, NULL);
      if (!value)
        return g_strdup_printf ("has a damaged signature (%s)", string_fields[i].attr);
      if (g_strcmp0 (value, STRING_FIELD (s, string_fields[i].offset)) != 0)
        return g_strdup_printf ("was made for %s", string_fields[i].what);
    }
  for (guint i = 0; i < G_N_ELEMENTS (int_fields); i++)
    {
      gint64 value[2];
      if (!usam_h5_read_attr_ints (file, int_fields[i].attr, value, 2, NULL))
        return g_strdup_printf ("has a damaged signature (%s)", int_fields[i].attr);
      if (memcmp (value, INTS_FIELD (s, int_fields[i].offset), sizeof value) != 0)
        return g_strdup_printf ("was made for %s", int_fields[i].what);
    }
  return NULL;
}

/* ---- the file ---- */

static void
start_over (UsamEmbeddingCache *self, const char *why)
{
  g_free (self->reset_reason);
  self->reset_reason = g_strdup_printf ("%s: %s; the embeddings are computed again", self->path, why);
  close_file (self);
  for (guint i = 0; i < self->n_units; i++)
    if (self->state[i] != SLICE_COMPUTING)
      self->state[i] = SLICE_MISSING;
}

static gboolean
shape_is (hid_t dset, int rank, const hsize_t *want)
{
  g_auto (UsamH5Space) space = H5Dget_space (dset);
  hsize_t dims[USAM_H5_MAX_RANK];
  if (space < 0 || H5Sget_simple_extent_ndims (space) != rank)
    return FALSE;
  H5Sget_simple_extent_dims (space, dims, NULL);
  return memcmp (dims, want, (gsize) rank * sizeof *dims) == 0;
}

/* Opens the datasets of the file just opened and checks their shapes. */
static char *
open_datasets (UsamEmbeddingCache *self)
{
  const hsize_t fdims[4] = { self->n_units, self->channels, self->side, self->side };
  const hsize_t cdims[1] = { self->n_units };
  if (!usam_h5_exists (self->file, "/features") || !usam_h5_exists (self->file, "/complete"))
    return g_strdup ("is damaged ('/features' or '/complete' is missing)");
  self->features = H5Dopen2 (self->file, "/features", H5P_DEFAULT);
  self->complete = H5Dopen2 (self->file, "/complete", H5P_DEFAULT);
  if (self->features < 0 || self->complete < 0)
    return g_strdup ("is damaged ('/features' or '/complete' cannot be opened)");
  if (!shape_is (self->features, 4, fdims) || !shape_is (self->complete, 1, cdims))
    return g_strdup_printf ("holds embeddings of another shape than %u × %u × %u × %u", self->n_units,
                            self->channels, self->side, self->side);
  return NULL;
}

/* Adopts the file at the path when it is ours and whole; otherwise says why
 * and leaves it to be replaced on the first write. */
static void
load_existing (UsamEmbeddingCache *self)
{
  if (!g_file_test (self->path, G_FILE_TEST_EXISTS))
    return;
  g_autoptr (GError) local = NULL;
  self->file = usam_h5_open (self->path, TRUE, &local);
  if (self->file < 0)
    {
      start_over (self, H5Fis_hdf5 (self->path) > 0
                            ? "cannot be opened (damaged, truncated or locked by another program)"
                            : "is not an HDF5 file (damaged, or another kind of file)");
      return;
    }
  g_autofree char *why = compare_signature (&self->sig, self->file);
  if (!why)
    why = open_datasets (self);
  g_autofree guint8 *flags = NULL;
  if (!why)
    {
      const hsize_t dims[1] = { self->n_units };
      flags = usam_h5_read_shaped (self->file, "/complete", H5T_NATIVE_UINT8, 1, dims, NULL);
      if (!flags)
        why = g_strdup ("is damaged ('/complete' cannot be read)");
    }
  if (why)
    {
      start_over (self, why);
      return;
    }
  for (guint i = 0; i < self->n_units; i++)
    self->state[i] = flags[i] == 1 ? SLICE_COMPLETE : SLICE_MISSING;
}

static gboolean
write_size_attrs (const Signature *s, hid_t obj, GError **error)
{
  /* Where μSAM and usam_embedding_load() look for them. */
  return usam_h5_write_attr_ints (obj, "input_size", s->input_size, 2, error)
         && usam_h5_write_attr_ints (obj, "original_size", s->original_size, 2, error);
}

static gboolean
fill_new_file (UsamEmbeddingCache *self, hid_t file, GError **error)
{
  g_autofree char *name = usam_h5_dup_file_name (file);
  const hsize_t dims[4] = { self->n_units, self->channels, self->side, self->side };
  const hsize_t chunk[4] = { 1, self->channels, self->side, self->side };
  g_auto (UsamH5Space) space = H5Screate_simple (4, dims, NULL);
  g_auto (UsamH5Plist) dcpl = H5Pcreate (H5P_DATASET_CREATE);
  /* A chunk per slice: only computed slices take space, and the checksum
   * finds a damaged slice when it is read. */
  if (H5Pset_chunk (dcpl, 4, chunk) < 0 || H5Pset_fletcher32 (dcpl) < 0)
    {
      g_set_error (error, USAM_ERROR, USAM_ERROR_IO, "%s: cannot set up '/features'", name);
      return FALSE;
    }
  g_auto (UsamH5Dataset) features
      = H5Dcreate2 (file, "/features", H5T_IEEE_F32LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  if (features < 0)
    {
      g_set_error (error, USAM_ERROR, USAM_ERROR_IO, "%s: cannot create '/features'", name);
      return FALSE;
    }
  g_autofree guint8 *zeros = g_malloc0 (MAX (self->n_units, 1u));
  const hsize_t cdims[1] = { self->n_units };
  return write_size_attrs (&self->sig, features, error) && write_size_attrs (&self->sig, file, error)
         && write_signature (&self->sig, file, error)
         && usam_h5_write (file, "/complete", H5T_NATIVE_UINT8, 1, cdims, zeros, FALSE, error);
}

/* A new, empty file with the signature, renamed over whatever was there:
 * a reader never sees half a signature. */
static gboolean
create_file (UsamEmbeddingCache *self, GError **error)
{
  close_file (self);
  for (guint i = 0; i < self->n_units; i++)
    if (self->state[i] != SLICE_COMPUTING)
      self->state[i] = SLICE_MISSING;
  g_autoptr (UsamH5Output) out = usam_h5_output_new (self->path, error);
  if (!out || !fill_new_file (self, usam_h5_output_get_file (out), error) || !usam_h5_output_commit (out, error))
    return FALSE;
  self->file = usam_h5_open (self->path, TRUE, error);
  if (self->file < 0)
    return FALSE;
  g_autofree char *why = open_datasets (self);
  if (why)
    {
      g_set_error (error, USAM_ERROR, USAM_ERROR_IO, "%s: %s right after it was written", self->path, why);
      close_file (self);
      return FALSE;
    }
  return TRUE;
}

static hid_t
select_slice (UsamEmbeddingCache *self, guint slice, hid_t *mem_space)
{
  const hsize_t start[4] = { slice, 0, 0, 0 };
  const hsize_t count[4] = { 1, self->channels, self->side, self->side };
  hid_t space = H5Dget_space (self->features);
  if (space >= 0 && H5Sselect_hyperslab (space, H5S_SELECT_SET, start, NULL, count, NULL) < 0)
    {
      H5Sclose (space);
      space = H5I_INVALID_HID;
    }
  *mem_space = H5Screate_simple (4, count, NULL);
  return space;
}

static gboolean
write_flag (UsamEmbeddingCache *self, guint slice, guint8 value)
{
  const hsize_t start[1] = { slice }, count[1] = { 1 };
  g_auto (UsamH5Space) space = H5Dget_space (self->complete);
  g_auto (UsamH5Space) mem = H5Screate_simple (1, count, NULL);
  return space >= 0 && H5Sselect_hyperslab (space, H5S_SELECT_SET, start, NULL, count, NULL) >= 0
         && H5Dwrite (self->complete, H5T_NATIVE_UINT8, mem, space, H5P_DEFAULT, &value) >= 0
         && H5Fflush (self->file, H5F_SCOPE_LOCAL) >= 0;
}

static gboolean
write_slice (UsamEmbeddingCache *self, guint slice, const float *features)
{
  g_auto (UsamH5Space) mem = H5I_INVALID_HID;
  g_auto (UsamH5Space) space = select_slice (self, slice, &mem);
  /* The flag goes last, after the features reached the file: a process
   * killed in between leaves the slice incomplete, and it is encoded again. */
  return space >= 0 && mem >= 0 && write_flag (self, slice, 0)
         && H5Dwrite (self->features, H5T_NATIVE_FLOAT, mem, space, H5P_DEFAULT, features) >= 0
         && H5Fflush (self->file, H5F_SCOPE_LOCAL) >= 0 && write_flag (self, slice, 1);
}

static gboolean
store_slice (UsamEmbeddingCache *self, guint slice, UsamEmbedding *embedding, GError **error)
{
  UsamEmbeddingShape shape;
  usam_embedding_get_shape (embedding, &shape);
  const gint64 *input = self->tile_input + 2 * (slice % self->n_tiles);
  if (shape.channels != self->channels || shape.height != self->side || shape.width != self->side
      || shape.input_height != input[0] || shape.input_width != input[1])
    {
      g_set_error (error, USAM_ERROR, USAM_ERROR_FAILED, "%s: the model made an embedding of an unexpected shape",
                   self->path);
      return FALSE;
    }
  if (self->file < 0 && !create_file (self, error))
    return FALSE;
  if (write_slice (self, slice, usam_embedding_get_features (embedding)))
    return TRUE;
  /* A file that takes no more writes is damaged: start a new one, once. */
  start_over (self, "cannot be written (damaged?)");
  if (!create_file (self, error))
    return FALSE;
  if (write_slice (self, slice, usam_embedding_get_features (embedding)))
    return TRUE;
  g_set_error (error, USAM_ERROR, USAM_ERROR_IO, "%s: cannot write the embedding of slice %u", self->path, slice);
  return FALSE;
}

static UsamEmbedding *
read_slice (UsamEmbeddingCache *self, guint slice)
{
  gsize n = (gsize) self->channels * self->side * self->side;
  g_autofree float *features = g_try_malloc (n * sizeof (float));
  g_auto (UsamH5Space) mem = H5I_INVALID_HID;
  g_auto (UsamH5Space) space = select_slice (self, slice, &mem);
  /* A damaged chunk fails its Fletcher-32 check here. */
  if (!features || space < 0 || mem < 0
      || H5Dread (self->features, H5T_NATIVE_FLOAT, mem, space, H5P_DEFAULT, features) < 0)
    return NULL;
  const UsamTile *tile = &self->tiles[slice % self->n_tiles];
  const gint64 *input = self->tile_input + 2 * (slice % self->n_tiles);
  UsamEmbeddingShape shape = {
    self->channels, self->side, self->side, tile->outer.height, tile->outer.width, (guint) input[0], (guint) input[1],
  };
  return usam_embedding_new (self->model, features, &shape, NULL);
}

/* ---- public ---- */

UsamEmbeddingCache *
usam_embedding_cache_open (const char *path, UsamModel *model, UsamImage *image,
                           const UsamEmbeddingCacheOptions *options, GError **error)
{
  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (USAM_IS_MODEL (model), NULL);
  g_return_val_if_fail (USAM_IS_IMAGE (image), NULL);
  const UsamEmbeddingCacheOptions defaults = { 0 };
  const UsamEmbeddingCacheOptions *o = options ? options : &defaults;
  if ((o->halo_width || o->halo_height) && !(o->tile_width && o->tile_height))
    {
      g_set_error (error, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT, "%s: a halo needs a tile shape", path);
      return NULL;
    }
  if ((o->tile_width && (!o->tile_height || 2 * o->halo_width >= o->tile_width))
      || (o->tile_height && (!o->tile_width || 2 * o->halo_height >= o->tile_height)))
    {
      g_set_error (error, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT,
                   "%s: tiles of %u × %u with a halo of %u × %u: the halo must be under half the tile", path,
                   o->tile_width, o->tile_height, o->halo_width, o->halo_height);
      return NULL;
    }
  g_autoptr (UsamEmbeddingCache) self = g_object_new (USAM_TYPE_EMBEDDING_CACHE, NULL);
  self->path = g_strdup (path);
  self->model = g_object_ref (model);
  self->image = g_object_ref (image);
  self->normalize = o->normalize;
  self->n_slices = usam_image_get_depth (image) * usam_image_get_frames (image);
  if (!make_signature (self, o, error))
    return NULL;
  self->n_units = self->n_slices * self->n_tiles;
  self->state = g_new0 (guint8, self->n_units);
  lock ();
  load_existing (self);
  g_mutex_unlock (&cache_lock);
  return g_steal_pointer (&self);
}

const char *
usam_embedding_cache_get_path (UsamEmbeddingCache *self)
{
  g_return_val_if_fail (USAM_IS_EMBEDDING_CACHE (self), NULL);
  return self->path;
}

guint
usam_embedding_cache_get_n_slices (UsamEmbeddingCache *self)
{
  g_return_val_if_fail (USAM_IS_EMBEDDING_CACHE (self), 0);
  return self->n_slices;
}

gboolean
usam_embedding_cache_was_reset (UsamEmbeddingCache *self)
{
  g_return_val_if_fail (USAM_IS_EMBEDDING_CACHE (self), FALSE);
  lock ();
  gboolean reset = self->reset_reason != NULL;
  g_mutex_unlock (&cache_lock);
  return reset;
}

char *
usam_embedding_cache_dup_reset_reason (UsamEmbeddingCache *self)
{
  g_return_val_if_fail (USAM_IS_EMBEDDING_CACHE (self), NULL);
  lock ();
  char *reason = g_strdup (self->reset_reason);
  g_mutex_unlock (&cache_lock);
  return reason;
}

guint
usam_embedding_cache_get_n_computed (UsamEmbeddingCache *self)
{
  g_return_val_if_fail (USAM_IS_EMBEDDING_CACHE (self), 0);
  lock ();
  guint n = self->n_computed;
  g_mutex_unlock (&cache_lock);
  return n;
}

guint
usam_embedding_cache_get_n_repaired (UsamEmbeddingCache *self)
{
  g_return_val_if_fail (USAM_IS_EMBEDDING_CACHE (self), 0);
  lock ();
  guint n = self->n_repaired;
  g_mutex_unlock (&cache_lock);
  return n;
}

gboolean
usam_embedding_cache_has_slice (UsamEmbeddingCache *self, guint slice)
{
  g_return_val_if_fail (USAM_IS_EMBEDDING_CACHE (self), FALSE);
  g_return_val_if_fail (slice < self->n_slices, FALSE);
  lock ();
  gboolean has = TRUE;
  for (guint i = 0; i < self->n_tiles; i++)
    has = has && self->state[slice * self->n_tiles + i] == SLICE_COMPLETE;
  g_mutex_unlock (&cache_lock);
  return has;
}

/* Makes unit @slice (a tile of a slice) complete on disk; *@out, when asked
 * for, gets its embedding. */
static gboolean
ensure_slice (UsamEmbeddingCache *self, guint slice, UsamEmbedding **out, GCancellable *cancellable,
              UsamProgressFunc progress, gpointer progress_data, GError **error)
{
  lock ();
  for (;;)
    {
      if (self->state[slice] == SLICE_COMPLETE)
        {
          if (!out || (*out = read_slice (self, slice)))
            {
              g_mutex_unlock (&cache_lock);
              return TRUE;
            }
          /* Marked complete but unreadable: never used, encoded again. */
          self->state[slice] = SLICE_MISSING;
          self->n_repaired++;
          write_flag (self, slice, 0);
          continue;
        }
      if (self->state[slice] == SLICE_MISSING)
        break;
      /* Another thread encodes it; wait for that, cancellably. */
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        {
          g_mutex_unlock (&cache_lock);
          return FALSE;
        }
      g_cond_wait_until (&cache_changed, &cache_lock, g_get_monotonic_time () + 50 * G_TIME_SPAN_MILLISECOND);
    }
  self->state[slice] = SLICE_COMPUTING;
  g_mutex_unlock (&cache_lock);

  guint depth = usam_image_get_depth (self->image), plane = slice / self->n_tiles;
  g_autoptr (UsamEmbedding) embedding = NULL;
  if (self->n_tiles == 1)
    embedding = usam_model_encode (self->model, self->image, plane / depth, plane % depth, self->normalize, cancellable,
                                   progress, progress_data, error);
  else
    {
      /* Each tile normalised and encoded on its own, as μSAM does. */
      const UsamRect *r = &self->tiles[slice % self->n_tiles].outer;
      g_autoptr (UsamImage) region
          = usam_image_dup_region (self->image, plane / depth, plane % depth, r->x, r->y, r->width, r->height);
      embedding = region ? usam_model_encode (self->model, region, 0, 0, self->normalize, cancellable, progress,
                                              progress_data, error)
                         : NULL;
      if (!region)
        g_set_error (error, USAM_ERROR, USAM_ERROR_FAILED, "out of memory for a tile of %s", self->path);
    }

  lock ();
  gboolean ok = embedding && store_slice (self, slice, embedding, error);
  if (embedding)
    self->n_computed++;
  self->state[slice] = ok ? SLICE_COMPLETE : SLICE_MISSING;
  g_cond_broadcast (&cache_changed);
  g_mutex_unlock (&cache_lock);
  if (ok && out)
    *out = g_steal_pointer (&embedding);
  return ok;
}

UsamEmbedding *
usam_embedding_cache_dup_tile (UsamEmbeddingCache *self, guint slice, guint tile, GCancellable *cancellable,
                               UsamProgressFunc progress, gpointer progress_data, GError **error)
{
  g_return_val_if_fail (USAM_IS_EMBEDDING_CACHE (self), NULL);
  if (slice >= self->n_slices || tile >= self->n_tiles)
    {
      g_set_error (error, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT, "%s: has no tile %u of slice %u (%u × %u)",
                   self->path, tile, slice, self->n_slices, self->n_tiles);
      return NULL;
    }
  UsamEmbedding *embedding = NULL;
  return ensure_slice (self, slice * self->n_tiles + tile, &embedding, cancellable, progress, progress_data, error)
             ? embedding
             : NULL;
}

UsamEmbedding *
usam_embedding_cache_dup_slice (UsamEmbeddingCache *self, guint slice, GCancellable *cancellable,
                                UsamProgressFunc progress, gpointer progress_data, GError **error)
{
  g_return_val_if_fail (USAM_IS_EMBEDDING_CACHE (self), NULL);
  if (self->n_tiles > 1)
    {
      g_set_error (error, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT,
                   "%s: holds tiled embeddings (%u tiles a slice), not one per slice", self->path, self->n_tiles);
      return NULL;
    }
  return usam_embedding_cache_dup_tile (self, slice, 0, cancellable, progress, progress_data, error);
}

guint
usam_embedding_cache_get_n_tiles (UsamEmbeddingCache *self)
{
  g_return_val_if_fail (USAM_IS_EMBEDDING_CACHE (self), 0);
  return self->n_tiles;
}

const UsamTiling *
usam_embedding_cache_get_tiling (UsamEmbeddingCache *self)
{
  g_return_val_if_fail (USAM_IS_EMBEDDING_CACHE (self), NULL);
  return &self->tiling;
}

/* Progress within one slice, as a share of the whole run. */
typedef struct
{
  UsamProgressFunc func;
  gpointer data;
  guint done, total;
} RunProgress;

static void
run_progress (double fraction, gpointer user_data)
{
  RunProgress *p = user_data;
  p->func ((p->done + CLAMP (fraction, 0.0, 1.0)) / p->total, p->data);
}

gboolean
usam_embedding_cache_precompute (UsamEmbeddingCache *self, guint first, guint last, guint center,
                                 GCancellable *cancellable, UsamProgressFunc progress, gpointer progress_data,
                                 GError **error)
{
  g_return_val_if_fail (USAM_IS_EMBEDDING_CACHE (self), FALSE);
  if (first > last || last >= self->n_slices)
    {
      g_set_error (error, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT, "%s: slices %u to %u are not within 0 to %u",
                   self->path, first, last, self->n_slices - 1);
      return FALSE;
    }
  center = CLAMP (center, first, last);
  guint n = last - first + 1, k = 0;
  g_autofree guint *order = g_new (guint, n);
  order[k++] = center;
  for (guint d = 1; k < n; d++)
    {
      if (d <= last - center)
        order[k++] = center + d;
      if (d <= center - first)
        order[k++] = center - d;
    }
  for (guint i = 0; i < n; i++)
    {
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;
      for (guint tile = 0; tile < self->n_tiles; tile++)
        {
          RunProgress p = { progress, progress_data, i * self->n_tiles + tile, n * self->n_tiles };
          if (!ensure_slice (self, order[i] * self->n_tiles + tile, NULL, cancellable,
                             progress ? run_progress : NULL, &p, error))
            return FALSE;
        }
      if (progress)
        progress ((double) (i + 1) / n, progress_data);
    }
  return TRUE;
}

/* ---- in a worker thread ---- */

typedef struct
{
  guint first, last, center;
  UsamProgressProxy *proxy;
} PrecomputeData;

static void
precompute_data_free (PrecomputeData *d)
{
  usam_progress_proxy_unref (d->proxy);
  g_free (d);
}

static void
precompute_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  PrecomputeData *d = task_data;
  GError *error = NULL;
  if (usam_embedding_cache_precompute (USAM_EMBEDDING_CACHE (source), d->first, d->last, d->center, cancellable,
                                       d->proxy ? usam_progress_proxy_post : NULL, d->proxy, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

void
usam_embedding_cache_precompute_async (UsamEmbeddingCache *self, guint first, guint last, guint center,
                                       GCancellable *cancellable, UsamProgressFunc progress, gpointer progress_data,
                                       GDestroyNotify progress_destroy, GAsyncReadyCallback callback,
                                       gpointer user_data)
{
  g_return_if_fail (USAM_IS_EMBEDDING_CACHE (self));
  g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, usam_embedding_cache_precompute_async);
  PrecomputeData *d = g_new0 (PrecomputeData, 1);
  d->first = first;
  d->last = last;
  d->center = center;
  d->proxy = usam_progress_proxy_new (progress, progress_data, progress_destroy);
  g_task_set_task_data (task, d, (GDestroyNotify) precompute_data_free);
  usam_task_run_in_thread (task, precompute_thread);
}

gboolean
usam_embedding_cache_precompute_finish (UsamEmbeddingCache *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}
