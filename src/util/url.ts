import { WmillError } from '../errors.js';

/** A server URL as the reference stores it: parsed by URL and always ending with '/'. */
export function normalizeRemote(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new WmillError('usage', `invalid server URL '${url}'; use e.g. http://127.0.0.1:8000/`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new WmillError('usage', `invalid server URL '${url}'; use http:// or https://`);
  return u.toString().endsWith('/') ? u.toString() : `${u.toString()}/`;
}
