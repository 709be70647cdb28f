// The images layer's entry point: OCI layout import, safe layer unpacking and the template
// cache. Loaded lazily (the CLI imports it only for `image` verbs and create --image).
export type { ContainerVolume, ContainerVolumeInfo, ImageCache, ImageConfigSummary, ImageInfo, ImageRecord, ImageSource, ImportOptions, PendingCacheRepair, PullOptions, PullResult, PushOptions, PushResult, StorageLocation, VolumeRemoval } from './types.js';
export { DEFAULT_STATE_DIR, openImageCache, validateRef } from './image-cache.js';
