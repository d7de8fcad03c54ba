import { watch } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fetch } from 'undici';
import type { SupergraphSource as SourceConfig } from './config';

/** Where supergraph SDL is read from, and how its changes are noticed. */
export interface SupergraphSource {
  /** For logs: the path or URL. */
  readonly description: string;
  /** Reads the current SDL; rejects if it cannot. */
  read(): Promise<string>;
  /** Calls `onChange` when the SDL may have changed (possibly spuriously); returns a stop function. */
  watch(onChange: () => void): () => void;
}

/** Options of {@link createSupergraphSource}. */
export interface SupergraphSourceOptions {
  /** Quiet period after the last file event before reading. Default 100 ms. */
  debounceMs?: number;
}

/**
 * Watches the file's directory rather than the file: editors and `mv` replace
 * the file (a new inode), and Kubernetes swaps a symlinked `..data` directory
 * beside it. Any event in the directory triggers a read; unchanged SDL is
 * recognised by its hash later, so spurious events cost one read.
 */
function fileSource(path: string, debounceMs: number): SupergraphSource {
  return {
    description: path,
    read: () => readFile(path, 'utf8'),
    watch(onChange) {
      let timer: NodeJS.Timeout | undefined;
      const schedule = (): void => {
        clearTimeout(timer);
        timer = setTimeout(onChange, debounceMs);
      };
      const watcher = watch(dirname(path), { persistent: false }, schedule);
      watcher.on('error', schedule);
      return () => {
        clearTimeout(timer);
        watcher.close();
      };
    },
  };
}

/** Polls a URL; the same hash check makes unchanged answers free. */
function urlSource(url: string, pollIntervalMs: number): SupergraphSource {
  return {
    description: url,
    async read() {
      const response = await fetch(url, { signal: AbortSignal.timeout(Math.max(pollIntervalMs, 10_000)) });
      if (!response.ok) throw new Error(`GET ${url} answered HTTP ${response.status}`);
      return response.text();
    },
    watch(onChange) {
      const timer = setInterval(onChange, pollIntervalMs);
      timer.unref();
      return () => clearInterval(timer);
    },
  };
}

export function createSupergraphSource(
  config: SourceConfig,
  { debounceMs = 100 }: SupergraphSourceOptions = {},
): SupergraphSource {
  return config.kind === 'file' ? fileSource(config.path, debounceMs) : urlSource(config.url, config.pollIntervalMs);
}
