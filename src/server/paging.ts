/**
 * `page` / `per_page` on list routes, as Windmill reads them: pages count from 1 and page 0 is
 * the first page too (the real CLI starts its loops at 0 for some lists, at 1 for others, and
 * stops at the first page shorter than `per_page`); `per_page` defaults to 1000 and is clamped
 * to 10000. A request with neither gets the whole list (what our own clients expect).
 * Paging applies after the access check, so pages hold only what the caller may see.
 */
import type { Ctx } from './http.js';

export const DEFAULT_PER_PAGE = 1000;
export const MAX_PER_PAGE = 10000;

export interface PageWindow {
  limit: number;
  offset: number;
}

/** The window the query asks for, or null when it asks for no paging. */
export function pageWindow(c: Ctx): PageWindow | null {
  const page = c.q.int('page', { min: 0, max: 1_000_000 });
  const perPage = c.q.int('per_page', { min: 1, max: MAX_PER_PAGE, clamp: true });
  if (page === undefined && perPage === undefined) return null;
  const limit = perPage ?? DEFAULT_PER_PAGE;
  return { limit, offset: (Math.max(page ?? 1, 1) - 1) * limit };
}

/** One page of `items` (all of them without paging parameters). */
export function paged<T>(c: Ctx, items: T[]): T[] {
  const w = pageWindow(c);
  return w ? items.slice(w.offset, w.offset + w.limit) : items;
}
