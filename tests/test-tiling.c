/* Tiling as μSAM does it (usam-tiling.h): the grid and where prompts go;
 * tiled embeddings in the cache, each tile its own crop encoded alone; tiled
 * AIS maps stitched from each tile's own maps and tiled APG masks in image
 * coordinates; `usam embed/segment/predict --tile --halo`; and, with the
 * bundled starter model on a real DSB image, tiled AIS finding what untiled
 * AIS finds away from tile borders and no fewer nuclei across them. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "usam-ais-maps.h"
#include "usam-amg.h"
#include "usam-apg.h"
#include "usam-embedding-cache.h"
#include "usam-error.h"
#include "usam-h5.h"
#include "usam-test-util.h"

START_TEST (test_tiling_grid)
{
  /* μSAM's grid: tiles from the corner, cut at the border, in row order. */
  const UsamTiling t = { 696, 520, 256, 256, 64, 64 };
  ck_assert_uint_eq (usam_tiling_get_n_tiles (&t), 9);
  UsamTile tile;
  usam_tiling_get_tile (&t, 4, &tile);
  const UsamRect inner4 = { 256, 256, 256, 256 }, outer4 = { 192, 192, 384, 328 };
  ck_assert (memcmp (&tile.inner, &inner4, sizeof inner4) == 0 && memcmp (&tile.outer, &outer4, sizeof outer4) == 0);
  usam_tiling_get_tile (&t, 8, &tile);
  const UsamRect inner8 = { 512, 512, 184, 8 }, outer8 = { 448, 448, 248, 72 };
  ck_assert (memcmp (&tile.inner, &inner8, sizeof inner8) == 0 && memcmp (&tile.outer, &outer8, sizeof outer8) == 0);
  usam_tiling_get_tile (&t, 0, &tile);
  const UsamRect outer0 = { 0, 0, 320, 320 };
  ck_assert (memcmp (&tile.outer, &outer0, sizeof outer0) == 0);
  ck_assert_uint_eq (usam_tiling_find_tile (&t, 600.5, 300.0), 5);
  ck_assert_uint_eq (usam_tiling_find_tile (&t, 255.9, 256.0), 3);
  ck_assert_uint_eq (usam_tiling_find_tile (&t, 1e9, -3), 2);
  /* Prompts go where μSAM sends them: the mean of the points, the box centre. */
  const float points[4] = { 100, 100, 500, 300 };
  const gint32 labels[2] = { 1, 0 };
  const float box[4] = { 500, 10, 700, 300 };
  UsamPrompt prompt = { points, labels, 2, NULL, NULL };
  ck_assert_uint_eq (usam_tiling_route_prompt (&t, &prompt), 1); /* (300, 200) */
  UsamPrompt boxed = { NULL, NULL, 0, box, NULL };
  ck_assert_uint_eq (usam_tiling_route_prompt (&t, &boxed), 2); /* (600, 155) */
  usam_tiling_get_tile (&t, 1, &tile);
  float moved_points[4], moved_box[4];
  UsamPrompt moved;
  prompt.box = box;
  usam_tiling_move_prompt (&tile, &prompt, moved_points, moved_box, &moved);
  ck_assert (moved.points == moved_points && moved.box == moved_box && moved.labels == labels);
  ck_assert (moved_points[0] == 100 - 192 && moved_points[3] == 300 && moved_box[0] == 500 - 192 && moved_box[1] == 10);
  /* Untiled: one tile, the image, and no halo. */
  const UsamTiling whole = { 40, 32, 0, 0, 5, 5 };
  ck_assert_uint_eq (usam_tiling_get_n_tiles (&whole), 1);
  usam_tiling_get_tile (&whole, 0, &tile);
  const UsamRect all = { 0, 0, 40, 32 };
  ck_assert (memcmp (&tile.inner, &all, sizeof all) == 0 && memcmp (&tile.outer, &all, sizeof all) == 0);
}
END_TEST

static UsamEmbedding *
dup_tile (UsamEmbeddingCache *cache, guint slice, guint tile)
{
  g_autoptr (GError) error = NULL;
  UsamEmbedding *e = usam_embedding_cache_dup_tile (cache, slice, tile, NULL, NULL, NULL, &error);
  ck_assert_msg (e != NULL, "%s", error ? error->message : "");
  return e;
}

