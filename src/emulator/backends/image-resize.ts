/**
 * Shrinks decoded pixels in plain JS before they reach tfjs: the detector looks at a few hundred
 * pixels a side and the expression net at small crops, so a 20-megapixel photo fed whole only
 * grows the wasm heap (which never shrinks) by gigabytes.
 */
import type { RgbImage } from './image-decode.js';

/** Long side (px) of what the model is fed: 5× the detector's default 416, ample for the expression crops. */
export const MAX_MODEL_SIDE = 2048;

/** A copy of an image, at most `maxSide` on its long side, and the factors back to the original's pixels. */
export interface Downscaled {
  image: RgbImage;
  /** Original pixels per downscaled pixel, horizontally and vertically (1 when not shrunk). */
  scaleX: number;
  scaleY: number;
}

/**
 * Box (area) average: each output pixel is the mean of the source pixels it covers, so no
 * source pixel is skipped, as nearest-neighbour would, and nothing aliases. One pass over the source.
 */
export function downscale(image: RgbImage, maxSide = MAX_MODEL_SIDE): Downscaled {
  const { width, height, rgb } = image;
  const long = Math.max(width, height);
  if (long <= maxSide) return { image, scaleX: 1, scaleY: 1 };
  const outW = Math.max(1, Math.round((width * maxSide) / long));
  const outH = Math.max(1, Math.round((height * maxSide) / long));
  const xs = bounds(width, outW);
  const ys = bounds(height, outH);
  const out = new Uint8Array(outW * outH * 3);
  const sums = new Uint32Array(outW * 3);
  for (let oy = 0; oy < outH; oy++) {
    sums.fill(0);
    const y0 = ys[oy] as number;
    const y1 = ys[oy + 1] as number;
    for (let y = y0; y < y1; y++) {
      let p = y * width * 3;
      for (let ox = 0, s = 0; ox < outW; ox++, s += 3) {
        for (let x = xs[ox] as number, x1 = xs[ox + 1] as number; x < x1; x++, p += 3) {
          sums[s] = (sums[s] as number) + (rgb[p] as number);
          sums[s + 1] = (sums[s + 1] as number) + (rgb[p + 1] as number);
          sums[s + 2] = (sums[s + 2] as number) + (rgb[p + 2] as number);
        }
      }
    }
    for (let ox = 0, s = 0, q = oy * outW * 3; ox < outW; ox++, s += 3, q += 3) {
      const area = ((xs[ox + 1] as number) - (xs[ox] as number)) * (y1 - y0);
      out[q] = Math.round((sums[s] as number) / area);
      out[q + 1] = Math.round((sums[s + 1] as number) / area);
      out[q + 2] = Math.round((sums[s + 2] as number) / area);
    }
  }
  return { image: { width: outW, height: outH, rgb: out }, scaleX: width / outW, scaleY: height / outH };
}

/** Where each of `parts` output cells starts among `size` source pixels (and, last, `size`): every cell at least one pixel. */
function bounds(size: number, parts: number): Int32Array {
  const at = new Int32Array(parts + 1);
  for (let i = 0; i <= parts; i++) at[i] = Math.floor((i * size) / parts);
  return at;
}
