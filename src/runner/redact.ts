/**
 * Secrets out of text that is stored or printed: a job's own token out of its logs (a job that
 * prints its environment must not hand its token to everyone who may read its logs), tokens and
 * signatures out of the server's request and error log lines.
 */

export const MASK = '***';

/** `text` with every occurrence of each secret replaced by `***`. */
export function redact(text: string, secrets: readonly (string | undefined)[]): string {
  let out = text;
  for (const s of secrets) if (s && s.length >= 4) out = out.split(s).join(MASK);
  return out;
}

/**
 * Masks secrets in a stream of chunks, also when one is split across two chunks: the end of a
 * chunk that could be the start of a secret is held back until the next chunk (or flush()).
 */
export class StreamRedactor {
  private held = '';

  constructor(private readonly secrets: readonly string[]) {}

  push(chunk: string): string {
    const s = redact(this.held + chunk, this.secrets);
    let keep = 0;
    for (const x of this.secrets) {
      for (let n = Math.min(x.length - 1, s.length); n > keep; n--) {
        if (s.endsWith(x.slice(0, n))) {
          keep = n;
          break;
        }
      }
    }
    this.held = s.slice(s.length - keep);
    return s.slice(0, s.length - keep);
  }

  /** What is held back (the stream ended). */
  flush(): string {
    const h = this.held;
    this.held = '';
    return h;
  }
}

/** Query parameters whose values are credentials, whatever their case or encoding. */
const SECRET_PARAM = /token|secret|password|passwd|signature|api[_-]?key|auth/i;

/**
 * A request URL as it may be logged: credential query parameters (`token`, `%74oken`, `TOKEN`,
 * ...) and the signature of a signed resume/cancel URL replaced by `***`, and any of `secrets`
 * (the request's token) masked wherever it appears.
 */
export function redactRequestUrl(rawUrl: string, secrets: readonly (string | undefined)[] = []): string {
  let path = rawUrl;
  let query = '';
  const q = rawUrl.indexOf('?');
  if (q >= 0) {
    path = rawUrl.slice(0, q);
    query = rawUrl.slice(q + 1);
  }
  path = path.replace(/(\/jobs_u\/(?:resume|cancel)\/[^/]+\/[^/]+\/)[^/?#]+/g, `$1${MASK}`);
  if (query) {
    query = query
      .split('&')
      .map((part) => {
        const eq = part.indexOf('=');
        if (eq < 0) return part;
        let name = part.slice(0, eq);
        try {
          name = decodeURIComponent(name.replace(/\+/g, ' '));
        } catch {
          /* keep it as sent */
        }
        return SECRET_PARAM.test(name) ? `${part.slice(0, eq)}=${MASK}` : part;
      })
      .join('&');
  }
  const out = query ? `${path}?${query}` : path;
  return redact(out, secrets.filter((s): s is string => !!s).flatMap((s) => [s, encodeURIComponent(s)]));
}
