/** Local lock resolution (no server) and the install cache the runner uses. */
export { cacheRoot } from './cache.js';
export { ensureInstalled, installDirFor, packageLockFromBunLock } from './install.js';
export { BUN_LOCK_SPLIT, EMPTY_BUN_LOCK, parseBunLock } from './npm.js';
export { lockKindOf, type LockKind } from './request.js';
export { diffVersions, lockVersions, renderChange, type VersionChange } from './versions.js';
