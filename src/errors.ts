/** One typed error vocabulary, rendered once at the top (src/cli.ts), exit codes mapped here. */
export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  drift: 3,
  auth: 4,
} as const;

export type ErrorCode = keyof typeof EXIT | 'not_found' | 'network' | 'conflict';

export class WmillError extends Error {
  constructor(
    public code: ErrorCode,
    message: string,
    public meta: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'WmillError';
  }
  get exitCode(): number {
    switch (this.code) {
      case 'usage':
        return EXIT.usage;
      case 'drift':
        return EXIT.drift;
      case 'auth':
        return EXIT.auth;
      case 'ok':
        return EXIT.ok;
      default:
        return EXIT.failure;
    }
  }
}

export const usageError = (msg: string, meta?: Record<string, unknown>) => new WmillError('usage', msg, meta);
