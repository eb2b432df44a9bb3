// A helper module imported by other scripts: editing it marks its importers stale.
export function words(text: string): string[] {
  return text.split(/\s+/).filter((w) => w.length > 0);
}

export async function main(text: string) {
  return words(text).length;
}
