/** Options of {@link createOperationLabels}. */
export interface OperationLabelsOptions {
  /** Names that always have a label of their own (the trusted-document manifest's, as it is now). Default none. */
  known?: (name: string) => boolean;
  /** How many other distinct names get a label of their own, first seen first served. Default 100. */
  capacity?: number;
}

/** The `operation` label of a request: bounded whatever names clients send. */
export interface OperationLabels {
  /** `anonymous` without a name; the name if known or among the first `capacity` others; else `other`. */
  of(name: string | null | undefined): string;
}

/**
 * Keeps the `operation` label of the gateway's request histogram bounded: a
 * client can name its operations anything, and every distinct label value
 * is a series Prometheus keeps. Names of the manifest always count; beyond
 * them, the first `capacity` names seen do, and any later one is `other`.
 */
export function createOperationLabels({
  known = () => false,
  capacity = 100,
}: OperationLabelsOptions = {}): OperationLabels {
  const seen = new Set<string>();
  return {
    of(name) {
      if (!name) return 'anonymous';
      if (seen.has(name) || known(name)) return name;
      if (seen.size >= capacity) return 'other';
      seen.add(name);
      return name;
    },
  };
}