START_TEST (test_tiled_embeddings)
{
  g_autoptr (UsamModel) model = usam_test_small_model (5);
  g_autoptr (UsamImage) image = usam_test_noise_volume (2, 17);
  g_autofree char *path = usam_test_tmp_path ("tiled.h5");
  const UsamEmbeddingCacheOptions options = { .tile_width = 16, .tile_height = 16, .halo_width = 4, .halo_height = 4 };
  g_autoptr (UsamEmbeddingCache) cache = usam_test_open_cache (path, model, image, &options);
  ck_assert_uint_eq (usam_embedding_cache_get_n_tiles (cache), 6); /* 3 × 2 over 40 × 32 */
  g_autoptr (GError) error = NULL;
  ck_assert (usam_embedding_cache_precompute (cache, 0, 1, 0, NULL, NULL, NULL, &error));
  ck_assert_uint_eq (usam_embedding_cache_get_n_computed (cache), 12);
  ck_assert (usam_embedding_cache_has_slice (cache, 1));
  ck_assert_ptr_null (usam_embedding_cache_dup_slice (cache, 0, NULL, NULL, NULL, &error));
  ck_assert_msg (strstr (error->message, "tiled"), "%s", error->message);
  g_clear_object (&cache);

  /* Read back, each tile its own crop encoded alone. */
  cache = usam_test_open_cache (path, model, image, &options);
  ck_assert (!usam_embedding_cache_was_reset (cache));
  for (guint z = 0; z < 2; z++)
    for (guint i = 0; i < 6; i++)
      {
        UsamTile tile;
        usam_tiling_get_tile (usam_embedding_cache_get_tiling (cache), i, &tile);
        g_autoptr (UsamEmbedding) stored = dup_tile (cache, z, i);
        g_autoptr (UsamImage) crop
            = usam_image_dup_region (image, 0, z, tile.outer.x, tile.outer.y, tile.outer.width, tile.outer.height);
        g_autoptr (UsamEmbedding) alone = usam_test_encode (model, crop, 0);
        usam_test_assert_same_embedding (stored, alone);
      }
  ck_assert_uint_eq (usam_embedding_cache_get_n_computed (cache), 0);
}
END_TEST

static UsamModel *
small_model_with_decoder (void)
{
  UsamArchitecture arch;
  g_autoptr (GError) error = NULL;
  ck_assert (usam_architecture_from_preset ("tiny", &arch, &error));
  arch.img_size = 256;
  arch.ais_variant = "interpolation";
  UsamModel *model = usam_model_new_from_architecture (&arch, 9, USAM_PRECISION_FP32, &error);
  ck_assert_msg (model != NULL, "%s", error ? error->message : "");
  return model;
}

