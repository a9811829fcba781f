#include "usam-h5.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <unistd.h>

#include "usam-error.h"

void
usam_h5_silence_thread (void)
{
  /* A thread-safe HDF5 keeps the error-printing setting per thread. */
  static _Thread_local gboolean silenced;
  if (!silenced)
    {
      H5Eset_auto2 (H5E_DEFAULT, NULL, NULL);
      silenced = TRUE;
    }
}

static void
silence_hdf5 (void)
{
  usam_h5_silence_thread ();
}

#define DEFINE_CLOSE(fn, h5close)                                                                                \
  void fn (hid_t id)                                                                                             \
  {                                                                                                              \
    if (id >= 0)                                                                                                 \
      h5close (id);                                                                                              \
  }

DEFINE_CLOSE (usam_h5_file_close, H5Fclose)
DEFINE_CLOSE (usam_h5_group_close, H5Gclose)
DEFINE_CLOSE (usam_h5_dataset_close, H5Dclose)
DEFINE_CLOSE (usam_h5_space_close, H5Sclose)
DEFINE_CLOSE (usam_h5_attr_close, H5Aclose)
DEFINE_CLOSE (usam_h5_type_close, H5Tclose)
DEFINE_CLOSE (usam_h5_plist_close, H5Pclose)

char *
usam_h5_dup_file_name (hid_t loc)
{
  ssize_t n = H5Fget_name (loc, NULL, 0);
  if (n <= 0)
    return g_strdup ("(HDF5 file)");
  char *name = g_malloc ((gsize) n + 1);
  H5Fget_name (loc, name, (size_t) n + 1);
  return name;
}

hid_t
usam_h5_open (const char *path, gboolean writable, GError **error)
{
  silence_hdf5 ();
  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, USAM_ERROR, USAM_ERROR_NOT_FOUND, "%s: no such file", path);
      return H5I_INVALID_HID;
    }
  htri_t is_h5 = H5Fis_hdf5 (path);
  if (is_h5 <= 0)
    {
      g_set_error (error, USAM_ERROR, USAM_ERROR_INVALID_DATA, "%s: not an HDF5 file (or unreadable)", path);
      return H5I_INVALID_HID;
    }
  hid_t file = H5Fopen (path, writable ? H5F_ACC_RDWR : H5F_ACC_RDONLY, H5P_DEFAULT);
  if (file < 0)
    g_set_error (error, USAM_ERROR, USAM_ERROR_INVALID_DATA, "%s: cannot open the HDF5 file (damaged or locked)",
                 path);
  return file;
}

gboolean
usam_h5_exists (hid_t loc, const char *name)
{
  silence_hdf5 ();
  /* H5Lexists fails on a missing intermediate group: walk the path. */
  g_auto (GStrv) parts = g_strsplit (name, "/", -1);
  GString *sofar = g_string_new (name[0] == '/' ? "/" : "");
  gboolean ok = TRUE;
  for (int i = 0; parts[i] && ok; i++)
    {
      if (!*parts[i])
        continue;
      if (sofar->len > 0 && sofar->str[sofar->len - 1] != '/')
        g_string_append_c (sofar, '/');
      g_string_append (sofar, parts[i]);
      ok = H5Lexists (loc, sofar->str, H5P_DEFAULT) > 0;
    }
  g_string_free (sofar, TRUE);
  return ok;
}

static gboolean
open_dataset (hid_t loc, const char *name, UsamH5Dataset *out, int *rank, hsize_t *dims, GError **error)
{
  g_autofree char *file = usam_h5_dup_file_name (loc);
  if (!usam_h5_exists (loc, name))
    {
      g_set_error (error, USAM_ERROR, USAM_ERROR_NOT_FOUND, "%s: has no dataset '%s'", file, name);
      return FALSE;
    }
  g_auto (UsamH5Dataset) dset = H5Dopen2 (loc, name, H5P_DEFAULT);
  if (dset < 0)
    {
      g_set_error (error, USAM_ERROR, USAM_ERROR_INVALID_DATA, "%s: '%s' is not a readable dataset", file, name);
      return FALSE;
    }
  g_auto (UsamH5Space) space = H5Dget_space (dset);
  int r = space >= 0 ? H5Sget_simple_extent_ndims (space) : -1;
  if (r < 0 || r > USAM_H5_MAX_RANK)
    {
      g_set_error (error, USAM_ERROR, USAM_ERROR_INVALID_DATA, "%s: dataset '%s' has an unsupported shape", file, name);
      return FALSE;
    }
  H5Sget_simple_extent_dims (space, dims, NULL);
  *rank = r;
  *out = dset;
  dset = H5I_INVALID_HID;
  return TRUE;
}

