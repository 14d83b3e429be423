/**
 * A JPEG's EXIF Orientation, read and applied: phones store pixels as the sensor saw them and
 * say in this tag how to turn them for display; a detector fed the stored pixels sees faces sideways.
 */
import type { RgbImage } from './image-decode.js';

/** EXIF Orientation 1–8: 1 as stored, 3 turned 180°, 6 turned 90° clockwise, 8 counter-clockwise; 2, 4, 5, 7 mirrored too. */
export type Orientation = 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8;

/** APP1 sits before the image data, near the start: a longer search only costs on files without one. */
const SEARCH_BYTES = 64 * 1024;
const ORIENTATION_TAG = 0x0112;
const SOS = 0xda;
const APP1 = 0xe1;
const EXIF_HEADER = [0x45, 0x78, 0x69, 0x66, 0, 0]; // "Exif\0\0"

/** The Orientation tag of IFD0 in the JPEG's EXIF segment; 1 when there is none or it is malformed. */
export function jpegOrientation(bytes: Uint8Array): Orientation {
  const view = new DataView(bytes.buffer, bytes.byteOffset, Math.min(bytes.byteLength, SEARCH_BYTES));
  try {
    for (let at = 2; at + 4 <= view.byteLength && view.getUint8(at) === 0xff; at += 2 + view.getUint16(at + 2)) {
      const marker = view.getUint8(at + 1);
      if (marker === SOS) break;
      if (marker === APP1 && EXIF_HEADER.every((b, i) => view.getUint8(at + 4 + i) === b)) return tiffOrientation(view, at + 10);
    }
  } catch {
    // A segment running past the bytes searched: treat as no tag, the pixels decode the same.
  }
  return 1;
}

/** IFD0's Orientation in the TIFF structure starting at `tiff` (either byte order). */
function tiffOrientation(view: DataView, tiff: number): Orientation {
  const little = view.getUint16(tiff) === 0x4949; // "II"; "MM" is big-endian
  if (view.getUint16(tiff + 2, little) !== 42) return 1;
  const ifd = tiff + view.getUint32(tiff + 4, little);
  const count = view.getUint16(ifd, little);
  for (let i = 0; i < count; i++) {
    const entry = ifd + 2 + i * 12;
    if (view.getUint16(entry, little) !== ORIENTATION_TAG) continue;
    const value = view.getUint16(entry + 8, little);
    return value >= 1 && value <= 8 ? (value as Orientation) : 1;
  }
  return 1;
}

/**
 * Where displayed pixel (dx, dy) comes from, as stored: sx = x0 + xdx·dx + xdy·dy, sy likewise,
 * with W and H the stored width and height (5–8 swap them for display).
 */
const SOURCE: Record<Orientation, (w: number, h: number) => [number, number, number, number, number, number]> = {
  1: () => [0, 1, 0, 0, 0, 1],
  2: (w) => [w - 1, -1, 0, 0, 0, 1],
  3: (w, h) => [w - 1, -1, 0, h - 1, 0, -1],
  4: (_, h) => [0, 1, 0, h - 1, 0, -1],
  5: () => [0, 0, 1, 0, 1, 0],
  6: (_, h) => [0, 0, 1, h - 1, -1, 0],
  7: (w, h) => [w - 1, 0, -1, h - 1, -1, 0],
  8: (w) => [w - 1, 0, -1, 0, 1, 0],
};

/** The image as it is meant to be displayed. */
export function orient(image: RgbImage, orientation: Orientation): RgbImage {
  if (orientation === 1) return image;
  const { width, height, rgb } = image;
  const swap = orientation >= 5;
  const outW = swap ? height : width;
  const outH = swap ? width : height;
  const [x0, xdx, xdy, y0, ydx, ydy] = SOURCE[orientation](width, height);
  // Source pixel index, stepped per displayed column and row.
  const stepX = ydx * width + xdx;
  const stepY = ydy * width + xdy;
  const out = new Uint8Array(rgb.length);
  for (let dy = 0, q = 0; dy < outH; dy++) {
    for (let dx = 0, s = y0 * width + x0 + dy * stepY; dx < outW; dx++, s += stepX, q += 3) {
      const p = s * 3;
      out[q] = rgb[p] as number;
      out[q + 1] = rgb[p + 1] as number;
      out[q + 2] = rgb[p + 2] as number;
    }
  }
  return { width: outW, height: outH, rgb: out };
}