START_TEST (test_tiled_ais_maps)
{
  g_autoptr (UsamModel) model = small_model_with_decoder ();
  g_autoptr (UsamImage) image = usam_test_noise_volume (1, 23);
  g_autofree char *path = usam_test_tmp_path ("tiled-ais.h5");
  const UsamEmbeddingCacheOptions options = { .tile_width = 16, .tile_height = 16, .halo_width = 4, .halo_height = 4 };
  g_autoptr (UsamEmbeddingCache) cache = usam_test_open_cache (path, model, image, &options);
  g_autoptr (GError) error = NULL;
  g_autoptr (UsamAisMaps) maps = usam_ais_maps_predict_tiled (model, cache, 0, NULL, NULL, NULL, &error);
  ck_assert_msg (maps != NULL, "%s", error ? error->message : "");
  ck_assert_uint_eq (maps->width, 40);
  ck_assert_uint_eq (maps->height, 32);
  /* Each tile's inner box is that tile's own maps, at the right place. */
  for (guint i = 0; i < usam_embedding_cache_get_n_tiles (cache); i++)
    {
      UsamTile tile;
      usam_tiling_get_tile (usam_embedding_cache_get_tiling (cache), i, &tile);
      g_autoptr (UsamEmbedding) embedding = dup_tile (cache, 0, i);
      g_autoptr (UsamAisMaps) part = usam_ais_maps_predict (model, embedding, &error);
      ck_assert_msg (part != NULL, "%s", error ? error->message : "");
      ck_assert_uint_eq (part->width, tile.outer.width);
      const float *whole[3] = { maps->foreground, maps->center_distances, maps->boundary_distances };
      const float *own[3] = { part->foreground, part->center_distances, part->boundary_distances };
      for (int c = 0; c < 3; c++)
        for (guint y = 0; y < tile.inner.height; y++)
          ck_assert (memcmp (whole[c] + (gsize) (tile.inner.y + y) * 40 + tile.inner.x,
                             own[c] + (gsize) (tile.inner.y - tile.outer.y + y) * part->width
                                 + (tile.inner.x - tile.outer.x),
                             tile.inner.width * sizeof (float))
                     == 0);
    }

  /* One tile as large as the image is the untiled path. */
  g_autofree char *one_path = usam_test_tmp_path ("one-tile.h5");
  const UsamEmbeddingCacheOptions one = { .tile_width = 64, .tile_height = 64 };
  g_autoptr (UsamEmbeddingCache) single = usam_test_open_cache (one_path, model, image, &one);
  g_autoptr (UsamAisMaps) tiled = usam_ais_maps_predict_tiled (model, single, 0, NULL, NULL, NULL, &error);
  g_autoptr (UsamEmbedding) embedding = usam_test_encode (model, image, 0);
  g_autoptr (UsamAisMaps) untiled = usam_ais_maps_predict (model, embedding, &error);
  ck_assert (tiled && untiled);
  ck_assert (memcmp (tiled->foreground, untiled->foreground, 3 * 40 * 32 * sizeof (float)) == 0);

  /* APG: one tile is the untiled path; with six, each seed's mask stays in
   * the box its tile was encoded from. Seeds everywhere: random weights. */
  UsamApgParams apg = usam_apg_params_default ();
  apg.center_distance_threshold = apg.boundary_distance_threshold = 1.0;
  apg.foreground_threshold = 0.0;
  g_autoptr (UsamMaskSet) one_tile = usam_apg_decode_tiled (model, single, 0, tiled, &apg, NULL, &error);
  g_autoptr (UsamMaskSet) plain = usam_apg_decode (model, embedding, untiled, &apg, NULL, &error);
  ck_assert (one_tile && plain);
  ck_assert_uint_gt (usam_mask_set_get_n (plain), 0);
  ck_assert_uint_eq (usam_mask_set_get_n (one_tile), usam_mask_set_get_n (plain));
  g_autofree guint8 *ma = g_new (guint8, 40 * 32), *mb = g_new (guint8, 40 * 32);
  for (guint i = 0; i < usam_mask_set_get_n (plain); i++)
    {
      usam_mask_set_get_mask (one_tile, i, ma);
      usam_mask_set_get_mask (plain, i, mb);
      ck_assert (memcmp (ma, mb, 40 * 32) == 0);
    }
  g_autoptr (UsamMaskSet) six = usam_apg_decode_tiled (model, cache, 0, maps, &apg, NULL, &error);
  ck_assert_msg (six != NULL, "%s", error ? error->message : "");
  ck_assert_uint_gt (usam_mask_set_get_n (six), 0);
  guint empty = 0;
  for (guint i = 0; i < usam_mask_set_get_n (six); i++)
    {
      float point[2];
      guint box[4];
      ck_assert (usam_mask_set_get_point (six, i, point));
      UsamTile tile;
      usam_tiling_get_tile (usam_embedding_cache_get_tiling (cache),
                            usam_tiling_find_tile (usam_embedding_cache_get_tiling (cache), point[0], point[1]), &tile);
      if (usam_mask_set_get_area (six, i) == 0)
        {
          empty++;
          continue;
        }
      usam_mask_set_get_box (six, i, box);
      ck_assert (box[0] >= tile.outer.x && box[2] < tile.outer.x + tile.outer.width && box[1] >= tile.outer.y
                 && box[3] < tile.outer.y + tile.outer.height);
    }
  ck_assert_uint_lt (empty, usam_mask_set_get_n (six));
}
END_TEST

