#include "usam-zip.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

#include <unistd.h>
#include <zlib.h>

#include "usam-error.hpp"

namespace usam {

namespace {

constexpr uint32_t SIG_LOCAL = 0x04034b50;
constexpr uint32_t SIG_CENTRAL = 0x02014b50;
constexpr uint32_t SIG_EOCD = 0x06054b50;
constexpr uint32_t SIG_EOCD64 = 0x06064b50;
constexpr uint32_t SIG_EOCD64_LOCATOR = 0x07064b50;
constexpr uint64_t ALIGNMENT = 64;

uint16_t
le16 (const uint8_t *p)
{
  return (uint16_t) (p[0] | (p[1] << 8));
}

uint32_t
le32 (const uint8_t *p)
{
  return (uint32_t) p[0] | ((uint32_t) p[1] << 8) | ((uint32_t) p[2] << 16) | ((uint32_t) p[3] << 24);
}

uint64_t
le64 (const uint8_t *p)
{
  return (uint64_t) le32 (p) | ((uint64_t) le32 (p + 4) << 32);
}

void
put16 (std::string &s, uint16_t v)
{
  s.push_back ((char) (v & 0xff));
  s.push_back ((char) (v >> 8));
}

void
put32 (std::string &s, uint32_t v)
{
  for (int i = 0; i < 4; i++)
    s.push_back ((char) ((v >> (8 * i)) & 0xff));
}

void
put64 (std::string &s, uint64_t v)
{
  for (int i = 0; i < 8; i++)
    s.push_back ((char) ((v >> (8 * i)) & 0xff));
}

uint32_t
crc32_of (const void *data, size_t n)
{
  uLong crc = crc32 (0L, Z_NULL, 0);
  const Bytef *p = static_cast<const Bytef *> (data);
  while (n > 0)
    {
      uInt chunk = (uInt) std::min<size_t> (n, 1u << 30);
      crc = crc32 (crc, p, chunk);
      p += chunk;
      n -= chunk;
    }
  return (uint32_t) crc;
}

} // namespace

ZipReader::ZipReader (const std::string &path) : path_ (path)
{
  file_ = fopen (path.c_str (), "rb");
  if (!file_)
    fail (USAM_SAM_STATUS_IO, path + ": cannot open: " + strerror (errno));
  if (fseeko (file_, 0, SEEK_END) != 0)
    fail (USAM_SAM_STATUS_IO, path + ": cannot seek: " + strerror (errno));
  file_size_ = (uint64_t) ftello (file_);

  if (file_size_ < 22)
    fail (USAM_SAM_STATUS_FORMAT, path + ": not a checkpoint (file too small to be a torch.save archive)");

  /* The end-of-central-directory record sits in the last 64 KiB + 22 bytes. */
  uint64_t tail_len = std::min<uint64_t> (file_size_, 65535 + 22 + 20);
  std::vector<uint8_t> tail (tail_len);
  read_at (file_size_ - tail_len, tail.data (), tail_len);
  int64_t eocd = -1;
  for (int64_t i = (int64_t) tail_len - 22; i >= 0; i--)
    if (le32 (&tail[i]) == SIG_EOCD)
      {
        eocd = i;
        break;
      }
  if (eocd < 0)
    {
      uint8_t magic[4] = { 0 };
      read_at (0, magic, 4);
      if (le32 (magic) == SIG_LOCAL)
        fail (USAM_SAM_STATUS_FORMAT, path + ": truncated (the ZIP archive has no central directory)");
      if (magic[0] == 0x80)
        fail (USAM_SAM_STATUS_UNSUPPORTED,
              path + ": legacy (pre-1.6, non-ZIP) torch.save format; re-save it with a current PyTorch");
      fail (USAM_SAM_STATUS_FORMAT, path + ": not a checkpoint (not a torch.save ZIP archive)");
    }

  const uint8_t *e = &tail[eocd];
  uint64_t n_entries = le16 (e + 10);
  uint64_t cd_size = le32 (e + 12);
  uint64_t cd_offset = le32 (e + 16);
  uint64_t eocd_pos = file_size_ - tail_len + (uint64_t) eocd;

  if (n_entries == 0xffff || cd_size == 0xffffffffu || cd_offset == 0xffffffffu)
    {
      if (eocd < 20 || le32 (&tail[eocd - 20]) != SIG_EOCD64_LOCATOR)
        fail (USAM_SAM_STATUS_FORMAT, path + ": damaged ZIP64 directory (no locator)");
      uint64_t eocd64_pos = le64 (&tail[eocd - 20 + 8]);
      uint8_t rec[56];
      if (eocd64_pos + sizeof rec > file_size_)
        fail (USAM_SAM_STATUS_FORMAT, path + ": damaged ZIP64 directory (record out of range)");
      read_at (eocd64_pos, rec, sizeof rec);
      if (le32 (rec) != SIG_EOCD64)
        fail (USAM_SAM_STATUS_FORMAT, path + ": damaged ZIP64 directory (bad signature)");
      n_entries = le64 (rec + 32);
      cd_size = le64 (rec + 40);
      cd_offset = le64 (rec + 48);
      eocd_pos = eocd64_pos;
    }

  if (cd_offset > eocd_pos || cd_size > eocd_pos - cd_offset)
    fail (USAM_SAM_STATUS_FORMAT, path + ": truncated or damaged (central directory out of range)");
  if (n_entries > cd_size / 46)
    fail (USAM_SAM_STATUS_FORMAT, path + ": damaged central directory (entry count)");

  std::vector<uint8_t> cd (cd_size);
  read_at (cd_offset, cd.data (), cd_size);
  size_t pos = 0;
  entries_.reserve (n_entries);
  for (uint64_t i = 0; i < n_entries; i++)
    {
      if (pos + 46 > cd.size () || le32 (&cd[pos]) != SIG_CENTRAL)
        fail (USAM_SAM_STATUS_FORMAT, path + ": damaged central directory (entry " + std::to_string (i) + ")");
      const uint8_t *h = &cd[pos];
      ZipEntry entry;
      entry.method = le16 (h + 10);
      entry.crc32 = le32 (h + 16);
      entry.compressed_size = le32 (h + 20);
      entry.size = le32 (h + 24);
      uint16_t name_len = le16 (h + 28);
      uint16_t extra_len = le16 (h + 30);
      uint16_t comment_len = le16 (h + 32);
      entry.header_offset = le32 (h + 42);
      if (pos + 46 + (size_t) name_len + extra_len + comment_len > cd.size ())
        fail (USAM_SAM_STATUS_FORMAT, path + ": damaged central directory (entry " + std::to_string (i) + ")");
      entry.name.assign ((const char *) h + 46, name_len);

      /* ZIP64 extra field: only the fields saturated in the fixed header follow, in order. */
      const uint8_t *x = h + 46 + name_len;
      const uint8_t *x_end = x + extra_len;
      while (x + 4 <= x_end)
        {
          uint16_t id = le16 (x), len = le16 (x + 2);
          const uint8_t *d = x + 4;
          if (d + len > x_end)
            break;
          if (id == 0x0001)
            {
              const uint8_t *q = d;
              if (entry.size == 0xffffffffu && q + 8 <= d + len)
                entry.size = le64 (q), q += 8;
              if (entry.compressed_size == 0xffffffffu && q + 8 <= d + len)
                entry.compressed_size = le64 (q), q += 8;
              if (entry.header_offset == 0xffffffffu && q + 8 <= d + len)
                entry.header_offset = le64 (q), q += 8;
            }
          x = d + len;
        }

      if (entry.header_offset > cd_offset || entry.compressed_size > cd_offset - entry.header_offset)
        fail (USAM_SAM_STATUS_FORMAT, path + ": truncated or damaged (record '" + entry.name + "' out of range)");
      if (entry.method != 0 && entry.method != 8)
        fail (USAM_SAM_STATUS_UNSUPPORTED,
              path + ": record '" + entry.name + "' uses ZIP compression method " + std::to_string (entry.method));
      if (entry.method == 0 && entry.size != entry.compressed_size)
        fail (USAM_SAM_STATUS_FORMAT, path + ": damaged record '" + entry.name + "' (size mismatch)");
      entries_.push_back (std::move (entry));
      pos += 46 + (size_t) name_len + extra_len + comment_len;
    }
}

ZipReader::~ZipReader ()
{
  if (file_)
    fclose (file_);
}

void
ZipReader::read_at (uint64_t offset, void *dest, size_t n) const
{
  if (offset > file_size_ || n > file_size_ - offset)
    fail (USAM_SAM_STATUS_FORMAT, path_ + ": truncated (read past the end of the file)");
  size_t done = 0;
  while (done < n)
    {
      ssize_t r = pread (fileno (file_), (char *) dest + done, n - done, (off_t) (offset + done));
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0)
        fail (USAM_SAM_STATUS_IO, path_ + ": read error: " + strerror (errno));
      if (r == 0)
        fail (USAM_SAM_STATUS_FORMAT, path_ + ": truncated (unexpected end of file)");
      done += (size_t) r;
    }
}

