/** Secrets out of logs (src/runner/redact.ts) and the allow-listed job environment (src/runner/job-env.ts). */
import { describe, expect, it } from 'vitest';
import { redactRequestUrl, StreamRedactor } from '../src/runner/redact.js';
import { allowListedEnv, extraAllowed } from '../src/runner/job-env.js';

const TOKEN = 'wjt_0190aa00-0000-7000-8000-000000000000_0123456789abcdef0123456789abcdef01234567';

describe('StreamRedactor', () => {
  it('masks a secret split over any two chunks, and nothing else', () => {
    const text = `start ${TOKEN} middle ${TOKEN}${TOKEN} end wjt_ not a token\n`;
    for (let cut = 0; cut <= text.length; cut++) {
      for (const cut2 of [cut, Math.min(text.length, cut + 7)]) {
        const r = new StreamRedactor([TOKEN]);
        const out = r.push(text.slice(0, cut)) + r.push(text.slice(cut, cut2)) + r.push(text.slice(cut2)) + r.flush();
        expect(out, `cut at ${cut}/${cut2}`).toBe('start *** middle ****** end wjt_ not a token\n');
      }
    }
  });

  it('holds back only what could start a secret', () => {
    const r = new StreamRedactor([TOKEN]);
    expect(r.push('abc wjt_0190')).toBe('abc ');
    expect(r.push('X')).toBe('wjt_0190X');
    expect(r.flush()).toBe('');
  });
});

describe('redactRequestUrl', () => {
  it('masks credential parameters whatever their case or encoding, resume signatures, and the request token anywhere', () => {
    const t = 'wm_SECRETSECRETSECRET';
    const cases: [string, string][] = [
      [`/api/w/a/x?token=${t}`, '/api/w/a/x?token=***'],
      [`/api/w/a/x?a=1&token=${t}&token=${t}`, '/api/w/a/x?a=1&token=***&token=***'],
      [`/api/w/a/x?%74oken=${t}`, '/api/w/a/x?%74oken=***'],
      [`/api/w/a/x?TOKEN=${t}&b=2`, '/api/w/a/x?TOKEN=***&b=2'],
      [`/api/w/a/x?payload=${encodeURIComponent(`{"t":"${t}"}`)}`, '/api/w/a/x?payload=%7B%22t%22%3A%22***%22%7D'],
      [`/api/w/a/jobs_u/resume/0190aa00-0000-7000-8000-000000000000/12/${'ab'.repeat(32)}?approver=x`, '/api/w/a/jobs_u/resume/0190aa00-0000-7000-8000-000000000000/12/***?approver=x'],
      ['/api/w/a/x?page=2', '/api/w/a/x?page=2'],
    ];
    for (const [url, want] of cases) expect(redactRequestUrl(url, [t])).toBe(want);
  });
});

describe('the job environment allow-list', () => {
  it('keeps PATH, HOME, locale, TZ, TMPDIR and the WHITELIST_ENVS names; drops the rest and reserved names', () => {
    const env = allowListedEnv({
      PATH: '/bin', HOME: '/h', LANG: 'C.UTF-8', LC_ALL: 'C', TZ: 'UTC', TMPDIR: '/t', WMILL_ADMIN_TOKEN: 'x', DATABASE_URL: 'postgres://u:p@h/d',
      AWS_SECRET_ACCESS_KEY: 'k', HTTPS_PROXY: 'http://p', MY_VAR: 'y', WM_TOKEN: 'old', WHITELIST_ENVS: 'MY_VAR, WM_TOKEN,bad name',
    });
    expect(env).toEqual({ PATH: '/bin', HOME: '/h', LANG: 'C.UTF-8', LC_ALL: 'C', TZ: 'UTC', TMPDIR: '/t', MY_VAR: 'y' });
    expect(extraAllowed(' A ,B,,1C,BASE_URL')).toEqual(['A', 'B']);
  });
});