START_TEST (test_cli_tiled)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (UsamModel) random = small_model_with_decoder ();
  g_autofree char *ckpt = usam_test_tmp_path ("small-ais.pt");
  ck_assert_msg (usam_model_save (random, ckpt, TRUE, &error), "%s", error ? error->message : "");
  g_autoptr (UsamImage) plane = usam_test_noise_volume (1, 29);
  g_autofree char *image = usam_test_tmp_path ("plane.tif");
  ck_assert_msg (usam_image_save_tiff (plane, image, &error), "%s", error ? error->message : "");
  g_autofree char *emb = usam_test_tmp_path ("plane-tiles.h5");
  g_autofree char *a = usam_test_tmp_path ("tiled-a.tif"), *b = usam_test_tmp_path ("tiled-b.tif");

  const char *embed[] = { "embed", "--model", ckpt, "--image", image, "--tile", "16,16", "--halo", "4,4", "--out", emb,
                          NULL };
  g_autofree char *err = NULL;
  int status = usam_test_run_usam (embed, &err);
  ck_assert_msg (status == 0, "exit %d: %s", status, err);
  ck_assert_msg (strstr (err, "embedding tiles: 100 % (6/6)"), "stderr: %s", err);

  /* From the file, and without it: the same labels. */
  const char *from_file[] = { "segment", "--model", ckpt, "--image", image, "--mode", "ais", "--min-size", "0",
                              "--tile", "16,16", "--halo", "4,4", "--embedding", emb, "--out", a, NULL };
  const char *fresh[] = { "segment", "--model", ckpt, "--image", image, "--mode", "ais", "--min-size", "0",
                          "--tile", "16,16", "--halo", "4,4", "--out", b, NULL };
  for (int k = 0; k < 2; k++)
    {
      g_clear_pointer (&err, g_free);
      status = usam_test_run_usam (k ? fresh : from_file, &err);
      ck_assert_msg (status == 0, "exit %d: %s", status, err);
    }
  g_autoptr (UsamImage) la = usam_image_load (a, &error);
  g_autoptr (UsamImage) lb = usam_image_load (b, &error);
  ck_assert (la && lb);
  ck_assert (memcmp (usam_image_get_plane (la, 0, 0), usam_image_get_plane (lb, 0, 0), 40 * 32 * 4) == 0);

  /* A prompt goes to its tile (35, 20: the last column, second row), and
   * its masks come back in image coordinates. */
  g_autofree char *pred = usam_test_tmp_path ("tiled-predict.h5");
  const char *predict[] = { "predict", "--model", ckpt, "--image", image, "--point", "35,20,1", "--multimask",
                            "--tile", "16,16", "--halo", "4,4", "--embedding", emb, "--out", pred, NULL };
  g_clear_pointer (&err, g_free);
  status = usam_test_run_usam (predict, &err);
  ck_assert_msg (status == 0, "exit %d: %s", status, err);
  g_auto (UsamH5File) f = usam_h5_open (pred, FALSE, &error);
  ck_assert_msg (f >= 0, "%s", error ? error->message : "");
  const hsize_t mdims[3] = { 3, 32, 40 };
  g_autofree guint8 *masks = usam_h5_read_shaped (f, "/masks", H5T_NATIVE_UINT8, 3, mdims, &error);
  ck_assert_msg (masks != NULL, "%s", error ? error->message : "");
  {
    g_autoptr (UsamModel) model = usam_model_new_from_file (ckpt, USAM_PRECISION_FP32, &error);
    g_autoptr (UsamImage) reloaded = usam_image_load (image, &error);
    const UsamEmbeddingCacheOptions options = { .tile_width = 16, .tile_height = 16, .halo_width = 4, .halo_height = 4 };
    g_autoptr (UsamEmbeddingCache) cache = usam_test_open_cache (emb, model, reloaded, &options);
    UsamTile tile;
    usam_tiling_get_tile (usam_embedding_cache_get_tiling (cache), 5, &tile);
    g_autoptr (UsamEmbedding) embedding = dup_tile (cache, 0, 5);
    const float point[2] = { 35.0f - tile.outer.x, 20.0f - tile.outer.y };
    const gint32 positive = 1;
    UsamPrompt prompt = { point, &positive, 1, NULL, NULL };
    g_autoptr (UsamPrediction) direct
        = usam_model_predict (model, embedding, &prompt, 1, USAM_PREDICT_MULTIMASK, NULL, &error);
    ck_assert_msg (direct != NULL, "%s", error ? error->message : "");
    const guint8 *own = usam_prediction_get_masks (direct, 0);
    guint inside = 0;
    for (guint m = 0; m < 3; m++)
      for (guint y = 0; y < 32; y++)
        for (guint x = 0; x < 40; x++)
          {
            guint8 v = masks[((gsize) m * 32 + y) * 40 + x];
            gboolean in_tile = x >= tile.outer.x && x < tile.outer.x + tile.outer.width && y >= tile.outer.y
                               && y < tile.outer.y + tile.outer.height;
            guint8 want = in_tile ? own[((gsize) m * tile.outer.height + y - tile.outer.y) * tile.outer.width + x
                                        - tile.outer.x]
                                  : 0;
            ck_assert_uint_eq (v, want);
            inside += in_tile && v;
          }
    ck_assert_uint_gt (inside, 0);
  }

  /* Every mode runs tiled. */
  const char *amg[] = { "segment", "--model", ckpt, "--image", image, "--mode", "amg", "--points-per-side", "4",
                        "--tile", "16,16", "--halo", "4,4", "--embedding", emb, "--out", a, NULL };
  const char *apg[] = { "segment", "--model", ckpt, "--image", image, "--mode", "apg", "--tile", "16,16", "--halo",
                        "4,4", "--embedding", emb, "--out", a, NULL };
  for (int k = 0; k < 2; k++)
    {
      g_clear_pointer (&err, g_free);
      status = usam_test_run_usam (k ? apg : amg, &err);
      ck_assert_msg (status == 0, "exit %d: %s", status, err);
    }

  /* A file made with other tiles is refused, not silently recomputed. */
  const char *other[] = { "segment", "--model", ckpt, "--image", image, "--mode", "ais", "--tile", "20,20",
                          "--embedding", emb, "--out", a, NULL };
  g_clear_pointer (&err, g_free);
  ck_assert_int_eq (usam_test_run_usam (other, &err), 1);
  ck_assert_msg (strstr (err, "tile shape") && strstr (err, emb), "stderr: %s", err);

  const char *const usage[][16] = {
    { "embed", "--model", ckpt, "--image", image, "--halo", "4,4", "--out", emb, NULL },
    { "embed", "--model", ckpt, "--image", image, "--tile", "16,16", "--halo", "8,8", "--out", emb, NULL },
    { "embed", "--model", ckpt, "--image", image, "--tile", "16", "--out", emb, NULL },
    { "segment", "--model", ckpt, "--image", image, "--volume", "--tile", "16,16", "--out", a, NULL },
  };
  for (guint i = 0; i < G_N_ELEMENTS (usage); i++)
    {
      g_clear_pointer (&err, g_free);
      ck_assert_msg (usam_test_run_usam (usage[i], &err) == 2, "case %u: %s", i, err);
      ck_assert_msg (strstr (err, "--tile") || strstr (err, "--halo"), "case %u: %s", i, err);
    }
}
END_TEST