gpointer
usam_h5_read (hid_t loc, const char *name, hid_t mem_type, int *rank, hsize_t *dims, GError **error)
{
  silence_hdf5 ();
  g_autofree char *file = usam_h5_dup_file_name (loc);
  g_auto (UsamH5Dataset) dset = H5I_INVALID_HID;
  if (!open_dataset (loc, name, &dset, rank, dims, error))
    return NULL;
  guint64 n = 1;
  for (int i = 0; i < *rank; i++)
    {
      if (dims[i] != 0 && n > G_MAXUINT64 / 16 / dims[i])
        n = G_MAXUINT64;
      else
        n *= dims[i];
    }
  gsize elem = H5Tget_size (mem_type);
  if (n > ((guint64) 1 << 40) / elem)
    {
      g_set_error (error, USAM_ERROR, USAM_ERROR_INVALID_DATA, "%s: dataset '%s' is implausibly large", file, name);
      return NULL;
    }
  g_autofree gpointer data = g_try_malloc0 (MAX ((gsize) n * elem, 1));
  if (!data)
    {
      g_set_error (error, USAM_ERROR, USAM_ERROR_IO, "%s: not enough memory to read '%s'", file, name);
      return NULL;
    }
  if (n > 0 && H5Dread (dset, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)
    {
      g_set_error (error, USAM_ERROR, USAM_ERROR_INVALID_DATA,
                   "%s: cannot read dataset '%s' (damaged, or of a type that does not convert)", file, name);
      return NULL;
    }
  return g_steal_pointer (&data);
}

gpointer
usam_h5_read_shaped (hid_t loc, const char *name, hid_t mem_type, int rank, const hsize_t *dims, GError **error)
{
  int got_rank = 0;
  hsize_t got[USAM_H5_MAX_RANK] = { 0 };
  g_autofree gpointer data = usam_h5_read (loc, name, mem_type, &got_rank, got, error);
  if (!data)
    return NULL;
  gboolean same = got_rank == rank;
  for (int i = 0; same && i < rank; i++)
    same = got[i] == dims[i];
  if (!same)
    {
      g_autofree char *file = usam_h5_dup_file_name (loc);
      GString *want = g_string_new ("(");
      GString *have = g_string_new ("(");
      for (int i = 0; i < rank; i++)
        g_string_append_printf (want, "%s%llu", i ? ", " : "", (unsigned long long) dims[i]);
      for (int i = 0; i < got_rank; i++)
        g_string_append_printf (have, "%s%llu", i ? ", " : "", (unsigned long long) got[i]);
      g_string_append_c (want, ')');
      g_string_append_c (have, ')');
      g_set_error (error, USAM_ERROR, USAM_ERROR_INVALID_DATA, "%s: dataset '%s' has shape %s, expected %s", file,
                   name, have->str, want->str);
      g_string_free (want, TRUE);
      g_string_free (have, TRUE);
      return NULL;
    }
  return g_steal_pointer (&data);
}

static gboolean
ensure_groups (hid_t loc, const char *name)
{
  g_auto (GStrv) parts = g_strsplit (name, "/", -1);
  GString *sofar = g_string_new (name[0] == '/' ? "/" : "");
  gboolean ok = TRUE;
  guint n = g_strv_length (parts);
  for (guint i = 0; i + 1 < n && ok; i++)
    {
      if (!*parts[i])
        continue;
      if (sofar->len > 0 && sofar->str[sofar->len - 1] != '/')
        g_string_append_c (sofar, '/');
      g_string_append (sofar, parts[i]);
      if (H5Lexists (loc, sofar->str, H5P_DEFAULT) <= 0)
        {
          g_auto (UsamH5Group) g = H5Gcreate2 (loc, sofar->str, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
          ok = g >= 0;
        }
    }
  g_string_free (sofar, TRUE);
  return ok;
}

gboolean
usam_h5_write (hid_t loc, const char *name, hid_t mem_type, int rank, const hsize_t *dims, gconstpointer data,
               gboolean compress, GError **error)
{
  silence_hdf5 ();
  g_autofree char *file = usam_h5_dup_file_name (loc);
  if (!ensure_groups (loc, name))
    {
      g_set_error (error, USAM_ERROR, USAM_ERROR_IO, "%s: cannot create the groups of '%s'", file, name);
      return FALSE;
    }
  g_auto (UsamH5Space) space = H5Screate_simple (rank, dims, NULL);
  g_auto (UsamH5Plist) dcpl = H5Pcreate (H5P_DATASET_CREATE);
  guint64 n = 1;
  for (int i = 0; i < rank; i++)
    n *= dims[i];
  if (compress && rank > 0 && n > 0)
    {
      /* Chunks of whole trailing planes, about a megabyte each. */
      hsize_t chunk[USAM_H5_MAX_RANK];
      guint64 elems = 1;
      for (int i = rank - 1; i >= 0; i--)
        {
          chunk[i] = dims[i];
          if (elems * dims[i] > (1u << 18))
            chunk[i] = MAX ((hsize_t) 1, (hsize_t) ((1u << 18) / elems));
          elems *= chunk[i];
        }
      H5Pset_chunk (dcpl, rank, chunk);
      H5Pset_deflate (dcpl, 4);
    }
  g_auto (UsamH5Dataset) dset = H5Dcreate2 (loc, name, mem_type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  if (dset < 0 || (n > 0 && H5Dwrite (dset, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0))
    {
      g_set_error (error, USAM_ERROR, USAM_ERROR_IO, "%s: cannot write dataset '%s'", file, name);
      return FALSE;
    }
  return TRUE;
}

gboolean
usam_h5_write_attr_ints (hid_t obj, const char *name, const gint64 *values, int n, GError **error)
{
  silence_hdf5 ();
  hsize_t dims[1] = { (hsize_t) n };
  g_auto (UsamH5Space) space = H5Screate_simple (1, dims, NULL);
  if (H5Aexists (obj, name) > 0)
    H5Adelete (obj, name);
  g_auto (UsamH5Attr) attr = H5Acreate2 (obj, name, H5T_STD_I64LE, space, H5P_DEFAULT, H5P_DEFAULT);
  if (attr < 0 || H5Awrite (attr, H5T_NATIVE_INT64, values) < 0)
    {
      g_autofree char *file = usam_h5_dup_file_name (obj);
      g_set_error (error, USAM_ERROR, USAM_ERROR_IO, "%s: cannot write attribute '%s'", file, name);
      return FALSE;
    }
  return TRUE;
}

gboolean
usam_h5_read_attr_ints (hid_t obj, const char *name, gint64 *values, int n, GError **error)
{
  silence_hdf5 ();
  g_autofree char *file = usam_h5_dup_file_name (obj);
  if (H5Aexists (obj, name) <= 0)
    {
      g_set_error (error, USAM_ERROR, USAM_ERROR_NOT_FOUND, "%s: attribute '%s' is missing", file, name);
      return FALSE;
    }
  g_auto (UsamH5Attr) attr = H5Aopen (obj, name, H5P_DEFAULT);
  g_auto (UsamH5Space) space = H5Aget_space (attr);
  hssize_t count = space >= 0 ? H5Sget_simple_extent_npoints (space) : -1;
  g_auto (UsamH5Type) type = H5Aget_type (attr);
  if (count != n || H5Tget_class (type) != H5T_INTEGER || H5Aread (attr, H5T_NATIVE_INT64, values) < 0)
    {
      g_set_error (error, USAM_ERROR, USAM_ERROR_INVALID_DATA, "%s: attribute '%s' is not %d integer(s)", file, name,
                   n);
      return FALSE;
    }
  return TRUE;
}

gboolean
usam_h5_write_attr_string (hid_t obj, const char *name, const char *value, GError **error)
{
  silence_hdf5 ();
  g_auto (UsamH5Type) type = H5Tcopy (H5T_C_S1);
  H5Tset_size (type, H5T_VARIABLE);
  H5Tset_cset (type, H5T_CSET_UTF8);
  g_auto (UsamH5Space) space = H5Screate (H5S_SCALAR);
  if (H5Aexists (obj, name) > 0)
    H5Adelete (obj, name);
  g_auto (UsamH5Attr) attr = H5Acreate2 (obj, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
  if (attr < 0 || H5Awrite (attr, type, &value) < 0)
    {
      g_autofree char *file = usam_h5_dup_file_name (obj);
      g_set_error (error, USAM_ERROR, USAM_ERROR_IO, "%s: cannot write attribute '%s'", file, name);
      return FALSE;
    }
  return TRUE;
}

char *
usam_h5_read_attr_string (hid_t obj, const char *name, GError **error)
{
  silence_hdf5 ();
  g_autofree char *file = usam_h5_dup_file_name (obj);
  if (H5Aexists (obj, name) <= 0)
    {
      g_set_error (error, USAM_ERROR, USAM_ERROR_NOT_FOUND, "%s: attribute '%s' is missing", file, name);
      return NULL;
    }
  g_auto (UsamH5Attr) attr = H5Aopen (obj, name, H5P_DEFAULT);
  g_auto (UsamH5Type) ftype = H5Aget_type (attr);
  if (H5Tget_class (ftype) != H5T_STRING)
    {
      g_set_error (error, USAM_ERROR, USAM_ERROR_INVALID_DATA, "%s: attribute '%s' is not a string", file, name);
      return NULL;
    }
  if (H5Tis_variable_str (ftype) > 0)
    {
      g_auto (UsamH5Type) mtype = H5Tcopy (H5T_C_S1);
      H5Tset_size (mtype, H5T_VARIABLE);
      /* HDF5 converts no string between ASCII and UTF-8 (h5py writes UTF-8). */
      H5Tset_cset (mtype, H5Tget_cset (ftype));
      char *value = NULL;
      if (H5Aread (attr, mtype, &value) < 0 || !value)
        {
          g_set_error (error, USAM_ERROR, USAM_ERROR_INVALID_DATA, "%s: cannot read attribute '%s'", file, name);
          return NULL;
        }
      char *copy = g_strdup (value);
      H5free_memory (value);
      return copy;
    }
  size_t size = H5Tget_size (ftype);
  g_auto (UsamH5Type) mtype = H5Tcopy (H5T_C_S1);
  H5Tset_size (mtype, size + 1);
  g_autofree char *value = g_malloc0 (size + 2);
  if (H5Aread (attr, mtype, value) < 0)
    {
      g_set_error (error, USAM_ERROR, USAM_ERROR_INVALID_DATA, "%s: cannot read attribute '%s'", file, name);
      return NULL;
    }
  return g_steal_pointer (&value);
}

struct _UsamH5Output
{
  hid_t file;
  char *path;
  char *tmp_path;
  gboolean committed;
};

UsamH5Output *
usam_h5_output_new (const char *path, GError **error)
{
  silence_hdf5 ();
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *base = g_path_get_basename (path);
  g_autofree char *tmp = g_strdup_printf ("%s/.%s.%u.part", dir, base, (unsigned) getpid ());
  hid_t file = H5Fcreate (tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  if (file < 0)
    {
      g_set_error (error, USAM_ERROR, USAM_ERROR_IO, "%s: cannot create the file (is the folder writable?)", path);
      return NULL;
    }
  UsamH5Output *self = g_new0 (UsamH5Output, 1);
  self->file = file;
  self->path = g_strdup (path);
  self->tmp_path = g_steal_pointer (&tmp);
  return self;
}

hid_t
usam_h5_output_get_file (UsamH5Output *self)
{
  return self->file;
}

gboolean
usam_h5_output_commit (UsamH5Output *self, GError **error)
{
  herr_t rc = H5Fclose (self->file);
  self->file = H5I_INVALID_HID;
  if (rc < 0)
    {
      g_set_error (error, USAM_ERROR, USAM_ERROR_IO, "%s: cannot finish writing the file", self->path);
      return FALSE;
    }
  if (g_rename (self->tmp_path, self->path) != 0)
    {
      int saved = errno;
      g_set_error (error, USAM_ERROR, USAM_ERROR_IO, "%s: cannot move the finished file into place: %s", self->path,
                   g_strerror (saved));
      return FALSE;
    }
  self->committed = TRUE;
  return TRUE;
}

void
usam_h5_output_free (UsamH5Output *self)
{
  if (!self)
    return;
  if (self->file >= 0)
    H5Fclose (self->file);
  if (!self->committed)
    g_unlink (self->tmp_path);
  g_free (self->path);
  g_free (self->tmp_path);
  g_free (self);
}
