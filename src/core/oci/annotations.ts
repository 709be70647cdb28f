// Annotation keys berth reads from a bundle's config.json. Kept apart from the zod schema so
// that verbs which only need the names (state, stop) do not load zod.

/** Annotation (OCI image spec) carrying the image's stop signal into the bundle. */
export const STOP_SIGNAL_ANNOTATION = 'org.opencontainers.image.stopSignal';
/** Annotation a bundle may use to ask for a backend (after --runtime, before config rules). */
export const RUNTIME_ANNOTATION = 'run.berth.runtime';
/**
 * Annotation carrying the manifest digest of the cached image a bundle was made from. The pve
 * backend keys its Proxmox template by it (when the runtime vouches that it made the bundle).
 */
export const IMAGE_DIGEST_ANNOTATION = 'run.berth.image.digest';
