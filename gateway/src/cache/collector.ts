/**
 * Per-request record of the entity tags subgraphs reported: what the response
 * contains (`cacheTags`) and what a mutation changed (`invalidatedTags`).
 */
export interface CacheTagCollector {
  readonly resolved: Set<string>;
  readonly invalidated: Set<string>;
}

export function createTagCollector(): CacheTagCollector {
  return { resolved: new Set(), invalidated: new Set() };
}

const TAG = /^[A-Za-z_][A-Za-z0-9_]*:[^\s]{1,200}$/;

/** Adds the tags a subgraph response carries in its extensions (ignoring anything malformed). */
export function collectTags(collector: CacheTagCollector, extensions: Record<string, unknown> | undefined): void {
  if (!extensions) return;
  for (const [field, into] of [
    ['cacheTags', collector.resolved],
    ['invalidatedTags', collector.invalidated],
  ] as const) {
    const tags = extensions[field];
    if (!Array.isArray(tags)) continue;
    for (const tag of tags) if (typeof tag === 'string' && TAG.test(tag)) into.add(tag);
  }
}
