/* usam evaluate-tracks: the Cell Tracking Challenge measures SEG, DET and
 * TRA of a result folder against a ground-truth folder. */
#include <math.h>
#include <stdio.h>

#include "usam-cli-private.h"
#include "usam-ctc.h"

int
usam_cli_evaluate_tracks (const char *name, int argc, char **argv)
{
  g_autofree char *gt = NULL, *res = NULL;
  gboolean csv = FALSE;
  GOptionEntry entries[] = {
    { "gt", 0, 0, G_OPTION_ARG_FILENAME, &gt, "ground truth folder (with TRA/ and optionally SEG/)", "DIR" },
    { "res", 0, 0, G_OPTION_ARG_FILENAME, &res, "result folder (maskTTT.tif and res_track.txt)", "DIR" },
    { "csv", 0, 0, G_OPTION_ARG_NONE, &csv, "print one CSV header and row", NULL },
    { NULL },
  };
  if (!usam_cli_parse (name, "Cell Tracking Challenge SEG, DET and TRA", entries, &argc, &argv))
    return USAM_EXIT_USAGE;
  if (!gt || !res)
    return usam_cli_usage_error (name, "%s is required", gt ? "--res DIR" : "--gt DIR");

  UsamCtcScores s;
  g_autoptr (GError) error = NULL;
  if (!usam_ctc_evaluate (gt, res, &s, &error))
    return usam_cli_failure (name, error);
  if (csv)
    {
      printf ("seg,det,tra,aogm,aogm_empty,ns,fn,fp,ed,ea,ec,frames,seg_objects\n");
      if (isnan (s.seg))
        printf (",");
      else
        printf ("%.17g,", s.seg);
      printf ("%.17g,%.17g,%.17g,%.17g,%u,%u,%u,%u,%u,%u,%u,%u\n", s.det, s.tra, s.aogm, s.aogm_empty, s.n_split,
              s.n_fn, s.n_fp, s.n_ed, s.n_ea, s.n_ec, s.n_frames, s.seg_objects);
      return USAM_EXIT_OK;
    }
  if (isnan (s.seg))
    printf ("SEG n/a (no SEG/ reference)\n");
  else
    printf ("SEG %.6f  (%u reference objects)\n", s.seg, s.seg_objects);
  printf ("DET %.6f\n", s.det);
  printf ("TRA %.6f  (AOGM %g of %g: NS %u, FN %u, FP %u, ED %u, EA %u, EC %u; %u frames)\n", s.tra, s.aogm,
          s.aogm_empty, s.n_split, s.n_fn, s.n_fp, s.n_ed, s.n_ea, s.n_ec, s.n_frames);
  return USAM_EXIT_OK;
}