const ZipEntry *
ZipReader::find (const std::string &name) const
{
  for (const auto &entry : entries_)
    if (entry.name == name)
      return &entry;
  return nullptr;
}

uint64_t
ZipReader::data_offset (const ZipEntry &entry) const
{
  uint8_t h[30];
  read_at (entry.header_offset, h, sizeof h);
  if (le32 (h) != SIG_LOCAL)
    fail (USAM_SAM_STATUS_FORMAT, path_ + ": damaged record '" + entry.name + "' (bad local header)");
  uint64_t offset = entry.header_offset + 30 + le16 (h + 26) + le16 (h + 28);
  if (offset > file_size_ || entry.compressed_size > file_size_ - offset)
    fail (USAM_SAM_STATUS_FORMAT, path_ + ": truncated (record '" + entry.name + "' extends past the end of the file)");
  return offset;
}

void
ZipReader::read (const ZipEntry &entry, void *dest) const
{
  uint64_t offset = data_offset (entry);
  if (entry.method == 0)
    {
      read_at (offset, dest, entry.size);
    }
  else
    {
      std::vector<uint8_t> packed (entry.compressed_size);
      read_at (offset, packed.data (), packed.size ());
      z_stream zs;
      memset (&zs, 0, sizeof zs);
      if (inflateInit2 (&zs, -MAX_WBITS) != Z_OK)
        fail (USAM_SAM_STATUS_NO_MEMORY, path_ + ": cannot start inflating '" + entry.name + "'");
      zs.next_in = packed.data ();
      zs.avail_in = (uInt) packed.size ();
      zs.next_out = (Bytef *) dest;
      zs.avail_out = (uInt) entry.size;
      int rc = inflate (&zs, Z_FINISH);
      uint64_t produced = zs.total_out;
      inflateEnd (&zs);
      if (rc != Z_STREAM_END || produced != entry.size)
        fail (USAM_SAM_STATUS_FORMAT, path_ + ": damaged record '" + entry.name + "' (inflate failed)");
    }
  if (crc32_of (dest, entry.size) != entry.crc32)
    fail (USAM_SAM_STATUS_FORMAT, path_ + ": damaged record '" + entry.name + "' (CRC mismatch)");
}

