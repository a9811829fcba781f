/* usam-tiling.h — a regular grid of tiles over an image, grown by a halo.
 *
 * μSAM's tiling (elf's Blocking): tiles of tile_width × tile_height from the
 * top-left corner, the last row and column cut at the image border, in row
 * order. Each tile is encoded with its halo — the outer box, the tile grown
 * by the halo on every side and clipped to the image — so objects near its
 * edge are seen whole; what a tile contributes to the image is its inner
 * box, the tile itself.
 */
#pragma once

#include "usam-model.h"
#include "usam-rle.h"

G_BEGIN_DECLS

typedef struct {
  UsamRect outer; /* what is encoded: the tile and its halo, in image pixels */
  UsamRect inner; /* what it contributes: the tile, in image pixels */
} UsamTile;

typedef struct {
  guint width, height;           /* of the image */
  guint tile_width, tile_height; /* 0: one tile, the whole image */
  guint halo_width, halo_height;
} UsamTiling;

guint usam_tiling_get_n_tiles (const UsamTiling *tiling);
void usam_tiling_get_tile (const UsamTiling *tiling, guint index, UsamTile *tile);
/* The tile whose inner box holds image point (@x, @y), clamped to the image. */
guint usam_tiling_find_tile (const UsamTiling *tiling, double x, double y);

/* Where μSAM sends a prompt: the tile holding the mean of its points, else
 * its box's centre (tile 0 for a mask-only prompt). */
guint usam_tiling_route_prompt (const UsamTiling *tiling, const UsamPrompt *prompt);
/* @prompt moved into @tile's outer box: @points (2 × n_points floats) and
 * @box (4) receive the moved coordinates and @out points at them. */
void usam_tiling_move_prompt (const UsamTile *tile, const UsamPrompt *prompt, float *points, float *box,
                              UsamPrompt *out);
/* @mask (the tile's outer box, 0/1) pasted into @plane (the image, zero
 * elsewhere). */
void usam_tiling_paste_mask (const UsamTiling *tiling, const UsamTile *tile, const guint8 *mask, guint8 *plane);

G_END_DECLS
