/**
 * The importers graph and stale propagation: a node is directly stale, and every node that
 * (transitively) imports it becomes stale with the reason `depends on <path>`.
 */
export interface GraphNode {
  id: string;
  /** Ids (Windmill paths or inline-node ids) this node imports. */
  imports: string[];
  /** Internal nodes (flow inline scripts) are traversed but never reported. */
  internal?: boolean;
}

export interface StaleMark {
  id: string;
  /** null when directly stale; else the nearest reported node it depends on. */
  dependsOn: string | null;
  /** The directly stale node this staleness comes from. */
  rootCause: string;
}

export function propagate(nodes: GraphNode[], directlyStale: Iterable<string>): Map<string, StaleMark> {
  const importedBy = new Map<string, string[]>();
  const byId = new Map(nodes.map((n) => [n.id, n]));
  for (const n of nodes) {
    for (const imp of new Set(n.imports)) {
      let list = importedBy.get(imp);
      if (!list) importedBy.set(imp, (list = []));
      list.push(n.id);
    }
  }
  const marks = new Map<string, StaleMark>();
  const queue: string[] = [];
  for (const id of directlyStale) {
    if (marks.has(id)) continue;
    marks.set(id, { id, dependsOn: null, rootCause: id });
    queue.push(id);
  }
  for (let i = 0; i < queue.length; i++) {
    const cur = queue[i]!;
    const curMark = marks.get(cur)!;
    const reportAs = byId.get(cur)?.internal ? (curMark.dependsOn ?? curMark.rootCause) : cur;
    for (const importer of importedBy.get(cur) ?? []) {
      if (marks.has(importer)) continue;
      marks.set(importer, { id: importer, dependsOn: reportAs, rootCause: curMark.rootCause });
      queue.push(importer);
    }
  }
  return marks;
}
