import { words } from "./text_utils.ts";

type Mode = "words" | "chars";

export async function main(text: string, mode: Mode = "words", top: number = 3, ignore_case = true) {
  const items = mode === "words" ? words(text) : [...text.replace(/\s+/g, "")];
  const counts = new Map<string, number>();
  for (const raw of items) {
    const k = ignore_case ? raw.toLowerCase() : raw;
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  const ranked = [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  return { total: items.length, distinct: counts.size, top: ranked.slice(0, top) };
}
