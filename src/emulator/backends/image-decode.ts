/**
 * Still images to RGB pixels, in pure JS (no native canvas): JPEG and PNG, told apart by their
 * magic bytes, never by the file's name or content type, which uploads often get wrong.
 */
import type * as JpegJs from 'jpeg-js';
import type * as PngJs from 'pngjs';
import { jpegOrientation, orient } from './exif.js';

/** The decoders, passed in: they are optional packages, loaded only by the backends that need them. */
export interface ImageCodecs {
  jpeg: Pick<typeof JpegJs, 'decode'>;
  png: { PNG: { sync: Pick<typeof PngJs.PNG.sync, 'read'> } };
}

/** Interleaved 8-bit RGB, row by row, as displayed (a JPEG's EXIF orientation applied). */
export interface RgbImage {
  width: number;
  height: number;
  rgb: Uint8Array;
}

/** Beyond this, the decoded pixels alone would take hundreds of megabytes (the model gets a downscaled copy). */
export const MAX_MEGAPIXELS = 50;
/** jpeg-js's own budget for its working buffers (its default, made explicit): a 50 MP JPEG without chroma subsampling needs more. */
export const MAX_JPEG_DECODE_MB = 512;

const JPEG_MAGIC = [0xff, 0xd8, 0xff];
const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const startsWith = (bytes: Uint8Array, magic: readonly number[]): boolean => magic.every((b, i) => bytes[i] === b);

/** Decodes `bytes`; every failure is one line naming `file`. */
export function decodeImage(bytes: Uint8Array, file: string, codecs: ImageCodecs): RgbImage | { error: string } {
  const format = startsWith(bytes, JPEG_MAGIC) ? 'JPEG' : startsWith(bytes, PNG_MAGIC) ? 'PNG' : undefined;
  if (!format) return { error: `${file}: not a JPEG or PNG image (its first bytes are neither); this backend decodes those two only` };
  try {
    // A JPEG is turned as its EXIF Orientation says, so faces are upright and boxes are where a viewer sees them.
    const image = format === 'JPEG' ? orient(decodeJpeg(bytes, codecs.jpeg), jpegOrientation(bytes)) : decodePng(bytes, codecs.png);
    if (image.width * image.height > MAX_MEGAPIXELS * 1e6) throw new Error(`larger than ${MAX_MEGAPIXELS} megapixels`);
    return image;
  } catch (err) {
    return { error: `${file}: could not decode the ${format} image: ${reason(err)}` };
  }
}

function decodeJpeg(bytes: Uint8Array, jpeg: ImageCodecs['jpeg']): RgbImage {
  // formatAsRGBA false: three channels out, grey and CMYK images converted by the decoder.
  const { width, height, data } = jpeg.decode(bytes, {
    useTArray: true,
    formatAsRGBA: false,
    maxResolutionInMP: MAX_MEGAPIXELS,
    maxMemoryUsageInMB: MAX_JPEG_DECODE_MB,
  });
  return { width, height, rgb: data };
}

function decodePng(bytes: Uint8Array, png: ImageCodecs['png']): RgbImage {
  const header = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // IHDR is always first: refuse a huge image before inflating it.
  if (bytes.length >= 24 && header.getUint32(16) * header.getUint32(20) > MAX_MEGAPIXELS * 1e6) {
    throw new Error(`larger than ${MAX_MEGAPIXELS} megapixels`);
  }
  // pngjs gives 8-bit RGBA whatever the colour type; alpha is dropped (faces are scored on colour).
  const { width, height, data } = png.PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  const rgb = new Uint8Array(width * height * 3);
  for (let p = 0, q = 0; q < rgb.length; p += 4, q += 3) {
    rgb[q] = data[p] as number;
    rgb[q + 1] = data[p + 1] as number;
    rgb[q + 2] = data[p + 2] as number;
  }
  return { width, height, rgb };
}

/** The decoder's first line, its own limits said in our terms (it names its options, not the limit). */
function reason(err: unknown): string {
  const why = (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';
  if (why.startsWith('maxResolutionInMP')) return `larger than ${MAX_MEGAPIXELS} megapixels`;
  if (why.startsWith('maxMemoryUsageInMB')) return `decoding it would need more than ${MAX_JPEG_DECODE_MB} MB`;
  return why;
}
