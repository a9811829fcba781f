/* usam-h5.h — small helpers over the HDF5 C API.
 *
 * HDF5 reports errors by printing a stack to stderr; usam turns them into
 * GErrors naming the file and the dataset instead. Handles get g_auto()
 * cleanup types so early returns never leak them.
 */
#pragma once

#include <glib.h>
#include <hdf5.h>

G_BEGIN_DECLS

typedef hid_t UsamH5File;
typedef hid_t UsamH5Group;
typedef hid_t UsamH5Dataset;
typedef hid_t UsamH5Space;
typedef hid_t UsamH5Attr;
typedef hid_t UsamH5Type;
typedef hid_t UsamH5Plist;

void usam_h5_file_close (UsamH5File id);
void usam_h5_group_close (UsamH5Group id);
void usam_h5_dataset_close (UsamH5Dataset id);
void usam_h5_space_close (UsamH5Space id);
void usam_h5_attr_close (UsamH5Attr id);
void usam_h5_type_close (UsamH5Type id);
void usam_h5_plist_close (UsamH5Plist id);

G_DEFINE_AUTO_CLEANUP_FREE_FUNC (UsamH5File, usam_h5_file_close, H5I_INVALID_HID)
G_DEFINE_AUTO_CLEANUP_FREE_FUNC (UsamH5Group, usam_h5_group_close, H5I_INVALID_HID)
G_DEFINE_AUTO_CLEANUP_FREE_FUNC (UsamH5Dataset, usam_h5_dataset_close, H5I_INVALID_HID)
G_DEFINE_AUTO_CLEANUP_FREE_FUNC (UsamH5Space, usam_h5_space_close, H5I_INVALID_HID)
G_DEFINE_AUTO_CLEANUP_FREE_FUNC (UsamH5Attr, usam_h5_attr_close, H5I_INVALID_HID)
G_DEFINE_AUTO_CLEANUP_FREE_FUNC (UsamH5Type, usam_h5_type_close, H5I_INVALID_HID)
G_DEFINE_AUTO_CLEANUP_FREE_FUNC (UsamH5Plist, usam_h5_plist_close, H5I_INVALID_HID)

#define USAM_H5_MAX_RANK 8

/* Stops HDF5 printing error stacks from the calling thread (the helpers
 * below do it themselves); for code that calls the HDF5 API directly. */
void usam_h5_silence_thread (void);

/* Opens an existing file, read-only or read-write. */
hid_t usam_h5_open (const char *path, gboolean writable, GError **error);

gboolean usam_h5_exists (hid_t loc, const char *name);

/* Reads a whole dataset converted to @mem_type. @rank and @dims (at least
 * USAM_H5_MAX_RANK long) receive its shape. Free the result with g_free(). */
gpointer usam_h5_read (hid_t loc, const char *name, hid_t mem_type, int *rank, hsize_t *dims, GError **error);

/* Reads a dataset that must have exactly the shape @dims (rank @rank). */
gpointer usam_h5_read_shaped (hid_t loc, const char *name, hid_t mem_type, int rank, const hsize_t *dims,
                              GError **error);

/* Creates a dataset (and the groups on its path). @compress: chunked, deflate. */
gboolean usam_h5_write (hid_t loc, const char *name, hid_t mem_type, int rank, const hsize_t *dims,
                        gconstpointer data, gboolean compress, GError **error);

gboolean usam_h5_write_attr_ints (hid_t obj, const char *name, const gint64 *values, int n, GError **error);
/* Reads an integer attribute of exactly @n values. */
gboolean usam_h5_read_attr_ints (hid_t obj, const char *name, gint64 *values, int n, GError **error);
gboolean usam_h5_write_attr_string (hid_t obj, const char *name, const char *value, GError **error);
char *usam_h5_read_attr_string (hid_t obj, const char *name, GError **error);

/* The file behind @loc, for messages. */
char *usam_h5_dup_file_name (hid_t loc);

/* A file written under a temporary name and renamed into place on commit,
 * so a crash or an error never leaves a half-written file at @path. */
typedef struct _UsamH5Output UsamH5Output;

UsamH5Output *usam_h5_output_new (const char *path, GError **error);
hid_t usam_h5_output_get_file (UsamH5Output *self);
gboolean usam_h5_output_commit (UsamH5Output *self, GError **error);
/* Discards the temporary file unless committed. */
void usam_h5_output_free (UsamH5Output *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (UsamH5Output, usam_h5_output_free)

G_END_DECLS
