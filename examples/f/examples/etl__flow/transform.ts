export async function main(rows: { id: number; value: number }[]) {
  return { count: rows.length, total: rows.reduce((s, r) => s + r.value, 0) };
}
