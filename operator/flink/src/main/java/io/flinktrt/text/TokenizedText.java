package io.flinktrt.text;

/**
 * One text as token ids, unpadded: what the model's inputs get, row by row.
 *
 * @param truncated whether the text had more tokens than the model takes and was cut
 */
public record TokenizedText(long[] ids, long[] attentionMask, long[] typeIds, boolean truncated) {}