/* For each object of @a, the best IoU with an object of @b. */
static double *
best_ious (const guint32 *a, const guint32 *b, gsize n, guint *n_a)
{
  guint na = 0, nb = 0;
  for (gsize i = 0; i < n; i++)
    {
      na = MAX (na, a[i]);
      nb = MAX (nb, b[i]);
    }
  g_autofree guint64 *overlap = g_new0 (guint64, (gsize) (na + 1) * (nb + 1));
  g_autofree guint64 *area_a = g_new0 (guint64, na + 1), *area_b = g_new0 (guint64, nb + 1);
  for (gsize i = 0; i < n; i++)
    {
      overlap[(gsize) a[i] * (nb + 1) + b[i]]++;
      area_a[a[i]]++;
      area_b[b[i]]++;
    }
  double *best = g_new0 (double, na + 1);
  for (guint i = 1; i <= na; i++)
    for (guint j = 1; j <= nb; j++)
      {
        guint64 o = overlap[(gsize) i * (nb + 1) + j];
        if (o)
          best[i] = MAX (best[i], (double) o / (double) (area_a[i] + area_b[j] - o));
      }
  *n_a = na;
  return best;
}

static guint32 *
load_labels (const char *path, guint *w, guint *h)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (UsamImage) image = usam_image_load (path, &error);
  ck_assert_msg (image != NULL, "%s", error ? error->message : "");
  *w = usam_image_get_width (image);
  *h = usam_image_get_height (image);
  guint32 *out = g_new (guint32, (gsize) *w * *h);
  for (guint y = 0; y < *h; y++)
    for (guint x = 0; x < *w; x++)
      out[(gsize) y * *w + x] = (guint32) usam_image_get_value (image, 0, 0, y, x, 0);
  return out;
}

