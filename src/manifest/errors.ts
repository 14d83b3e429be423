/** A manifest that cannot be read as a whole (not one bad line): the run is refused. */
export class ManifestError extends Error {
  override readonly name = 'ManifestError';
}
