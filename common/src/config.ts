/**
 * Typed reading of environment variables. Configuration is parsed once at
 * start; a bad value fails fast with a message naming the variable and value.
 */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Environment variables as a service reads them (`process.env`, or a test's object): the one Env type. */
export type Env = Record<string, string | undefined>;

export function stringVar(env: Env, name: string, fallback: string): string {
  const raw = env[name];
  return raw === undefined || raw === '' ? fallback : raw;
}

export function optionalVar(env: Env, name: string): string | undefined {
  const raw = env[name];
  return raw === undefined || raw === '' ? undefined : raw;
}

export function intVar(env: Env, name: string, fallback: number, range: { min?: number; max?: number } = {}): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value)) throw new ConfigError(`${name} must be an integer, got ${JSON.stringify(raw)}`);
  if (range.min !== undefined && value < range.min)
    throw new ConfigError(`${name} must be >= ${range.min}, got ${value}`);
  if (range.max !== undefined && value > range.max)
    throw new ConfigError(`${name} must be <= ${range.max}, got ${value}`);
  return value;
}

export function boolVar(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (/^(1|true|yes|on)$/i.test(raw)) return true;
  if (/^(0|false|no|off)$/i.test(raw)) return false;
  throw new ConfigError(`${name} must be true or false, got ${JSON.stringify(raw)}`);
}

export function urlVar(env: Env, name: string, fallback?: string): string {
  const raw = optionalVar(env, name) ?? fallback;
  if (raw === undefined) throw new ConfigError(`${name} is required`);
  try {
    new URL(raw);
  } catch {
    throw new ConfigError(`${name} must be a URL, got ${JSON.stringify(redactUrl(raw))}`);
  }
  return raw;
}

/** A URL with its password replaced, safe for logs and error messages. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return url.replace(/:[^:@/]*@/, ':***@');
  }
}
