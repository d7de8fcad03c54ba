/** The own property `key` of `object`, or undefined. */
export function getOwn(object: object, key: string): unknown {
  return Object.prototype.hasOwnProperty.call(object, key) ? (object as Record<string, unknown>)[key] : undefined;
}

/** Makes `key` an own property before it is written, so a key such as `__proto__` is stored as data. */
export function defineOwn(object: object, key: string): void {
  if (!Object.prototype.hasOwnProperty.call(object, key) && key in object)
    Object.defineProperty(object, key, { configurable: true, enumerable: true, value: undefined, writable: true });
}

/** Writes an own property; `__proto__` (a legal alias) becomes data instead of the object's prototype. */
export function setOwn(object: object, key: string, value: unknown): void {
  if (key === '__proto__')
    Object.defineProperty(object, key, { configurable: true, enumerable: true, value, writable: true });
  else (object as Record<string, unknown>)[key] = value;
}