/* The bundled starter model on a 696 × 520 DSB image in tiles of 256 with a
 * halo of 64: away from tile borders tiled AIS finds what untiled AIS finds,
 * and the nuclei that straddle a border are found as well as without tiles —
 * the maps are stitched and the watershed runs on the whole image. */
START_TEST (test_tiled_ais_real_image)
{
  const char *id = "a65bbfc5673e8053b6ce49f39c79cf3a846fe5cc46dd93105f74fb07cf44606d";
  g_autofree char *rel_image = g_strdup_printf ("data/dsb2018/images/%s.png", id);
  g_autofree char *rel_labels = g_strdup_printf ("data/dsb2018/labels/%s.png", id);
  g_autofree char *image = usam_test_shared_path (rel_image);
  g_autofree char *truth = usam_test_shared_path (rel_labels);
  g_autofree char *model = usam_test_source_path ("data/models/usam-starter.pt");
  g_autofree char *tiled = usam_test_tmp_path ("dsb-tiled.tif"), *untiled = usam_test_tmp_path ("dsb-untiled.tif");
  const char *run_tiled[] = { "segment", "--model", model, "--image", image, "--mode", "ais", "--tile", "256,256",
                              "--halo", "64,64", "--out", tiled, NULL };
  const char *run_untiled[] = { "segment", "--model", model, "--image", image, "--mode", "ais", "--out", untiled, NULL };
  for (int k = 0; k < 2; k++)
    {
      g_autofree char *err = NULL;
      int status = usam_test_run_usam (k ? run_untiled : run_tiled, &err);
      ck_assert_msg (status == 0, "exit %d: %s", status, err);
    }
  guint w, h, w2, h2, w3, h3;
  g_autofree guint32 *gt = load_labels (truth, &w, &h);
  g_autofree guint32 *t = load_labels (tiled, &w2, &h2);
  g_autofree guint32 *u = load_labels (untiled, &w3, &h3);
  ck_assert (w == 696 && h == 520 && w2 == w && h2 == h && w3 == w && h3 == h);
  gsize n = (gsize) w * h;

  /* Objects of the ground truth, by whether they cross a tile border. */
  guint n_gt;
  g_autofree double *gt_t = best_ious (gt, t, n, &n_gt);
  g_autofree double *gt_u = best_ious (gt, u, n, &n_gt);
  g_autofree guint *x0 = g_new (guint, n_gt + 1), *x1 = g_new0 (guint, n_gt + 1);
  g_autofree guint *y0 = g_new (guint, n_gt + 1), *y1 = g_new0 (guint, n_gt + 1);
  for (guint i = 0; i <= n_gt; i++)
    x0[i] = y0[i] = G_MAXUINT;
  for (guint y = 0; y < h; y++)
    for (guint x = 0; x < w; x++)
      {
        guint32 l = gt[(gsize) y * w + x];
        x0[l] = MIN (x0[l], x);
        x1[l] = MAX (x1[l], x);
        y0[l] = MIN (y0[l], y);
        y1[l] = MAX (y1[l], y);
      }
  guint crossing = 0, found_t = 0, found_u = 0, inside = 0, agree = 0, found_inside_u = 0;
  for (guint i = 1; i <= n_gt; i++)
    {
      if (x0[i] == G_MAXUINT)
        continue;
      gboolean crosses = x0[i] / 256 != x1[i] / 256 || y0[i] / 256 != y1[i] / 256;
      if (crosses)
        {
          crossing++;
          found_t += gt_t[i] >= 0.5;
          found_u += gt_u[i] >= 0.5;
        }
      else if (gt_u[i] >= 0.5)
        {
          inside++;
          found_inside_u++;
          agree += gt_t[i] >= 0.5;
        }
    }
  fprintf (stderr, "tiled AIS: %u/%u nuclei across tile borders found (untiled %u), %u/%u inside found by both\n",
           found_t, crossing, found_u, agree, inside);
  ck_assert_uint_ge (crossing, 10);
  ck_assert_uint_ge (found_t + 1, found_u);
  ck_assert_uint_ge (inside, 40);
  ck_assert_uint_ge (agree * 10, inside * 9);
}
END_TEST

