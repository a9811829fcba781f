/* usam-zip.hpp — the ZIP container of torch.save() files.
 *
 * torch.save() writes an uncompressed ZIP ("stored" entries, ZIP64 when the
 * archive is large) whose records are 64-byte aligned. The reader accepts
 * stored and deflated entries, checks every offset against the file size and
 * reports damage as usam::Error naming the file.
 */
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace usam {

struct ZipEntry
{
  std::string name;
  uint16_t method = 0;
  uint32_t crc32 = 0;
  uint64_t compressed_size = 0;
  uint64_t size = 0;
  uint64_t header_offset = 0;
};

class ZipReader
{
public:
  explicit ZipReader (const std::string &path);
  ~ZipReader ();
  ZipReader (const ZipReader &) = delete;
  ZipReader &operator= (const ZipReader &) = delete;

  const std::vector<ZipEntry> &entries () const { return entries_; }
  const ZipEntry *find (const std::string &name) const;

  /* Reads the whole entry into @dest (entry.size bytes), checking its CRC. */
  void read (const ZipEntry &entry, void *dest) const;
  std::string read_string (const ZipEntry &entry) const;

  const std::string &path () const { return path_; }

private:
  void read_at (uint64_t offset, void *dest, size_t n) const;
  uint64_t data_offset (const ZipEntry &entry) const;

  std::string path_;
  FILE *file_ = nullptr;
  uint64_t file_size_ = 0;
  std::vector<ZipEntry> entries_;
};

class ZipWriter
{
public:
  explicit ZipWriter (const std::string &path);
  ~ZipWriter ();
  ZipWriter (const ZipWriter &) = delete;
  ZipWriter &operator= (const ZipWriter &) = delete;

  /* Adds a stored entry whose data starts on a 64-byte boundary. */
  void add (const std::string &name, const void *data, size_t size);
  /* Writes the central directory and renames the temporary file into place. */
  void finish ();

private:
  void write (const void *data, size_t n);

  std::string path_;
  std::string tmp_path_;
  FILE *file_ = nullptr;
  uint64_t offset_ = 0;
  std::vector<ZipEntry> entries_;
  bool finished_ = false;
};

} // namespace usam
