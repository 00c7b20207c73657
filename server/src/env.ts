// Numbers from the environment, checked once at start-up.

/** The values that make sense: outside them a setting breaks the platform (a 0 s lease spins, a 0 ms time-out fails every call). */
export interface IntRange {
  min?: number;
  max?: number;
}

/** The whole number in `name`, or `fallback` when unset; anything else stops the start with a message that names the setting and its range. */
export function int(
  env: NodeJS.ProcessEnv,
  name: string,
  fallback: number,
  { min = 0, max = Number.MAX_SAFE_INTEGER }: IntRange = {},
): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  const value = /^-?\d+$/.test(raw) ? Number(raw) : NaN;
  if (!(value >= min && value <= max)) {
    const range = max === Number.MAX_SAFE_INTEGER ? `at least ${min}` : `from ${min} to ${max}`;
    throw new Error(`${name} must be a whole number ${range}, got "${raw}"`);
  }
  return value;
}