std::string
ZipReader::read_string (const ZipEntry &entry) const
{
  if (entry.size > (64u << 20))
    fail (USAM_SAM_STATUS_FORMAT, path_ + ": record '" + entry.name + "' is implausibly large");
  std::string s (entry.size, '\0');
  read (entry, s.data ());
  return s;
}

ZipWriter::ZipWriter (const std::string &path) : path_ (path)
{
  tmp_path_ = path + ".part";
  file_ = fopen (tmp_path_.c_str (), "wb");
  if (!file_)
    fail (USAM_SAM_STATUS_IO, tmp_path_ + ": cannot create: " + strerror (errno));
}

ZipWriter::~ZipWriter ()
{
  if (file_)
    fclose (file_);
  if (!finished_)
    unlink (tmp_path_.c_str ());
}

void
ZipWriter::write (const void *data, size_t n)
{
  if (n > 0 && fwrite (data, 1, n, file_) != n)
    fail (USAM_SAM_STATUS_IO, tmp_path_ + ": write error: " + strerror (errno));
  offset_ += n;
}

void
ZipWriter::add (const std::string &name, const void *data, size_t size)
{
  ZipEntry entry;
  entry.name = name;
  entry.size = entry.compressed_size = size;
  entry.crc32 = crc32_of (data, size);
  entry.header_offset = offset_;

  bool zip64 = size >= 0xffffffffu;
  std::string h;
  put32 (h, SIG_LOCAL);
  put16 (h, zip64 ? 45 : 20);
  put16 (h, 0);
  put16 (h, 0);
  put16 (h, 0);
  put16 (h, 0x21); /* 1980-01-01, a valid DOS date */
  put32 (h, entry.crc32);
  put32 (h, zip64 ? 0xffffffffu : (uint32_t) size);
  put32 (h, zip64 ? 0xffffffffu : (uint32_t) size);
  put16 (h, (uint16_t) name.size ());
  std::string extra;
  if (zip64)
    {
      put16 (extra, 0x0001);
      put16 (extra, 16);
      put64 (extra, size);
      put64 (extra, size);
    }
  /* Pad with an unknown extra field ("FB", as PyTorch does) so the data is aligned. */
  uint64_t data_start = offset_ + h.size () + 2 + name.size () + extra.size ();
  uint64_t pad = (ALIGNMENT - (data_start + 4) % ALIGNMENT) % ALIGNMENT;
  put16 (extra, 0x4246);
  put16 (extra, (uint16_t) pad);
  extra.append (pad, 'Z');
  put16 (h, (uint16_t) extra.size ());
  h += name;
  h += extra;
  write (h.data (), h.size ());
  write (data, size);
  entries_.push_back (std::move (entry));
}

