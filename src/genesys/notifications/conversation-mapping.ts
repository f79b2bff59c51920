/**
 * The conversation → caller mapping the side panel reads (`SourceCache` look-up kind
 * `conversation`: `[e164]`) carries this second entry when the pre-fetch wrote it, so a panel
 * look-up it served can be counted (c360_prefetch_panel_hits_total). Readers use the first entry only.
 */
export const PREFETCHED = '#prefetched';