/* Bright discs on a dark noisy background, 160 × 120: something for AMG's
 * grid to find with random weights, and objects across tile borders. */
static UsamImage *
discs (void)
{
  g_autoptr (GError) error = NULL;
  UsamImage *image = usam_image_new (USAM_PIXEL_TYPE_U8, 160, 120, 1, 1, 1, &error);
  ck_assert_msg (image != NULL, "%s", error ? error->message : "");
  guint8 *p = usam_image_get_plane_mutable (image, 0, 0);
  g_autoptr (GRand) rand = g_rand_new_with_seed (31);
  for (guint y = 0; y < 120; y++)
    for (guint x = 0; x < 160; x++)
      {
        gboolean in = hypot ((x % 40) - 20.0, (y % 40) - 20.0) < 12;
        p[y * 160 + x] = (guint8) ((in ? 180 : 30) + g_rand_int_range (rand, 0, 40));
      }
  return image;
}

static float
box_iou (const guint a[4], const guint b[4])
{
  /* torchvision's area on SAM's inclusive boxes, as usam_mask_set_box_nms. */
  float ix = (float) MIN (a[2], b[2]) - (float) MAX (a[0], b[0]);
  float iy = (float) MIN (a[3], b[3]) - (float) MAX (a[1], b[1]);
  float inter = MAX (ix, 0.0f) * MAX (iy, 0.0f);
  float area_a = (float) (a[2] - a[0]) * (float) (a[3] - a[1]), area_b = (float) (b[2] - b[0]) * (float) (b[3] - b[1]);
  return inter / (area_a + area_b - inter);
}