void
ZipWriter::finish ()
{
  uint64_t cd_offset = offset_;
  for (const auto &entry : entries_)
    {
      bool big_size = entry.size >= 0xffffffffu;
      bool big_offset = entry.header_offset >= 0xffffffffu;
      std::string extra;
      if (big_size || big_offset)
        {
          put16 (extra, 0x0001);
          put16 (extra, (uint16_t) ((big_size ? 16 : 0) + (big_offset ? 8 : 0)));
          if (big_size)
            {
              put64 (extra, entry.size);
              put64 (extra, entry.compressed_size);
            }
          if (big_offset)
            put64 (extra, entry.header_offset);
        }
      std::string h;
      put32 (h, SIG_CENTRAL);
      put16 (h, 45);
      put16 (h, extra.empty () ? 20 : 45);
      put16 (h, 0);
      put16 (h, 0);
      put16 (h, 0);
      put16 (h, 0x21);
      put32 (h, entry.crc32);
      put32 (h, big_size ? 0xffffffffu : (uint32_t) entry.compressed_size);
      put32 (h, big_size ? 0xffffffffu : (uint32_t) entry.size);
      put16 (h, (uint16_t) entry.name.size ());
      put16 (h, (uint16_t) extra.size ());
      put16 (h, 0);
      put16 (h, 0);
      put16 (h, 0);
      put32 (h, 0);
      put32 (h, big_offset ? 0xffffffffu : (uint32_t) entry.header_offset);
      h += entry.name;
      h += extra;
      write (h.data (), h.size ());
    }
  uint64_t cd_size = offset_ - cd_offset;
  bool zip64 = entries_.size () >= 0xffff || cd_offset >= 0xffffffffu || cd_size >= 0xffffffffu;
  std::string t;
  if (zip64)
    {
      uint64_t eocd64_pos = offset_;
      put32 (t, SIG_EOCD64);
      put64 (t, 44);
      put16 (t, 45);
      put16 (t, 45);
      put32 (t, 0);
      put32 (t, 0);
      put64 (t, entries_.size ());
      put64 (t, entries_.size ());
      put64 (t, cd_size);
      put64 (t, cd_offset);
      put32 (t, SIG_EOCD64_LOCATOR);
      put32 (t, 0);
      put64 (t, eocd64_pos);
      put32 (t, 1);
    }
  put32 (t, SIG_EOCD);
  put16 (t, 0);
  put16 (t, 0);
  put16 (t, zip64 ? 0xffff : (uint16_t) entries_.size ());
  put16 (t, zip64 ? 0xffff : (uint16_t) entries_.size ());
  put32 (t, zip64 ? 0xffffffffu : (uint32_t) cd_size);
  put32 (t, zip64 ? 0xffffffffu : (uint32_t) cd_offset);
  put16 (t, 0);
  write (t.data (), t.size ());

  if (fflush (file_) != 0 || fsync (fileno (file_)) != 0)
    fail (USAM_SAM_STATUS_IO, tmp_path_ + ": write error: " + strerror (errno));
  fclose (file_);
  file_ = nullptr;
  if (rename (tmp_path_.c_str (), path_.c_str ()) != 0)
    fail (USAM_SAM_STATUS_IO, path_ + ": cannot move the finished file into place: " + strerror (errno));
  finished_ = true;
}

} // namespace usam
