/**
 * The two ViT sizes the experiments share (7x7 patches on 28x28 images: 16
 * tokens + class token), so a result from one experiment compares with another's.
 */
export const VIT_SMALL = { dim: 32, depth: 2, heads: 2, patchSize: 7 };
export const VIT_MAIN = { dim: 64, depth: 4, heads: 4, patchSize: 7 };