START_TEST (test_tiled_amg)
{
  /* Trained weights: random ones make masks as large as the tile, which
   * the crop-edge rule rightly drops. */
  g_autofree char *starter = usam_test_source_path ("data/models/usam-starter.pt");
  g_autoptr (UsamModel) model = usam_model_new_from_file (starter, USAM_PRECISION_FP32, NULL);
  ck_assert_ptr_nonnull (model);
  g_autoptr (UsamImage) image = discs ();
  g_autoptr (GError) error = NULL;
  UsamAmgParams p = usam_amg_params_default ();
  p.points_per_side = 8;
  p.pred_iou_thresh = 0.0;
  p.stability_score_thresh = 0.0;
  p.box_nms_thresh = 1.0; /* random weights: large overlapping masks */

  /* One tile covering the image is the untiled path, mask for mask. */
  g_autofree char *one_path = usam_test_tmp_path ("amg-one.h5");
  const UsamEmbeddingCacheOptions one = { .tile_width = 256, .tile_height = 256 };
  g_autoptr (UsamEmbeddingCache) single = usam_test_open_cache (one_path, model, image, &one);
  g_autoptr (UsamMaskSet) tiled = usam_amg_generate_tiled (model, single, 0, &p, NULL, NULL, NULL, &error);
  ck_assert_msg (tiled != NULL, "%s", error ? error->message : "");
  g_autoptr (UsamEmbedding) embedding = usam_test_encode (model, image, 0);
  g_autoptr (UsamMaskSet) plain = usam_amg_generate (model, embedding, &p, NULL, NULL, NULL, NULL, &error);
  ck_assert (plain != NULL);
  guint n = usam_mask_set_get_n (plain);
  ck_assert_uint_gt (n, 1);
  ck_assert_uint_eq (usam_mask_set_get_n (tiled), n);
  g_autofree guint8 *ma = g_new (guint8, 160 * 120), *mb = g_new (guint8, 160 * 120);
  for (guint i = 0; i < n; i++)
    {
      usam_mask_set_get_mask (tiled, i, ma);
      usam_mask_set_get_mask (plain, i, mb);
      ck_assert (memcmp (ma, mb, 160 * 120) == 0);
    }

  /* Six tiles: no mask runs into a tile side inside the image, every mask
   * and its point lie in the tile its grid point came from, and no two
   * masks of different tiles overlap beyond the crop NMS threshold. */
  g_autofree char *path = usam_test_tmp_path ("amg-six.h5");
  const UsamEmbeddingCacheOptions six = { .tile_width = 64, .tile_height = 64, .halo_width = 16, .halo_height = 16 };
  g_autoptr (UsamEmbeddingCache) cache = usam_test_open_cache (path, model, image, &six);
  p.box_nms_thresh = 0.7;
  ck_assert_uint_eq (usam_embedding_cache_get_n_tiles (cache), 6);
  g_autoptr (UsamMaskSet) masks = usam_amg_generate_tiled (model, cache, 0, &p, NULL, NULL, NULL, &error);
  ck_assert_msg (masks != NULL, "%s", error ? error->message : "");
  guint m = usam_mask_set_get_n (masks);
  fprintf (stderr, "tiled AMG: %u masks of 6 tiles (untiled %u)\n", m, n);
  ck_assert_uint_gt (m, 1);
  const UsamTiling *tiling = usam_embedding_cache_get_tiling (cache);
  for (guint i = 0; i < m; i++)
    {
      guint box[4];
      float point[2];
      usam_mask_set_get_box (masks, i, box);
      ck_assert (usam_mask_set_get_point (masks, i, point));
      gboolean in_some_tile = FALSE;
      for (guint t = 0; t < 6 && !in_some_tile; t++)
        {
          UsamTile tile;
          usam_tiling_get_tile (tiling, t, &tile);
          const UsamRect *o = &tile.outer;
          gboolean inside = box[0] >= o->x && box[2] < o->x + o->width && box[1] >= o->y && box[3] < o->y + o->height
                            && point[0] >= o->x && point[0] < o->x + o->width && point[1] >= o->y
                            && point[1] < o->y + o->height;
          /* SAM's crop-edge rule: within 20 px of a side is touching it. */
          const double b[4] = { box[0], box[1], box[2], box[3] };
          const double c[4] = { o->x, o->y, o->x + o->width, o->y + o->height }, im[4] = { 0, 0, 160, 120 };
          gboolean clear = TRUE;
          for (int k = 0; k < 4; k++)
            clear = clear && !(fabs (b[k] - c[k]) <= 20 && fabs (b[k] - im[k]) > 20);
          in_some_tile = inside && clear;
        }
      ck_assert_msg (in_some_tile, "mask %u (box %u,%u,%u,%u) belongs to no tile", i, box[0], box[1], box[2], box[3]);
      for (guint j = 0; j < i; j++)
        {
          guint other[4];
          usam_mask_set_get_box (masks, j, other);
          /* NaN for two flat boxes, which torchvision's NMS never suppresses. */
          float iou = box_iou (box, other);
          ck_assert_msg (!(iou > 0.7f + 1e-6f), "masks %u and %u: box IoU %g", j, i, (double) iou);
        }
    }
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("tiling");
  TCase *tc = usam_test_tcase_new ("tiles");
  tcase_add_test (tc, test_tiling_grid);
  tcase_add_test (tc, test_tiled_embeddings);
  tcase_add_test (tc, test_tiled_ais_maps);
  tcase_add_test (tc, test_tiled_amg);
  suite_add_tcase (s, tc);
  TCase *cli = usam_test_tcase_new ("cli");
  tcase_add_test (cli, test_cli_tiled);
  tcase_add_test (cli, test_tiled_ais_real_image);
  suite_add_tcase (s, cli);
  return usam_test_run (s);
}
