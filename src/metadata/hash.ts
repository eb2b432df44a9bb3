import { createHash } from 'node:crypto';

/** Lower-case hex SHA-256 of a UTF-8 string (the reference's `generateHash`). */
export function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** Script entry of wmill-lock.yaml: sha256("{}" + content + metadata file text as written). */
export function scriptHash(content: string, metadataText: string): string {
  return sha256('{}' + content + metadataText);
}

/** Per inline file of a flow: sha256(content + "{}"). */
export function flowFileHash(content: string): string {
  return sha256(content + '{}');
}

/** `__flow_hash`: sha256 of the JSON of the name→hash map sorted by name. */
export function flowHash(fileHashes: Record<string, string>): string {
  const sorted: Record<string, string> = {};
  for (const k of Object.keys(fileHashes).sort()) sorted[k] = fileHashes[k]!;
  return sha256(JSON.stringify(sorted));
}

/** Workspace dependency file: sha256(content + "dependencies/<file>"). */
export function dependencyFileHash(content: string, relPath: string): string {
  return sha256(content + relPath);
}
